"""Audio -> words -> trigger events. Knows nothing about video, WebRTC or faces."""

from triggers.asr import WhisperRecognizer, Word
from triggers.audio import CHUNK_SAMPLES, SAMPLE_RATE, AudioError, StreamResampler, chunks, load_audio
from triggers.engine import EngineConfig, TriggerEngine
from triggers.events import Event, TranscriptEvent, TriggerEvent
from triggers.matcher import Phrase, PhraseError, PhraseMatcher

__all__ = [
    "CHUNK_SAMPLES",
    "SAMPLE_RATE",
    "AudioError",
    "EngineConfig",
    "Event",
    "Phrase",
    "PhraseError",
    "PhraseMatcher",
    "StreamResampler",
    "TranscriptEvent",
    "TriggerEngine",
    "TriggerEvent",
    "WhisperRecognizer",
    "Word",
    "chunks",
    "load_audio",
]
