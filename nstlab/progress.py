"""Progress bars: tqdm's text bar, on stderr in a terminal and on stdout in a notebook.

    for item in progress.bar(items, desc="apply", unit="image", leave=False): ...

A text bar rather than a widget, so that a saved notebook shows a line, not a dead widget. In a
Jupyter kernel it writes to stdout: a finished bar (leave=False) clears its line, and on stderr
Jupyter would keep an empty pink box under the cell that students take for an error.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


def bar(iterable=None, **options) -> tqdm:
    """tqdm(iterable, **options), written to stdout inside a Jupyter kernel unless `file` is given."""
    if "file" not in options and "ipykernel" in sys.modules:
        options["file"] = sys.stdout
    return tqdm(iterable, **options)
