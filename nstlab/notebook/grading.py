"""The notebooks as nbgrader assignments: `nstlab notebooks --nbgrader -o source/ASSIGNMENT`.

nbgrader (Jupyter's grading tool) reads *source* notebooks whose cells carry its metadata. Here
every solution cell (the code between `### BEGIN SOLUTION` and `### END SOLUTION`, which nbgrader
replaces by a stub in the students' copies) becomes an autograded answer; after it comes an
autograder test cell worth POINTS: the visible part asserts nstlab's own check (what the student
saw), and a hidden part (`### BEGIN HIDDEN TESTS`, removed from the students' copies) tests the
function on hand-computed cases and properties that do not call nstlab's reference in the
student's kernel -- a student who replaced nstlab's function by their own, or their own by
nstlab's, still has to get these numbers. A checked question is graded on its letter, hidden.
Every other cell is read-only.

    nbgrader_version(notebook, name)  -> the notebook with nbgrader's metadata and test cells
    POINTS                            {"code": 2, "question": 1}
"""

from __future__ import annotations

import re

import nbformat

from .builder import BEGIN
from .exercises import CHOICES

POINTS = {"code": 2, "question": 1}
SCHEMA = 3  # nbgrader's cell metadata version

# The hidden tests, per check; {fn} is the student's function. Hand values, or properties.
HIDDEN = {
    "check_image_size": """\
assert tuple(int(v) for v in {fn}(torch.zeros(1, 3, 7, 11))) == (7, 11)
assert tuple(int(v) for v in {fn}(torch.zeros(1, 3, 2, 5))) == (2, 5)""",
    "check_feature_shape": """\
assert tuple(int(v) for v in {fn}("relu1_1", 40, 30)) == (64, 40, 30)
assert tuple(int(v) for v in {fn}("relu3_1", 40, 32)) == (256, 10, 8)
assert tuple(int(v) for v in {fn}("pool4", 64, 64)) == (512, 4, 4)""",
    "check_content_loss": """\
F, P = torch.tensor([[[[1.0, 2.0]]]]), torch.tensor([[[[2.0, 2.0]]]])
assert abs(float({fn}(F, P)) - 1 / 8) < 1e-6  # 1^2 / (2^2 + 2^2)
x = torch.rand(1, 4, 3, 3) + 0.1
assert abs(float({fn}(3 * x, 3 * (x + 1))) - float({fn}(x, x + 1))) < 1e-5  # no scale""",
    "check_gram_matrix": """\
assert torch.allclose({fn}(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])), torch.tensor([[[7.5]]]))  # 30 / 4
x = torch.rand(2, 3, 4, 5)
G = {fn}(x)
assert G.shape == (2, 3, 3) and torch.allclose(G, G.transpose(1, 2))  # one per image, symmetric
assert torch.allclose({fn}(2 * x), 4 * G)""",
    "check_style_loss": """\
g = {{"a": torch.tensor([[[2.0]]]), "b": torch.tensor([[[1.0]]])}}
t = {{"a": torch.tensor([[[1.0]]]), "b": torch.tensor([[[1.0]]])}}
assert abs(float({fn}(g, t, {{"a": 1.0, "b": 3.0}})) - 0.25) < 1e-6  # (1 x 1 + 3 x 0) / 4""",
    "check_total_variation": """\
x = torch.tensor([[0.0, 1.0], [0.0, 1.0]]).expand(1, 3, 2, 2)
assert abs(float({fn}(x)) - 1.0) < 1e-6
assert float({fn}(torch.full((1, 3, 4, 4), 0.3))) == 0""",
    "check_optimization_loop": """\
import nstlab
from nstlab.targets import content_targets, style_targets
vgg, s = nstlab.load_vgg(), nstlab.Settings()
img, sty = nstlab.load_sample("tubingen", 32), nstlab.load_sample("starry_night", 32)
out = {fn}(img.clone(), vgg, s, content_targets(vgg, img, s.active_content_layers()),
           style_targets(vgg, [sty], s.active_style_layers()), 3, 0.02)
assert out.shape == img.shape and 0 <= float(out.min()) and float(out.max()) <= 1
assert not torch.equal(out, img)  # it moved""",
    "check_luminance": """\
assert abs(float({fn}(torch.tensor([1.0, 0.0, 0.0]).reshape(1, 3, 1, 1)).flatten()[0]) - 0.299) < 1e-4
assert abs(float({fn}(torch.ones(1, 3, 1, 1)).flatten()[0]) - 1.0) < 1e-4
assert tuple({fn}(torch.rand(2, 3, 4, 5)).shape) == (2, 1, 4, 5)""",
    "check_guided_gram": """\
F = torch.tensor([[[[1.0, 3.0]]]])
assert torch.allclose({fn}(F, torch.tensor([[[[1.0, 0.0]]]])), torch.tensor([[[1.0]]]))
assert torch.allclose({fn}(F, torch.tensor([[[[0.5, 0.5]]]])), torch.tensor([[[2.5]]]))""",
    "check_instance_norm": """\
x = torch.rand(2, 3, 4, 4) * 5 + 2
y = {fn}(x)
assert torch.allclose(y.mean((2, 3)), torch.zeros(2, 3), atol=1e-4)
assert torch.allclose(y.var((2, 3), unbiased=False), torch.ones(2, 3), atol=1e-3)
assert torch.allclose({fn}(3 * x + 1), y, atol=1e-3)  # contrast and brightness gone""",
    "check_style_mix": """\
assert torch.allclose({fn}(torch.tensor([[0.0], [10.0]]), torch.tensor([1.0, 3.0])), torch.tensor([7.5]))""",
    "check_adain": """\
x, y = torch.rand(1, 4, 5, 5), torch.rand(1, 4, 3, 3) * 3 + 1
z = {fn}(x, y)
assert torch.allclose(z.mean((2, 3)), y.mean((2, 3)), atol=1e-4)
assert torch.allclose(z.std((2, 3), unbiased=False), y.std((2, 3), unbiased=False), rtol=1e-2)""",
    "check_warp": """\
img = torch.arange(12.0).reshape(1, 1, 3, 4)
flow = torch.zeros(1, 2, 3, 4)
flow[:, 0] = 1  # everything from one pixel to the right
out = {fn}(img, flow)
assert torch.allclose(out[..., :3], img[..., 1:]) and torch.allclose(out[..., 3], img[..., 3])
assert torch.allclose({fn}(img, torch.zeros(1, 2, 3, 4)), img)""",
    "check_occlusion": """\
z = torch.zeros(2, 4, 6)
assert torch.equal({fn}(z, z).float(), torch.ones(4, 6))
f = torch.zeros(2, 4, 6)
f[0] = 1
m = {fn}(f, -f).float()
assert float(m[:, :5].min()) == 1 and float(m[:, 5].max()) == 0  # the last column leaves the frame
f[0] = 2
assert float({fn}(f, f).float().max()) == 0  # there and back do not meet""",
    "check_warping_error": """\
o = torch.zeros(2, 3, 4, 4)
o[1] += 0.1
f, m = torch.zeros(1, 2, 4, 4), torch.ones(1, 4, 4)
assert abs(float({fn}(o, f, m)) - 0.03) < 1e-6  # 3 colours x 0.1^2
m[0, :2] = 0
o[1, :, :2] = 5
assert abs(float({fn}(o, f, m)) - 0.03) < 1e-6  # unreliable pixels do not count""",
    "check_meanstd_loss": """\
F, A = torch.full((1, 1, 2, 2), 2.0), torch.tensor([[[[1.0, 3.0]]]])
assert abs(float({fn}(F, A)) - 0.2) < 1e-4  # s(F) = (2, 0), s(A) = (2, 1): 1 / 5""",
    "check_mmd": """\
assert abs(float({fn}(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))) - 2.0) < 1e-6
x = torch.rand(5, 3)
assert abs(float({fn}(x, x))) < 1e-5""",
    "check_adabn": """\
net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1), torch.nn.BatchNorm2d(1)).eval()
net[0].weight.data.fill_(1.0)
net[0].bias.data.zero_()
adapted = {fn}(net, torch.tensor([0.0, 2.0, 4.0]).reshape(3, 1, 1, 1))
assert abs(float(adapted[1].running_mean) - 2.0) < 1e-5 and abs(float(adapted[1].running_var) - 4.0) < 1e-4
assert float(net[1].running_mean) == 0.0  # a copy: the original network untouched""",
}

