"""docs/api.md is generated from nstlab's signatures (tools/api_table.py) and must not drift."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("api_table", ROOT / "tools" / "api_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_doc_is_current():
    generator = _generator()
    page = ROOT / "docs" / "api.md"
    current = page.read_text(encoding="utf-8") if page.is_file() else None
    assert current == generator.render(), "docs/api.md is stale: run python tools/api_table.py"


def test_check_reports_a_stale_page(tmp_path, monkeypatch, capsys):
    generator = _generator()
    stale = tmp_path / "api.md"
    stale.write_text("# an old page\n", encoding="utf-8")
    monkeypatch.setattr(generator, "OUTPUT", stale)
    assert generator.main(["--check"]) == 1
    assert capsys.readouterr().err.strip() == "docs/api.md is stale: run python tools/api_table.py"
    monkeypatch.setattr(generator, "OUTPUT", tmp_path / "fresh.md")
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0



def modules_listed(text: str) -> set[str]:
    """The module paths (relative to nstlab/) that the "## Modules" section lists: "- `name.py`: ..."
    under a line that names its folder ("The video layer, `video/`:"; none: the package's top)."""
    section = text.split("\n## Modules\n", 1)[1].split("\n## ", 1)[0]
    listed, folder = set(), ""
    for line in section.splitlines():
        if line.startswith("- `"):
            name = line[3:].split("`", 1)[0]
            if name.endswith(".py"):
                listed.add(folder + name)
        elif line.endswith(":") and not line.startswith(" "):  # a group's heading line
            names = [part for part in line.split("`")[1::2] if part.endswith("/")]
            folder = names[-1] if names else ""
    return listed


def test_architecture_lists_every_module():
    """docs/architecture.md is the one module map: it names every module, under its folder."""
    listed = modules_listed((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    package = ROOT / "nstlab"
    modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    assert not modules - listed, f"docs/architecture.md (## Modules) lacks {sorted(modules - listed)}"
    assert not listed - modules, f"docs/architecture.md (## Modules) lists gone {sorted(listed - modules)}"
