"""A real package: the wheel carries the VGG, the samples and the models, and its main command
works from another folder with no setting and no network (as for a student's fresh install)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs the wheel, runs it as child processes

ROOT = Path(__file__).resolve().parents[1]

NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    raise OSError("network disabled by the nstlab package test")

socket.socket.connect = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, installed into a folder of its own."""
    tmp = tmp_path_factory.mktemp("package")
    command = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
               "-w", str(tmp / "dist")]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp / "dist").glob("nstlab-*.whl"))
    assert wheel.stat().st_size < 25e6
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                           str(tmp / "site"), str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (tmp / "offline").mkdir()
    (tmp / "offline" / "sitecustomize.py").write_text(textwrap.dedent(NO_NETWORK))
    return tmp


def run(installed: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSTLAB_")}
    env.update(PYTHONPATH=f"{installed / 'offline'}{os.pathsep}{installed / 'site'}",
               TORCH_HOME=str(installed / "torch"), XDG_CACHE_HOME=str(installed / "cache"),
               NSTLAB_CACHE=str(installed / "nstlab-cache"))
    work = installed / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, text=True)


def test_the_installed_wheel_stylizes_offline_with_no_setting(installed):
    where = run(installed, "-c", "import nstlab, socket; print(nstlab.__file__)")
    assert where.returncode == 0 and where.stdout.startswith(str(installed / "site")), where
    done = run(installed, "-m", "nstlab", "stylize", "tubingen", "starry_night", "-o", "out.png",
               "--size", "64", "--steps", "3", "-q")
    assert done.returncode == 0, done.stderr
    assert (installed / "work" / "out.png").is_file()
    applied = run(installed, "-m", "nstlab", "apply", "adain", "tubingen", "udnie", "-o", "fast.png",
                  "--size", "64")
    assert applied.returncode == 0, applied.stderr
    version = run(installed, "-m", "nstlab", "--version")
    assert version.stdout.strip().startswith("nstlab ")


def test_asking_for_a_download_offline_is_one_clear_line(installed):
    done = run(installed, "-m", "nstlab", "stylize", "tubingen", "starry_night", "-o", "x.png",
               "--arch", "vgg19")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "NSTLAB_VGG_WEIGHTS" in done.stderr and len(done.stderr.strip().splitlines()) <= 12
