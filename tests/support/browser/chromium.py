"""Browser participants for the end-to-end test: the page-side probes (tile grabs,
RTP stats, events) that it asserts on and prints when it fails, and a Chromium
with a fake camera and microphone fed from files. Firefox is in firefox.py."""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:  # the end-to-end test imports Playwright itself, only when it runs
    from playwright.sync_api import Playwright, Response, WebSocket

CHROMIUM = "/usr/bin/chromium"

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]

# Draws <video data-participant=NAME> at its intrinsic size and reports what the
# contract promises about it. `mark` (when given) is stored on the element and its
# srcObject, so a later call can tell whether they are still the same objects.
GRAB_JS = """
([name, mark]) => {
  const events = (window.callbridge && window.callbridge.events) || [];
  const adStarted = events.some(e => e.type === 'ad-start' && e.participant === name);
  const adEnded = events.some(e => e.type === 'ad-end' && e.participant === name);
  const all = document.querySelectorAll('video[data-participant="' + CSS.escape(name) + '"]');
  const el = all[0];
  if (!el) return {found: false, count: 0, adStarted, adEnded};
  const stream = el.srcObject;
  const tracks = stream && stream.getVideoTracks ? stream.getVideoTracks() : [];
  const track = tracks[0];
  if (mark) {
    if (el.__e2eMark === undefined) el.__e2eMark = mark;
    if (stream && stream.__e2eMark === undefined) stream.__e2eMark = mark;
  }
  const r = el.getBoundingClientRect();
  const out = {
    found: true, count: all.length, adStarted, adEnded,
    elMark: el.__e2eMark === undefined ? null : el.__e2eMark,
    streamMark: stream && stream.__e2eMark !== undefined ? stream.__e2eMark : null,
    hasStream: !!stream,
    trackId: track ? track.id : null, trackState: track ? track.readyState : null, trackMuted: track ? track.muted : null,
    videoTracks: tracks.length,
    rect: {w: r.width, h: r.height},
    videoWidth: el.videoWidth, videoHeight: el.videoHeight,
    readyState: el.readyState, paused: el.paused, currentTime: el.currentTime,
    // Firefox counts no frames for a MediaStream (always 0): null makes the test go by currentTime
    decoded: el.getVideoPlaybackQuality && el.getVideoPlaybackQuality().totalVideoFrames > 0
      ? el.getVideoPlaybackQuality().totalVideoFrames : null,
    png: null,
  };
  if (el.videoWidth > 0 && el.videoHeight > 0 && el.readyState >= 2) {
    const c = document.createElement('canvas');
    c.width = el.videoWidth; c.height = el.videoHeight;
    c.getContext('2d').drawImage(el, 0, 0, c.width, c.height);
    out.png = c.toDataURL('image/png');
  }
  return out;
}
"""

# Keeps every RTCPeerConnection the page makes, so a failure can print its RTP stats.
RECORD_PCS_JS = """
(() => {
  const Original = window.RTCPeerConnection;
  if (!Original || Original.__e2e) return;
  window.__e2ePcs = [];
  const Wrapped = function (...args) { const pc = new Original(...args); window.__e2ePcs.push(pc); return pc; };
  Wrapped.prototype = Original.prototype;
  Wrapped.__e2e = true;
  Object.setPrototypeOf(Wrapped, Original);
  window.RTCPeerConnection = Wrapped;
})();
"""

RTP_STATS_JS = """
async () => {
  const keys = ['kind', 'mid', 'packetsReceived', 'packetsLost', 'framesReceived', 'framesDecoded', 'keyFramesDecoded',
                'framesDropped', 'pliCount', 'nackCount', 'frameWidth', 'frameHeight', 'framesEncoded', 'framesSent',
                'bytesReceived', 'bytesSent', 'jitterBufferDelay', 'jitterBufferEmittedCount', 'totalDecodeTime'];
  const out = [];
  for (const pc of window.__e2ePcs || []) {
    const candidates = d => ((d && d.sdp) || '').split('\\n').map(l => l.trim()).filter(l => l.startsWith('a=candidate'));
    const row = {connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState, signalingState: pc.signalingState,
                 localCandidates: candidates(pc.localDescription), remoteCandidates: candidates(pc.remoteDescription), rtp: []};
    try {
      const stats = await pc.getStats();
      stats.forEach(v => {
        if (v.type !== 'inbound-rtp' && v.type !== 'outbound-rtp') return;
        const r = {type: v.type};
        for (const k of keys) if (v[k] !== undefined) r[k] = v[k];
        if (v.codecId && stats.get(v.codecId)) r.codec = stats.get(v.codecId).mimeType;
        row.rtp.push(r);
      });
    } catch (e) { row.error = String(e); }
    out.push(row);
  }
  return out;
}
"""

