"""The campaign: trigger phrases, each pointing at an ad template, and the templates' records."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from adengine import TemplateMeta
from triggers import Phrase, PhraseError

TEMPLATE_NAME = re.compile(r"[a-z0-9-]{1,40}")
MAX_TEMPLATE_S = 30.0
DEFAULT_MAX_S = 8.0
Status = Literal["ingesting", "ready", "failed"]
Fallback = Literal["plain", "none"]


class CampaignError(ValueError):
    """A campaign change that breaks a rule; the message says which."""

    status = 422


class NotFound(CampaignError):
    status = 404


class Conflict(CampaignError):
    status = 409


@dataclass(frozen=True)
class PhraseRule:
    phrase: str
    template: str
    enabled: bool = True
    cooldown_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TemplateRecord:
    """A template as the campaign knows it: what it says, where its clip is, how its ingest went."""

    name: str
    title: str = ""
    tagline: str = ""
    licence: str = ""
    clip: str = ""  # relative to the data directory; "" for the built-in template
    clip_sha256: str = ""
    status: Status = "ready"
    progress: float = 1.0
    error: str | None = None
    verdict: str | None = None
    max_duration_s: float = DEFAULT_MAX_S
    fallback: Fallback = "plain"
    builtin: bool = False
    revision: int = 0  # the campaign revision of its last change

    def meta(self) -> TemplateMeta:
        """What the ad engine needs to know of it."""
        return TemplateMeta(
            self.name, self.title, self.tagline, (), self.max_duration_s, self.licence or "unstated", self.fallback
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for private in ("clip", "clip_sha256", "revision"):
            out.pop(private)
        return out


@dataclass
class Campaign:
    phrases: list[PhraseRule] = field(default_factory=list)
    templates: list[TemplateRecord] = field(default_factory=list)
    revision: int = 0

    def ready(self) -> set[str]:
        return {t.name for t in self.templates if t.status == "ready"}

    def live_rules(self) -> list[PhraseRule]:
        """The rules that fire: enabled, pointing at a ready template."""
        ready = self.ready()
        return [r for r in self.phrases if r.enabled and r.template in ready]

    def live_templates(self) -> dict[str, int]:
        """Templates that live rules point at, with the revision of their last change."""
        used = {r.template for r in self.live_rules()}
        return {t.name: t.revision for t in self.templates if t.name in used}


DEFAULT_CAMPAIGN: tuple[PhraseRule, ...] = (PhraseRule("dinner tonight", "default"),)


def active_phrases() -> list[str]:
    """Phrases of the built-in campaign (the CLI's default without a data directory)."""
    return [rule.phrase for rule in DEFAULT_CAMPAIGN if rule.enabled]


def check_phrase(text: Any) -> str:
    """The phrase as stored (lowercase, single spaces), or CampaignError saying what is wrong."""
    if not isinstance(text, str):
        raise CampaignError("a phrase is text")
    clean = " ".join(text.lower().split())
    if not clean:
        raise CampaignError("a phrase needs at least one word")
    if len(clean) > 80:
        raise CampaignError("a phrase is at most 80 characters")
    try:
        Phrase.parse(clean)
    except PhraseError as exc:
        raise CampaignError(str(exc)) from exc
    return clean


def check_template_name(name: Any) -> str:
    if not isinstance(name, str) or not TEMPLATE_NAME.fullmatch(name):
        raise CampaignError(f"template name {str(name)[:60]!r}: use 1-40 lowercase letters, digits or -")
    return name


def check_cooldown(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CampaignError("cooldown_s is a number of seconds")
    if not 0 <= value <= 3600:
        raise CampaignError("cooldown_s must be between 0 and 3600 s")
    return float(value)


def check_max_duration(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CampaignError("max_duration_s is a number of seconds")
    if not 1.0 <= value <= MAX_TEMPLATE_S:
        raise CampaignError(f"max_duration_s must be between 1 and {MAX_TEMPLATE_S:.0f} s")
    return float(value)


def check_fallback(value: Any) -> Fallback:
    if value == "plain":
        return "plain"
    if value == "none":
        return "none"
    raise CampaignError("fallback is 'plain' (the clip as it is) or 'none' (no ad)")


TEXT_LIMITS = {"title": 80, "tagline": 120, "licence": 400}


def check_text(value: Any, what: str) -> str:
    """A template's title, tagline or licence, within its length; the licence may not be empty."""
    if not isinstance(value, str):
        raise CampaignError(f"{what} is text")
    limit = TEXT_LIMITS[what]
    if len(value) > limit:
        raise CampaignError(f"{what} is at most {limit} characters")
    if what == "licence" and not value.strip():
        raise CampaignError("a licence / release note is needed: whose clip it is and that the actor agreed")
    return value.strip()


def new_template(
    name: Any, title: Any, tagline: Any, licence: Any, max_duration_s: Any, fallback: Any
) -> TemplateRecord:
    """A template record from what an exhibit maker typed, every value checked; the title defaults to the name."""
    name = check_template_name(name)
    if isinstance(max_duration_s, str):
        try:
            max_duration_s = float(max_duration_s or DEFAULT_MAX_S)
        except ValueError:
            raise CampaignError("max_duration_s is a number of seconds") from None
    return TemplateRecord(
        name=name,
        title=check_text(title or name, "title"),
        tagline=check_text(tagline or "", "tagline"),
        licence=check_text(licence, "licence"),
        max_duration_s=check_max_duration(max_duration_s),
        fallback=check_fallback(fallback or "plain"),
    )


def phrase_json(rule: PhraseRule, live: bool | None = None) -> dict[str, Any]:
    """A rule as the API and `campaign list --json` give it, with its warnings (and whether it fires now)."""
    from callbridge.config.phrase_check import phrase_warnings  # its word lists load on first use

    out = {**rule.to_dict(), "warnings": phrase_warnings(rule.phrase)}
    return out if live is None else {**out, "live": live}


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    """The campaign as GET /api/campaign answers it."""
    live = set(campaign.live_rules())
    return {
        "phrases": [phrase_json(r, r in live) for r in campaign.phrases],
        "templates": [t.to_dict() for t in campaign.templates],
        "revision": campaign.revision,
    }
