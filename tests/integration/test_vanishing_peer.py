"""A participant whose process dies mid-ad, without leaving: the relay notices, the others' call goes on.

The vanishing participant is a scripted aiortc client in a child process, killed with SIGKILL while
its ad plays, as a browser tab does when the machine sleeps or the network drops."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.support import faces
from tests.support.relayserver import serving
from tests.support.rtcclient import LoopAudio, LoopVideo, RoomClient, in_call
from tests.support.speech import say

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SILENCE = np.zeros(48000 * 2, np.int16)

VANISHING = textwrap.dedent(
    """
    import asyncio, sys, wave
    import numpy as np
    from tests.support import faces
    from tests.support.rtcclient import LoopAudio, LoopVideo, RoomClient

    async def main(url: str, wav: str) -> None:
        with wave.open(wav) as w:
            pcm = np.repeat(np.frombuffer(w.readframes(w.getnframes()), np.int16), 3)
        video = LoopVideo(faces.animate(faces.hopper(), 20, spot=faces.HOPPER_FACE, face_width=170))
        erin = RoomClient(url, "vanish", "erin", True, video, LoopAudio(pcm))
        await erin.join()
        print("joined", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def test_a_peer_that_vanishes_mid_ad_leaves_and_the_room_goes_on(tmp_path):
    wav = say(tmp_path / "s.wav", "Shall we have dinner tonight? I know a nice place.", lead_s=2.0, tail_s=9.0)
    data = tmp_path / "data"
    data.mkdir()
    with serving(data) as url:

        async def call() -> None:
            video = LoopVideo(faces.animate(faces.astronaut(), 20, spot=faces.ASTRONAUT_FACE, face_width=170))
            frank = RoomClient(url, "vanish", "frank", True, video, LoopAudio(SILENCE))
            argv = [sys.executable, "-c", VANISHING, url, str(wav)]
            erin = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                async with in_call(frank):
                    await frank.wait_event("joined", "erin", 60)
                    await frank.wait_event("ad-start", "erin", 45)
                    os.kill(erin.pid, signal.SIGKILL)  # no leave, no websocket close frame, no DTLS goodbye
                    erin.wait(10)
                    await frank.wait_event("left", "erin", 40)
                    with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
                        health = json.loads(r.read())
                    assert health["ok"] and health["participants"] == 1
                    gina = RoomClient(
                        url, "vanish", "gina", False, LoopVideo(faces.animate(faces.hopper(), 5)), LoopAudio(SILENCE)
                    )
                    mark = len(frank.events)
                    async with in_call(gina):
                        await frank.wait_event("joined", "gina", 15, after=mark)
                        frames = 0
                        async for _t, _rgb in frank.frames_of("gina", timeout=20):
                            frames += 1
                            if frames == 10:
                                break
                        assert frames == 10, "a newcomer's video still reaches the others"
            finally:
                if erin.poll() is None:
                    erin.kill()

        asyncio.run(call())  # and `serving` checks that the relay's log holds no traceback
