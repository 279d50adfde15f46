"""End to end in a real browser: JupyterLab on localhost, the Gatys notebook run in headless Chromium
driven by Playwright. Checks that the ipywidgets studio renders, that a background run streams preview
frames, that moving the style-weight slider during the run reaches the run, and saves a screenshot.

Needs Debian's Chromium at /usr/bin/chromium (or $NSTLAB_CHROMIUM) and the `playwright` package; skips
otherwise. $NSTLAB_BROWSER_NOTEBOOK points it at another notebook (default: notebooks/04_gatys_style_
transfer.ipynb); $NSTLAB_SCREENSHOTS picks where the screenshot goes."""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("NSTLAB_CHROMIUM", "/usr/bin/chromium"))
DEFAULT_NOTEBOOK = REPO / "notebooks" / "04_gatys_style_transfer.ipynb"
NOTEBOOK = Path(os.environ.get("NSTLAB_BROWSER_NOTEBOOK", DEFAULT_NOTEBOOK))
ARTIFACT = REPO / "tests" / "artifacts" / "browser-04.png"
# Chromium flags this machine needs: no sandbox as root, and no background traffic into a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 30  # jupyter lab answering /api/status (about 3 s here)
TEST_S = 145  # everything in the browser: with the server's start, the test stays under 3 minutes
RUN_ALL_S = 100  # every cell executed
STEP_S = 20  # each wait during the interactive part

pytestmark = pytest.mark.slow  # JupyterLab and Chromium

if not CHROMIUM.is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set NSTLAB_CHROMIUM)",
                allow_module_level=True)
try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError as exc:
    pytest.skip(f"playwright cannot be imported: {exc}", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marked_pids(marker: str) -> list[int]:
    """Processes (the server, its kernels) whose environment carries this run's marker."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return [p for p in pids if p != os.getpid()]


class Lab:
    def __init__(self, url: str, token: str, log: Path):
        self.url, self.token, self.log = url, token, log

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.is_file() else ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of the notebook's folder; its kernel is this interpreter's python3."""
    if not NOTEBOOK.is_file():
        pytest.skip(f"notebook {NOTEBOOK} does not exist (yet); set NSTLAB_BROWSER_NOTEBOOK to try another")
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    if NOTEBOOK.parent == REPO / "notebooks":  # the repo's notebooks, beside what they may read
        shutil.copytree(NOTEBOOK.parent, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:  # a notebook elsewhere (its folder may be /tmp itself): only the notebook
        root.mkdir()
        shutil.copy2(NOTEBOOK, root / NOTEBOOK.name)
    # Lab settings: every cell attached to the DOM, so prompts and outputs can all be read; never ask
    # about (or fetch) Jupyter news or updates: news_url=None alone still shows the "news?" toast.
    for name, value in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = base / "settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))

    token, marker = secrets.token_hex(16), f"NSTLAB_BROWSER_RUN={secrets.token_hex(8)}"
    env = dict(os.environ, NSTLAB_FAST="1", JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_CONFIG_DIR=str(base / "config"),
               JUPYTER_DATA_DIR=str(base / "data"), IPYTHONDIR=str(base / "ipython"))
    env[marker.split("=")[0]] = marker.split("=")[1]
    port = _free_port()
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",  # no news feed and no "get notified about Jupyter news?" toast
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
        f"--LabApp.user_settings_dir={base / 'settings'}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    log = base / "jupyter.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, log)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited with {server.returncode}:\n{lab.log_tail()}")
            try:
                lab.api("/api/status")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_S} s:\n{lab.log_tail()}")
                time.sleep(0.3)
        yield lab
    finally:
        # Kernels live in sessions of their own: shut them down through the server, then the server.
        try:
            for kernel in lab.api("/api/kernels") or []:
                lab.api(f"/api/kernels/{kernel['id']}", method="DELETE")
            lab.api("/api/shutdown", method="POST")
        except (urllib.error.URLError, OSError):
            pass
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for pid in _marked_pids(marker):  # anything of this run that is left
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _screenshot_paths(tmp_path: Path, name: str) -> list[Path]:
    if os.environ.get("NSTLAB_SCREENSHOTS"):
        return [Path(os.environ["NSTLAB_SCREENSHOTS"]) / name]
    return [tmp_path / name, ARTIFACT.with_name(name)]


