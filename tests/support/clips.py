"""Video files made at test time for template uploads: a face clip, a faceless one, and impostors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from adengine import write_mp4
from tests.support import faces


def face_clip(
    path: Path, seconds: float = 2.0, size: tuple[int, int] = (320, 240), fps: int = 15, seed: int = 0
) -> Path:
    """The astronaut's face moving a little, with a soft tone: an actor facing the camera (`seed`: another motion)."""
    frames = faces.animate(
        faces.astronaut(),
        int(seconds * fps),
        size=size,
        seed=seed,
        spot=faces.ASTRONAUT_FACE,
        face_width=size[0] / 3,
        fps=fps,
    )
    rate = 48000
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None, :]
    write_mp4(path, frames, fps, tone, rate)
    return path


def faceless_clip(path: Path, seconds: float = 2.0, size: tuple[int, int] = (320, 240), fps: int = 15) -> Path:
    """A drifting gradient: a valid video with nobody in it."""
    w, h = size
    ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    frames = [np.broadcast_to((ramp + 8 * i) % 255, (h, w, 3)).astype(np.uint8) for i in range(int(seconds * fps))]
    write_mp4(path, frames, fps)
    return path


def fast_clip(path: Path, fps: int = 240, size: tuple[int, int] = (1920, 1080), frames: int = 6) -> Path:
    """A few frames at a frame rate far above the caps (small on disk: they are flat)."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), 40 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def hls_playlist(path: Path) -> Path:
    """An HLS playlist named like a video: ffmpeg would follow its URLs if it were opened as HLS."""
    path.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/secret.ts\n#EXT-X-ENDLIST\n")
    return path


def monologue(path: Path, text: str, lead_s: float = 2.0, tail_s: float = 8.0, fps: int = 15, slots: int = 1) -> Path:
    """Grace Hopper's face (640x480) saying `text` (espeak-ng) `slots` times, each time after `lead_s`
    of quiet and followed by `tail_s`: a one-person call to replay."""
    import wave

    from tests.support.speech import say

    wav = say(path.with_suffix(".wav"), text, lead_s=lead_s, tail_s=tail_s)
    with wave.open(str(wav)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0
    wav.unlink()
    pcm = np.tile(pcm, slots)
    frames = faces.animate(faces.hopper(), int(len(pcm) / rate * fps), spot=faces.HOPPER_FACE, face_width=170, fps=fps)
    write_mp4(path, frames, fps, pcm[None, :], rate)
    return path


def recording(root: Path, room: str, people: list[tuple[str, Path]], face_consent: bool = True) -> Path:
    """A recording folder as `serve --record` writes it, made from video files instead of a live call:
    each file's frames and sound pushed with the times they would have arrived at."""
    import time

    from callbridge.recording import CallRecorder

    errors: list[str] = []
    recorder = CallRecorder(root, room, {"phrases": []}, errors.append)
    for name, path in people:
        recorder.add(name, face_consent)
        with av.open(str(path)) as container:
            for frame in container.decode(*container.streams):
                if isinstance(frame, av.AudioFrame | av.VideoFrame):
                    recorder.push(name, frame, recorder.started_t + float(frame.time or 0.0))
                while recorder.backlog(name) > 200:  # faster than a call: wait for the writer
                    time.sleep(0.005)
    recorder.stop()
    assert not errors, errors
    return recorder.folder
