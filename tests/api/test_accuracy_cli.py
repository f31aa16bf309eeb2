"""`flask evaluate` and `flask calibrate` with the real engine (MTCNN + dlib)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from app import create_app
from app.face import threshold_for
from config import TestingConfig
from embeddings import evaluation as ev
from tests.photos import DATASETS, astronaut, astronaut_selfie, cameraman, dataset


def shots(image: Image.Image) -> list[Image.Image]:
    """Three 'photos' of one face: as is, mirrored and darker, framed closer."""
    w, h = image.size
    return [image, ImageEnhance.Brightness(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)).enhance(0.8),
            image.crop((w // 10, 0, w, h * 9 // 10)).resize((w, h))]


def two_people(root: Path) -> Path:
    for name, images in {"astronaut": [*shots(astronaut()), astronaut_selfie()], "cameraman": shots(cameraman())}.items():
        (root / name).mkdir(parents=True)
        for index, image in enumerate(images):
            image.save(root / name / f"{index}.jpg", quality=90)
    return root


def test_evaluate_writes_the_report_and_plots(app, tmp_path):
    folders = two_people(tmp_path / "people")
    out = tmp_path / "eval"
    result = app.test_cli_runner().invoke(args=["evaluate", "--folders", str(folders), "--out", str(out),
                                                "--threshold", "0.9213"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == "dlib-resnet-v1" and report["face"] == "policy"
    assert report["pairs"] == {"total": 6 + 3 + 12, "genuine": 9, "impostor": 12, "genuine_without_face": 0,
                               "impostor_without_face": 0}
    assert report["failures_to_detect"] == 0
    assert report["roc_auc"] == 1.0  # two very different people, real recognition
    assert report["at_threshold"]["confusion_matrix"] == {"tn": 12, "fp": 0, "fn": 0, "tp": 9}
    assert sorted(report["plots"]) == ["confusion.png", "roc.png", "similarity.png", "tsne.png"]
    assert all((out / name).stat().st_size > 5_000 for name in report["plots"])
    assert "ROC-AUC 1.0000" in result.output and "TN 12 FP 0 FN 0 TP 9" in result.output


def test_evaluate_needs_one_dataset(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["evaluate", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "exactly one of --pairs FILE or --folders DIR" in result.output


def test_calibrate_stores_the_threshold_that_the_next_start_uses(app, engine, tmp_path):
    folders = two_people(tmp_path / "people")
    result = app.test_cli_runner().invoke(args=["calibrate", "--folders", str(folders), "--far", "0"])
    assert result.exit_code == 0, result.output
    stored = json.loads((tmp_path / "thresholds.json").read_text())["dlib-resnet-v1"]
    assert stored["far"] == 0.0 and stored["tar"] == 1.0 and stored["pairs"] == 21
    assert "TAR 100.00%, FAR 0.00%" in result.output
    restarted = create_app(TestingConfig, overrides={"INSTANCE_DIR": tmp_path}, face_engine=engine)
    assert threshold_for(restarted.config, "dlib-resnet-v1") == stored["threshold"]
    assert restarted.extensions["absen_face"].threshold == stored["threshold"]
    restarted.config["FACE_THRESHOLD"] = 0.95  # the setting still wins
    assert threshold_for(restarted.config, "dlib-resnet-v1") == 0.95
    (tmp_path / "thresholds.json").write_text('{"dlib-resnet-v1": {"thresh": 1}}')
    with pytest.raises(RuntimeError, match="not a thresholds file written by `flask calibrate`"):
        create_app(TestingConfig, overrides={"INSTANCE_DIR": tmp_path}, face_engine=engine)


def test_evaluate_on_real_people_then_rerun_from_the_cache(app, tmp_path, monkeypatch):
    dataset("people")
    folders = tmp_path / "people"
    for person in ["barack_obama", "ben_afflek", "madonna", "deepface_id10", "deepface_id02"]:
        (folders / person).mkdir(parents=True)
        for photo in sorted((DATASETS / "people" / person).iterdir())[:4]:
            (folders / person / photo.name).symlink_to(photo)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["evaluate", "--folders", str(folders), "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["roc_auc"] > 0.95 and report["k_fold_best_accuracy"]["summary"]["accuracy"]["mean"] > 0.9

    def no_embedding(engine, data):
        raise AssertionError("a cached image was embedded again")

    monkeypatch.setitem(ev.FACE_CHOICES, "policy", no_embedding)
    again = runner.invoke(args=["evaluate", "--folders", str(folders), "--out", str(tmp_path / "b"), "--threshold", "0.5"])
    assert again.exit_code == 0, again.output
    rerun = json.loads((tmp_path / "b" / "report.json").read_text())
    assert rerun["roc_auc"] == report["roc_auc"]
    assert rerun["at_threshold"]["threshold"] == 0.5 and rerun["at_threshold"]["far"] > report["at_threshold"]["far"]


def test_evaluate_lfw_pairs_subset(app, tmp_path):
    """The LFW protocol file format on real LFW photos: the first 20 pairs of folds 1 and 2."""
    lfw = dataset("lfw")
    lines = (lfw / "pairs.txt").read_text().splitlines()
    subset = ["2\t10"] + lines[1:11] + lines[301:311] + lines[601:611] + lines[901:911]
    pairs_file = tmp_path / "lfw" / "pairs.txt"
    pairs_file.parent.mkdir()
    pairs_file.write_text("\n".join(subset) + "\n")
    for pair in ev.read_lfw_pairs(pairs_file):
        for name in (pair.a, pair.b):
            (pairs_file.parent / name).parent.mkdir(exist_ok=True)
            if not (pairs_file.parent / name).exists():
                (pairs_file.parent / name).symlink_to(lfw / name)
    result = app.test_cli_runner().invoke(args=["evaluate", "--pairs", str(pairs_file), "--face", "central",
                                                "--out", str(tmp_path / "out"), "--tsne-identities", "0"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["pairs"]["genuine"], report["pairs"]["impostor"]) == (20, 20)
    assert len(report["k_fold_best_accuracy"]["folds"]) == 2
    assert report["k_fold_best_accuracy"]["summary"]["accuracy"]["mean"] >= 0.9
    assert "tsne.png" not in report["plots"]
