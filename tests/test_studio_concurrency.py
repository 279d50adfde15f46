"""The studio under pressure: interrupts, double clicks, Reset racing Start, Save during a step.

The worker is tracked by the studio itself; Stop always stops; at most one worker runs; Reset
puts every control back; a saved image is a whole step, never one half-way through an update.
"""

import random
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from test_widgets import Slow, stop_studios, studio, until, upload  # noqa: F401 (stop_studios: autouse)

from nstlab.samples import stripes


def workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "nstlab-studio" and t.is_alive()]


def test_a_kernel_interrupt_during_wait_stops_the_run(random_vgg):
    s = studio(Slow(random_vgg))
    s.run()
    until(lambda: s._latest is not None)
    main = threading.main_thread().ident  # the kernel's stop button: SIGINT while the cell blocks
    threading.Timer(0.3, signal.pthread_kill, args=(main, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        s.wait()
    assert not s.running and s.result.status == "stopped"
    assert not s.buttons["start"].disabled and s.buttons["stop"].disabled
    until(lambda: not workers())  # (it sets `done` a moment before it returns)
    s.run()  # the studio is in control again: one new worker, and Stop stops it
    assert len(workers()) == 1
    s.stop()
    assert s.wait(30).status == "stopped"


def test_start_twice_is_one_worker_and_stop_stops_a_paused_run(random_vgg):
    s = studio(Slow(random_vgg))
    s.run()
    s.pause()
    s.run()
    assert len(workers()) == 1 and "already paused" in s.status.value
    s.stop()
    assert s.wait(30).status == "stopped" and not s.running
    assert "already" not in s.status.value  # the end replaces the stale message


def test_reset_puts_back_every_control(random_vgg):
    s = studio(random_vgg, steps=3)
    initial_content = s.image("content").clone()
    s.size.value, s.steps.value, s.optimizer.value, s.init.value = 64, 7, "lbfgs", "noise"
    s.content_picker.value = "great_wave"
    s.style_upload.value = upload("s.png", _png(stripes(24, 3)))
    s.style_weight.value, s.style_layers["relu1_1"].value = 3.0, False
    s.run(wait=True)
    s.reset()
    assert (s.size.value, s.steps.value, s.optimizer.value, s.init.value) == (32, 3, "adam", "content")
    assert s.content_picker.value == "(uploaded)" and torch.equal(s.image("content"), initial_content)
    assert torch.equal(s.image("style"), stripes(32, 6))
    assert s.style_weight.value == 10 and s.style_layers["relu1_1"].value
    assert s.result is None and s.transfer is None and "reset" in s.status.value


def test_start_stop_reset_and_live_changes_from_many_threads(random_vgg):
    s = studio(Slow(random_vgg, delay=0.005), steps=40)
    actions = [s.run, s.stop, s.reset, s.pause, s.resume,
               lambda: setattr(s.style_weight, "value", random.choice([1.0, 30.0, 300.0])),
               lambda: setattr(s.style_layers["relu2_1"], "value", not s.style_layers["relu2_1"].value)]
    errors, most = [], [0]

    def click(seed):
        rng = random.Random(seed)
        try:
            for _ in range(60):
                rng.choice(actions)()
                most[0] = max(most[0], len(workers()))
                time.sleep(rng.random() * 0.01)
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a deadlock"
    assert errors == [] and most[0] <= 1
    s.reset()
    assert not s.running and not workers() and s.transfer is None
    assert not s.buttons["start"].disabled and s.buttons["stop"].disabled


def test_a_saved_step_is_a_copy_taken_between_steps(random_vgg, tmp_path):
    s = studio(Slow(random_vgg))
    s.run()
    until(lambda: s._latest is not None and s._latest.step >= 2)
    kept = s._latest
    frozen = kept.image.clone()
    until(lambda: s._latest.step >= kept.step + 3)  # the engine went on updating its image
    assert torch.equal(kept.image, frozen)  # the studio's copy did not move with it
    assert s.save(tmp_path / "mid-run.png") is not None
    s.stop()
    s.wait(30)


def test_a_valid_choice_clears_an_old_error(random_vgg):
    s = studio(random_vgg, steps=2)
    s.style_upload.value = upload("bad.png", b"not an image")
    assert "not an image" in s.status.value
    s.style_picker.value = "the_scream"
    assert "not an image" not in s.status.value and "ready" in s.status.value


@pytest.mark.slow  # a child process
def test_a_script_that_ends_mid_run_exits_cleanly():
    """The interpreter exits while a run is going: the run stops, the process exits 0 (a worker still
    inside torch at finalization would abort it with "terminate called without an active exception")."""
    script = (
        "import time\n"
        "from nstlab.losses import Settings\n"
        "from nstlab.notebook.studio import Studio\n"
        "from nstlab.samples import checkerboard, stripes\n"
        "from nstlab.vgg import VGGFeatures\n"
        "s = Studio(checkerboard(32, 4), stripes(32, 6), VGGFeatures(), size=32, steps=10**6,\n"
        "           settings=Settings(content_layers=['relu2_2']), device='cpu')\n"
        "s.run()\n"
        "while s._latest is None or s._latest.step < 3:\n"
        "    time.sleep(0.01)\n"
        "print('left at step', s._latest.step)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "left at step" in done.stdout, done.stderr
    assert "terminate" not in done.stderr


def _png(image) -> bytes:
    import io

    from nstlab.images import to_pil

    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()
