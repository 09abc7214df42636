"""`callbridge campaign` end to end: a subprocess on a temporary data directory, real clips ingested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adengine.encode import write_mp4
from tests.support.faces import HOPPER_FACE, animate, hopper

pytestmark = pytest.mark.integration


def cli(*args: str | Path, data: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "callbridge", "campaign", *map(str, args), "--data", str(data)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def campaign(data: Path) -> dict:
    done = cli("list", "--json", data=data)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a refusal (exit 2, no traceback)."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("callbridge campaign: error: "), done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory) -> Path:
    """Two seconds of Grace Hopper's moving face at 320x240, made at test time."""
    path = tmp_path_factory.mktemp("clips") / "hopper.mp4"
    frames = animate(hopper(), 50, size=(320, 240), spot=HOPPER_FACE, face_width=110.0, fps=25.0)
    write_mp4(path, frames, 25.0)
    return path


@pytest.fixture(scope="module")
def with_template(tmp_path_factory, face_clip) -> Path:
    """A data directory with the clip added as template 'hopper' and a phrase pointing at it."""
    data = tmp_path_factory.mktemp("with-template") / "data"
    done = cli("add-template", face_clip, "--name", "hopper", "--title", "Hopper's Bugs", "--licence", "CC0", data=data)
    assert done.returncode == 0, done.stderr
    assert "added template 'hopper'" in done.stdout
    assert cli("add-phrase", "compiler party tonight", "--template", "hopper", data=data).returncode == 0
    return data


def test_list_shows_the_built_in_campaign(tmp_path):
    done = cli("list", data=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert "dinner tonight" in done.stdout and "default" in done.stdout and "ready" in done.stdout
    found = campaign(tmp_path / "data")
    assert found["phrases"] == [
        {
            "phrase": "dinner tonight",
            "template": "default",
            "enabled": True,
            "cooldown_s": 0.0,
            "warnings": [],
            "live": True,
        }
    ]
    assert [t["name"] for t in found["templates"]] == ["default"] and found["templates"][0]["builtin"] is True
    assert set(found) == {"phrases", "templates", "revision"}


def test_add_phrase_warns_but_adds_and_remove_phrase_removes(tmp_path):
    data = tmp_path / "data"
    done = cli("add-phrase", "See  You", "--template", "default", "--cooldown", "20", "--disabled", data=data)
    assert done.returncode == 0, done.stderr
    assert "short: 2 syllables" in done.stderr and "made only of common words (see, you)" in done.stderr
    rule = next(p for p in campaign(data)["phrases"] if p["phrase"] == "see you")
    assert (rule["enabled"], rule["cooldown_s"], len(rule["warnings"])) == (False, 20.0, 2)
    assert cli("remove-phrase", "see you", data=data).returncode == 0
    assert [p["phrase"] for p in campaign(data)["phrases"]] == ["dinner tonight"]
    assert "no phrase 'see you'" in refused(cli("remove-phrase", "see you", data=data))


def test_bad_input_is_one_line_and_changes_nothing(tmp_path):
    data = tmp_path / "data"
    before = campaign(data)
    assert "no template 'nope'" in refused(cli("add-phrase", "pizza night", "--template", "nope", data=data))
    assert "cooldown_s" in refused(
        cli("add-phrase", "pizza night", "--template", "default", "--cooldown", "-5", data=data)
    )
    assert "already in the campaign" in refused(cli("add-phrase", "dinner tonight", "--template", "default", data=data))
    assert "no clip file" in refused(
        cli("add-template", tmp_path / "gone.mp4", "--name", "x", "--title", "X", "--licence", "CC0", data=data)
    )
    assert campaign(data) == before


def test_export_then_import_round_trip_without_clips(tmp_path):
    data, toml = tmp_path / "data", tmp_path / "campaign.toml"
    assert (
        cli("add-phrase", "pizza party tonight", "--template", "default", "--cooldown", "5", data=data).returncode == 0
    )
    done = cli("export", toml, data=data)
    assert done.returncode == 0, done.stderr
    assert "exists; add --force" in refused(cli("export", toml, data=data))
    assert cli("export", toml, "--force", data=data).returncode == 0
    fresh = tmp_path / "fresh"
    done = cli("import", toml, data=fresh)
    assert done.returncode == 0, done.stderr
    assert campaign(fresh)["phrases"] == campaign(data)["phrases"]


def test_a_bad_file_names_its_line_and_changes_nothing(tmp_path):
    data = tmp_path / "data"
    before = campaign(data)
    toml = tmp_path / "campaign.toml"
    toml.write_text('[[phrases]]\nphrase = "pizza night"\ntemplate = "nope"\n')
    line = refused(cli("import", toml, data=data))
    assert (
        line == "callbridge campaign: error: campaign.toml:3: phrase 'pizza night': template 'nope' is not in the file"
    )
    assert campaign(data) == before


def test_add_template_ingests_a_real_face_clip(with_template, face_clip):
    found = campaign(with_template)
    hopper_t = next(t for t in found["templates"] if t["name"] == "hopper")
    assert hopper_t["status"] == "ready" and hopper_t["title"] == "Hopper's Bugs"
    assert "tracked" in (hopper_t["verdict"] or "")
    assert len(list((with_template / "clips").glob("*"))) == 1
    again = cli("add-template", face_clip, "--name", "hopper", "--title", "T", "--licence", "CC0", data=with_template)
    assert "already exists" in refused(again)
    assert len(list((with_template / "clips").glob("*"))) == 1


def test_export_and_import_with_a_clip_into_a_fresh_data_dir(tmp_path, with_template):
    toml = tmp_path / "campaign.toml"
    assert cli("export", toml, data=with_template).returncode == 0
    assert str((with_template / "clips").resolve()) in toml.read_text()  # absolute: the clip is outside tmp_path
    again = cli("import", toml, data=with_template)  # same data dir: nothing to ingest again
    assert again.returncode == 0 and "1 unchanged" in again.stdout, again.stderr
    fresh = tmp_path / "fresh"
    done = cli("import", toml, data=fresh)
    assert done.returncode == 0 and "1 ingested" in done.stdout, done.stderr
    got, want = campaign(fresh), campaign(with_template)
    assert got["phrases"] == want["phrases"]
    assert [t["name"] for t in got["templates"]] == ["default", "hopper"]
    assert all(t["status"] == "ready" for t in got["templates"])


def test_import_of_a_hand_written_file_with_a_relative_clip(tmp_path, face_clip):
    show = tmp_path / "show"
    (show / "clips").mkdir(parents=True)
    (show / "clips" / "actor.mp4").write_bytes(face_clip.read_bytes())
    toml = show / "campaign.toml"
    toml.write_text(
        "retention_days = 7\n\n"
        '[[templates]]\nname = "actor"\nclip = "clips/actor.mp4"\ntitle = "Actor"\nlicence = "CC0"\n\n'
        '[[phrases]]\nphrase = "meet the actor tonight"\ntemplate = "actor"\ncooldown_s = 10\n'
    )
    data = tmp_path / "data"
    done = cli("import", toml, data=data)
    assert done.returncode == 0, done.stderr
    found = campaign(data)
    assert found["phrases"] == [
        {
            "phrase": "meet the actor tonight",
            "template": "actor",
            "enabled": True,
            "cooldown_s": 10.0,
            "warnings": [],
            "live": True,
        }
    ]
    assert next(t for t in found["templates"] if t["name"] == "actor")["status"] == "ready"
