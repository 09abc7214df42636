"""`make demo` until the relay exists: synthesise a sample utterance and listen to it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from callbridge.cli import main

SAMPLE = "Hi everyone, great to see you. Shall we have dinner tonight? I know a lovely place near the station."


def synthesise(path: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        raise SystemExit("callbridge demo: espeak-ng is missing; run `make demo`, which installs it")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), SAMPLE], check=True)
    return path


if __name__ == "__main__":
    wav = synthesise(Path("data/demo/sample-utterance.wav"))
    print(f"said: {SAMPLE!r}\nlistening for the default campaign's phrase ('dinner tonight') in {wav}", file=sys.stderr)
    raise SystemExit(main(["listen", str(wav)]))
