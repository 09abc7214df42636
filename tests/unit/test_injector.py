"""Program and RelayTrack between a fake source (frames pushed by hand) and fake sinks (subscribed tracks)."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from callbridge.media.tracks import AUDIO_QUEUE, RATE_WINDOW, VIDEO_CLOCK, VIDEO_QUEUE, Program, RelayTrack


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def video_frame(width: int = 64, height: int = 48, value: int = 0) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((height, width, 3), value, np.uint8), format="rgb24")


def audio_frame(samples: int = 960, rate: int = 48_000) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.zeros((1, samples * 2), np.int16), format="s16", layout="stereo")
    frame.sample_rate = rate
    return frame


def drain(track: RelayTrack) -> list:
    """Everything queued on a track, without waiting."""

    async def take() -> list:
        out = []
        while track._queue:
            out.append(await track.recv())
        return out

    return asyncio.run(take())


def test_fan_out_gives_every_receiver_the_same_frames_with_the_same_pts():
    clock = FakeClock()
    program = Program("video", clock=clock)
    a, b = program.subscribe(), program.subscribe()
    assert program.receivers == 2
    sent = []
    for _ in range(2):
        frame = video_frame()
        assert program.live(frame) is True
        sent.append(frame)
        clock.advance(1 / 30)
    got_a, got_b = drain(a), drain(b)
    assert [id(f) for f in got_a] == [id(f) for f in sent]
    assert [id(f) for f in got_b] == [id(f) for f in sent]
    assert [f.pts for f in got_a] == [f.pts for f in got_b] == [0, 3000]


def test_video_pts_come_from_the_injected_clock_and_strictly_increase():
    clock = FakeClock(t=5.0)
    program = Program("video", clock=clock)
    track = program.subscribe()
    steps = [0.0, 0.04, 0.0, 0.0, 0.1, 0.001, 0.5]  # repeated instants must still move pts on
    pts = []
    for step in steps:
        clock.advance(step)
        frame = video_frame()
        program.live(frame)
        pts.append(frame.pts)
        assert frame.time_base == fractions.Fraction(1, VIDEO_CLOCK)
        drain(track)
    assert all(b > a for a, b in zip(pts, pts[1:]))
    elapsed = np.cumsum(steps)
    # Where the clock moved far enough, pts is exactly the elapsed time on the 90 kHz clock.
    assert pts[0] == 0
    assert pts[1] == round(0.04 * VIDEO_CLOCK)
    assert pts[2] == pts[1] + 1 and pts[3] == pts[1] + 2
    assert pts[4] == round(elapsed[4] * VIDEO_CLOCK)
    assert pts[6] == round(elapsed[6] * VIDEO_CLOCK)


def test_audio_pts_advance_by_the_samples_of_each_frame():
    program = Program("audio", clock=lambda: pytest.fail("audio must not read the clock"))
    track = program.subscribe()
    sizes = [960, 960, 480, 960]
    frames = [audio_frame(n) for n in sizes]
    for frame in frames:
        program.live(frame)
    assert [f.pts for f in frames] == [0, 960, 1920, 2400]
    assert all(f.time_base == fractions.Fraction(1, 48_000) for f in frames)
    assert drain(track) == frames


def test_on_air_holds_live_frames_back_and_inject_only_works_on_air():
    program = Program("video", clock=FakeClock())
    track = program.subscribe()
    ad = video_frame(value=200)
    program.inject(ad)  # not on air: dropped
    assert drain(track) == []
    program.on_air = True
    live = video_frame(value=10)
    assert program.live(live) is False
    program.inject(ad)
    assert drain(track) == [ad]
    program.on_air = False
    program.inject(video_frame(value=201))
    assert drain(track) == []
    assert program.live(live) is True
    assert drain(track) == [live]


def test_pts_continue_across_live_ad_live_without_a_reset():
    clock = FakeClock()
    video = Program("video", clock=clock)
    audio = Program("audio", clock=clock)
    vtrack, atrack = video.subscribe(), audio.subscribe()
    vpts, apts = [], []

    def tick(on_air: bool) -> None:
        v, a = video_frame(), audio_frame()
        if on_air:
            video.live(video_frame())  # held back, must not consume a timestamp
            audio.live(audio_frame())
            video.inject(v)
            audio.inject(a)
        else:
            video.live(v)
            audio.live(a)
        assert drain(vtrack) == [v] and drain(atrack) == [a]  # only what was on the program
        vpts.append(v.pts)
        apts.append(a.pts)
        clock.advance(0.02)

    for _ in range(5):
        tick(False)
    video.on_air = audio.on_air = True
    for _ in range(5):
        tick(True)
    video.on_air = audio.on_air = False
    for _ in range(5):
        tick(False)
    assert all(b > a for a, b in zip(vpts, vpts[1:])), vpts
    assert vpts == [round(i * 0.02 * VIDEO_CLOCK) for i in range(15)]
    assert apts == [i * 960 for i in range(15)]


def test_a_full_track_drops_the_oldest_and_counts_it():
    program = Program("video", clock=FakeClock())
    track = program.subscribe()
    frames = [video_frame() for _ in range(VIDEO_QUEUE + 3)]
    for frame in frames:
        program.live(frame)
    assert track.dropped == 3
    assert drain(track) == frames[-VIDEO_QUEUE:]
    audio = Program("audio").subscribe()
    for _ in range(AUDIO_QUEUE):
        audio.put(audio_frame())
    assert audio.dropped == 0
    audio.put(audio_frame())
    assert audio.dropped == 1


def test_recv_waits_for_a_put():
    async def scenario() -> None:
        track = RelayTrack("video", 2)
        waiting = asyncio.ensure_future(track.recv())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()
        frame = video_frame()
        track.put(frame)
        assert await asyncio.wait_for(waiting, 1.0) is frame

    asyncio.run(scenario())


def test_stop_makes_a_waiting_recv_raise():
    async def scenario() -> None:
        track = RelayTrack("audio", 2)
        waiting = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0)
        assert not waiting.done()
        track.stop()
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(waiting, 1.0)

    asyncio.run(scenario())


def test_unsubscribe_stops_the_track_and_it_gets_nothing_more():
    async def scenario() -> None:
        program = Program("video", clock=FakeClock())
        kept, gone = program.subscribe(), program.subscribe()
        program.unsubscribe(gone)
        assert program.receivers == 1
        assert gone.readyState == "ended"
        frame = video_frame()
        program.live(frame)
        assert await kept.recv() is frame
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(gone.recv(), 1.0)
        program.unsubscribe(gone)  # twice is harmless
        assert program.receivers == 1

    asyncio.run(scenario())


def test_close_stops_every_receiver():
    async def scenario() -> None:
        program = Program("audio")
        tracks = [program.subscribe() for _ in range(3)]
        program.close()
        assert program.receivers == 0
        for track in tracks:
            with pytest.raises(MediaStreamError):
                await asyncio.wait_for(track.recv(), 1.0)

    asyncio.run(scenario())


def test_size_follows_the_live_video_even_while_on_air():
    program = Program("video", clock=FakeClock())
    assert program.size is None
    program.live(video_frame(64, 48))
    assert program.size == (64, 48)
    program.on_air = True
    program.live(video_frame(320, 240))
    assert program.size == (320, 240)
    program.inject(video_frame(32, 24))  # ad frames do not change it
    assert program.size == (320, 240)
    audio = Program("audio")
    audio.live(audio_frame())
    assert audio.size is None


def test_live_fps_is_the_rate_live_video_comes_in_at_even_while_on_air():
    clock = FakeClock()
    program = Program("video", clock=clock)
    for _k in range(RATE_WINDOW // 2 - 1):
        program.live(video_frame())
        clock.advance(1 / 15)
    assert program.live_fps is None  # too few frames to tell
    program.on_air = True  # held-back frames still say how fast the sender sends
    for _k in range(RATE_WINDOW):
        program.live(video_frame())
        clock.advance(1 / 15)
    assert program.live_fps == pytest.approx(15.0)
    for _k in range(RATE_WINDOW):  # it follows a change within the window
        program.live(video_frame())
        clock.advance(1 / 30)
    assert program.live_fps == pytest.approx(30.0)
    program.inject(video_frame())  # ad frames do not count
    assert program.live_fps == pytest.approx(30.0)
    audio = Program("audio", clock=clock)
    for _k in range(RATE_WINDOW):
        audio.live(audio_frame())
        clock.advance(0.02)
    assert audio.live_fps is None


def test_subscribed_tracks_have_the_programs_kind_and_queue():
    video, audio = Program("video"), Program("audio")
    vt, at = video.subscribe(), audio.subscribe()
    assert (vt.kind, at.kind) == ("video", "audio")
    assert (vt._queue.maxlen, at._queue.maxlen) == (VIDEO_QUEUE, AUDIO_QUEUE)


@pytest.mark.parametrize("kind", ["data", "", "Video"])
def test_an_unknown_kind_is_refused(kind):
    with pytest.raises(ValueError, match="unknown kind"):
        Program(kind)


class _Sender:
    def __init__(self) -> None:
        self.keyframes = 0

    def _send_keyframe(self) -> None:
        self.keyframes += 1


def test_a_cut_asks_every_receivers_encoder_for_a_keyframe():
    async def scenario():
        program = Program("video")
        first, second, unsent = program.subscribe(), program.subscribe(), program.subscribe()
        first.sender, second.sender = _Sender(), _Sender()
        program.cut()
        program.cut()
        return first.sender.keyframes, second.sender.keyframes, unsent.sender

    assert asyncio.run(scenario()) == (2, 2, None)  # a track with no sender yet is left alone
