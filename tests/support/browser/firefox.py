"""A Firefox participant: Debian's Firefox ESR, headless, driven over WebDriver BiDi.

Its camera and microphone are Firefox's own fake devices (a generated picture
and tone): Firefox cannot play a file as a camera. So in the browser test it is
the listener, the one who must see the ad. Loopback ICE candidates are off in
Firefox by default and host addresses are hidden behind mDNS names; the prefs
below turn both off, as the relay's loopback-only test namespace needs.
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.support.browser.bidi import BiDiConnection, BiDiError, from_remote, to_remote
from tests.support.browser.chromium import RECORD_PCS_JS, Participant
from tests.support.relayserver import free_port

FIREFOX = "/usr/bin/firefox-esr"

PREFS: dict[str, Any] = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    "media.peerconnection.ice.loopback": True,
    "media.peerconnection.ice.obfuscate_host_addresses": False,
    # With no interface but lo, Firefox would go offline and gather nothing.
    "network.manage-offline-status": False,
    "network.offline-mirrors-connectivity": False,
    "network.connectivity-service.enabled": False,
    "network.captive-portal-service.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "remote.prefs.recommended": True,
}

JOIN_JS = """
(name) => {
  const field = document.querySelector('#name');
  field.value = name;
  field.dispatchEvent(new Event('input', {bubbles: true}));
  const consent = document.querySelector('#consent');
  if (!consent.checked) consent.click();
  document.querySelector('#join').click();
}
"""


def _user_js(prefs: dict[str, Any]) -> str:
    def literal(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else repr(v) if isinstance(v, int) else f'"{v}"'

    return "".join(f'user_pref("{k}", {literal(v)});\n' for k, v in prefs.items())


class FirefoxParticipant(Participant):
    """One headless Firefox ESR with fake devices, its own profile and its room page."""

    def __init__(self, name: str, workdir: Path, start_timeout_s: float = 40.0) -> None:
        self.name = name
        self.console = []
        profile = workdir / f"firefox-{name}"
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "user.js").write_text(_user_js(PREFS))
        port = free_port()
        self.log_path = workdir / f"firefox-{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [FIREFOX, "--headless", "--no-remote", "--profile", str(profile),
                 f"--remote-debugging-port={port}", "about:blank"],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1"},
            )  # fmt: skip
        self.bidi = self._connect(f"ws://127.0.0.1:{port}/session", start_timeout_s)
        self.bidi.send("session.new", {"capabilities": {}})
        self.bidi.on_event(self._on_event)
        self.bidi.send("session.subscribe", {"events": ["log.entryAdded"]})
        self.context = self.bidi.send("browsingContext.getTree", {})["contexts"][0]["context"]
        self.bidi.send(
            "browsingContext.setViewport", {"context": self.context, "viewport": {"width": 1280, "height": 800}}
        )
        self.bidi.send("script.addPreloadScript", {"functionDeclaration": "() => {" + RECORD_PCS_JS + "}"})

    def _connect(self, url: str, timeout_s: float) -> BiDiConnection:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"firefox exited with status {self.process.returncode}; see {self.log_path}")
            try:
                return BiDiConnection(url, timeout_s=5.0)
            except Exception as e:  # not listening yet
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"firefox's WebDriver BiDi did not answer at {url} within {timeout_s:.0f} s: {e!r}"
                    ) from None
                time.sleep(0.3)

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "log.entryAdded":
            self.console.append(f"[{params.get('level')}] {params.get('text')}")

    def evaluate(self, function_js: str, arg: Any = None) -> Any:
        params: dict[str, Any] = {
            "functionDeclaration": function_js,
            "target": {"context": self.context},
            "awaitPromise": True,
            "resultOwnership": "none",
            "serializationOptions": {"maxObjectDepth": 8},
        }
        if arg is not None:
            params["arguments"] = [to_remote(arg)]
        reply = self.bidi.send("script.callFunction", params)
        if reply.get("type") == "exception":
            details = reply.get("exceptionDetails", {})
            raise BiDiError(f"page function threw: {details.get('text')}")
        return from_remote(reply.get("result", {}))

    def join(self, url: str) -> None:
        self.bidi.send(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}, timeout_s=20.0
        )
        self.evaluate(JOIN_JS, self.name)

    def screenshot(self, path: Path) -> None:
        data = self.bidi.send("browsingContext.captureScreenshot", {"context": self.context, "origin": "document"})[
            "data"
        ]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.bidi.close()
        except Exception:
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
