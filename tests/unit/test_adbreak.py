"""Ad breaks: AdBreak between real Programs and subscribed tracks."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from callbridge.media.adbreak import AdBreak, AdMedia, audio_frames, letterbox
from callbridge.media.tracks import RATE_WINDOW, Program
from tests.support.audio import AD_COLOUR, pcm, sine
from tests.support.clock import EPOCH, JumpingClock


def ad_frames(width: int = 48, height: int = 24):
    """An endless ad (more frames than it may play): 2:1 frames of one colour."""
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = AD_COLOUR
    return itertools.repeat(frame)


async def collect(track) -> list:
    out = []
    while True:
        try:
            out.append(await track.recv())
        except MediaStreamError:
            return out


def live_video(value: int = 7) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((240, 320, 3), value, np.uint8), format="rgb24")


def live_audio() -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.full((1, 1920), 3, np.int16), format="s16", layout="stereo")
    frame.sample_rate = 48_000
    return frame


def test_an_ad_break_plays_into_the_programs_and_comes_back_to_live():
    soundtrack = sine(0.5, 440, 0.3)[None, :]  # (channels, samples), as adengine's clips hold it
    media = AdMedia(
        "tiny", ad_frames(), fps=10.0, frame_count=10, audio=soundtrack, sample_rate=44_100, personalised=True
    )
    assert media.duration_s == 1.5  # 1 s of frames, held to the minimum

    async def scenario():
        video, audio = Program("video"), Program("audio")
        vtrack, atrack = video.subscribe(), audio.subscribe()
        first = live_video()
        video.live(first)  # sets video.size
        assert video.size == (320, 240)
        assert await vtrack.recv() is first
        vgot, agot = asyncio.ensure_future(collect(vtrack)), asyncio.ensure_future(collect(atrack))
        starts: list[float] = []
        on_air = asyncio.Event()
        held_back: list = []
        ad = AdBreak(media, video, audio)

        async def push_live() -> None:  # the sender's camera and microphone go on during the ad
            await on_air.wait()
            while video.on_air:
                frames = live_video(value=99), live_audio()
                assert not video.live(frames[0]) and not audio.live(frames[1])
                held_back.extend(frames)
                await asyncio.sleep(0.05)

        began = time.time()
        pusher = asyncio.ensure_future(push_live())
        await ad.play(lambda t: (starts.append(t), on_air.set()))
        ended = time.time()
        await pusher
        assert not video.on_air and not audio.on_air
        after = live_video(value=50)
        assert video.live(after)
        video.close()
        audio.close()
        return ad, starts, began, ended, held_back, after, await vgot, await agot, vtrack, atrack

    ad, starts, began, ended, held_back, after, vframes, aframes, vtrack, atrack = asyncio.run(scenario())
    assert len(starts) == 1 and began <= starts[0] <= ended
    assert ad.first_frame_t == starts[0] and ad.last_frame_t >= ad.first_frame_t
    assert len(held_back) >= 10
    assert not any(f is g for f in held_back for g in vframes + aframes)
    assert vframes[-1] is after
    ad_video = vframes[:-1]
    assert len(ad_video) == round(media.duration_s * media.fps) == ad.frames_sent == 15
    assert vtrack.dropped == 0 and atrack.dropped == 0
    for frame in ad_video:
        assert (frame.width, frame.height) == (320, 240) and frame.format.name == "yuv420p"
    rgb = ad_video[0].to_ndarray(format="rgb24").astype(int)
    # 48x24 in 320x240: 320x160 of colour, 40 rows of black above and below
    assert rgb[:36].max() < 20 and rgb[204:].max() < 20
    assert np.abs(rgb[60:180, 10:310] - AD_COLOUR).max() < 12
    pts = [f.pts for f in vframes]
    assert all(b > a for a, b in zip(pts, pts[1:]))
    assert len(aframes) == 75  # 1.5 s of 20 ms frames
    assert [f.pts for f in aframes] == [i * 960 for i in range(75)]
    assert np.abs(pcm(aframes[:20])).max() > 5000  # the tone, not the live audio's constant 3


def test_cancel_stops_an_ad_break_early(monkeypatch):
    media = AdMedia(
        "tiny", ad_frames(32, 24), fps=10.0, frame_count=15, audio=None, sample_rate=None, personalised=False
    )
    clock = JumpingClock()

    async def scenario():
        video, audio = Program("video"), Program("audio")
        video.live(live_video())
        ad = AdBreak(media, video, audio, clock=clock)
        real_inject = video.inject

        def inject(frame):  # the third frame on air: cancel, as a leaving speaker does
            real_inject(frame)
            if ad.frames_sent == 2:
                ad.cancel()

        monkeypatch.setattr(video, "inject", inject)
        await asyncio.wait_for(ad.play(lambda t: None), 5.0)
        return ad, video.on_air or audio.on_air

    ad, on_air = asyncio.run(scenario())
    assert not on_air and ad.cancelled
    assert 3 <= ad.frames_sent <= 4  # a frame already handed to the loop may still go out
    assert len(clock.thread_deadlines) <= 4  # the video thread stopped at its next wait
    assert ad.last_frame_t - ad.first_frame_t < media.duration_s


def test_an_ad_break_without_a_live_size_uses_640x480():
    media = AdMedia(
        "tiny", ad_frames(32, 24), fps=10.0, frame_count=15, audio=None, sample_rate=None, personalised=False
    )

    async def scenario():
        video, audio = Program("video"), Program("audio")
        vtrack = video.subscribe()
        ad = AdBreak(media, video, audio)
        loop = asyncio.get_running_loop()
        await ad.play(lambda t: loop.call_soon(ad.cancel))
        return await vtrack.recv()

    frame = asyncio.run(scenario())
    assert (frame.width, frame.height) == (640, 480)


def test_the_label_is_drawn_again_at_the_receivers_size():
    # An ad labelled at 640x480 and shrunk to 320x240 would carry a label below its
    # minimum size; the break draws it afresh at the size that is sent.
    from adengine.label import DisclosureLabel

    label = DisclosureLabel()
    labelled = label.apply(np.full((480, 640, 3), 90, np.uint8))
    media = AdMedia(
        "tiny",
        itertools.repeat(labelled),
        fps=10.0,
        frame_count=15,
        audio=None,
        sample_rate=None,
        personalised=True,
        label=label,
    )

    async def scenario():
        video, audio = Program("video"), Program("audio")
        vtrack = video.subscribe()
        video.live(live_video())  # the stream is 320x240
        await vtrack.recv()
        ad = AdBreak(media, video, audio)
        loop = asyncio.get_running_loop()
        await ad.play(lambda t: loop.call_soon(ad.cancel))
        return await vtrack.recv()

    frame = asyncio.run(scenario())
    assert (frame.width, frame.height) == (320, 240)
    rgb = frame.to_ndarray(format="rgb24")
    assert label.is_on(rgb)
    assert not label.is_on(letterbox(labelled, (320, 240)))  # what the shrunk label alone looks like


def test_an_ad_break_hands_back_to_live_on_a_keyframe():
    class Sender:
        keyframes = 0

        def _send_keyframe(self) -> None:
            Sender.keyframes += 1

    media = AdMedia(
        "tiny", ad_frames(32, 24), fps=10.0, frame_count=15, audio=None, sample_rate=None, personalised=False
    )

    async def scenario():
        video, audio = Program("video"), Program("audio")
        video.subscribe().sender = Sender()
        ad = AdBreak(media, video, audio)
        loop = asyncio.get_running_loop()
        await ad.play(lambda t: loop.call_soon(ad.cancel))

    asyncio.run(scenario())
    assert Sender.keyframes == 1  # the cut back to live


def test_the_picture_does_not_wait_for_the_soundtrack(monkeypatch):
    # converting the soundtrack may be slow; the first ad frame goes out first,
    # and the sound catches up in step with the picture (no frame is lost)
    import callbridge.media.adbreak as adbreak

    first_out = threading.Event()
    order: list[str] = []

    def slow_audio_frames(*args):
        order.append("soundtrack waits" if first_out.wait(5.0) else "soundtrack gave up waiting")
        return audio_frames(*args)

    monkeypatch.setattr(adbreak, "audio_frames", slow_audio_frames)
    soundtrack = sine(0.5, 440, 0.3)[None, :]
    media = AdMedia(
        "tiny", ad_frames(), fps=10.0, frame_count=15, audio=soundtrack, sample_rate=44_100, personalised=True
    )
    clock = JumpingClock()

    async def scenario():
        video, audio = Program("video"), Program("audio")
        video.live(live_video())
        atrack = audio.subscribe()
        sound = asyncio.ensure_future(collect(atrack))
        ad = AdBreak(media, video, audio, clock=clock)
        await asyncio.wait_for(ad.play(lambda t: (order.append("first frame"), first_out.set())), 10.0)
        audio.close()
        return ad, await sound

    ad, sound = asyncio.run(scenario())
    assert order == ["first frame", "soundtrack waits"]
    assert len(sound) == 75  # every 20 ms of the 1.5-s soundtrack, none lost while it caught up
    start = ad.first_frame_t - EPOCH
    assert clock.loop_deadlines == pytest.approx([start + 0.02 * k for k in range(75)])  # in step with the picture


def test_a_prepared_break_goes_on_air_before_any_thread_hop(monkeypatch):
    """prepare() does the blocking work, so play() hands the first frame over on the loop at once."""
    media = AdMedia("tiny", ad_frames(), fps=10.0, frame_count=15, audio=None, sample_rate=None, personalised=False)
    hops: list[str] = []
    real_to_thread = asyncio.to_thread

    async def watched_to_thread(func, *args):
        hops.append(getattr(func, "__name__", repr(func)))
        return await real_to_thread(func, *args)

    monkeypatch.setattr(asyncio, "to_thread", watched_to_thread)

    async def scenario():
        video, audio = Program("video"), Program("audio")
        video.live(live_video())
        vtrack = video.subscribe()
        ad = AdBreak(media, video, audio)
        assert ad.prepare()
        hops_at_start: list[list[str]] = []
        loop = asyncio.get_running_loop()
        await ad.play(lambda t: (hops_at_start.append(list(hops)), loop.call_soon(ad.cancel)))
        first = await vtrack.recv()
        video.close()
        return hops_at_start, first

    hops_at_start, first = asyncio.run(scenario())
    assert hops_at_start == [[]]  # nothing had gone to a thread when the first frame went out
    assert (first.width, first.height) == (320, 240) and first.format.name == "yuv420p"
    rgb = first.to_ndarray(format="rgb24").astype(int)
    assert np.abs(rgb[60:180, 10:310] - AD_COLOUR).max() < 12  # the ad's first frame, fitted


def test_an_ad_without_frames_is_not_prepared_and_never_goes_on_air():
    media = AdMedia("empty", [], fps=10.0, frame_count=15, audio=None, sample_rate=None, personalised=False)

    async def scenario():
        video, audio = Program("video"), Program("audio")
        ad = AdBreak(media, video, audio)
        prepared = ad.prepare()
        starts: list[float] = []
        await asyncio.wait_for(ad.play(starts.append), 2.0)
        return prepared, starts, ad

    prepared, starts, ad = asyncio.run(scenario())
    assert not prepared and starts == [] and ad.first_frame_t is None and ad.frames_sent == 0


def test_an_ad_break_follows_a_slower_live_video(monkeypatch):
    """A 20-fps ad in place of 10-fps live video: every second frame, 1/10 s apart, for the ad's whole length."""
    now = [100.0]
    video, audio = Program("video", clock=lambda: now[0]), Program("audio")
    for _ in range(RATE_WINDOW):
        video.live(live_video())
        now[0] += 0.1
    assert video.live_fps == pytest.approx(10.0)
    source = [np.full((24, 32, 3), 8 * i, np.uint8) for i in range(30)]  # frame i is grey 8 * i
    media = AdMedia("tiny", source, fps=20.0, frame_count=30, audio=None, sample_rate=None, personalised=False)

    clock = JumpingClock()

    async def scenario():
        handed: list = []
        real_inject = video.inject
        monkeypatch.setattr(video, "inject", lambda frame: (handed.append(frame), real_inject(frame)))
        ad = AdBreak(media, video, audio, clock=clock)
        assert ad.fps == pytest.approx(10.0)
        await ad.play(lambda t: None)
        video.close()
        return ad, handed

    ad, frames = asyncio.run(scenario())
    assert ad.frames_sent == len(frames) == round(media.duration_s * 10) == 15
    greys = [int(np.median(f.to_ndarray(format="rgb24")[60:180, 40:280])) for f in frames]
    assert [round(g / 16) for g in greys] == list(range(15))  # source frames 0, 2, 4, ...
    start = ad.first_frame_t - EPOCH
    # frames 1..14 each at its time from the first, then the last one held for its own 1/10 s
    assert clock.thread_deadlines == pytest.approx([start + 0.1 * i for i in range(1, 16)])
