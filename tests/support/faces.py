"""Real faces and camera-like video made from them, with nothing downloaded.

The faces are public-domain portraits shipped with installed packages: Eileen
Collins (`skimage.data.astronaut`) and Grace Hopper (matplotlib sample data).
Everything here is deterministic: the same arguments give the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class FaceSpot:
    """Where the face is in a portrait, as face mesh measured it (landmark box)."""

    centre: tuple[float, float]
    width: float


ASTRONAUT_FACE = FaceSpot(centre=(225.0, 124.0), width=92.0)  # 512x512 image
HOPPER_FACE = FaceSpot(centre=(264.0, 233.0), width=183.0)  # 512 wide, 600 high


@cache
def _astronaut() -> np.ndarray:
    from skimage.data import astronaut as load

    image = np.ascontiguousarray(load())
    image.flags.writeable = False  # shared cache: nobody may draw on it
    return image


@cache
def _hopper() -> np.ndarray:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    image.flags.writeable = False
    return image


def astronaut() -> np.ndarray:
    """Eileen Collins, 512x512 RGB uint8 (a fresh copy)."""
    return _astronaut().copy()


def hopper() -> np.ndarray:
    """Grace Hopper, 512 wide by 600 high, RGB uint8 (a fresh copy)."""
    return _hopper().copy()


def place(
    image: np.ndarray,
    size: tuple[int, int] = (640, 480),
    centre: tuple[float, float] | None = None,
    zoom: float = 1.0,
    angle_deg: float = 0.0,
    shift: tuple[float, float] = (0.0, 0.0),
    background: int | None = None,
) -> np.ndarray:
    """`image` scaled by `zoom` and turned by `angle_deg` (counter-clockwise) about `centre`,
    which lands at the middle of a `size` (width, height) frame plus `shift`.

    Outside the image the border is replicated, as a camera would see more of
    the scene; `background` (a grey level) fills it flat instead.
    """
    width, height = size
    if centre is None:
        centre = (image.shape[1] / 2.0, image.shape[0] / 2.0)
    matrix = np.asarray(cv2.getRotationMatrix2D(centre, angle_deg, zoom), np.float64)  # already float64: no copy
    matrix[:, 2] += (width / 2.0 + shift[0] - centre[0], height / 2.0 + shift[1] - centre[1])
    if background is None:
        return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpAffine(
        image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(background,) * 3
    )


def add_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian sensor noise of `sigma` grey levels."""
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def animate(
    image: np.ndarray,
    n: int,
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    spot: FaceSpot | None = None,
    face_width: float | None = None,
    shift_px: float = 25.0,
    angle_deg: float = 6.0,
    scale_jitter: float = 0.06,
    light: float = 0.15,
    noise: float = 3.0,
    fps: float = 15.0,
    period_s: float = 3.0,
) -> list[np.ndarray]:
    """`n` camera-like frames of the face in `image`: smooth head motion and lighting, fresh noise.

    With `spot`, the face is scaled to about `face_width` pixels (default
    160) and centred; without, the whole image is scaled to cover the frame,
    as a webcam framing a portrait would (the test portraits' faces then come
    out 115 px and 230 px wide). Then the face drifts by up to
    `shift_px`, turns in the image plane by up to `angle_deg`, moves closer and
    further by up to `scale_jitter`, and the light changes brightness by up to
    `light` (a fraction) and colour slightly, over cycles of about `period_s`.
    Set the motion arguments to 0 for a still face with only noise.
    """
    rng = np.random.default_rng(seed)
    if spot is None:
        centre = (image.shape[1] / 2.0, image.shape[0] / 2.0)
        base_zoom = max(size[0] / image.shape[1], size[1] / image.shape[0])
    else:
        centre = spot.centre
        base_zoom = (face_width or 160.0) / spot.width
    phases = rng.uniform(0, 2 * math.pi, size=6)
    # Incommensurate rates so the motion does not repeat within a test.
    rates = 2 * math.pi / period_s * np.array([1.0, 0.77, 0.61, 1.31, 0.53, 0.89])
    frames = []
    for i in range(n):
        t = i / fps
        wave = np.sin(rates * t + phases)
        frame = place(
            image,
            size=size,
            centre=centre,
            zoom=base_zoom * (1.0 + scale_jitter * wave[3]),
            angle_deg=angle_deg * wave[2],
            shift=(shift_px * wave[0], shift_px * 0.6 * wave[1]),
        )
        gain = 1.0 + light * wave[4]
        tint = 1.0 + 0.3 * light * np.array([wave[5], 0.0, -wave[5]], dtype=np.float32)
        lit = np.clip(frame.astype(np.float32) * (gain * tint), 0, 255).astype(np.uint8)
        frames.append(add_noise(lit, noise, rng) if noise > 0 else lit)
    return frames