_CHECK = re.compile(r"\b(check_(?!setup)\w+)\((\"[^\"]+\"\s*,\s*)?(\w+)")


def nbgrader_version(notebook, name: str):
    """`notebook` (a jupytext-read solution source, markers in place) as an nbgrader source
    notebook: nbgrader metadata on every cell, a test cell after every solution cell."""
    cells = []
    for i, cell in enumerate(notebook.cells):
        grade_id = f"{name}-{i:02d}"
        solution = cell.cell_type == "code" and BEGIN in cell.source
        cell.metadata["nbgrader"] = _meta(grade_id, solution=solution, locked=not solution)
        cells.append(cell)
        if solution:
            for k, (check, key, fn) in enumerate(_CHECK.findall(cell.source)):
                cells.append(_test_cell(f"{grade_id}-test{k}", check, key.strip(" ,\""), fn))
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"
    notebook.cells = cells
    return notebook


def _meta(grade_id: str, *, solution: bool = False, locked: bool = False, points: int | None = None) -> dict:
    meta = {"grade": points is not None, "solution": solution, "locked": locked, "task": False,
            "grade_id": grade_id, "schema_version": SCHEMA}
    if points is not None:
        meta["points"] = points
    return meta


def _test_cell(grade_id: str, check: str, key: str, fn: str):
    if check == "check_choice":
        right = CHOICES[key][0]
        visible, hidden, points = f'assert check_choice("{key}", {fn})', (
            f'assert str({fn}()).strip().lower().strip("()") == "{right}"'), POINTS["question"]
    else:
        visible, hidden, points = f"assert {check}({fn})", HIDDEN[check].format(fn=fn), POINTS["code"]
    source = (f"# the autograder's test for `{fn}` ({points} point{'s' if points > 1 else ''})\n{visible}\n"
              f"### BEGIN HIDDEN TESTS\nimport torch\n{hidden}\n### END HIDDEN TESTS")
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": _meta(grade_id, locked=True,
                                                                         points=points)})
