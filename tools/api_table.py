"""Write docs/api.md, the table of nstlab's public functions and their parameters, from the code.

    python tools/api_table.py            rewrite docs/api.md
    python tools/api_table.py --check    exit 1 with one line when docs/api.md is not what it would write

Everything comes from `inspect.signature` of what `nstlab.__all__` and `nstlab.video.__all__`
export, so the page cannot drift from the code (tests/test_api_doc.py runs the check). The page
has two parts:

- one table for the main entry points (MAIN: `stylize`, `StyleTransfer`, `StyleTransfer.run`,
  `apply`, `apply_video`, `stylize_video`, `train`): a row per parameter word (first the words
  two or more of them share, then each one's own), a column per entry point, and in each cell the
  word's default value or "required", with "(n)" where it may also be the n-th positional
  argument -- so the shared words (style, mix, masks, preserve_color, size, device, ...) are seen
  side by side, and a word one entry point lacks shows as a gap;
- a list of every other public function and class with its signature (a class with its
  constructor and the public methods it defines), and the errors.

Nothing here knows a parameter name: a new, renamed or removed parameter changes the page the
next time this runs.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "api.md"
# the main entry points, in the order of their columns ("Class.method" for a method); a name that
# is not exported (any more) is left out
MAIN = ("stylize", "StyleTransfer", "StyleTransfer.run", "apply", "apply_video", "stylize_video", "train")
MODULES = ("nstlab", "nstlab.video")  # whose __all__ is the public API
STALE = "docs/api.md is stale: run python tools/api_table.py"


def _modules():
    if str(ROOT) not in sys.path:  # this checkout's nstlab, also when it is not installed
        sys.path.insert(0, str(ROOT))
    import importlib

    return [importlib.import_module(name) for name in MODULES]


def _public() -> dict[str, object]:
    """{qualified name: object} for every exported function and class, each object once (the
    first module that exports it names it)."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    for module in _modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            found[f"{module.__name__}.{name}"] = obj
    return found


def _main(public: dict[str, object]) -> dict[str, object]:
    """{column title: callable} for the entry points of MAIN that are exported."""
    top = {name.split(".")[-1]: obj for name, obj in public.items()}
    columns = {}
    for title in MAIN:
        head, _, method = title.partition(".")
        obj = top.get(head)
        if obj is not None and method:
            obj = inspect.getattr_static(obj, method, None)
        if obj is not None:
            columns[title] = obj
    return columns


def _text(value) -> str:
    """A default value as code, without memory addresses (the page must be the same every run)."""
    if isinstance(value, enum.Enum):
        text = f"{type(value).__name__}.{value.name}"
    elif inspect.isfunction(value) or inspect.isclass(value):
        text = value.__qualname__
    else:
        text = re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))
    return text


