"""Files nstlab reads and writes, safely: sha256 checks in, atomic writes out.

`checked(path, sha256, error, what, hint)` returns the path when its content has that sha256 and
raises `error` (an NstlabError subclass) saying what, where and what to do when it does not, or
when it cannot be read -- never a bare OSError: the bundled VGG-16 and samples, downloads, models.
A prefix of the digest is enough (torchvision names its files by the first 8 hex digits);
`sha256_of(path)` is the digest itself, read in chunks (VGG-19 is 550 MB). `hub_file(url, ...)`
downloads torchvision's weights (VGG, RAFT) into torch hub's cache, checked in the same way.

`load_tensors(path, error, what)` is `torch.load(..., weights_only=True)` for every weights, model and
checkpoint file: a file that would run code when unpickled is refused in one line naming what it
holds, and torch's warnings about foreign files are not printed before that line.

`atomic(path)` gives a temporary name beside `path` to write to and renames it over `path` only
when the writing succeeded: a crash or a concurrent reader never sees half a result, image,
model or checkpoint, and a failed write leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import urllib.error
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from .errors import DownloadError, NstlabError


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def checked(path: Path, sha256: str, error: type[NstlabError], what: str, hint: str) -> Path:
    expected = str(sha256).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", expected):
        raise error(f"{what}: {sha256!r} is not a sha256 (8 to 64 hex digits)")
    try:
        digest = sha256_of(path)
    except OSError as err:  # gone (a broken install), or not ours to read
        raise error(f"{what}: cannot read {path} ({err.strerror}); {hint}") from err
    if not digest.startswith(expected):
        raise error(f"{what}: {path} has sha256 {digest}, not the expected {expected} (damaged?); {hint}")
    return Path(path)


def load_tensors(path, error: type[NstlabError], what: str, map_location="cpu"):
    """The tensors (in dicts and lists) in the file at `path`, unpickled with torch's weights_only
    loader; anything else raises `error` in one line: "PATH: not WHAT (the reason)"."""
    import torch  # only here: the rest of this module is plain Python

    try:
        with warnings.catch_warnings():  # "Detected pickle protocol 4 ...": the error below says it
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # pickle, zip and weights_only errors have no common type
        text = " ".join(str(err).split())
        if "Weights only load failed" in text:
            found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
            reason = (f"it holds Python code ({found.group(1)}), which nstlab refuses to run" if found else
                      "it holds pickled Python objects besides tensors, which nstlab refuses to load")
        else:
            reason = f"{type(err).__name__}: {text[:200]}"
        raise error(f"{path}: not {what} ({reason})") from err


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


def hub_file(url: str, what: str, error: type[NstlabError], offline: str) -> Path:
    """torchvision's weights file at `url` in torch hub's cache, downloaded if absent and checked
    against the sha256 prefix in its name (vgg19-dcbb9e9d.pth) before anyone loads it. A failed or
    damaged download raises `DownloadError` with `offline`: what to do without a network; a cached
    file that does not match its name raises `error`."""
    import torch  # only here: the rest of this module is plain Python

    path = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    prefix = torch.hub.HASH_REGEX.search(path.name).group(1)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(path), hash_prefix=prefix, progress=True)  # temp + rename
        except (urllib.error.URLError, OSError) as err:
            raise DownloadError(f"could not download {what} from {url} ({err}); {offline}") from err
        except RuntimeError as err:  # torch.hub's "invalid hash value": a broken download
            raise DownloadError(f"the download of {url} is damaged ({err}); try again") from err
    return checked(path, prefix, error, what, "delete the file to download it again")
