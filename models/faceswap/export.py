"""The participant's swap as an ONNX model, run through ONNX Runtime with batched frames."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from torch import nn

from models.faceswap.network import FaceSwapNet

Swap = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class _OneWay(nn.Module):
    """The encoder and one decoder: an actor's crop in, the participant's face (colour, mask) out."""

    def __init__(self, net: FaceSwapNet, identity: str) -> None:
        super().__init__()
        self.encoder, self.decoder = net.encoder, net.decoders[identity]

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(self.encoder(face))


def export_onnx(net: FaceSwapNet, path: Path | BinaryIO, identity: str = "b") -> Path | BinaryIO:
    """Write the swap into `identity`'s face as ONNX: input `face` (N, 3, S, S) float32 in [0, 1],
    outputs `colour` (N, 3, S, S) and `mask` (N, 1, S, S); N is free. `path` may be an in-memory
    buffer: a participant's network fitted in a call never touches the disk."""
    size = net.config.size
    # a copy: moving and switching the network itself would pull a CUDA trainer's layers off the GPU mid-training
    one_way = copy.deepcopy(_OneWay(net, identity)).float().to("cpu").eval()
    with torch.no_grad():
        torch.onnx.export(
            one_way,
            (torch.zeros(1, 3, size, size),),
            str(path) if isinstance(path, Path) else path,  # type: ignore[arg-type]  # a buffer works too
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and it takes a free batch axis
            input_names=["face"],
            output_names=["colour", "mask"],
            dynamic_axes={"face": {0: "n"}, "colour": {0: "n"}, "mask": {0: "n"}},
            opset_version=17,
        )
    return path


def onnx_swap(path: Path | bytes, device: str = "auto") -> Swap:
    """A function running the exported swap on a batch: CUDA's provider when there is one (and asked), else CPU."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = ["CUDAExecutionProvider"] if device in ("auto", "cuda") else []
    providers = [p for p in wanted if p in available] + ["CPUExecutionProvider"]
    session = ort.InferenceSession(path if isinstance(path, bytes) else str(path), providers=providers)

    def swap(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        colour, mask = session.run(None, {"face": np.ascontiguousarray(faces, np.float32)})
        return colour, mask

    return swap