def _annotation(annotation) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _cell(text: str) -> str:
    """`text` as inline code that survives a Markdown table."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _parameters(obj) -> list[inspect.Parameter]:
    """The parameters a caller passes: without `self` (a method, a class's constructor)."""
    params = list(inspect.signature(obj).parameters.values())
    if inspect.isclass(obj):
        return params  # signature() of a class already leaves out self
    if params and params[0].name in ("self", "cls") and "." in obj.__qualname__:
        params = params[1:]
    return params


def _signature(obj) -> str:
    """`(a, b: int = 1, *, c=None) -> Result` with annotations as written in the code."""
    parts, star = [], False
    for p in _parameters(obj):
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            star = True
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        text = prefix + p.name
        annotation = _annotation(p.annotation)
        if annotation:
            text += f": {annotation}"
        if p.default is not p.empty:
            text += (" = " if annotation else "=") + _text(p.default)
        parts.append(text)
    if any(p.kind is p.POSITIONAL_ONLY for p in _parameters(obj)):
        last = max(i for i, p in enumerate(_parameters(obj)) if p.kind is p.POSITIONAL_ONLY)
        parts.insert(last + 1, "/")
    returns = "" if inspect.isclass(obj) else _annotation(inspect.signature(obj).return_annotation)
    return f"({', '.join(parts)})" + (f" -> {returns}" if returns else "")


def _where(obj) -> str:
    module = sys.modules[obj.__module__]
    try:
        return Path(module.__file__).resolve().relative_to(ROOT).as_posix()
    except ValueError:  # an installed copy elsewhere
        return obj.__module__.replace(".", "/") + ".py"


def _main_table(columns: dict[str, object]) -> list[str]:
    words: dict[str, dict[str, str]] = {}  # row -> {column: mark}, rows in order of first appearance
    for title, obj in columns.items():
        position = 0
        for p in _parameters(obj):
            if p.kind is p.VAR_KEYWORD:
                words.setdefault("**", {})[title] = _cell(f"**{p.name}")
                continue
            if p.kind is p.VAR_POSITIONAL:
                words.setdefault("*", {})[title] = _cell(f"*{p.name}")
                continue
            mark = "required" if p.default is p.empty else _cell(_text(p.default))
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                position += 1
                mark = f"({position}) {mark}"
            words.setdefault(p.name, {})[title] = mark
    # the words two or more entry points share, then each entry point's own (each group in the
    # order the words first appear, column by column); the catch-alls last
    named = [w for w in words if w not in ("*", "**")]
    rows = [w for w in named if len(words[w]) > 1] + [w for w in named if len(words[w]) == 1]
    rows += [w for w in ("*", "**") if w in words]
    label = {"*": "*other positional*", "**": "*other keywords*"}
    lines = ["| word | " + " | ".join(f"`{t}`" for t in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for word in rows:
        cells = [words[word].get(t, "") for t in columns]
        lines.append(f"| {label.get(word, f'`{word}`')} | " + " | ".join(cells) + " |")
    returns = []
    for obj in columns.values():
        text = obj.__name__ if inspect.isclass(obj) else _annotation(inspect.signature(obj).return_annotation)
        returns.append(_cell(text) if text else "")
    lines.append("| *returns* | " + " | ".join(returns) + " |")
    return lines


def _method_names(cls) -> list[str]:
    """Public methods that `cls` itself defines (not those it inherits, e.g. from nn.Module)."""
    return [name for name, value in vars(cls).items()
            if not name.startswith("_") and inspect.isfunction(value)]


def render() -> str:
    """The text of docs/api.md."""
    public = _public()
    columns = _main(public)
    main_ids = {id(obj) for obj in columns.values()}
    lines = [
        "# nstlab's public API",
        "",
        "<!-- Generated by tools/api_table.py from the code: do not edit by hand. After changing a "
        "signature run `python tools/api_table.py`; tests/test_api_doc.py fails while this page is "
        "stale. -->",
        "",
        "## The main entry points",
        "",
        "One row per parameter word, one column per entry point. A cell gives the word's default, "
        "or *required*; *(n)* marks a parameter that may also be passed as the n-th positional "
        "argument (all others are keyword only). A word means the same thing wherever it appears: "
        "the docstrings say what.",
        "",
        *_main_table(columns),
        "",
        "Defined in: " + ", ".join(f"`{t}` {_where(obj)}" for t, obj in columns.items()) + ".",
        "",
        "## Everything else that is exported",
        "",
        "Functions and classes in `nstlab.__all__`, then those that only `nstlab.video.__all__` adds; "
        "a class with the public methods it defines.",
        "",
    ]
    errors = []
    for name, obj in sorted(public.items(), key=lambda item: (item[0].rsplit(".", 1)[0], item[0].lower())):
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            errors.append(obj)
            continue
        if id(obj) in main_ids and not inspect.isclass(obj):
            continue
        if inspect.isclass(obj):
            if id(obj) not in main_ids:
                lines.append(f"- class `{name}{_signature(obj)}` ({_where(obj)})")
            else:
                lines.append(f"- class `{name}` (above; {_where(obj)})")
            for method in _method_names(obj):
                if id(inspect.getattr_static(obj, method)) in main_ids:
                    continue
                lines.append(f"  - `.{method}{_signature(getattr(obj, method))}`")
        else:
            lines.append(f"- `{name}{_signature(obj)}` ({_where(obj)})")
    if errors:
        lines += ["", "Errors (nstlab/errors.py; every one derives from `NstlabError`):", ""]
        for cls in errors:
            bases = ", ".join(b.__name__ for b in cls.__bases__)
            lines.append(f"- `{cls.__name__}({bases})`")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/api.md from nstlab's signatures.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when docs/api.md differs from what would be written")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else None
        if current != text:
            print(STALE, file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
