"""The blend mask of one template frame: the face, feathered, minus the actor's inner mouth.

The actor's own inner mouth (teeth, tongue, the dark gap) shows through, so a
speaking mouth stays plausible whatever the source face's mouth was doing.
"""

from __future__ import annotations

import cv2
import numpy as np

from adengine.warp import FrameMap

# mediapipe face-mesh inner lip contour, in order around the mouth opening
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)


def face_alpha(frame_map: FrameMap, points: np.ndarray, feather: float = 0.06) -> np.ndarray:
    """Blend weights (float32 0..1, the frame map's box) for one template frame.

    `feather` is the soft edge as a fraction of the face width: the face is
    shrunk by it, then blurred across it, so the seam falls inside the face.
    """
    inside = (frame_map.tri >= 0).astype(np.uint8)
    width = float(np.ptp(points[:, 0]))
    edge = max(1, int(round(width * feather)))
    core = cv2.erode(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1)))
    alpha = cv2.GaussianBlur(core.astype(np.float32), (0, 0), sigmaX=edge / 2.0)
    return (alpha * (1.0 - _mouth(frame_map, points, edge)) * inside).astype(np.float32)


def _mouth(frame_map: FrameMap, points: np.ndarray, edge: int) -> np.ndarray:
    """The actor's inner mouth, with an edge softer than the lips are thick."""
    mouth = np.zeros(frame_map.shape, np.uint8)
    polygon = np.round((points[list(INNER_LIPS)] - (frame_map.x0, frame_map.y0)) * 16).astype(np.int32)
    cv2.fillPoly(mouth, [polygon], (1,), lineType=cv2.LINE_AA, shift=4)
    return cv2.GaussianBlur(mouth.astype(np.float32), (0, 0), sigmaX=max(1.0, edge / 4.0))
