"""sha256 checks of the files nstlab reads: the bundled VGG-16 and samples, downloads, model files.

`checked(path, sha256, error, what, hint)` returns the path when its content has that sha256 and
raises `error` (an NstlabError subclass) saying what, where and what to do when it does not, or
when it cannot be read -- never a bare OSError.
"""

from __future__ import annotations

import hashlib
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
