"""The pipeline of a relay without AI (`serve --passthrough`)."""

from __future__ import annotations

import av

from callbridge.config.campaign import Campaign
from callbridge.media.adbreak import AdMedia


class PassthroughPipeline:
    """No AI: media is relayed and nothing is recognised or harvested (`serve --passthrough`)."""

    def __init__(self, name: str, consent: bool) -> None:
        self.name = name
        self.consent = consent

    def feed_audio(self, frame: av.AudioFrame, received_t: float) -> None:
        pass

    def feed_video(self, frame: av.VideoFrame, received_t: float) -> None:
        pass

    def set_consent(self, consent: bool) -> None:
        self.consent = consent

    def set_campaign(self, campaign: Campaign) -> None:
        pass

    def ad_media(self, template_name: str) -> AdMedia | None:
        return None

    def close(self) -> None:
        pass
