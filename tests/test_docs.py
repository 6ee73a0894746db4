"""The README and the pages under ``docs/``: every relative link leads somewhere (a file that
exists, and for ``#anchor`` links into a Markdown page a heading of it), and the README's
"Documentation" index lists every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

#: A Markdown link or image: ``[text](target)`` or ``[text](target "title")``.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _unfenced_lines(text: str) -> list[str]:
    """The lines of ``text`` outside its fenced code blocks, the fences dropped: a ``#`` or
    ``[x](y)`` inside one is code, not a heading or a link."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _outside_code(text: str) -> str:
    """``text`` without its fenced code blocks, inline code spans (which may run over a line
    break) blanked: a ``[x](y)`` there is code, not a link."""
    return re.sub(r"`[^`]*`", lambda span: re.sub(r"[^\n]", " ", span.group()), "\n".join(_unfenced_lines(text)))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped but ``-`` and ``_``, each
    space a ``-`` (inline code's backticks are punctuation too)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in ``page``, a repeated one with GitHub's ``-1``, ``-2``, ...
    suffixes."""
    seen: dict[str, int] = {}
    found = set()
    for line in _unfenced_lines(page.read_text()):
        heading = re.match(r"#{1,6} +(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(page: Path) -> list[str]:
    """The relative links of ``page`` that lead nowhere, each with the reason."""
    broken = []
    for target in LINK.findall(_outside_code(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, flags=re.I):  # https:, mailto:, ...
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading '#{anchor}' in {linked.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading(page: Path) -> None:
    assert broken_links(page) == []


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    """The check itself: a missing file and a missing heading are reported, good links not."""
    (tmp_path / "other.md").write_text("# Other page\n\n## The `envs` package name\n\n## Same\n\n## Same\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#the-envs-package-name) [ok](other.md#same-1) [ok](#page)"
        " [web](https://example.org/x) `[code](missing.md)`\n\n```\n[fenced](missing.md)\n```\n"
        "[gone](missing.md) [bad](other.md#nowhere) [bad](#other-page)\n"
    )
    assert [line.split(":")[0] for line in broken_links(page)] == ["missing.md", "other.md#nowhere", "#other-page"]


def test_the_readme_lists_every_docs_page() -> None:
    """A newcomer finds every page from the front page's index."""
    index = README.read_text().split("\n## Documentation\n", 1)
    assert len(index) == 2, "the README has no '## Documentation' section"
    section = index[1].split("\n## ", 1)[0]
    listed = set(LINK.findall(_outside_code(section)))
    pages = {page.relative_to(ROOT).as_posix() for page in PAGES[1:]}
    assert pages and pages <= listed


#: Commands whose row on docs/cli.md sends the reader to their own ``--help`` for the options
#: (too many for a table cell); the row says so.
HELP_ONLY_COMMANDS = {"train", "tune"}


def _command_rows(text: str, name: str) -> str:
    """The rows of docs/cli.md's command table that describe ``placer NAME``."""
    return "\n".join(line for line in text.splitlines() if line.startswith(f"| `placer {name}"))


def test_the_cli_page_names_every_option_of_every_command() -> None:
    """docs/cli.md promises every command with its options in full: each option a command
    takes is named in that command's rows (``train`` and ``tune`` send the reader to their
    ``--help``, and their rows say so)."""
    import typer

    from placer.cli import app

    text = (ROOT / "docs" / "cli.md").read_text()
    missing = []
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        rows = _command_rows(text, name)
        assert rows, f"docs/cli.md has no row for `placer {name}`"
        if name in HELP_ONLY_COMMANDS:
            assert f"placer {name} --help" in rows, name
            continue
        for param in command.params:
            options = [o for o in [*param.opts, *param.secondary_opts] if o.startswith("--")]
            if options and not getattr(param, "hidden", False):
                if not any(re.search(rf"{re.escape(option)}(?![\w-])", rows) for option in options):
                    missing.append(f"placer {name} {options[0]}")
    assert missing == [], missing
