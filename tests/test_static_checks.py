"""The code's static checks run as tests: ruff's lint rules and mypy's type check, each with
the settings in ``pyproject.toml``, so the README's ``pytest`` (and so CI) keeps both clean;
and one rule of our own no linter has (no Enum member compared as an operand, below).

Both tools come with the ``dev`` extra; where one is missing (an install without it) its test
is skipped with a message saying how to install it. mypy checks from an empty cache in a
temporary folder (about 45 s of one core), so no run depends on, or leaves, cache files.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` from the project's root; skipped when it is not installed."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[dev]' installs it)")
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    result = _run_tool("ruff", "check", "--no-cache", "--quiet", ".")
    assert result.returncode == 0, f"ruff check . found:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_mypy_finds_nothing(tmp_path: Path) -> None:
    result = _run_tool("mypy", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert result.returncode == 0, f"mypy found:\n{result.stdout}{result.stderr}"


#: The packages whose code the project's own rule below reads.
PACKAGES = ("netlists", "placer", "envs", "learned_systems")

#: Comparisons that run no code of the operands' types: identity.
_IDENTITY = (ast.Is, ast.IsNot)


def _enum_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """Names of the classes the packages derive from Enum, IntEnum, Flag, IntFlag or StrEnum."""
    bases = {"Enum", "IntEnum", "Flag", "IntFlag", "StrEnum"}
    found = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                (b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "") in bases
                for b in node.bases
            ):
                found.add(node.name)
    return found


def _is_member(node: ast.expr, enums: set[str]) -> bool:
    """Whether ``node`` is ``E.NAME`` for one of ``enums``, or a tuple, list or set holding one."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_member(e, enums) for e in node.elts)
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in enums


def enum_members_compared(tree: ast.Module, enums: set[str]) -> list[int]:
    """Lines of ``tree`` that compare (``==``, ``<``, ``in`` ...; not ``is``) with a member of
    ``enums``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and not all(isinstance(op, _IDENTITY) for op in node.ops):
            if any(_is_member(operand, enums) for operand in (node.left, *node.comparators)):
                lines.append(node.lineno)
    return sorted(set(lines))


def test_the_rule_finds_members_compared_and_passes_ints_and_identity() -> None:
    code = ast.parse(
        "a = types[i] in (NodeType.HARD_MACRO, NodeType.SOFT_MACRO)\n"
        "b = t == NodeType.PORT\n"
        "c = NodeType.HARD_PIN <= t\n"
        "d = t == int(NodeType.PORT)\n"
        "e = t is NodeType.PORT\n"
        "f = Other.PORT == t\n"
    )
    assert enum_members_compared(code, {"NodeType"}) == [1, 2, 3]


def test_no_numpy_value_is_compared_with_an_enum_member() -> None:
    """numpy looks an Enum member's ``__array_ufunc__`` up through Python code (Python 3.11's
    ``EnumType.__getattr__``) and drops whatever is raised there: a Ctrl-C or kill landing in
    it was lost. ``placer generate --hard 3000 --soft 3000`` ran to the end, exit 0, after a
    Ctrl-C in 5 of 8 tries (``types[i] in (NodeType.HARD_MACRO, ...)`` in a loop over the
    nodes). The packages compare node types as plain ints (``int(NodeType.PORT)``, hoisted out
    of loops) or members by identity (``t is NodeType.PORT``): since whether an operand is a
    numpy value is not known here, no member is a comparison's operand at all."""
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    enums = _enum_classes(trees)
    assert "NodeType" in enums  # (the rule reads the classes it is about)
    found = [f"{path.relative_to(ROOT)}:{line}" for path, tree in trees.items()
             for line in enum_members_compared(tree, enums)]  # fmt: skip
    assert not found, "compare with int(Member) or by identity (`is`), not with the member:\n" + "\n".join(found)
