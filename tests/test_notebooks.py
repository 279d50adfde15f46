"""Every notebook runs top to bottom in a fresh kernel (fast mode), its exercise checks pass with
the solutions, and the committed student notebooks are exactly what the sources generate."""

import base64
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from nstlab.cli import main
from nstlab.notebook.builder import solution_version, student_version

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted((NOTEBOOKS / "solutions").glob("[0-9][0-9]_*.py"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "notebooks"


def outputs_text(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
            if out.get("output_type") == "error":
                parts.append("\n".join(out.get("traceback", [])))
    return "\n".join(parts)


def execute(notebook, cwd: Path, monkeypatch):
    # the kernel is a child process: it inherits these; no other NSTLAB_* setting (conftest), so
    # the notebooks run on what the package carries, as for a student with a fresh install
    monkeypatch.setenv("NSTLAB_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return outputs_text(notebook)


def test_there_are_notebooks_00_to_05():
    assert [p.name[:2] for p in SOURCES][:6] == ["00", "01", "02", "03", "04", "05"]


@pytest.mark.slow  # a kernel per notebook
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_runs_and_its_exercises_pass(source, tmp_path, monkeypatch):
    notebook = jupytext.read(source)
    checks = sum(len(re.findall(r"\bcheck_\w+\(", c.source)) - c.source.count("import")
                 for c in notebook.cells if c.cell_type == "code" and "check_" in c.source)
    for cell in notebook.cells:
        cell.source = solution_version(cell.source)
    text = execute(notebook, tmp_path, monkeypatch)
    assert "❌" not in text and "⏳" not in text, text
    assert text.count("✅") >= max(checks, 1), f"expected {checks} passed checks:\n{text}"
    assert "Error displaying widget" not in text and "Traceback" not in text
    figures = ARTIFACTS / source.stem  # every figure as PNG, to look at (fast mode: tiny images)
    figures.mkdir(parents=True, exist_ok=True)
    for i, cell in enumerate(notebook.cells):
        for j, out in enumerate(cell.get("outputs", [])):
            if "image/png" in out.get("data", {}):
                (figures / f"cell{i:02d}-{j}.png").write_bytes(base64.b64decode(out["data"]["image/png"]))
    assert any(figures.iterdir()), "a notebook without a single figure"


@pytest.mark.slow  # a kernel per notebook
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_student_copy_runs_to_its_last_cell(source, tmp_path, monkeypatch):
    """Run All on a student copy with no exercise written: every cell runs (later cells use
    nstlab's own functions), and every check says "not written yet", none "wrong"."""
    notebook = jupytext.read(source)
    exercises = sum(len(re.findall(r"\bcheck_(?!setup)\w+\(", c.source)) - c.source.count("import")
                    for c in notebook.cells if c.cell_type == "code" and "check_" in c.source)
    for cell in notebook.cells:
        cell.source = student_version(cell.source)
    text = execute(notebook, tmp_path, monkeypatch)  # raises at the first cell that fails
    assert "❌" not in text and "Traceback" not in text, text
    assert text.count("⏳") >= exercises, f"expected {exercises} checks saying not written yet:\n{text}"


def test_no_notebook_computes_in_silence():
    """Long runs show a progress bar: no `progress=False` unless something else shows progress."""
    for source in SOURCES:
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            if "progress=False" in line:
                assert "shows the progress" in line, f"{source.name}:{number}: {line.strip()}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_committed_student_notebook_is_generated_from_its_source(source):
    committed = NOTEBOOKS / f"{source.stem}.ipynb"
    assert committed.is_file(), f"{committed} is missing: run `nstlab notebooks`"
    notebook = nbformat.read(committed, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in notebook.cells if c.cell_type == "code"), f"{committed} has outputs"
    code = "\n".join(c.source for c in notebook.cells)
    assert "### BEGIN SOLUTION" not in code and "NotImplementedError" in code
    assert [c.source for c in notebook.cells] == [
        student_version(c.source) for c in jupytext.read(source).cells], \
        f"{committed} is out of date with {source.name}: run `nstlab notebooks`"


def test_build_writes_student_and_teacher_copies(tmp_path, capsys):
    assert main(["notebooks", "--source", str(NOTEBOOKS / "solutions"), "-o", str(tmp_path / "s")]) == 0
    assert main(["notebooks", "--source", str(NOTEBOOKS / "solutions"), "-o", str(tmp_path / "t"),
                 "--solutions"]) == 0
    first = SOURCES[0].stem + ".ipynb"
    student, teacher = (nbformat.read(tmp_path / d / first, as_version=4) for d in ("s", "t"))
    assert (tmp_path / "s" / first).read_text() == (NOTEBOOKS / first).read_text()
    joined = "\n".join(c.source for c in teacher.cells)
    assert "NotImplementedError" not in joined and "### BEGIN" not in joined
    assert len(student.cells) == len(teacher.cells)
    assert main(["notebooks", "--source", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_student_version_cuts_only_the_solution():
    source = ("def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
              "\nprint(f)")
    assert student_version(source) == ('def f(x):\n    y = 1\n    raise NotImplementedError("your code here")'
                                       "\n\nprint(f)")
    assert solution_version(source) == "def f(x):\n    y = 1\n    return x + y\n\nprint(f)"


@pytest.mark.slow  # a kernel
def test_a_student_notebook_runs_and_says_not_written_yet(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOKS / "00_tour.ipynb", as_version=4)
    text = execute(notebook, tmp_path, monkeypatch)
    assert "⏳ not written yet · image_size" in text and "✅" not in text
