"""Audio -> words -> trigger events. Knows nothing about video, WebRTC or faces."""

import os

# One OpenMP thread per process unless the user says otherwise. CTranslate2's
# OpenMP pool (and numpy's OpenBLAS, when numpy loads after this) otherwise
# takes every core and spins between calls, whatever `intra_threads` says, and
# two participants no longer fit on two cores (docs/experiments.md, 'Threads').
# It must be set before those libraries load, so callbridge imports this package first.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# oneDNN (in CTranslate2) builds a convolution for each new encoder input length and by
# default keeps 1024 of them (~0.8 MB each): nearly every window has a length of its own,
# so a relay's heap grew all through a call. A few kept cost nothing: lengths rarely repeat.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "32")

from triggers.asr import WhisperRecognizer, Word  # noqa: E402
from triggers.audio import CHUNK_SAMPLES, SAMPLE_RATE, AudioError, StreamResampler, chunks, load_audio
from triggers.engine import EngineConfig, TriggerEngine
from triggers.events import Event, TranscriptEvent, TriggerEvent
from triggers.matcher import Phrase, PhraseError, PhraseMatcher
from triggers.recognizer import Recognizer
from triggers.vad import VoiceDetector
from triggers.worker import ReceiveClock, SpeechSink, SpeechWorker

__all__ = [
    "CHUNK_SAMPLES",
    "SAMPLE_RATE",
    "AudioError",
    "EngineConfig",
    "Event",
    "Phrase",
    "PhraseError",
    "PhraseMatcher",
    "ReceiveClock",
    "Recognizer",
    "SpeechSink",
    "SpeechWorker",
    "StreamResampler",
    "TranscriptEvent",
    "TriggerEngine",
    "TriggerEvent",
    "VoiceDetector",
    "WhisperRecognizer",
    "Word",
    "chunks",
    "load_audio",
]
