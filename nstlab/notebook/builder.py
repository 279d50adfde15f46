"""Notebooks written once, with their solutions, and built into student and teacher copies.

The sources are jupytext percent scripts (`notebooks/solutions/NN_*.py`). In a solution, the
lines between `### BEGIN SOLUTION` and `### END SOLUTION` are the answer; `student_version`
replaces them by `raise NotImplementedError(...)` and `build` writes the `.ipynb` files (outputs
empty, stable cell ids, so they diff cleanly) -- generated, never edited by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("your code here")'


def student_version(source: str) -> str:
    """Replace every `### BEGIN SOLUTION` ... `### END SOLUTION` block by a stub, same indent."""
    pattern = re.compile(rf"^([ \t]*){re.escape(BEGIN)}\n.*?^[ \t]*{re.escape(END)}[^\n]*$", re.S | re.M)
    return pattern.sub(lambda m: m.group(1) + STUB, source)


def solution_version(source: str) -> str:
    """The solutions kept, marker lines dropped."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN, END))


def build(source_dir, out_dir, *, solutions: bool = False, nbgrader: bool = False) -> list[Path]:
    """Write one .ipynb per jupytext source `*.py` in `source_dir`: student copies (solutions cut
    out), with solutions=True the full teacher copies, or with nbgrader=True nbgrader source
    notebooks (`grading.py`). Outputs are empty. Returns the paths."""
    import jupytext  # a development / teaching dependency, needed only here
    import nbformat

    written = []
    for source in sorted(Path(source_dir).glob("[0-9][0-9]_*.py")):
        notebook = jupytext.reads(source.read_text(), fmt="py:percent")
        if nbgrader:  # the markers stay: nbgrader cuts the solutions out itself
            from .grading import nbgrader_version

            notebook = nbgrader_version(notebook, source.stem[:2])
        for i, cell in enumerate(notebook.cells):
            cell.id = f"cell-{i:02d}"  # stable ids: a rebuild changes nothing that did not change
            if cell.cell_type == "code" and not nbgrader:
                cell.source = (solution_version if solutions else student_version)(cell.source)
        notebook.metadata.pop("jupytext", None)
        notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                           "name": "python3"}
        path = Path(out_dir) / f"{source.stem}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nbformat.writes(notebook, version=4) + "\n")
        written.append(path)
    return written