def _save_screenshot(page, tmp_path: Path, name: str) -> list[Path]:
    paths = _screenshot_paths(tmp_path, name)
    data = page.screenshot(full_page=True)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"screenshot: {path}")
    return paths


class Studio:
    """The notebook page and its studio widget; every wait fails with what the page showed."""

    def __init__(self, page, lab: Lab):
        self.page, self.lab = page, lab
        self.notes: list[str] = []  # dialogs and toasts dismissed along the way
        self.deadline = time.monotonic() + TEST_S

    def text(self, selector: str) -> str:
        loc = self.page.locator(selector)
        return loc.first.inner_text(timeout=2000) if loc.count() else f"<no {selector}>"

    def report(self, what: str) -> str:
        page = self.page
        try:
            body = page.locator("body").inner_text(timeout=3000)
        except PlaywrightError as exc:
            body = f"<page text unavailable: {exc}>"
        errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        stderr = "\n---\n".join(errors.nth(i).inner_text() for i in range(min(errors.count(), 5)))
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        return (f"{what}\nprompts: {prompts}\nstatus: {self.text('.nstlab-status')!r}\n"
                f"dismissed: {self.notes}\nstderr outputs:\n{stderr[-3000:]}\n"
                f"page text (tail):\n{body[-2500:]}\nserver log (tail):\n{self.lab.log_tail(1500)}")

    def wait_for(self, what: str, predicate, timeout: float = STEP_S, interval: float = 0.2):
        deadline = min(time.monotonic() + timeout, self.deadline)
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(self.report(f"timed out waiting for {what} (limit {timeout:.0f} s, "
                                                 f"test budget {TEST_S} s)"))
            self.page.wait_for_timeout(interval * 1000)

    def dismiss_popups(self):
        """Close JupyterLab dialogs (accepting their default) and notification toasts."""
        page = self.page
        for dialog in page.locator(".jp-Dialog").all():
            self.notes.append("dialog: " + " ".join(dialog.inner_text().split())[:200])
            button = dialog.locator(".jp-Dialog-button.jp-mod-accept")
            (button.first.click() if button.count() else page.keyboard.press("Escape"))
        for toast in page.locator(".Toastify__toast").all():  # best effort: toasts don't block
            try:
                self.notes.append("toast: " + " ".join(toast.inner_text(timeout=1000).split())[:200])
                toast.locator(".Toastify__close-button, .jp-toast-button").last.click(timeout=2000)
            except PlaywrightError:
                pass

    def src(self) -> str | None:
        img = self.page.locator(".nstlab-preview img, img.nstlab-preview")
        return img.first.get_attribute("src") if img.count() else None

    def status(self) -> str:
        loc = self.page.locator(".nstlab-status")
        return " ".join(loc.first.inner_text().split()) if loc.count() else ""


def _style_weight(status: str) -> float | None:
    m = re.search(r"style weight\D{0,3}?([-+]?\d[\d.]*(?:e[-+]?\d+)?)", status, re.IGNORECASE)
    return float(m.group(1)) if m else None


def _same_weight(status: str, readout: str) -> bool:
    if readout and readout in status:
        return True
    shown = _style_weight(status)
    try:
        return shown is not None and abs(shown - float(readout)) <= 0.02 * abs(float(readout))
    except ValueError:
        return False


def test_studio_in_jupyterlab(lab, tmp_path):
    nb = json.loads(NOTEBOOK.read_text())
    n_code = sum(1 for c in nb["cells"] if c["cell_type"] == "code")
    url = f"{lab.url}/lab/tree/{NOTEBOOK.name}?token={lab.token}"
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STEP_S * 1000)
            studio = Studio(page, lab)
            try:
                _drive(studio, url, n_code)
            except (AssertionError, PlaywrightError) as exc:
                paths = _save_screenshot(page, tmp_path, "browser-04-failure.png")
                if isinstance(exc, AssertionError):
                    raise AssertionError(f"{exc}\nfailure screenshot: {paths}") from None
                raise AssertionError(studio.report(f"{exc}\nfailure screenshot: {paths}")) from None
            paths = _save_screenshot(page, tmp_path, ARTIFACT.name)
            assert all(p.stat().st_size > 10_000 for p in paths)
            print(f"browser test: {time.monotonic() - started:.1f} s; dismissed: {studio.notes}")
        finally:
            browser.close()


