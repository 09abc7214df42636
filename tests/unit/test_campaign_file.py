"""Campaign export and import on a real SQLite file; the clip ingest is faked (unit tests only)."""

from __future__ import annotations

import hashlib
import secrets
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from callbridge.config import intake
from callbridge.config.campaign import Campaign, CampaignError, PhraseRule, TemplateRecord
from callbridge.config.campaign_check import read_campaign_file
from callbridge.config.campaign_file import dump_campaign, export_campaign, import_campaign
from callbridge.config.store import Store
from callbridge.ingest import UploadError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def add_ready(store: Store, name: str, data: bytes | None = None, title: str = "") -> TemplateRecord:
    """A ready template whose clip is a small file under DATA/clips, recorded as ingest would."""
    data = data if data is not None else f"clip of {name}".encode()
    clip = store.data_dir / "clips" / f"{name}.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    clip.write_bytes(data)
    store.reserve_template(TemplateRecord(name, title=title or name.title(), licence="CC0", max_duration_s=6.0))
    return store.mark_ready(name, f"clips/{name}.mp4", sha(data), f"actor tracked in 50 of 50 frames ({name})")


def comparable(campaign: Campaign) -> tuple[list[PhraseRule], list[TemplateRecord]]:
    """The campaign without what an import renews: revisions and the stored clip's random name."""
    return campaign.phrases, [replace(t, revision=0, clip="") for t in campaign.templates]


def clip_files(store: Store) -> set[str]:
    return {p.name for p in (store.data_dir / "clips").glob("*")} if (store.data_dir / "clips").exists() else set()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "data")
    add_ready(store, "pizza", title="Pizza Palace")
    add_ready(store, "travel")
    store.add_phrase(PhraseRule("pizza night out", "pizza", cooldown_s=30.0))
    store.add_phrase(PhraseRule("road trip this weekend", "travel", enabled=False))
    store.set_retention_days(12)
    return store


@pytest.fixture
def ingested(monkeypatch) -> list[str]:
    """Fake intake.ingest_record: copies the clip under DATA/clips; a clip starting b"bad" is refused."""
    names: list[str] = []

    def ingest_record(data_dir: Path, src: Path, record: TemplateRecord, progress=None) -> TemplateRecord:
        names.append(record.name)
        if progress is not None:
            progress(0.5)
        data = src.read_bytes()
        if data.startswith(b"bad"):
            raise UploadError(422, "no face found in frames 0-19")
        clip = f"clips/{secrets.token_hex(8)}.mp4"
        (data_dir / "clips").mkdir(exist_ok=True)
        (data_dir / clip).write_bytes(data)
        return replace(record, clip=clip, clip_sha256=sha(data), verdict="fake verdict", status="ready", progress=1.0)

    monkeypatch.setattr(intake, "ingest_record", ingest_record)
    return names


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# ---------------------------------------------------------------------------------------------- export


def test_export_writes_the_documented_format(store, tmp_path):
    summary = export_campaign(store, tmp_path / "campaign.toml")
    text = (tmp_path / "campaign.toml").read_text()
    assert (summary.templates, summary.phrases, summary.skipped) == (2, 3, [])
    assert "retention_days = 12" in text
    assert text.count("[[templates]]") == 2 and text.count("[[phrases]]") == 3
    assert 'name = "pizza"\nclip = "data/clips/pizza.mp4"\ntitle = "Pizza Palace"' in text  # relative: under the file
    assert 'phrase = "pizza night out"\ntemplate = "pizza"\nenabled = true\ncooldown_s = 30.0' in text
    assert 'name = "default"' not in text and 'template = "default"' in text  # the built-in is used, not exported


def test_clips_outside_the_exports_folder_are_written_as_absolute_paths(store, tmp_path):
    text, _ = dump_campaign(store, tmp_path / "elsewhere")
    assert f'clip = "{(store.data_dir / "clips" / "pizza.mp4").resolve()}"' in text


def test_text_that_needs_escaping_survives_export(store, tmp_path):
    store.update_template("pizza", title='Say "hi"\n\\ [[phrases]] = x', tagline="caf\u00e9 \u2615")
    export_campaign(store, tmp_path / "campaign.toml")
    entry = read_campaign_file(tmp_path / "campaign.toml").templates[0]
    assert (entry.record.title, entry.record.tagline) == ('Say "hi"\n\\ [[phrases]] = x', "caf\u00e9 \u2615")


