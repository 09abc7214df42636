"""What the web side needs of a participant's media pipeline.

`ParticipantPipeline` (speech, faces, ads) and `PassthroughPipeline` (relay
only) implement it; tests pass fakes that mypy checks against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import av

if TYPE_CHECKING:
    from callbridge.config.campaign import Campaign
    from callbridge.media.adbreak import AdMedia


class MediaPipeline(Protocol):
    """One participant's media, apart from WebRTC: fed frames, asked for ads, closed on leave."""

    name: str

    @property
    def consent(self) -> bool:
        """Whether this participant's face may be used now."""
        ...

    def feed_audio(self, frame: av.AudioFrame, received_t: float) -> None:
        """One received audio frame (event loop: copy and return)."""
        ...

    def feed_video(self, frame: av.VideoFrame, received_t: float) -> None:
        """One received video frame (event loop: copy and return)."""
        ...

    def set_consent(self, consent: bool) -> None:
        """Give or withdraw consent; withdrawing wipes every face held (blocking)."""
        ...

    def set_campaign(self, campaign: Campaign) -> None:
        """Listen for the campaign's live phrases; pre-render its new templates (blocking)."""
        ...

    def ad_media(self, template_name: str) -> AdMedia | None:
        """What to play when this participant triggers `template_name` (blocking), or None for no ad."""
        ...

    def close(self) -> None:
        """Stop every worker and wipe all face data (blocking)."""
        ...
