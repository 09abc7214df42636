"""The trained swap backend (the classic deepfake): a shared encoder and one decoder per identity.

Decoder A learns the actor, decoder B the participant, both from aligned face crops;
feeding the actor's face through the encoder and decoder B puts the participant's face on
the actor's expression. Trained with PyTorch, run through ONNX Runtime.
"""

from models.faceswap.augment import random_warp
from models.faceswap.export import export_onnx, onnx_swap
from models.faceswap.losses import dssim, masked_l1
from models.faceswap.network import AutoencoderConfig, FaceSwapNet
from models.faceswap.training import Trainer

__all__ = [
    "AutoencoderConfig",
    "FaceSwapNet",
    "Trainer",
    "dssim",
    "export_onnx",
    "masked_l1",
    "onnx_swap",
    "random_warp",
]
