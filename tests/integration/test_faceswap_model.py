"""The trained backend's network on the CPU, tiny: it learns (the loss falls over a few hundred steps on
real faces), its checkpoints resume, bad ones are refused, and its ONNX export matches torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.faceswap import AutoencoderConfig, FaceSwapNet, Trainer, export_onnx, onnx_swap
from models.faceswap.training import CheckpointError
from tests.support import faces

pytestmark = pytest.mark.integration


def crops(image: np.ndarray, spot: faces.FaceSpot, n: int, size: int, seed: int) -> tuple:
    """`n` face crops (and an oval mask) from a moving webcam of `image`, as (N, 3|1, size, size) tensors."""
    import cv2

    frames = faces.animate(image, n, spot=spot, face_width=120, seed=seed)
    half = 90  # the face is centred in the 640x480 frame at about 120 px wide
    cut = [cv2.resize(f[240 - half : 240 + half, 320 - half : 320 + half], (size, size)) for f in frames]
    x = torch.tensor(np.stack(cut), dtype=torch.float32).permute(0, 3, 1, 2) / 255.0
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    oval = torch.tensor(((xx / 0.33) ** 2 + (yy / 0.42) ** 2 <= 1).astype(np.float32))
    return x, oval.expand(n, 1, size, size).clone()


@pytest.fixture(scope="module")
def data() -> tuple:
    size = AutoencoderConfig.tiny().size
    return crops(faces.astronaut(), faces.ASTRONAUT_FACE, 24, size, 1), crops(
        faces.hopper(), faces.HOPPER_FACE, 24, size, 2
    )


def test_the_loss_falls_over_a_few_hundred_steps(data):
    torch.manual_seed(0)
    trainer = Trainer(FaceSwapNet(AutoencoderConfig.tiny()), seed=0)
    losses = [trainer.step(*data, batch=8) for _ in range(300)]
    first, last = np.mean(losses[:20]), np.mean(losses[-20:])
    assert last < 0.7 * first, (first, last)


def test_a_checkpoint_resumes_where_it_stopped_and_a_bad_one_is_refused(data, tmp_path):
    trainer = Trainer(FaceSwapNet(AutoencoderConfig.tiny()), seed=0)
    for _ in range(5):
        trainer.step(*data, batch=4)
    trainer.save(tmp_path / "model.pt")
    again = Trainer.resume(tmp_path / "model.pt")
    assert again.steps == 5
    for name, value in trainer.net.state_dict().items():
        assert torch.equal(value, again.net.state_dict()[name]), name
    (tmp_path / "broken.pt").write_bytes((tmp_path / "model.pt").read_bytes()[:500])
    with pytest.raises(CheckpointError, match="not a usable checkpoint"):
        Trainer.resume(tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        Trainer.resume(tmp_path / "missing.pt")


def test_the_onnx_export_matches_torch_on_a_batch(data, tmp_path):
    net = FaceSwapNet(AutoencoderConfig.tiny()).eval()
    path = export_onnx(net, tmp_path / "swap.onnx")
    batch = data[0][0][:8]
    with torch.no_grad():
        colour, mask = net(batch, "b")
    got_colour, got_mask = onnx_swap(path, device="cpu")(batch.numpy())
    assert got_colour.shape == (8, 3, 32, 32) and got_mask.shape == (8, 1, 32, 32)
    np.testing.assert_allclose(got_colour, colour.numpy(), atol=1e-4)
    np.testing.assert_allclose(got_mask, mask.numpy(), atol=1e-4)


def test_a_size_the_network_cannot_halve_is_refused():
    with pytest.raises(ValueError, match="multiple of 8"):
        AutoencoderConfig(size=36, stages=3)


def test_exporting_mid_training_leaves_the_network_as_it_was(tmp_path):
    """The in-call fitter exports while it trains: the network must stay in training mode, on its device."""
    net = FaceSwapNet(AutoencoderConfig.tiny()).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    export_onnx(net, tmp_path / "swap.onnx")
    assert all(m.training for m in net.modules())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
