"""The trained swap backend (the classic deepfake): a shared encoder and one decoder per identity.

Decoder A learns the actor, decoder B the participant, both from aligned face crops;
feeding the actor's face through the encoder and decoder B puts the participant's face on
the actor's expression. Trained with PyTorch, run through ONNX Runtime.

Names load on first use, so that `models.faceswap.align` (numpy and OpenCV only) does not
import torch into the relay.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AutoencoderConfig": "network",
    "FaceSwapNet": "network",
    "Trainer": "training",
    "dssim": "losses",
    "masked_l1": "losses",
    "export_onnx": "export",
    "onnx_swap": "export",
    "random_warp": "augment",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