def _drive(studio: Studio, url: str, n_code: int):
    page = studio.page
    page.goto(url, wait_until="domcontentloaded", timeout=30_000)
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=45_000)
    studio.dismiss_popups()

    # The kernel has started and is idle, seen from the server and from the page's toolbar.
    def kernel_idle():
        sessions = studio.lab.api("/api/sessions")
        idle = any(s["kernel"]["execution_state"] == "idle" for s in sessions if s.get("kernel"))
        return idle and page.locator(
            ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0
    studio.wait_for("an idle kernel", kernel_idle, timeout=45)
    studio.dismiss_popups()

    # Run > Run All Cells, from the menu bar.
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click()

    prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt")

    quiet_since = [time.monotonic()]

    def all_executed():
        texts = [t.strip() for t in prompts.all_inner_texts()]
        if any("*" in t for t in texts):  # queued or running
            quiet_since[0] = time.monotonic()
            return False
        if len(texts) == n_code and all(re.fullmatch(r"\[\d+\]:", t) for t in texts):
            return True
        if time.monotonic() - quiet_since[0] > 5:  # nothing running, yet cells left unexecuted
            raise AssertionError(studio.report(f"run-all stopped before executing all {n_code} code cells"))
        return False
    studio.wait_for("every cell to execute (no [*] prompt)", all_executed, timeout=RUN_ALL_S, interval=0.5)
    studio.dismiss_popups()

    # Widgets rendered: no "Error displaying widget" anywhere, and the studio's parts are visible.
    studio.wait_for("the studio widget", lambda: page.locator(".nstlab-studio").count() > 0)
    page.locator(".nstlab-studio").first.scroll_into_view_if_needed()
    body = page.locator("body").inner_text()
    assert "Error displaying widget" not in body, studio.report("a widget failed to display")
    for selector in (".nstlab-studio", ".nstlab-preview", ".nstlab-style-weight", ".nstlab-status",
                     ".nstlab-start", ".nstlab-stop"):
        loc = page.locator(selector).first
        assert loc.is_visible(), studio.report(f"{selector} is not visible")
    preview = page.locator(".nstlab-preview img, img.nstlab-preview").first
    assert preview.is_visible(), studio.report("the preview <img> is not visible")

    # Start: a background run streams frames while the notebook stays responsive. (Fast mode's
    # few steps would end it before the slider moves: the student types a long run.)
    steps = page.locator(".nstlab-steps input").first
    steps.fill("100000")
    steps.press("Enter")
    first_src = studio.src()
    page.locator(".nstlab-start").first.click()
    studio.wait_for("status 'running'", lambda: "running" in studio.status().lower())
    studio.wait_for("a new preview frame", lambda: studio.src() not in (None, first_src))

    # Move the style-weight slider during the run: keyboard steps on the noUiSlider handle.
    slider = page.locator(".nstlab-style-weight").first
    readout = slider.locator(".widget-readout").first
    before = readout.inner_text().strip()
    handle = slider.locator(".noUi-handle").first
    assert "running" in studio.status().lower(), studio.report("the run ended before the slider moved")
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
        page.wait_for_timeout(100)
    after = studio.wait_for("the slider readout to change", lambda: (
        (t := readout.inner_text().strip()) != before and t))
    moved_at_src = studio.src()
    print(f"style weight slider moved: {before} -> {after}")
    studio.wait_for(f"the status to show style weight {after} (was {before})",
                    lambda: _same_weight(studio.status(), after))
    studio.wait_for("a preview frame after the move", lambda: studio.src() not in (None, moved_at_src))

    # Stop: the run ends and says so.
    page.locator(".nstlab-stop").first.click()
    studio.wait_for("status 'stopped' or 'done'",
                    lambda: re.search(r"\b(stopped|done)\b", studio.status().lower()))
    assert "Error displaying widget" not in page.locator("body").inner_text(), studio.report("widget error")
    page.locator(".nstlab-studio").first.scroll_into_view_if_needed()
