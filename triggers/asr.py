"""Whisper recognition of a bounded audio window, via faster-whisper's CTranslate2 model.

The encoder sees only the window (not 30 s of padding), so a decode costs what
the window holds. The same encoder output scores alternative word sequences,
which the verifier uses to check uncertain trigger candidates acoustically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

from models import resolve_whisper
from triggers.audio import SAMPLE_RATE
from triggers.normalize import word_key

_HOP = 160  # samples per mel frame
_MAX_FRAMES = 3000
# Silence after the window: with less, the short-context encoder makes Whisper
# restart the sentence in the pad ("... at my place? Should we") (docs/experiments.md, 'Silent pad').
_TAIL_PAD_S = 2.0


@dataclass(frozen=True)
class Word:
    """A recognised word on the stream's clock (seconds from stream start)."""

    text: str
    start: float
    end: float
    probability: float
    tokens: tuple[int, ...] = ()


@dataclass
class Decoding:
    """One decode of a window: its words and what is needed to score alternatives."""

    words: list[Word]
    offset_s: float
    no_speech_prob: float
    avg_logprob: float
    encoder_output: object = field(repr=False)
    num_frames: int = 0


def pick_device(device: str) -> tuple[str, str]:
    """'auto' means CUDA float16 when a GPU is visible, else CPU int8."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    has_cuda = ctranslate2.get_cuda_device_count() > 0
    if device == "cuda" and not has_cuda:
        raise ValueError("device cuda was asked for, but no CUDA device is visible")
    if device == "cuda" or (device == "auto" and has_cuda):
        return "cuda", "float16"
    return "cpu", "int8"


class WhisperRecognizer:
    """Decodes windows of 16 kHz audio; thread-safe for one caller at a time."""

    def __init__(self, model: str = "tiny.en", device: str = "auto", threads: int = 1) -> None:
        dev, compute = pick_device(device)
        self.device = dev
        self._whisper = WhisperModel(resolve_whisper(model), device=dev, compute_type=compute, cpu_threads=threads)
        self._model = self._whisper.model
        multilingual = self._model.is_multilingual
        self.tokenizer = Tokenizer(
            self._whisper.hf_tokenizer, multilingual, task="transcribe", language="en" if multilingual else None
        )
        self._prompt = list(self.tokenizer.sot_sequence) + [self.tokenizer.no_timestamps]
        self._suppress = list(get_suppressed_tokens(self.tokenizer, [-1]) or [])

    def tokens_for(self, words: Sequence[str]) -> list[int]:
        """Whisper text tokens for words written with a leading space each."""
        return self.tokenizer.encode("".join(" " + w for w in words)) if words else []

    def decode(self, audio: np.ndarray, offset_s: float, hotwords: str | None = None) -> Decoding:
        """Greedy decode of `audio` (starting at `offset_s` on the stream clock).

        `hotwords` go in as previous-text context, biasing recognition towards
        them. Committed words are not forced as a prefix: with the hotwords in
        the context, tiny.en then loops ("so dinner tonight, so dinner tonight")
        until the token budget runs out, which costs more than it saves.
        """
        features, num_frames = self._features(audio)
        encoded = self._model.encode(features, to_cpu=False)
        prompt = self._context(hotwords) + self._prompt
        result = self._model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=min(448, len(prompt) + _token_budget(num_frames)),
            suppress_blank=True,
            suppress_tokens=self._suppress,
            return_scores=True,
            return_no_speech_prob=True,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        decoding = Decoding(
            [], offset_s, result.no_speech_prob, result.scores[0] / max(1, len(tokens)), encoded, num_frames
        )
        decoding.words = self._align(decoding, tokens)
        return decoding

    def redecode(
        self, decoding: Decoding, hotwords: str | None, prefix: Sequence[str] = (), max_new_tokens: int | None = None
    ) -> list[str]:
        """Words of another decode of the same audio, with other (or no) hotwords.

        The encoder output is reused, so this costs one generation and no
        encoding. `prefix` words are forced (read in one pass, not generated)
        and at most `max_new_tokens` follow them: a check of one phrase need not
        pay for generating the whole window. Only use a prefix without hotwords;
        with both, tiny.en tends to loop.
        """
        forced = self.tokens_for(prefix)
        prompt = self._context(hotwords) + self._prompt + forced
        budget = _token_budget(decoding.num_frames) if max_new_tokens is None else max_new_tokens
        (result,) = self._model.generate(
            decoding.encoder_output,
            [prompt],
            beam_size=1,
            max_length=_max_length(len(prompt), len(forced), budget),
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )
        return self.tokenizer.decode([t for t in result.sequences_ids[0] if t < self.tokenizer.eot]).split()

    def rewrites(self, decoding: Decoding, hotwords: str, n: int) -> list[list[str]]:
        """The `n` best readings of the same audio under `hotwords`, by beam search.

        Greedy decoding commits to its first word choice; a phrase misheard as
        several words ("how we can get away") is often still among the beam's
        other readings ("that weekend getaway").
        """
        prompt = self._context(hotwords) + self._prompt
        (result,) = self._model.generate(
            decoding.encoder_output,
            [prompt],
            beam_size=n,
            num_hypotheses=n,
            max_length=_max_length(len(prompt), 0, _token_budget(decoding.num_frames)),
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )
        eot = self.tokenizer.eot
        return [self.tokenizer.decode([t for t in seq if t < eot]).split() for seq in result.sequences_ids]

    def timed(self, decoding: Decoding, words: Sequence[str]) -> list[Word]:
        """Another reading of the decoding's audio, with word times from its encoder output."""
        return self._align(decoding, self.tokens_for(words))

    def _context(self, hotwords: str | None) -> list[int]:
        # as faster-whisper's `hotwords`: previous-text context the decoder attends to
        if not hotwords or not hotwords.strip():
            return []
        return [self.tokenizer.sot_prev, *self.tokenizer.encode(" " + hotwords.strip())]

    def score(self, decoding: Decoding, sequences: Sequence[Sequence[int]]) -> list[float]:
        """Teacher-forced log-probability of each token sequence on the decoding's audio."""
        scores = []
        for seq in sequences:  # align() batches only over a matching encoder batch
            (result,) = self._model.align(
                decoding.encoder_output, self.tokenizer.sot_sequence, [list(seq)], decoding.num_frames
            )
            scores.append(float(sum(math.log(max(p, 1e-12)) for p in result.text_token_probs)))
        return scores

    def _features(self, audio: np.ndarray) -> tuple[ctranslate2.StorageView, int]:
        padded = np.concatenate([audio, np.zeros(int(_TAIL_PAD_S * SAMPLE_RATE), np.float32)])
        mel = self._whisper.feature_extractor(padded)[:, :_MAX_FRAMES]
        frames = mel.shape[1] - (mel.shape[1] % 2)  # the encoder's conv has stride 2
        mel = np.ascontiguousarray(mel[:, :frames][None])
        view = ctranslate2.StorageView.from_array(mel)
        if self.device == "cuda":
            view = view.to_device(ctranslate2.Device.cuda)
        return view, min(frames, len(audio) // _HOP)

    def _align(self, decoding: Decoding, tokens: list[int]) -> list[Word]:
        if not tokens:
            return []
        alignments = self._whisper.find_alignment(
            self.tokenizer, [tokens], decoding.encoder_output, decoding.num_frames
        )
        aligned = alignments[0]
        offset = decoding.offset_s
        audio_end = decoding.num_frames / (SAMPLE_RATE / _HOP)
        words: list[Word] = []
        for w in aligned:
            text = w["word"].strip()
            if not text or float(w["start"]) >= audio_end:
                continue  # a word placed in the silent pad is a hallucination
            if words and not any(ch.isalnum() for ch in text):
                prev = words[-1]  # punctuation belongs to the word before it
                words[-1] = Word(
                    prev.text + text, prev.start, prev.end, prev.probability, prev.tokens + tuple(w["tokens"])
                )
                continue
            words.append(
                Word(
                    text,
                    offset + float(w["start"]),
                    offset + float(w["end"]),
                    float(w["probability"]),
                    tuple(w["tokens"]),
                )
            )
        return _drop_loops(_drop_restarted_tail(words))


def _max_length(prompt: int, forced: int, new: int) -> int:
    """CTranslate2's `max_length` that lets `new` tokens follow `forced` prefix tokens.

    Its Whisper decoding stops at min(max_length / 2, max_length - start), with
    the forced tokens counted as output (CTranslate2 issue #1856), so a plain
    prompt + budget generated about half the budget.
    """
    return min(448, max(2 * (forced + new) + 2, prompt + new))


def _token_budget(num_frames: int) -> int:
    """Tokens a window may generate: speech rarely passes 5 tokens/s, loops do."""
    return int(num_frames / (SAMPLE_RATE / _HOP) * 8) + 8


def _drop_loops(words: list[Word]) -> list[Word]:
    """Cut a decoding loop: a block of 3+ words said twice in a row, or a tail
    that starts the window over ("... tonight? Hey, do you").

    Whisper falls into these in trailing silence, more so with a text prompt.
    """
    keys = [word_key(w.text) for w in words]
    n = len(keys)
    for size in range(3, n // 2 + 1):
        for i in range(0, n - 2 * size + 1):
            if keys[i : i + size] == keys[i + size : i + 2 * size]:
                return words[:i] + _better_copy(words[i : i + size], words[i + size : i + 2 * size])
    for tail in range(min(n // 2, 6), 1, -1):
        if n - tail >= 2 * tail and keys[-tail:] == keys[:tail]:
            return words[:-tail]
    return words


def _better_copy(first: list[Word], second: list[Word]) -> list[Word]:
    """One copy of a looped block, timed by the audio it really spans.

    The aligner squeezes the words that were not said into zero-length slots,
    so each word is taken from the copy where it lasts longer.
    """
    merged = [a if a.end - a.start >= b.end - b.start else b for a, b in zip(first, second)]
    if all(x.end <= y.start + 1e-6 for x, y in zip(merged, merged[1:])):
        return merged
    return max((first, second), key=lambda ws: sum(w.end - w.start for w in ws))


_MIN_WORD_S = 0.07  # no real word is this short; hallucinated restarts are


def _drop_restarted_tail(words: list[Word]) -> list[Word]:
    """Remove a hallucinated restart at the end of a window.

    In trailing silence Whisper sometimes starts the sentence again; the aligner
    then squeezes those words into the last frames.
    """
    cut = len(words)
    while cut > 0 and words[cut - 1].end - words[cut - 1].start < _MIN_WORD_S:
        cut -= 1
    if len(words) - cut >= 2:
        return words[:cut]
    return words
