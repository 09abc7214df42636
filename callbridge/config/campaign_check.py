"""Reading and checking a campaign file (docs/campaigns.md, "Export and import").

tomllib gives values but no positions, so the source is scanned once more for the
line of every table and key: each problem is reported as FILE:LINE. Nothing here
touches the store or the clips folder; campaign_file does the importing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from callbridge.config.campaign import (
    DEFAULT_MAX_S,
    CampaignError,
    PhraseRule,
    TemplateRecord,
    check_cooldown,
    check_fallback,
    check_max_duration,
    check_phrase,
    check_template_name,
    check_text,
)

TOP_KEYS = ("retention_days", "templates", "phrases")
TEMPLATE_KEYS = ("name", "clip", "title", "tagline", "licence", "max_duration_s", "fallback")
PHRASE_KEYS = ("phrase", "template", "enabled", "cooldown_s")
_REQUIRED = object()


@dataclass(frozen=True)
class TemplateSource:
    """A [[templates]] entry: the record it describes (no stored clip yet) and the clip file it names."""

    record: TemplateRecord
    clip: Path
    line: int


@dataclass(frozen=True)
class CampaignFile:
    """A checked campaign file, ready to ingest."""

    retention_days: int | None
    templates: list[TemplateSource]
    phrases: list[PhraseRule]


def read_campaign_file(path: Path, builtin: Collection[str] = ("default",)) -> CampaignFile:
    """Parse and check a campaign file without ingesting anything; CampaignError names FILE:LINE."""
    label = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CampaignError(f"{label}: not UTF-8 text") from None
    except OSError as exc:
        raise CampaignError(f"{label}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(_toml_error(label, text, exc)) from None
    return _Checker(label, _Lines.scan(text), path.parent, set(builtin)).campaign(data)


def _toml_error(label: str, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, "Invalid value (at line 2, column 5)", as "FILE:2: not valid TOML: ..."."""
    message = str(exc)
    found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.S)
    if found:
        return f"{label}:{found[2]}: not valid TOML: {found[1]} (column {found[3]})"
    if message.endswith("(at end of document)"):
        return f"{label}:{max(1, len(text.splitlines()))}: not valid TOML: {message.rsplit(' (', 1)[0]}"
    return f"{label}: not valid TOML: {message}"


