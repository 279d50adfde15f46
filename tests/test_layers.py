"""The layers and their rules: the foundation imports nothing above it; Gatys and the feedforward
networks never import each other; only the command line and notebooks import the notebook layer."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nstlab"
FOUNDATION = {"errors", "device", "files", "compact", "images", "samples", "vgg", "statistics", "losses",
              "mixing", "targets", "color", "result", "viz", "warping", "progress"}
ALLOWED = {  # layer -> the layers it may import
    "foundation": {"foundation"},
    "gatys": {"foundation", "gatys"},
    "analogies": {"foundation", "analogies"},
    "domain": {"foundation", "feedforward", "domain"},
    "feedforward": {"foundation", "feedforward"},
    "video": {"foundation", "gatys", "feedforward", "video"},
    "notebook": {"foundation", "gatys", "analogies", "feedforward", "domain", "video", "notebook"},
    "cli": {"foundation", "gatys", "analogies", "feedforward", "domain", "video", "notebook", "cli",
            "package"},
}


def layer_of(module: str) -> str:
    """'nstlab.feedforward.adain' -> 'feedforward', 'nstlab.losses' -> 'foundation'."""
    top = module.split(".")[1]
    if top in FOUNDATION:
        return "foundation"
    if not (PACKAGE / top).is_dir() and not (PACKAGE / f"{top}.py").is_file():
        return "package"  # a name from nstlab/__init__.py, which gathers every layer's API
    return {"__main__": "cli"}.get(top, top)


def imports(path: Path) -> set[str]:
    """The nstlab modules `path` imports, as absolute names."""
    package = ["nstlab", *path.relative_to(PACKAGE).parent.parts]  # what "." means in this file
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *(node.module.split(".") if node.module else [])])
            targets = [name] if node.module else [f"{name}.{a.name}" for a in node.names]
            found.update(t for t in targets if t.startswith("nstlab."))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nstlab."))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    module = ".".join(["nstlab", *path.relative_to(PACKAGE).with_suffix("").parts]).removesuffix(".__init__")
    layer = layer_of(module)
    wrong = sorted(m for m in imports(path) if layer_of(m) not in ALLOWED[layer])
    assert not wrong, f"{module} ({layer}) imports {wrong}"


def test_the_rules_catch_an_upward_import():
    assert layer_of("nstlab.feedforward.train") == "feedforward"
    assert layer_of("nstlab.targets") == "foundation"
    assert "gatys" not in ALLOWED["feedforward"] and "feedforward" not in ALLOWED["gatys"]
    assert "nstlab.gatys" in imports(PACKAGE / "notebook" / "studio.py")  # relative imports resolved


FRESH = """
import sys
import nstlab, nstlab.gatys, nstlab.feedforward, nstlab.feedforward.recipes, nstlab.feedforward.evaluate
import nstlab.video
import nstlab.notebook
ui = [m for m in ("ipywidgets", "matplotlib.pyplot", "jupytext", "IPython") if m in sys.modules]
print(",".join(ui))
"""


def test_the_engine_and_the_networks_import_no_user_interface():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(FRESH)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported: {done.stdout.strip()}"
