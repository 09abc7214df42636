"""The recording's files: one Matroska file per participant who sent media, on the recording's clock."""

from __future__ import annotations

import av
import numpy as np

from callbridge.recording import CallRecorder


def test_audio_before_video_waits_and_both_land_on_one_clock(tmp_path):
    errors: list[str] = []
    recorder = CallRecorder(tmp_path, "lobby", {"phrases": []}, errors.append)
    recorder.add("ana", face_consent=True)
    t0 = recorder.started_t
    for i in range(100):  # 2 s of sound from 0.5 s; pictures from 1.06 s (i = 28, 32 ... 96)
        sound = av.AudioFrame.from_ndarray(np.zeros((1, 1920), np.int16), format="s16", layout="stereo")
        sound.sample_rate = 48000
        recorder.push("ana", sound, t0 + 0.5 + i * 0.02)
        if i >= 25 and i % 4 == 0:
            picture = av.VideoFrame.from_ndarray(np.full((240, 320, 3), i, np.uint8), format="rgb24")
            recorder.push("ana", picture, t0 + 0.5 + i * 0.02)
    recorder.stop()
    assert errors == []
    with av.open(str(recorder.folder / "ana-1.mkv")) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    assert len(times) == 18 and abs(times[0] - 1.06) < 0.01


def test_someone_whose_media_never_came_leaves_no_file_and_no_error(tmp_path):
    errors: list[str] = []
    recorder = CallRecorder(tmp_path, "lobby", {"phrases": []}, errors.append)
    recorder.add("ghost", face_consent=False)
    recorder.stop()
    assert errors == [] and sorted(p.name for p in recorder.folder.iterdir()) == ["events.jsonl", "manifest.json"]
