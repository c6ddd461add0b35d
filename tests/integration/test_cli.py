"""The command line as a user runs it: real processes, real photos, real database folder."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, person_photos


@pytest.fixture
def cli(tmp_path, weights_path, faces_dir):
    db = tmp_path / "db"

    def run(*args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "main.py", *args, "--db", str(db),
                               "--weights", str(weights_path)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        if expect is not None:
            assert proc.returncode == expect, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc
    run.db = db
    return run


def test_enroll_identify_verify_search_delete(cli, faces_dir, tmp_path):
    kit = [str(p) for p in person_photos("Kit_Harington")]
    rose = [str(p) for p in person_photos("Rose_Leslie")]
    out = cli("enroll", "Kit Harington", kit[0], kit[1]).stdout
    assert "enrolled Kit Harington: 2 new sample(s)" in out
    cli("enroll", "Rose Leslie", rose[0])

    junk = tmp_path / "notes.jpg"
    junk.write_text("not a photo")
    group = faces_dir / "group" / "face_recognition_kit_with_rose.jpg"
    stranger = faces_dir / "unknown" / "Albert_Brooks_0001.jpg"
    lines = cli("identify", "--json", str(group), str(junk), str(stranger)).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["image"] for r in records] == [str(group), str(junk), str(stranger)]
    assert sorted(f["name"] for f in records[0]["faces"]) == ["Kit Harington", "Rose Leslie"]
    for face in records[0]["faces"]:
        assert set(face) == {"box", "name", "candidate", "similarity", "det_prob", "quality"}
        assert len(face["box"]) == 4
    assert "error" in records[1] and "not an image" in records[1]["error"]
    assert len(records[2]["faces"]) == 1
    assert records[2]["faces"][0]["name"] is None
    assert records[2]["faces"][0]["candidate"] in ("Kit Harington", "Rose Leslie")

    verdict = json.loads(cli("verify", "--json", kit[0], kit[2]).stdout)
    assert verdict["same"] is True and verdict["similarity"] > verdict["threshold"]
    cli("verify", kit[0], rose[1], expect=1)

    plot = tmp_path / "matches.jpg"
    out = cli("search", kit[2], "--top-k", "2", "--plot", str(plot)).stdout
    assert out.splitlines()[0].startswith("1. Kit Harington")
    assert plot.stat().st_size > 1000

    assert "Kit Harington\t2 sample(s)" in cli("people").stdout
    out = cli("delete", "Kit Harington").stdout
    assert "deleted Kit Harington: 2 face sample(s)" in out
    assert "Kit Harington" not in cli("people").stdout


def test_user_mistakes_are_one_line_errors(cli, faces_dir, tmp_path):
    proc = cli("delete", "Nobody", expect=2)
    assert proc.stderr.strip() == "error: no enrolled person named 'Nobody'"
    proc = cli("enroll", "Dog", str(faces_dir / "noface" / "dlib_dog.jpg"), expect=2)
    assert "no face found" in proc.stderr
    proc = cli("verify", str(tmp_path / "missing.jpg"), str(tmp_path / "x.jpg"), expect=2)
    assert "no such file" in proc.stderr
    proc = cli("attendance", "export", "--from", "2026-13-01", expect=2)
    assert "YYYY-MM-DD" in proc.stderr


def test_missing_weights_explain_where_they_go(tmp_path):
    proc = subprocess.run([sys.executable, "main.py", "delete", "Nobody", "--db", str(tmp_path / "db"),
                           "--weights", "vggface2"], cwd=ROOT, capture_output=True, text=True,
                          env={"TORCH_HOME": str(tmp_path / "torch"), "PATH": "/usr/bin:/bin"},
                          timeout=300)
    if proc.returncode == 0:
        pytest.skip("this machine could download the vggface2 weights")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "20180402-114759-vggface2.pt" in proc.stderr
    assert str(tmp_path / "torch" / "checkpoints") in proc.stderr
    assert "--weights" in proc.stderr


def test_enroll_folder_and_evaluate(cli, faces_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FACE_KIOSK_CACHE", str(tmp_path / "cache"))
    labelled = tmp_path / "labelled"
    chosen = ["Tom_Cruise", "Lucy_Liu", "Roger_Federer", "Ari_Fleischer", "Bill_Frist"]
    for name in chosen:
        (labelled / name).mkdir(parents=True)
        for photo in person_photos(name)[:5]:
            (labelled / name / photo.name).symlink_to(photo)
    (labelled / "Tom_Cruise" / "empty.jpg").write_bytes(b"")
    (labelled / "Lucy_Liu" / "group.jpg").symlink_to(faces_dir / "group" / "dlib_2007_007763.jpg")
    out = cli("enroll-folder", str(labelled)).stdout
    assert "enrolled 25 photo(s) of 5 people" in out
    assert "1 unreadable" in out and "1 several faces" in out

    def evaluate() -> dict:
        return json.loads(cli("evaluate", str(labelled), "-k", "3", "--json", "--strangers",
                              str(faces_dir / "unknown"), "--pairs",
                              str(faces_dir / "pairs.csv")).stdout)
    result = evaluate()
    assert result["enrolled_people"] == 4  # every fifth person is held out as a stranger
    assert result["people_refused"] == []
    assert result["genuine_probes"] == 9  # 2 photos each, and Lucy's group photo
    assert result["rank1"] >= 0.75
    assert 0 <= result["fpir"] <= 1
    for rule in ("template", "best_sample"):
        assert set(result["results"][rule]["fnir_at_fpir"]) == {"0.01", "0.001"}
    assert result["pairs"]["pairs"] == 173 and result["pairs"]["accuracy"] > 0.9
    assert result["computed"] > 0
    again = evaluate()  # every photo now comes from the embedding cache
    assert again["computed"] == 0 and again["results"] == result["results"]


def test_identify_answers_tiny_and_thin_images_and_fails_when_none_is_readable(cli, tmp_path):
    """A 12x12 image crashed the detector and stopped the batch."""
    from PIL import Image
    tiny, thin = tmp_path / "tiny.png", tmp_path / "wide.png"
    Image.new("RGB", (12, 12), "gray").save(tiny)
    Image.new("RGB", (20000, 2), "gray").save(thin)
    out = cli("identify", str(tiny), str(thin)).stdout
    assert f"{tiny}: 0 face(s)" in out and f"{thin}: 0 face(s)" in out
    junk = tmp_path / "junk.jpg"
    junk.write_text("not a photo")
    failed = cli("identify", str(junk), str(tmp_path / "missing.png"), expect=2)
    assert "none of the 2 image(s) could be read" in failed.stderr


def test_consent_and_names_given_on_the_command_line_are_bounded(cli):
    kit = str(person_photos("Kit_Harington")[0])
    # every refusal: exit status 2 (a user mistake), one line, nothing stored
    err = cli("enroll", "Kit", kit, "--consent-file", "/dev/zero", expect=2).stderr
    assert "larger than 1 MB" in err and len(err.splitlines()) <= 2
    err = cli("enroll", "Kit", kit, "--consent", "--consent-by", "Jane\u202eevil",
              expect=2).stderr
    assert "U+202E" in err
    assert "choose another name" in cli("enroll", "Unkn\u043ewn", kit, expect=2).stderr
    assert "no visible letters" in cli("enroll", "\u200c", kit, expect=2).stderr
    assert not (cli.db / "gallery.sqlite3").exists() or "Kit" not in cli("people").stdout
