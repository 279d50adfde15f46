"""Ctrl-C and `kill` stop a run and keep what it made: real child processes, real signals.

`nstlab stylize` saves the best image so far and exits 130; `nstlab train` writes a checkpoint to
resume from; the studio's worker stops when the kernel is interrupted (test_studio_concurrency).
"""

import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

pytestmark = pytest.mark.slow  # child processes


def _start(args, err_file):
    """The command as a child process; its stderr (the progress bar) goes to `err_file`."""
    return subprocess.Popen([sys.executable, "-m", "nstlab", *args], stdout=subprocess.PIPE,
                            stderr=err_file.open("w"), text=True)


def _wait_for(condition, child, timeout=60.0):
    end = time.monotonic() + timeout
    while not condition():
        if child.poll() is not None or time.monotonic() > end:
            pytest.fail(f"the run ended or stalled before the signal: {child.communicate()}")
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_stylize_and_keeps_the_best_image(tmp_path, random_vgg_file, signum):
    out, log = tmp_path / "out.png", tmp_path / "err.txt"
    run = _start(["stylize", "tubingen", "starry_night", "-o", str(out), "--size", "48", "--steps", "100000",
                  "--optimizer", "adam", "--weights", str(random_vgg_file)], log)
    _wait_for(lambda: "loss=" in log.read_text(), run)  # the bar shows a loss: steps are done
    run.send_signal(signum)
    printed, _ = run.communicate(timeout=60)
    err = log.read_text()
    assert run.returncode == 130, err
    assert "(interrupted)" in printed and Image.open(out).size == (48, 36)
    assert "Traceback" not in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_training_and_leaves_a_checkpoint(tmp_path, photos, random_vgg_file, signum):
    run_dir, log = tmp_path / "run", tmp_path / "err.txt"
    run = _start(["train", "johnson", "--content", str(photos), "--style", "starry_night", "-o",
                  str(tmp_path / "m.pth"), "--steps", "100000", "--crop", "32", "--width", "4",
                  "--batch", "1", "--run-dir", str(run_dir), "--weights", str(random_vgg_file), "-q"], log)
    _wait_for(lambda: any(run_dir.glob("preview-*.png")), run, timeout=120)  # step 100 done
    run.send_signal(signum)
    run.communicate(timeout=60)
    err = log.read_text()
    assert run.returncode == 130 and "--resume" in err and "Traceback" not in err, err
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] >= 100 and not (tmp_path / "m.pth").exists()
