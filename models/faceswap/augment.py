"""Random-warp augmentation: the network sees a distorted face and must give back the true one.

A random affine move (turn, scale, shift) and a smooth random distortion of the sampling
grid, both as one `grid_sample`, so the encoder learns the face, not the pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_warp(
    faces: torch.Tensor,
    generator: torch.Generator | None = None,
    turn_deg: float = 8.0,
    scale: float = 0.05,
    shift: float = 0.05,
    wobble: float = 0.04,
) -> torch.Tensor:
    """`faces` (N, C, H, W) warped, each differently; same shape."""
    n = faces.shape[0]

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=faces.device) * 2 - 1

    angle = uniform(n) * math.radians(turn_deg)
    zoom = 1 + uniform(n) * scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, uniform(n) * shift], 1), torch.stack([sin, cos, uniform(n) * shift], 1)], 1
    ).to(faces.dtype)
    grid = F.affine_grid(theta, list(faces.shape), align_corners=False)
    coarse = uniform(n, 2, 5, 5).to(faces.dtype) * wobble
    smooth = F.interpolate(coarse, size=faces.shape[-2:], mode="bicubic", align_corners=False)
    return F.grid_sample(faces, grid + smooth.permute(0, 2, 3, 1), padding_mode="border", align_corners=False)
