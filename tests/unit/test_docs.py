"""The house rules that keep the repository easy to enter, checked so they stay true."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("callbridge", "triggers", "adengine", "models")
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")
CITATION = re.compile(r"(docs/[a-z]+\.md),? [\"']([^\"']+)[\"']")


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def comments_and_strings(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [(tok.start[0], tok.string) for tok in tokens if tok.type in (tokenize.COMMENT, tokenize.STRING)]


def test_the_readme_is_a_front_door_of_at_most_250_lines() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_no_comment_or_docstring_in_the_packages_carries_a_date() -> None:
    dated = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sources()
        for line, text in comments_and_strings(path)
        if DATE.search(text)
    ]
    assert dated == [], f"dates belong in docs/experiments.md, not in code: {dated}"


def test_the_code_cites_only_documents_and_sections_that_exist() -> None:
    missing = []
    for path in sources():
        text = path.read_text()
        for name in re.findall(r"\b(?:CONTRACT|NOTES)\.md\b", text):
            missing.append(f"{path.relative_to(ROOT)}: {name} is not in this repository")
        for doc, heading in CITATION.findall(text):
            target = ROOT / doc
            headings = re.findall(r"^#+ (.+)$", target.read_text(), re.M) if target.exists() else []
            if heading not in headings:
                missing.append(f"{path.relative_to(ROOT)}: {doc} has no section {heading!r}")
    assert missing == []


@pytest.mark.parametrize("doc", ["triggers", "adengine", "relay", "benchmarks", "experiments", "interfaces"])
def test_each_design_document_exists_and_is_linked_from_the_readme(doc: str) -> None:
    assert (ROOT / "docs" / f"{doc}.md").is_file()
    assert f"docs/{doc}.md" in (ROOT / "README.md").read_text()
