"""Streaming policy: which recognised words are stable enough to commit.

LocalAgreement-2 (Macháček et al., whisper_streaming): each decode covers the
whole bounded window. Its words after the last committed one are compared with
the previous decode's; the longest prefix both agree on is committed. The rest
is tentative and may still change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from triggers.asr import Word
from triggers.normalize import word_key

_OVERLAP_S = 0.1  # alignment jitter tolerated when cutting at the committed end
_MAX_NGRAM = 5


def _key(word: Word) -> str:
    return word_key(word.text)


@dataclass
class LocalAgreement:
    """Tracks committed and tentative words of the current window."""

    committed: list[Word] = field(default_factory=list)
    tentative: list[Word] = field(default_factory=list)

    @property
    def committed_end(self) -> float:
        return self.committed[-1].end if self.committed else float("-inf")

    def update(self, hypothesis: list[Word]) -> list[Word]:
        """Take a whole-window hypothesis; return the words it commits."""
        fresh = self._after_committed(hypothesis)
        agreed = 0
        for prev, cur in zip(self.tentative, fresh):
            if _key(prev) != _key(cur):
                break
            agreed += 1
        newly = fresh[:agreed]
        self.committed.extend(newly)
        self.tentative = fresh[agreed:]
        return newly

    def finalize(self) -> list[Word]:
        """Commit whatever is tentative, at the end of an utterance."""
        newly, self.tentative = self.tentative, []
        self.committed.extend(newly)
        return newly

    def release_until(self, t: float) -> list[Word]:
        """Drop committed words that end by `t` (they leave the window)."""
        cut = 0
        while cut < len(self.committed) and self.committed[cut].end <= t:
            cut += 1
        released, self.committed = self.committed[:cut], self.committed[cut:]
        return released

    def _after_committed(self, hypothesis: list[Word]) -> list[Word]:
        """Words that start after the committed ones, minus a repeated committed tail."""
        end = self.committed_end
        fresh = [w for w in hypothesis if w.start > end - _OVERLAP_S]
        if not self.committed or not fresh:
            return fresh
        tail = [_key(w) for w in self.committed[-_MAX_NGRAM:]]
        head = [_key(w) for w in fresh[:_MAX_NGRAM]]
        for n in range(min(len(tail), len(head)), 0, -1):
            if tail[-n:] == head[:n]:
                return fresh[n:]
        return fresh
