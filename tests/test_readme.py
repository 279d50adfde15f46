"""Every command in README.md runs, as a newcomer would type it, at toy sizes.

The ```bash / ```sh blocks: each line (and each part of a line joined by &&) is either skipped by
SKIP (it installs, starts a server or runs these tests) or is an `nstlab ...` command, run as
`python -m nstlab ...` (the console script may not be on PATH) with FAST's options forced, in a
temporary folder; it must exit 0 and write its -o output. The ```python blocks run in order in one
interpreter, with PYTHON_FAST's substitutions, and must not raise. Inputs the README names that
are not samples (INPUTS) are made in the folder first. HOME, TORCH_HOME and NSTLAB_CACHE point into
it and no NSTLAB_* setting of the user's gets through, so nothing is read from a cache or
downloaded. Any other shell line fails the test: add a rule here when the README grows one.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SAMPLES = ROOT / "nstlab" / "assets" / "samples"

# Shell commands not run: they install, start a server, or run the test suite.
SKIP = ("pip", "conda", "jupyter", "git clone", "cd", "python -m pytest", "bash .ci/run")

# Toy sizes: these options are forced on each command (replaced, or added when absent). A list
# value keeps its length: --size 256,512 becomes --size 32,64, --steps 100,40 becomes --steps 2,2.
FAST = {
    "stylize": {"--size": "64", "--steps": "2"},
    "apply": {"--size": "64"},
    "video": {"--size": "64", "--max-frames": "3"},
    "video (optimization)": {"--steps": "2"},  # video without --model
    "train": {"--steps": "2", "--crop": "32", "--batch": "2"},
}
PYTHON_FAST = [(r"\bsize=\d+", "size=64"), (r"\bsteps=\d+", "steps=2"),
               (r"\bmax_frames=\d+", "max_frames=3"), (r"\bcrop=\d+", "crop=32")]

# What the README's commands read that is not a sample: made in the folder before they run.
INPUTS = {"photos/": ["tubingen.jpg", "cafe_terrace.jpg"]}

BLOCK = re.compile(r"^```(bash|sh|python)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
TIMEOUT = 300  # seconds for one command; a README command takes a few at toy sizes


def blocks(text: str) -> list[tuple[str, int, str]]:
    """(language, line number of its first line, code) of every bash/sh/python block."""
    return [(m[1], text.count("\n", 0, m.start(2)) + 1, m[2]) for m in BLOCK.finditer(text)]


def shell_commands(text: str) -> list[tuple[int, str, list[str]]]:
    """(README line, the line, its words) of every command in the shell blocks, && split apart."""
    found = []
    for language, first, code in blocks(text):
        if language == "python":
            continue
        for number, line in enumerate(code.splitlines(), first):
            words = shlex.split(line, comments=True)
            while words:
                cut = words.index("&&") if "&&" in words else len(words)
                found.append((number, line.strip(), words[:cut]))
                words = words[cut + 1:]
    return found


def skipped(words: list[str]) -> bool:
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):  # VAR=value before it
        words = words[1:]
    command = " ".join(words)
    return any(command == rule or command.startswith(rule + " ") for rule in SKIP)


def fast(words: list[str]) -> list[str]:
    """The nstlab command's arguments (after `nstlab`) with FAST's options forced."""
    args = list(words[1:])
    command = args[0] if args else ""
    forced = dict(FAST.get(command, {}))
    if command == "video" and "--model" not in args:
        forced.update(FAST["video (optimization)"])
    for option, value in forced.items():
        if option in args:
            i = args.index(option)
            n = len(args[i + 1].split(","))
            if option == "--size":
                args[i + 1] = ",".join(str(int(value) >> (n - 1 - k)) for k in range(n))
            else:
                args[i + 1] = ",".join([value] * n)
        else:
            args += [option, value]
    return args


def output_of(args: list[str]) -> str | None:
    for option in ("-o", "--output"):
        if option in args:
            return args[args.index(option) + 1]
    return None


def environment(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSTLAB_")}
    env.update(NSTLAB_FAST="1", HOME=str(work / "home"), TORCH_HOME=str(work / "torch"),
               NSTLAB_CACHE=str(work / "cache"), XDG_CACHE_HOME=str(work / "home" / ".cache"),
               MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    (work / "home").mkdir(exist_ok=True)
    return env


def run_shell(text: str, work: Path) -> tuple[list[str], list[str]]:
    """Run every shell command of `text` in `work`: (what ran, what failed), one line each."""
    env, ran, failed = environment(work), [], []
    for number, line, words in shell_commands(text):
        if skipped(words):
            ran.append(f"skipped  README:{number}  {shlex.join(words)}")
            continue
        if not words or words[0] != "nstlab":
            failed.append(f"README:{number}: `{line}`: `{' '.join(words)}` is neither an nstlab command "
                          f"nor skipped by a rule (tests/test_readme.py, SKIP)")
            continue
        args = fast(words)
        out = output_of(args)
        if out and (work / out).is_dir():  # an earlier line's output must not hide a missing one
            shutil.rmtree(work / out)
        elif out:
            (work / out).unlink(missing_ok=True)
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "nstlab", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
        seconds = time.perf_counter() - began
        ran.append(f"{seconds:5.1f} s  README:{number}  nstlab {shlex.join(args)}")
        problem = None
        if done.returncode != 0:
            problem = f"exit {done.returncode}"
        elif out and not (work / out).exists():
            problem = f"exit 0 but no {out}"
        elif out and (work / out).is_dir() and not any((work / out).iterdir()):
            problem = f"exit 0 but {out} is empty"
        if problem:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            failed.append(f"README:{number}: `{line}`\n  ran: python -m nstlab {shlex.join(args)}\n"
                          f"  {problem}:\n{tail}")
    return ran, failed


DRIVER = """
import json, sys, time, traceback
blocks = json.loads(sys.stdin.read())
scope = {"__name__": "__readme__"}
for number, code in blocks:
    began = time.perf_counter()
    try:
        exec(compile(code, f"README.md:{number}", "exec"), scope)
    except BaseException:
        print(f"README.md python block at line {number} raised:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    print(f"{time.perf_counter() - began:5.1f} s  README:{number}  python block", flush=True)
"""


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(README line, code with PYTHON_FAST's substitutions) of every python block, in order."""
    found = []
    for language, first, code in blocks(text):
        if language == "python":
            for pattern, value in PYTHON_FAST:
                code = re.sub(pattern, value, code)
            found.append((first, code))
    return found


def run_python(text: str, work: Path) -> tuple[list[str], list[str]]:
    """Run every python block of `text` in order in one interpreter in `work`."""
    code = python_blocks(text)
    done = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(code), cwd=work,
                          env=environment(work), capture_output=True, text=True, timeout=TIMEOUT)
    ran = [line for line in done.stdout.splitlines() if "  README:" in line]
    if done.returncode == 0:
        return ran, []
    tail = "\n".join(done.stderr.strip().splitlines()[-25:])
    return ran, [f"the README's python blocks (exit {done.returncode}):\n{tail}"]


