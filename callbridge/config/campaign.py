"""The built-in default campaign, used when no phrase is given."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhraseRule:
    phrase: str
    template: str
    enabled: bool = True


DEFAULT_CAMPAIGN: tuple[PhraseRule, ...] = (PhraseRule("dinner tonight", "default"),)


def active_phrases() -> list[str]:
    """Phrases of the active campaign."""
    return [rule.phrase for rule in DEFAULT_CAMPAIGN if rule.enabled]