def test_templates_that_are_not_ready_are_left_out_with_their_phrases(store, tmp_path):
    store.reserve_template(TemplateRecord("later"))
    store.add_phrase(PhraseRule("when it is ready", "later"))
    summary = export_campaign(store, tmp_path / "campaign.toml")
    assert summary.skipped == ["later"] and summary.phrases == 3
    assert "later" not in (tmp_path / "campaign.toml").read_text()


# ---------------------------------------------------------------------------------------------- round trips


def test_export_then_import_on_the_same_data_dir_changes_nothing_and_ingests_nothing(store, tmp_path, ingested):
    before = store.campaign()
    export_campaign(store, tmp_path / "campaign.toml")
    summary = import_campaign(store, tmp_path / "campaign.toml")
    after = store.campaign()
    assert ingested == [] and sorted(summary.reused) == ["pizza", "travel"]
    assert after.phrases == before.phrases
    assert [replace(t, revision=0) for t in after.templates] == [replace(t, revision=0) for t in before.templates]
    assert after.revision > before.revision and store.retention_days() == 12


def test_import_into_a_fresh_data_dir_ingests_every_clip(store, tmp_path, ingested):
    export_campaign(store, tmp_path / "campaign.toml")
    fresh = Store(tmp_path / "fresh")
    progress: list[tuple[str, float]] = []
    summary = import_campaign(fresh, tmp_path / "campaign.toml", lambda name, f: progress.append((name, f)))
    assert sorted(ingested) == ["pizza", "travel"] and sorted(summary.ingested) == ["pizza", "travel"]
    assert ("pizza", 0.5) in progress
    phrases, templates = comparable(fresh.campaign())
    want_phrases, want_templates = comparable(store.campaign())
    assert phrases == want_phrases
    assert [replace(t, verdict=None) for t in templates] == [replace(t, verdict=None) for t in want_templates]
    assert fresh.retention_days() == 12 and len(clip_files(fresh)) == 2


def test_a_changed_clip_or_new_metadata_under_the_same_name(store, tmp_path, ingested):
    write(tmp_path / "new.mp4", "a different pizza clip")
    write(
        tmp_path / "campaign.toml",
        f"""
        [[templates]]
        name = "pizza"
        clip = "new.mp4"
        title = "Pizza Palace"
        licence = "CC0"
        [[templates]]
        name = "travel"
        clip = "{store.data_dir / "clips" / "travel.mp4"}"
        title = "Trips"
        licence = "CC0"
        max_duration_s = 5
        fallback = "none"
        [[phrases]]
        phrase = "Pizza   Night Out"
        template = "pizza"
        """,
    )
    summary = import_campaign(store, tmp_path / "campaign.toml")
    assert ingested == ["pizza"] and summary.reused == ["travel"]
    travel = store.template("travel")
    assert travel is not None and (travel.title, travel.max_duration_s, travel.fallback) == ("Trips", 5.0, "none")
    assert travel.clip == "clips/travel.mp4"
    assert store.rules() == [PhraseRule("pizza night out", "pizza")]  # defaults: enabled, no cooldown
    assert store.retention_days() == 12  # not in the file: unchanged


def test_relative_clip_paths_are_relative_to_the_toml_file(tmp_path, ingested):
    write(tmp_path / "show" / "clips" / "a.mp4", "clip a")
    write(tmp_path / "show" / "campaign.toml", '[[templates]]\nname = "a"\nclip = "clips/a.mp4"\nlicence = "CC0"\n')
    plan = read_campaign_file(tmp_path / "show" / "campaign.toml")
    assert plan.templates[0].clip == (tmp_path / "show" / "clips" / "a.mp4").resolve()


# ---------------------------------------------------------------------------------------------- bad files

