"""The documentation's relative links lead somewhere.

Every relative link in ``README.md`` and ``docs/*.md`` (``[text](path)``,
``[text](path#anchor)``, ``![alt](path)`` and ``[label]: path`` definitions) must name
a file or folder that exists in the repository. A link into a Markdown file with an
``#anchor`` (or a bare ``#anchor`` into the same page) must also name one of that
page's headings, spelled as GitHub spells heading anchors. Links inside code spans and
fenced code blocks are text, not links, and are skipped; so are absolute URLs.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) or ![alt](target); target up to whitespace or ')' (an optional "title")
_INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto:, ...


def _prose_lines(text: str, blank_code: bool = True) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, code spans blanked if asked."""
    out: list[tuple[int, str]] = []
    fence: str | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        m = _FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            if blank_code:
                line = _CODE_SPAN.sub(lambda s: " " * len(s.group(0)), line)
            out.append((n, line))
    return out


def links(page: Path) -> list[tuple[int, str]]:
    """Every link target on ``page`` with its line number."""
    found: list[tuple[int, str]] = []
    for n, line in _prose_lines(page.read_text(encoding="utf-8")):
        found += [(n, m.group(1)) for m in _INLINE.finditer(line)]
        m = _DEFINITION.match(line)
        if m:
            found.append((n, m.group(1)))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed
    (letters, digits, '_' and '-' stay), spaces become '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The heading anchors of a Markdown page (repeats get -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for _, line in _prose_lines(page.read_text(encoding="utf-8"), blank_code=False):
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """One line per relative link on ``page`` (inside ``root``) that leads nowhere."""
    root, page = root.resolve(), page.resolve()
    problems: list[str] = []
    for n, target in links(page):
        if _EXTERNAL.match(target) or target.startswith("//"):
            continue
        path_part, _, anchor = target.partition("#")
        where = f"{page.relative_to(root)}:{n}: {target}"
        dest = (page.parent / unquote(path_part)).resolve() if path_part else page
        if path_part.startswith("/"):
            problems.append(f"{where}: absolute path (links must be relative)")
            continue
        if not dest.exists():
            problems.append(f"{where}: no such file")
            continue
        if root not in (dest, *dest.parents):
            problems.append(f"{where}: leads outside the repository")
            continue
        if anchor and dest.is_file() and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where}: no heading with anchor #{anchor}")
    return problems


def test_pages_exist() -> None:
    assert (ROOT / "README.md").is_file()
    assert len(PAGES) > 1, "docs/*.md missing"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert links(page) or page.name != "README.md", "the README links nowhere"
    problems = broken_links(page)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_link_checker_catches_broken_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A heading, with `code`\n", encoding="utf-8")
    page.write_text(
        "# Top\n[ok](there.md) [ok](there.md#a-heading-with-code) [ok](#top)\n"
        "[gone](missing.md) [bad anchor](there.md#nope) ![img](pic.png)\n"
        "`[not a link](nowhere.md)`\n```\n[not a link](nowhere.md)\n```\n"
        "[web](https://example.com/x.md)\n[def]: also-missing.txt\n",
        encoding="utf-8",
    )
    problems = broken_links(page, root=tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "missing.md: no such file",
        "there.md#nope: no heading with anchor #nope",
        "pic.png: no such file",
        "also-missing.txt: no such file",
    ]
