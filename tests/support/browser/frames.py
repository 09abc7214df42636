"""What the browser test looks for in a sampled frame: the disclosure label, live video."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from adengine.label import DisclosureLabel
from callbridge.config.services import PLAIN_LABEL
from tests.support.browser import media


def labels() -> tuple[DisclosureLabel, DisclosureLabel]:
    """The disclosure on personalised ads ("AI-generated face · advertisement") and on plain ones.

    A plain ad (ad-start's personalised=false: the template with nobody's face)
    carries the relay's plain label ("advertisement") instead.
    """
    return DisclosureLabel(), PLAIN_LABEL


def label_on(label: DisclosureLabel, frame: np.ndarray) -> bool:
    """Whether `frame` carries `label`, drawn at the frame's own size or at the camera's 640x480.

    The browser's encoder may lower the resolution under load (to 480x360 or 320x240), and the
    relay then sends its ad at that size: if it labelled the ad before scaling it, the label is a
    scaled copy of the 640x480 one, which DisclosureLabel.is_on only recognises at 640x480.
    """
    if label.is_on(frame):
        return True
    height, width = frame.shape[:2]
    if (width, height) == (media.WIDTH, media.HEIGHT):
        return False
    return label.is_on(cv2.resize(frame, (media.WIDTH, media.HEIGHT), interpolation=cv2.INTER_LINEAR))


def any_label(labels: Iterable[DisclosureLabel], frame: np.ndarray) -> bool:
    return any(label_on(label, frame) for label in labels)


def looks_like_video(frame: np.ndarray) -> bool:
    """Not a black or flat placeholder frame."""
    return float(frame.mean()) > 15.0 and float(frame.std()) > 15.0