GOOD_TEMPLATE = """
[[templates]]
name = "pizza"
clip = "pizza.mp4"
title = "Pizza Palace"
licence = "CC0"
"""


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        ('retention_days = 30\n\n[[phrases]]\nphrase = "pizza night\n', 4, "not valid TOML: Illegal character"),
        ("phrases = [1,\n", 1, "not valid TOML: Invalid value"),
        (
            GOOD_TEMPLATE + '[[phrases]]\nphrase = "x"\ntemplate = "nope"\n',
            8,
            "phrase 'x': template 'nope' is not in the file",
        ),
        (
            GOOD_TEMPLATE + '[[phrases]]\nphrase = "pizza night"\ntemplate = "pizza"\n'
            '[[phrases]]\nphrase = "Pizza Night"\ntemplate = "default"\n',
            9,
            "phrase 'pizza night' appears twice (first on line 6)",
        ),
        ('[[templates]]\nname = "../x"\nclip = "pizza.mp4"\n', 2, "template name '../x': use 1-40 lowercase"),
        (
            GOOD_TEMPLATE + '[[phrases]]\nphrase = "pizza night"\ntemplate = "pizza"\ncooldown_s = -1\n',
            9,
            "phrase 'pizza night': cooldown_s must be between 0 and 3600 s",
        ),
        (
            '[[templates]]\nname = "pizza"\n\nclip = "gone.mp4"\nlicence = "CC0"\n',
            4,
            "template 'pizza': no clip file at /",
        ),
        ('[[templates]]\nname = "pizza"\nlicence = "CC0"\n', 1, "template 'pizza': clip is missing"),
        (GOOD_TEMPLATE + 'colour = "red"\n', 6, "template 'pizza': unknown key 'colour'"),
        (GOOD_TEMPLATE + GOOD_TEMPLATE, 7, "template 'pizza' appears twice (first on line 1)"),
        ('[[templates]]\nname = "default"\nclip = "pizza.mp4"\nlicence = "CC0"\n', 1, "template 'default' is built in"),
        (GOOD_TEMPLATE + "max_duration_s = 99\n", 6, "template 'pizza': max_duration_s must be between 1 and 30 s"),
        (GOOD_TEMPLATE + 'fallback = "maybe"\n', 6, "template 'pizza': fallback is 'plain'"),
        ('retention_days = 0\n[[phrases]]\nphrase = "a b c d"\n', 1, "retention_days is a whole number of days"),
        ('volume = 11\n[[phrases]]\nphrase = "a"\ntemplate = "default"\n', 1, "unknown key 'volume'"),
        ('[[phrases]]\nphrase = "a"\ntemplate = "default"\nenabled = "yes"\n', 4, "phrase 'a': enabled is true or"),
        ('[[phrases]]\ntemplate = "default"\n', 1, "phrase 1: phrase is missing"),
        ('templates = "pizza"\n', 1, "templates must be [[templates]] tables"),
        ('[[phrases]]\nphrase = "a b c d"\ntemplate = "default"\n\n[settings]\nx = 1\n', 5, "unknown key 'settings'"),
    ],
)
def test_a_bad_file_names_its_line_and_changes_nothing(store, tmp_path, ingested, body, line, says):
    write(tmp_path / "pizza.mp4", "pizza clip")
    path = write(tmp_path / "campaign.toml", body)
    before, clips = store.campaign(), clip_files(store)
    with pytest.raises(CampaignError) as caught:
        import_campaign(store, path)
    assert str(caught.value).startswith(f"campaign.toml:{line}: "), str(caught.value)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
    assert store.campaign() == before and clip_files(store) == clips and ingested == []


def test_a_refused_clip_discards_the_clips_already_ingested_and_changes_nothing(store, tmp_path, ingested):
    write(tmp_path / "good.mp4", "a good clip")
    write(tmp_path / "bad.mp4", "bad clip: no face")
    path = write(
        tmp_path / "campaign.toml",
        """
        [[templates]]
        name = "good"
        clip = "good.mp4"
        licence = "CC0"

        [[templates]]
        name = "worse"
        clip = "bad.mp4"
        licence = "CC0"
        """,
    )
    before, clips = store.campaign(), clip_files(store)
    with pytest.raises(CampaignError, match=r"^campaign\.toml:6: template 'worse': no face found in frames 0-19$"):
        import_campaign(store, path)
    assert ingested == ["good", "worse"]
    assert store.campaign() == before and clip_files(store) == clips


def test_a_failing_transaction_discards_the_new_clips(store, tmp_path, ingested, monkeypatch):
    write(tmp_path / "new.mp4", "new clip")
    path = write(tmp_path / "campaign.toml", '[[templates]]\nname = "new"\nclip = "new.mp4"\nlicence = "CC0"\n')
    before, clips = store.campaign(), clip_files(store)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "replace_campaign", broken)
    with pytest.raises(OSError):
        import_campaign(store, path)
    assert ingested == ["new"] and store.campaign() == before and clip_files(store) == clips


def test_an_unreadable_file_is_one_line(store, tmp_path):
    with pytest.raises(CampaignError, match=r"^missing\.toml: cannot read it"):
        import_campaign(store, tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes(b'[[phrases]]\nphrase = "caf\xe9"\n')
    with pytest.raises(CampaignError, match=r"^latin1\.toml: not UTF-8 text$"):
        import_campaign(store, tmp_path / "latin1.toml")


def test_an_empty_file_empties_the_campaign_but_keeps_the_built_in(store, tmp_path, ingested):
    import_campaign(store, write(tmp_path / "campaign.toml", "# nothing\n"))
    campaign = store.campaign()
    assert campaign.phrases == [] and [t.name for t in campaign.templates] == ["default"]
