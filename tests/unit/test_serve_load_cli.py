"""`callbridge serve`'s overload flags: bad values are refused with one line and exit 2, before loading anything."""

from __future__ import annotations

import pytest

from callbridge.cli import main


@pytest.mark.parametrize(
    "flag,value,words",
    [
        ("--full-at-cpu", "0", "--full-at-cpu must be more than 0 and at most 1"),
        ("--full-at-cpu", "1.5", "--full-at-cpu must be more than 0 and at most 1"),
        ("--full-at-cpu", "nan", "--full-at-cpu must be more than 0 and at most 1"),
        ("--full-at-speech-lag", "-1", "--full-at-speech-lag must be more than 0 and at most 10 seconds"),
        ("--full-at-speech-lag", "inf", "--full-at-speech-lag must be more than 0 and at most 10 seconds"),
    ],
)
def test_an_overload_threshold_out_of_range_is_refused_in_one_line(capsys, tmp_path, flag, value, words):
    assert main(["serve", "--data", str(tmp_path / "data"), flag, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"callbridge serve: error: {words}"), err
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_an_overload_threshold_that_is_not_a_number_is_refused():
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--full-at-cpu", "most"])
    assert exit_.value.code == 2


def test_the_flags_make_the_policy_and_the_guard_can_be_switched_off():
    import argparse

    from callbridge.cli.serve import _load_policy, add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["serve"])
    policy = _load_policy(args)
    assert (policy.full_at_cpu, policy.full_at_speech_lag_s, args.no_overload_guard) == (0.75, 1.0, False)
    args = parser.parse_args(["serve", "--full-at-cpu", "0.6", "--full-at-speech-lag", "2", "--no-overload-guard"])
    policy = _load_policy(args)
    assert (policy.full_at_cpu, policy.busy_at_cpu, policy.full_at_speech_lag_s) == (0.6, pytest.approx(0.5), 2.0)
    assert args.no_overload_guard