EVENTS_JS = "() => ((window.callbridge && window.callbridge.events) || []).map(e => Object.assign({}, e))"


class Failure(AssertionError):
    pass


def _decode_png(data_url: str) -> np.ndarray:
    """A canvas data: URL -> RGB uint8 HxWx3."""
    raw = base64.b64decode(data_url.split(",", 1)[1])
    bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None, "could not decode the canvas PNG"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class Participant(ABC):
    """A browser in the room, as the test sees it: evaluate page functions, join, look.

    ChromiumParticipant (Playwright) and FirefoxParticipant (WebDriver BiDi) give
    the four browser-specific operations; the probes below are shared.
    """

    name: str
    console: list[str]

    @abstractmethod
    def evaluate(self, function_js: str, arg: Any = None) -> Any:
        """Call a page function (JS source) with one JSON-able argument; its result as plain Python."""

    @abstractmethod
    def join(self, url: str) -> None:
        """Open the room page, type the name, tick consent, press join."""

    @abstractmethod
    def screenshot(self, path: Path) -> None:
        """Save the whole page as a PNG."""

    @abstractmethod
    def close(self) -> None:
        """Close the browser; never raises."""

    def rtp_stats(self) -> list[dict]:
        return self.evaluate(RTP_STATS_JS)

    def transport_summary(self) -> str:
        """One line per peer connection: its states and inbound video, for a failure message."""
        try:
            rows = self.rtp_stats()
        except Exception as e:
            return f"no RTP stats: {e!r}"
        parts = []
        for row in rows:
            video = [
                {
                    k: r.get(k)
                    for k in ("mid", "packetsReceived", "framesDecoded", "keyFramesDecoded", "pliCount", "codec")
                }
                for r in row.get("rtp", [])
                if r.get("type") == "inbound-rtp" and r.get("kind") == "video"
            ]
            parts.append(
                f"pc {row.get('connectionState')}/ice {row.get('iceConnectionState')}/{row.get('signalingState')}, inbound video {video}"
            )
        return "; ".join(parts) or "no peer connection"

    def events(self) -> list[dict]:
        return self.evaluate(EVENTS_JS)

    def find(
        self, type_: str, participant: str | None = None, pred: Callable[[dict], bool] | None = None
    ) -> list[dict]:
        return [
            e
            for e in self.events()
            if e.get("type") == type_
            and (participant is None or e.get("participant") == participant)
            and (pred is None or pred(e))
        ]

    def grab(self, participant: str, mark: str | None = None) -> dict:
        info = self.evaluate(GRAB_JS, [participant, mark])
        png = info.pop("png", None)
        info["frame"] = _decode_png(png) if png else None
        return info


class ChromiumParticipant(Participant):
    """One Chromium with its own fake camera and microphone (a Y4M and a WAV), and its room page."""

    def __init__(self, playwright: Playwright, name: str, y4m: Path, wav: Path) -> None:
        self.name = name
        self.console = []
        self.browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_FLAGS,
                f"--use-file-for-fake-video-capture={y4m}",
                f"--use-file-for-fake-audio-capture={wav}",
            ],
        )
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"[{m.type}] {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"[pageerror] {e}"))
        self.page.on("response", self._http_error)
        self.page.on("websocket", self._watch_socket)
        self.page.add_init_script(RECORD_PCS_JS)

    def _http_error(self, response: Response) -> None:
        if response.status >= 400:
            self.console.append(f"[http {response.status}] {response.request.method} {response.url}")

    def _watch_socket(self, ws: WebSocket) -> None:
        self.console.append(f"[ws] open {ws.url}")
        ws.on("close", lambda _ws: self.console.append(f"[ws] closed {ws.url}"))
        ws.on("framereceived", lambda payload: self._server_message(payload))

    def _server_message(self, payload: str | bytes) -> None:
        # Signalling other than room events (which are in window.callbridge.events): errors, offers.
        text = payload if isinstance(payload, str) else payload.decode(errors="replace")
        if '"type": "event"' in text or '"type":"event"' in text:
            return
        kind = text[:200].split('"sdp"')[0]
        self.console.append(f"[ws <-] {kind}")

    def join(self, url: str) -> None:
        self.page.goto(url, wait_until="load", timeout=20_000)
        self.page.fill("#name", self.name)
        self.page.check("#consent")
        self.page.click("#join")

    def evaluate(self, function_js: str, arg: Any = None) -> Any:
        return self.page.evaluate(function_js) if arg is None else self.page.evaluate(function_js, arg)

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path), full_page=True, timeout=5000)

    def close(self) -> None:
        try:
            self.browser.close()
        except Exception:
            pass
