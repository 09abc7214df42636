"""`callbridge serve` refuses bad arguments with one line and exit 2, before loading anything."""

from __future__ import annotations

import pytest

from callbridge.cli import main


def test_a_port_out_of_range_is_refused(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert "port 70000 is not in 1-65535" in capsys.readouterr().err


def test_a_data_directory_that_cannot_be_made_is_refused(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["serve", "--data", str(blocker / "data")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("callbridge serve: error:") and "data" in err[-1]


def test_a_port_that_is_not_a_number_is_refused():
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "abc"])
    assert exit_.value.code == 2


def test_fitting_on_a_gpu_that_is_not_there_is_refused(capsys, monkeypatch):
    from callbridge.config import pretrained

    monkeypatch.setattr(pretrained, "_cuda_present", lambda: False)
    assert main(["serve", "--fit", "cuda"]) == 2
    assert capsys.readouterr().err.strip() == "callbridge serve: error: --fit cuda: no CUDA device is available"


def test_fitting_runs_where_it_is_asked_and_auto_only_on_cuda(monkeypatch):
    from callbridge.config import pretrained

    monkeypatch.setattr(pretrained, "_cuda_present", lambda: False)
    assert [pretrained.resolve_fit_device(c) for c in ("off", "auto", "cpu")] == [None, None, "cpu"]
    monkeypatch.setattr(pretrained, "_cuda_present", lambda: True)
    assert [pretrained.resolve_fit_device(c) for c in ("auto", "cuda")] == ["cuda", "cuda"]
    with pytest.raises(ValueError, match="--fit must be one of"):
        pretrained.resolve_fit_device("gpu")
