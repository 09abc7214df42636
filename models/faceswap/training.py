"""Fitting the network: random-warped crops in, true crops out, both identities each step.

On CUDA it trains in mixed precision with channels-last tensors; on the CPU in float32.
Checkpoints hold the weights, the optimiser and the step, so a run resumes where it stopped.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from models.faceswap.augment import random_warp
from models.faceswap.losses import swap_loss
from models.faceswap.network import AutoencoderConfig, FaceSwapNet


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the network; the message says why."""


class Trainer:
    """Trains `net` on aligned crops of the actor (A) and the participant (B), each with its face mask."""

    def __init__(self, net: FaceSwapNet, device: str = "cpu", lr: float = 5e-4, seed: int = 0) -> None:
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.net = net.to(self.device)
        if self.cuda:
            self.net = self.net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.optimiser = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(0.5, 0.999))
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.cuda)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.steps = 0

    def step(self, a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor], batch: int = 8) -> float:
        """One optimiser step on a random batch of each identity ((faces, masks), (N, 3|1, S, S) in [0, 1])."""
        self.net.train()
        loss = torch.zeros((), device=self.device)
        with torch.autocast(self.device.type, enabled=self.cuda):
            for identity, (faces, masks) in (("a", a), ("b", b)):
                pick = torch.randint(len(faces), (batch,), generator=self.generator, device=self.device)
                pick = pick.to(faces.device)  # crops may stay in host memory while the network is on CUDA
                target, mask = self._prepared(faces[pick]), self._prepared(masks[pick])
                colour, mask_out = self.net(random_warp(target, self.generator), identity)
                loss = loss + swap_loss(colour.float(), mask_out.float(), target, mask)
        self.optimiser.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimiser)
        self.scaler.update()
        self.steps += 1
        return float(loss.detach())

    def _prepared(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.cuda else x

    def save(self, path: Path) -> None:
        """A checkpoint, written beside `path` and renamed over it (a crash never leaves half of one)."""
        state = {
            "config": self.net.config.__dict__,
            "net": self.net.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "steps": self.steps,
        }
        tmp = path.with_name(f".{path.name}.part")
        torch.save(state, tmp)
        tmp.replace(path)

    @classmethod
    def resume(cls, path: Path, device: str = "cpu", lr: float = 5e-4) -> Trainer:
        """The trainer a checkpoint saved, ready to go on."""
        try:
            state = torch.load(path, map_location=device, weights_only=True)
            trainer = cls(FaceSwapNet(AutoencoderConfig(**state["config"])), device, lr)
            trainer.net.load_state_dict(state["net"])
            trainer.optimiser.load_state_dict(state["optimiser"])
            trainer.steps = int(state["steps"])
        except FileNotFoundError:
            raise CheckpointError(f"{path}: no such checkpoint") from None
        except (RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            raise CheckpointError(f"{path} is not a usable checkpoint: {reason}") from None
        return trainer
