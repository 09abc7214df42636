"""Recording a call, only while everyone in it agrees: each participant's media as the relay
received it, the room's events on one clock, and a manifest. Never face crops or renders."""

from callbridge.recording.recorder import CallRecorder, RecordingError
from callbridge.recording.writer import MediaWriter

__all__ = ["CallRecorder", "MediaWriter", "RecordingError"]
