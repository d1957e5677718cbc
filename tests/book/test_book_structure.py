"""The book's shape, checked from the sources: the TOC and the files agree, every chapter has the sections
CONTRIBUTING.md asks for, knowledge checks are valid and long enough, and there is enough prose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from spm_training.sphinxext.quiz_model import parse_knowledge_check

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
PARTS_WITH_CHECKS = ("onboarding", "handbook", "sdr", "team")    # parts 1-3, and 5 (Building the team)
CHAPTER_PARTS = (*PARTS_WITH_CHECKS, "performance")              # parts 1-5
MIN_WORDS_PER_PAGE = 600
MIN_WORDS_PARTS_1_TO_4 = 15_000
MIN_QUESTIONS = 3

FENCE = re.compile(r"^(`{3,}|~{3,}|:{3,})")
KC_BLOCK = re.compile(r"^(`{3,}|:{3,})\{knowledge-check\}[^\n]*\n(.*?)^\1\s*$", re.S | re.M)


def toc_files() -> list[str]:
    """Every file named in _toc.yml (without suffix), in order: the root, chapters and their sections."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


def source_of(entry: str) -> Path | None:
    for suffix in (".md", ".ipynb"):
        path = ROOT / f"{entry}{suffix}"
        if path.is_file():
            return path
    return None


def prose_words(text: str) -> int:
    """Words of prose, counted as /work/shared/acceptance/book.sh counts them (code and directives out)."""
    text = re.sub(r"^---.*?---", "", text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r":::.*?:::", "", text, flags=re.S)
    return len(re.findall(r"[A-Za-z][A-Za-z'-]+", text))


def level_two_headings(text: str) -> list[str]:
    """The ``## `` headings outside fenced blocks, in order."""
    headings, fence = [], None
    for line in text.splitlines():
        match = FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence) and line.strip() == marker:
                fence = None
            continue
        if fence is None and line.startswith("## "):
            headings.append(line[3:].strip())
    return headings


def chapters(parts: tuple[str, ...]) -> list[Path]:
    return sorted(p for part in parts for p in (BOOK / part).glob("*.md"))


def chapter_ids(parts: tuple[str, ...]) -> list[str]:
    return [p.relative_to(BOOK).as_posix() for p in chapters(parts)]


# -- TOC and files ---------------------------------------------------------------------------------

def test_every_toc_entry_exists() -> None:
    missing = [entry for entry in toc_files() if source_of(entry) is None]
    assert missing == [], f"_toc.yml names files that do not exist: {missing}"


def test_toc_has_no_duplicates() -> None:
    files = toc_files()
    assert len(files) == len(set(files))


def test_every_page_is_in_the_toc() -> None:
    listed = set(toc_files())
    pages = [p for p in BOOK.rglob("*.md")] + list((ROOT / "notebooks").glob("*.ipynb"))
    unlisted = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in pages
                      if p.relative_to(ROOT).with_suffix("").as_posix() not in listed
                      and ".ipynb_checkpoints" not in p.parts)
    assert unlisted == [], f"pages missing from _toc.yml: {unlisted}"


def test_interactive_modules_come_before_the_guides() -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = [part["caption"] for part in toc["parts"]]
    assert captions.index("Interactive modules") == captions.index("Guides") - 1
    modules = toc["parts"][captions.index("Interactive modules")]["chapters"]
    assert {"file": "notebooks/kpi_calculator"} in modules


# -- chapter shape -----------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", chapter_ids(CHAPTER_PARTS))
def test_chapter_opens_with_objectives_and_has_takeaways(chapter: str) -> None:
    headings = level_two_headings((BOOK / chapter).read_text(encoding="utf-8"))
    assert headings, f"{chapter}: no ## sections"
    assert headings[0] == "Learning objectives", f"{chapter}: the first ## section is {headings[0]!r}"
    assert "Key takeaways" in headings, f"{chapter}: no '## Key takeaways'"


@pytest.mark.parametrize("chapter", chapter_ids(PARTS_WITH_CHECKS))
def test_chapter_has_a_valid_knowledge_check(chapter: str) -> None:
    text = (BOOK / chapter).read_text(encoding="utf-8")
    assert "Knowledge check" in level_two_headings(text), f"{chapter}: no '## Knowledge check' section"
    blocks = [m.group(2) for m in KC_BLOCK.finditer(text)]
    assert blocks, f"{chapter}: no knowledge-check block"
    questions = 0
    for body in blocks:
        parsed, problems = parse_knowledge_check(body)
        assert problems == [], f"{chapter}: " + "; ".join(f"line +{p.line}: {p.message}" for p in problems)
        questions += len(parsed)
    assert questions >= MIN_QUESTIONS, f"{chapter}: {questions} questions, at least {MIN_QUESTIONS} needed"


@pytest.mark.parametrize("page", sorted(p.relative_to(BOOK).as_posix() for p in BOOK.rglob("*.md")))
def test_page_has_enough_prose(page: str) -> None:
    words = prose_words((BOOK / page).read_text(encoding="utf-8"))
    assert words >= MIN_WORDS_PER_PAGE, f"{page}: {words} prose words, at least {MIN_WORDS_PER_PAGE} needed"


def test_parts_one_to_four_have_enough_prose() -> None:
    total = sum(prose_words(p.read_text(encoding="utf-8")) for p in chapters(CHAPTER_PARTS))
    assert total >= MIN_WORDS_PARTS_1_TO_4


# -- the helpers above, on inputs with known answers ---------------------------------------------------

def test_prose_words_leaves_out_front_matter_code_and_directives() -> None:
    text = ("---\ntitle: x y z\n---\nOne two three.\n```python\nnot counted here\n```\n"
            ":::{note}\nnor here\n:::\nDon't stop-gap 42 a.")
    assert prose_words(text) == 5  # One, two, three, Don't, stop-gap ("a" is one letter)


def test_level_two_headings_ignore_fenced_blocks() -> None:
    text = "# T\n## Learning objectives\n````markdown\n## Not a heading\n```\n## Still not\n```\n````\n## Key takeaways\n"
    assert level_two_headings(text) == ["Learning objectives", "Key takeaways"]