def portrait(
    image: np.ndarray, spot: FaceSpot, face_width: float = 160.0, size: tuple[int, int] = (640, 480)
) -> np.ndarray:
    """One still frame with the face centred at about `face_width` pixels."""
    return place(image, size=size, centre=spot.centre, zoom=face_width / spot.width)


def dark(image: np.ndarray, level: float = 0.12, seed: int = 0, noise: float = 2.0) -> np.ndarray:
    """A badly lit version: brightness scaled to `level`, with the noise a dim sensor adds."""
    dim = np.clip(image.astype(np.float32) * level, 0, 255).astype(np.uint8)
    return add_noise(dim, noise, np.random.default_rng(seed))


def small(
    image: np.ndarray, spot: FaceSpot, face_width: float = 50.0, canvas: tuple[int, int] = (200, 200)
) -> np.ndarray:
    """The face shrunk to about `face_width` pixels, centred on a `canvas` (width, height)."""
    return place(image, size=canvas, centre=spot.centre, zoom=face_width / spot.width)


def blurred(image: np.ndarray, sigma: float = 4.0) -> np.ndarray:
    """Out of focus (or moving fast): a Gaussian blur of `sigma` pixels."""
    return cv2.GaussianBlur(image, (0, 0), sigma)


def mirrored(image: np.ndarray) -> np.ndarray:
    """Flipped left to right."""
    return np.ascontiguousarray(image[:, ::-1])


def turned(image: np.ndarray, spot: FaceSpot, yaw_deg: float, focal: float | None = None) -> np.ndarray:
    """The image as a camera would see it were it a flat card turned by `yaw_deg` about the face's vertical axis.

    Positive turns the face towards the image's right, as HeadPose's yaw (the
    card's right edge, as seen, moves away). A flat card is not a head, so the
    nose does not move across the cheeks: face mesh reads only a fraction of
    the turn (about a quarter at 40 degrees), but in the right direction.
    """
    h, w = image.shape[:2]
    f = focal if focal is not None else float(w)
    cx, cy = spot.centre
    K = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])
    a = -math.radians(yaw_deg)  # a rotation about +y (down) by +a turns the face to the image's left
    R = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    # Homography of the plane z = f (the card) rotated by R about its centre.
    n = np.array([0, 0, 1.0])
    t = np.array([0, 0, f]) - R @ np.array([0, 0, f])
    H = K @ (R + np.outer(t, n) / f) @ np.linalg.inv(K)
    return cv2.warpPerspective(image, H, (w, h), borderMode=cv2.BORDER_REPLICATE)


def covered(image: np.ndarray, landmarks: np.ndarray, colour: tuple[int, int, int] = (70, 90, 160)) -> np.ndarray:
    """A flat mask (blue-grey, like a surgical mask) over the face from the nose down."""
    out = image.copy()
    top = landmarks[4, 1]  # nose tip
    face = landmarks[:468]
    lower = face[face[:, 1] >= top - 2]
    hull = cv2.convexHull(np.round(lower).astype(np.int32))
    cv2.fillConvexPoly(out, hull, colour)
    return out


def noise_image(size: tuple[int, int] = (640, 480), seed: int = 0) -> np.ndarray:
    """Uniform colour noise: no face anywhere."""
    width, height = size
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
