"""Files nstlab reads and writes, safely: sha256 checks in, atomic writes out.

`checked(path, sha256, error, what, hint)` returns the path when its content has that sha256 and
raises `error` (an NstlabError subclass) saying what, where and what to do when it does not, or
when it cannot be read -- never a bare OSError: the bundled VGG-16 and samples, downloads, models.

`atomic(path)` gives a temporary name beside `path` to write to and renames it over `path` only
when the writing succeeded: a crash or a concurrent reader never sees half a result, image,
model or checkpoint, and a failed write leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from .errors import NstlabError


def checked(path: Path, sha256: str, error: type[NstlabError], what: str, hint: str) -> Path:
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as err:  # gone (a broken install), or not ours to read
        raise error(f"{what}: cannot read {path} ({err.strerror}); {hint}") from err
    if digest != sha256:
        raise error(f"{what}: {path} has sha256 {digest}, not the expected {sha256} (damaged?); {hint}")
    return Path(path)


@contextlib.contextmanager
def atomic(path) -> Iterator[Path]:
    """with atomic("out.png") as tmp: write tmp (same folder and suffix) -> renamed to out.png."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)  # atomic on POSIX and Windows within one folder
    finally:
        tmp.unlink(missing_ok=True)
