"""Offline replay: a call (today: one video file, a monologue) run through the trigger and ad
engines, written as what the audience would have seen, ads spliced in and labelled."""

from callbridge.replay.plan import AdSegment
from callbridge.replay.run import ReplayError, ReplayOptions, ReplayResult, replay

__all__ = ["AdSegment", "ReplayError", "ReplayOptions", "ReplayResult", "replay"]
