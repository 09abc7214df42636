"""Where in-call fitting runs, and the templates' pretrained actor weights it starts from.

`callbridge train --pretrain --template NAME` fits the shared encoder and the actor's decoder
on the template's frames alone and caches them as DATA/pretrained/<clip sha256>-<size>.pt:
they hold no participant's face, so they may live on disk. A participant's own decoder is
fitted in RAM during the call and never written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FIT_CHOICES = ("off", "auto", "cpu", "cuda")
PRETRAINED_SIZE = 64  # the default network's crop side


def pretrained_path(data_dir: Path, clip_sha256: str, size: int = PRETRAINED_SIZE) -> Path:
    return data_dir / "pretrained" / f"{clip_sha256}-{size}.pt"


def load_pretrained(data_dir: Path, clip_sha256: str) -> dict[str, Any] | None:
    """The cached encoder and actor decoder for a clip, or None (fitting then starts from scratch)."""
    path = pretrained_path(data_dir, clip_sha256)
    if not path.is_file():
        return None
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["net"]
        # the participant's decoder is fitted in the call; only the shared and the actor's parts carry over
        return {k: v for k, v in state.items() if k.startswith(("encoder.", "decoders.a."))}
    except Exception as exc:  # a damaged cache costs time, never the call
        log.warning("%s is not usable (%s); fitting starts from scratch", path, type(exc).__name__)
        return None


def resolve_fit_device(choice: str) -> str | None:
    """The device in-call fitting uses, or None when it is off.

    `auto` fits only on CUDA: on a CPU-only machine fitting takes the cores that speech
    and the browsers need, and does not beat `warp` within a call (docs/experiments.md).
    """
    if choice not in FIT_CHOICES:
        raise ValueError(f"--fit must be one of {', '.join(FIT_CHOICES)}, not {choice!r}")
    if choice == "off":
        return None
    if choice == "cpu":
        return "cpu"
    cuda = _cuda_present()
    if choice == "cuda" and not cuda:
        raise ValueError("--fit cuda: no CUDA device is available")
    return "cuda" if cuda else None


def _cuda_present() -> bool:
    import ctranslate2  # already loaded for speech: asking it first spares a CPU-only relay torch's import

    if ctranslate2.get_cuda_device_count() == 0:
        return False
    import torch

    return bool(torch.cuda.is_available())  # the CPU build of torch sees no GPU even where there is one
