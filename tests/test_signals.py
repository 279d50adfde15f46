"""Ctrl-C and `kill` stop a run and keep what it made: real child processes, real signals.

`nstlab stylize` saves the best image so far and exits 130; `nstlab train` writes a checkpoint to
resume from; `nstlab video` stops the whole clip (a frame cut short is never kept as finished),
writes the finished frames as a clip and keeps them for a rerun; the studio's worker stops when
the kernel is interrupted (test_studio_concurrency).
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


def _clip(tmp_path, frames: int, size=(36, 48)):
    from nstlab.video import synthetic_clip, write_video

    return write_video(synthetic_clip("tubingen", frames=frames, size=size, kind="pan", speed=2.0).frames,
                       tmp_path / "clip.gif", fps=10)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_inside_a_frames_optimization_stops_the_video_and_keeps_only_finished_frames(
        tmp_path, signum):
    from nstlab.video import read_video

    out, log, work = tmp_path / "out.gif", tmp_path / "err.txt", tmp_path / "out.gif-frames"
    run = _start(["video", str(_clip(tmp_path, 6)), "starry_night", "-o", str(out), "--size", "48", "--steps",
                  "60"], log)
    _wait_for(lambda: (work / "frame-000001.png").exists(), run, timeout=120)  # frame 2 is under way
    run.send_signal(signum)
    printed, _ = run.communicate(timeout=60)
    err = log.read_text()
    assert run.returncode == 130 and "Traceback" not in err, err
    assert "(interrupted)" in printed and "kept in" in err
    kept = sorted(p.name for p in work.glob("frame-*.png"))
    assert kept == ["frame-000000.png", "frame-000001.png"]  # frame 2 was cut short: not kept
    assert read_video(out)[0].shape[0] == 2  # the finished frames, as a clip


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_network_video_keeps_its_frames_and_a_rerun_goes_on(tmp_path, signum):
    from nstlab.video import read_video

    clip, out, log = _clip(tmp_path, 80, size=(144, 192)), tmp_path / "out.mp4", tmp_path / "err.txt"
    work = tmp_path / "out.mp4-frames"
    command = ["video", str(clip), "--model", "johnson-starry_night", "-o", str(out), "--size", "192"]
    run = _start(command, log)
    _wait_for(lambda: len(list(work.glob("frame-*.png"))) >= 5, run, timeout=120)
    run.send_signal(signum)
    run.communicate(timeout=60)
    err = log.read_text()
    assert run.returncode == 130 and "Traceback" not in err and "kept in" in err, err
    kept = len(list(work.glob("frame-*.png")))
    written = read_video(out)[0].shape[0]  # the last kept frame may have been on its way to the file
    assert 5 <= kept < 80 and kept - 1 <= written <= kept
    again = subprocess.run([sys.executable, "-m", "nstlab", *command, "-q"], capture_output=True, text=True)
    assert again.returncode == 0 and read_video(out)[0].shape[0] == 80 and not work.exists(), again.stderr