def make_inputs(work: Path) -> Path:
    for name, samples in INPUTS.items():
        folder = work / name
        folder.mkdir(parents=True, exist_ok=True)
        for sample in samples:
            shutil.copy(SAMPLES / sample, folder / sample)
    return work


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return make_inputs(tmp_path_factory.mktemp("readme"))


def report(title: str, ran: list[str], failed: list[str]) -> None:
    print(f"\n{title}:\n  " + "\n  ".join(ran))
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)


def test_readme_shell_commands(work):
    text = README.read_text(encoding="utf-8")
    commands = [words for _, _, words in shell_commands(text) if not skipped(words)]
    kinds = {words[1] for words in commands if len(words) > 1 and words[0] == "nstlab"}
    assert {"stylize", "apply", "video", "train"} <= kinds, f"README.md shows only nstlab {sorted(kinds)}"
    report("README shell commands", *run_shell(text, work))


def test_readme_python_blocks(work):
    text = README.read_text(encoding="utf-8")
    assert len(python_blocks(text)) >= 3, "README.md lost its python blocks"
    report("README python blocks", *run_python(text, work))


def test_a_failing_readme_command_fails_the_test(tmp_path):
    """The checker itself: a command that exits 2, a command it does not know and a block that
    raises are each reported, with the README line."""
    text = ("```bash\nnstlab stylize tubingen no_such_painting -o out.png\nrm -rf photos/\n"
            "pip install nstlab && echo installed\n```\n\n```python\nimport nstlab\n"
            "nstlab.apply('no_such_model', 'tubingen')\n```\n")
    ran, failed = run_shell(text, tmp_path)
    assert len(failed) == 3, failed
    assert failed[0].startswith("README:2: `nstlab stylize tubingen no_such_painting -o out.png`")
    assert "exit 2" in failed[0] and "not a sample name" in failed[0]  # with the command's own error
    assert "`rm -rf photos/` is neither" in failed[1] and "`echo installed` is neither" in failed[2]
    assert "skipped  README:4  pip install nstlab" in ran
    ran, failed = run_python(text, tmp_path)
    assert len(failed) == 1 and "block at line 8 raised" in failed[0] and "no_such_model" in failed[0]
