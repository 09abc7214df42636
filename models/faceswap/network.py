"""The network: a shared encoder to a small latent face, and a decoder per identity (colour and mask)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class AutoencoderConfig:
    """Sizes of the network. `size` is the aligned crop's side in pixels (64-128 in use)."""

    size: int = 64
    width: int = 64  # channels of the first encoder stage; each stage doubles it
    latent: int = 256
    stages: int = 4  # stride-2 stages: the latent grid is size / 2**stages on a side

    @classmethod
    def tiny(cls) -> AutoencoderConfig:
        """Small enough to train in seconds on a CPU: tests, and a smoke run of `callbridge train`."""
        return cls(size=32, width=8, latent=32, stages=3)

    def __post_init__(self) -> None:
        if self.size % (2**self.stages) or self.size < 2**self.stages:
            raise ValueError(f"size {self.size} must be a multiple of {2**self.stages}")


def _down(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, 5, stride=2, padding=2), nn.LeakyReLU(0.1))


def _up(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout * 4, 3, padding=1), nn.LeakyReLU(0.1), nn.PixelShuffle(2))


class Encoder(nn.Module):
    """Aligned crop (N, 3, size, size) in [0, 1] -> latent grid (N, latent, g, g), g = size / 2**stages."""

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        widths = [3] + [config.width * 2**i for i in range(config.stages)]
        self.features = nn.Sequential(*(_down(a, b) for a, b in zip(widths, widths[1:], strict=False)))
        self.grid = config.size // 2**config.stages
        self.to_latent = nn.Linear(widths[-1] * self.grid * self.grid, config.latent)
        self.from_latent = nn.Linear(config.latent, config.latent * self.grid * self.grid)
        self.latent = config.latent

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code = self.to_latent(torch.flatten(self.features(x), 1))
        return self.from_latent(code).view(-1, self.latent, self.grid, self.grid)


class Decoder(nn.Module):
    """Latent grid -> (colour (N, 3, size, size), mask (N, 1, size, size)), both in [0, 1]."""

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        widths = [config.latent] + [max(8, config.width * 2 ** (config.stages - 1 - i)) for i in range(config.stages)]
        self.upscale = nn.Sequential(*(_up(a, b) for a, b in zip(widths, widths[1:], strict=False)))
        self.out = nn.Conv2d(widths[-1], 4, 5, padding=2)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.sigmoid(self.out(self.upscale(z)))
        return y[:, :3], y[:, 3:]


class FaceSwapNet(nn.Module):
    """One encoder, decoder `a` (the actor) and decoder `b` (the participant)."""

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or AutoencoderConfig()
        self.encoder = Encoder(self.config)
        self.decoders = nn.ModuleDict({"a": Decoder(self.config), "b": Decoder(self.config)})

    def forward(self, x: torch.Tensor, identity: str = "b") -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoders[identity](self.encoder(x))
