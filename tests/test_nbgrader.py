"""The notebooks as an nbgrader assignment, through nbgrader's own pipeline on a temporary course:
generate_assignment accepts them; autograde gives full marks to the solutions, nothing for an
unfilled copy, and exactly one exercise's points less for the Gram matrix without its 1/M."""

import re
from pathlib import Path

import nbformat
import pytest

from nstlab.cli import main
from nstlab.notebook.builder import solution_version
from nstlab.notebook.grading import POINTS

pytestmark = pytest.mark.slow  # nbgrader runs the notebook once per submission
nbgrader_apps = pytest.importorskip("nbgrader.apps")

NOTEBOOK = "03_style_as_statistics"
SOURCES = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


@pytest.fixture
def course(tmp_path, monkeypatch):
    root = tmp_path / "course"
    built = tmp_path / "built"
    assert main(["notebooks", "--nbgrader", "--source", str(SOURCES), "-o", str(built)]) == 0
    (root / "source" / "ps1").mkdir(parents=True)
    (built / f"{NOTEBOOK}.ipynb").replace(root / "source" / "ps1" / f"{NOTEBOOK}.ipynb")
    monkeypatch.setenv("NSTLAB_FAST", "1")  # the autograder's kernel runs the whole notebook
    monkeypatch.chdir(root)
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = "nst"
    config.Autograde.create_student = True
    config.ExecutePreprocessor.timeout = 600
    return root, nbgrader_apps.NbGraderAPI(config=config)


def _submit(root: Path, student: str, edit) -> None:
    """The released notebook, its answer cells changed by `edit(cell) -> source or None`."""
    released = nbformat.read(root / "release" / "ps1" / f"{NOTEBOOK}.ipynb", as_version=4)
    for cell in released.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            new = edit(cell)
            cell.source = cell.source if new is None else new
    folder = root / "submitted" / student / "ps1"
    folder.mkdir(parents=True)
    nbformat.write(released, folder / f"{NOTEBOOK}.ipynb")
    (folder / "timestamp.txt").write_text("2026-12-06 10:00:00.000000 UTC")


def test_autograde_gives_the_solutions_full_marks_and_a_classic_mistake_loses_its_points(course):
    root, api = course
    assert api.generate_assignment("ps1")["success"]
    release = nbformat.read(root / "release" / "ps1" / f"{NOTEBOOK}.ipynb", as_version=4)
    shown = "\n".join(c.source for c in release.cells)
    assert "### BEGIN SOLUTION" not in shown and "HIDDEN TESTS" not in shown and "/ (h * w)" not in shown

    source = nbformat.read(root / "source" / "ps1" / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: solution_version(c.source) for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}

    def solved(cell):
        return answers[cell.metadata["nbgrader"]["grade_id"]]

    def mistake(cell):  # the Gram matrix without dividing by the number of positions
        return re.sub(r" / \(h \* w\)", "", solved(cell))

    _submit(root, "good", solved)
    _submit(root, "blank", lambda cell: None)
    _submit(root, "slip", mistake)
    from nbgrader.api import Gradebook

    scores = {}
    for student in ("good", "blank", "slip"):
        assert api.autograde("ps1", student)["success"], student
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
            graded = gradebook.find_submission_notebook(NOTEBOOK, "ps1", student)
            scores[student] = {grade.name: grade.score for grade in graded.grades}
    most = 2 * POINTS["code"] + POINTS["question"]  # gram_matrix, the question, style_loss
    assert sum(scores["good"].values()) == most and all(v > 0 for v in scores["good"].values()), scores
    assert sum(scores["blank"].values()) == 0, scores
    lost = {name for name, score in scores["slip"].items() if score != scores["good"][name]}
    assert lost == {"03-04-test0"} and sum(scores["slip"].values()) == most - POINTS["code"], scores


def test_the_command_refuses_solutions_and_nbgrader_together(tmp_path, capsys):
    argv = ["notebooks", "--nbgrader", "--solutions", "--source", str(SOURCES), "-o", str(tmp_path)]
    assert main(argv) == 2 and "not both" in capsys.readouterr().err