@dataclass
class _Lines:
    """Where things are in the source text: tomllib gives values but no positions."""

    top: dict[str, int]  # top-level key -> line
    entries: dict[str, list[tuple[int, dict[str, int]]]]  # "phrases" -> [(header line, {key: line})]

    _HEADER = re.compile(r"\s*\[\[\s*([A-Za-z0-9_-]+)\s*\]\]")
    _TABLE = re.compile(r"\s*\[\s*([A-Za-z0-9_-]*)")
    _KEY = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*[=.]""")

    @classmethod
    def scan(cls, text: str) -> _Lines:
        lines = cls({}, {})
        keys: dict[str, int] | None = lines.top
        for number, line in enumerate(text.splitlines(), start=1):
            if header := cls._HEADER.match(line):
                keys = {}
                lines.entries.setdefault(header[1], []).append((number, keys))
                lines.top.setdefault(header[1], number)
            elif table := cls._TABLE.match(line):
                keys = None  # some other table: not one whose keys are looked up
                lines.top.setdefault(table[1], number)
            elif keys is not None and (key := cls._KEY.match(line)):
                keys.setdefault(key[1].strip("\"'"), number)
        return lines

    def entry(self, table: str, index: int) -> int:
        """The line of the index-th [[table]] header (or of `table = [...]` when written inline)."""
        found = self.entries.get(table, [])
        return found[index][0] if index < len(found) else self.top.get(table, 1)

    def key(self, table: str, index: int, key: str) -> int:
        found = self.entries.get(table, [])
        return found[index][1].get(key, found[index][0]) if index < len(found) else self.entry(table, index)


class _Checker:
    """Checks a parsed file entry by entry; the first problem raises CampaignError at its line."""

    def __init__(self, label: str, lines: _Lines, base: Path, builtin: set[str]) -> None:
        self.label = label
        self.lines = lines
        self.base = base
        self.builtin = builtin

    def fail(self, line: int, message: str) -> NoReturn:
        raise CampaignError(f"{self.label}:{line}: {message}")

    @contextmanager
    def at(self, line: int, what: str = "") -> Iterator[None]:
        """Re-raise a check's CampaignError with the line and what it is about."""
        try:
            yield
        except CampaignError as exc:
            self.fail(line, f"{what}: {exc}" if what else str(exc))

    def campaign(self, data: dict[str, Any]) -> CampaignFile:
        self.known_keys(data, TOP_KEYS, lambda key: self.lines.top.get(key, 1), "")
        retention = None
        if "retention_days" in data:
            retention = self.retention(data["retention_days"], self.lines.top.get("retention_days", 1))
        templates = [self.template(i, entry) for i, entry in enumerate(self.tables(data, "templates"))]
        self.no_repeats("template", [(s.record.name, s.line) for s in templates])
        names = {s.record.name for s in templates} | self.builtin
        phrases = [self.phrase(i, entry, names) for i, entry in enumerate(self.tables(data, "phrases"))]
        self.no_repeats("phrase", [(r.phrase, self.lines.entry("phrases", i)) for i, r in enumerate(phrases)])
        return CampaignFile(retention, templates, phrases)

    def tables(self, data: dict[str, Any], table: str) -> list[dict[str, Any]]:
        entries = data.get(table, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.fail(self.lines.top.get(table, 1), f"{table} must be [[{table}]] tables")
        return entries

    def known_keys(self, entry: dict[str, Any], known: tuple[str, ...], line: Callable[[str], int], what: str) -> None:
        for key in entry:
            if key not in known:
                prefix = f"{what}: " if what else ""
                self.fail(line(key), f"{prefix}unknown key {key!r} (known: {', '.join(known)})")

    def retention(self, value: Any, line: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
            self.fail(line, "retention_days is a whole number of days from 1 to 3650")
        return value

    def value(
        self, table: str, index: int, entry: dict[str, Any], key: str, what: str, default: Any = _REQUIRED
    ) -> Any:
        if key in entry:
            return entry[key]
        if default is _REQUIRED:
            self.fail(self.lines.entry(table, index), f"{what}: {key} is missing" if what else f"{key} is missing")
        return default

    def template(self, index: int, entry: dict[str, Any]) -> TemplateSource:
        line = self.lines.entry("templates", index)
        key_line = partial(self.lines.key, "templates", index)
        with self.at(key_line("name")):
            name = check_template_name(self.value("templates", index, entry, "name", f"template {index + 1}"))
        what = f"template {name!r}"
        if name in self.builtin:
            self.fail(line, f"{what} is built in; leave it out of [[templates]] (phrases may still use it)")
        self.known_keys(entry, TEMPLATE_KEYS, key_line, what)
        fields: dict[str, Any] = {}
        checks: dict[str, tuple[Callable[[Any], Any], Any]] = {
            "title": (lambda v: check_text(v, "title"), ""),
            "tagline": (lambda v: check_text(v, "tagline"), ""),
            "licence": (lambda v: check_text(v, "licence"), ""),
            "max_duration_s": (check_max_duration, DEFAULT_MAX_S),
            "fallback": (check_fallback, "plain"),
        }
        for key, (check, default) in checks.items():
            with self.at(key_line(key), what):
                fields[key] = check(self.value("templates", index, entry, key, what, default))
        clip = self.clip(self.value("templates", index, entry, "clip", what), key_line("clip"), what)
        record = TemplateRecord(name, status="ingesting", progress=0.0, **fields)
        return TemplateSource(record, clip, line)

    def clip(self, value: Any, line: int, what: str) -> Path:
        if not isinstance(value, str) or not value.strip():
            self.fail(line, f"{what}: clip is the path of a video file")
        path = (self.base / Path(value).expanduser()).resolve()  # an absolute value stays as it is
        if not path.is_file():
            self.fail(line, f"{what}: no clip file at {path}")
        return path

    def phrase(self, index: int, entry: dict[str, Any], templates: set[str]) -> PhraseRule:
        key_line = partial(self.lines.key, "phrases", index)
        with self.at(key_line("phrase")):
            phrase = check_phrase(self.value("phrases", index, entry, "phrase", f"phrase {index + 1}"))
        what = f"phrase {phrase!r}"
        self.known_keys(entry, PHRASE_KEYS, key_line, what)
        with self.at(key_line("template"), what):
            template = check_template_name(self.value("phrases", index, entry, "template", what))
        if template not in templates:
            self.fail(key_line("template"), f"{what}: template {template!r} is not in the file")
        enabled = self.value("phrases", index, entry, "enabled", what, True)
        if not isinstance(enabled, bool):
            self.fail(key_line("enabled"), f"{what}: enabled is true or false")
        with self.at(key_line("cooldown_s"), what):
            cooldown = check_cooldown(self.value("phrases", index, entry, "cooldown_s", what, 0.0))
        return PhraseRule(phrase, template, enabled, cooldown)

    def no_repeats(self, kind: str, named: list[tuple[str, int]]) -> None:
        first: dict[str, int] = {}
        for name, line in named:
            if name in first:
                self.fail(line, f"{kind} {name!r} appears twice (first on line {first[name]})")
            first[name] = line
