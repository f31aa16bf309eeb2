"""`flask finetune`: FaceNet fine-tuned on the organisation's own faces, saved for FACENET_WEIGHTS."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from flask import Flask
from tqdm import tqdm

from embeddings import evaluation as ev
from embeddings import finetune as ft
from embeddings.embedders import FACENET_WEIGHT_FILES, load_facenet
from embeddings.errors import ModelUnavailableError

from .face import face_service


def register_finetune_cli(app: Flask) -> None:
    @app.cli.command("finetune")
    @click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="Checkpoint to write; serve it with FACE_MODEL=facenet FACENET_WEIGHTS=<file>.")
    @click.option("--base", default="vggface2", show_default=True,
                  help="Weights to start from: vggface2, casia-webface, a weights file, or 'random' "
                       "(an untrained network: only to try the mechanics, never to serve).")
    @click.option("--loss", type=click.Choice(["triplet", "contrastive"]), default="triplet", show_default=True)
    @click.option("--epochs", type=click.IntRange(1, 1000), default=30, show_default=True)
    @click.option("--patience", type=click.IntRange(1, 100), default=5, show_default=True,
                  help="Stop after this many epochs without a better validation ROC-AUC.")
    @click.option("--steps-per-epoch", type=click.IntRange(1, 10_000), default=20, show_default=True)
    @click.option("--identities-per-batch", type=click.IntRange(2, 256), default=8, show_default=True)
    @click.option("--photos-per-identity", type=click.IntRange(2, 64), default=4, show_default=True)
    @click.option("--learning-rate", type=float, default=1e-4, show_default=True)
    @click.option("--train-layers", type=click.Choice(["last", "all"]), default="last", show_default=True,
                  help="'last': the last Inception block and the embedding head (fast on a CPU, little data).")
    @click.option("--val-fraction", type=float, default=0.2, show_default=True,
                  help="Share of identities held out for validation (nobody is in both sets).")
    @click.option("--exclude", multiple=True, help="Identity folder to leave out (repeatable).")
    @click.option("--seed", type=int, default=0, show_default=True)
    def finetune(dataset: Path, out: Path, base: str, val_fraction: float, exclude: tuple[str, ...],
                 **training) -> None:
        """Fine-tune FaceNet on DATASET (one folder of photos per person, as for enroll-dir)."""
        settings = ft.FineTuneSettings(**training)
        model = base_network(base)
        engine = face_service().engine  # decode and MTCNN detection as at enrolment
        identities = {name: [dataset / p for p in photos]
                      for name, photos in ev.identity_folders(dataset).items() if name not in exclude}
        with tqdm(total=sum(map(len, identities.values())), unit="photo", desc="face chips", dynamic_ncols=True) as bar:
            chips = ft.collect_chips(engine, identities, on_photo=bar.update)
        try:
            train, val = ft.split_by_identity(chips, val_fraction, settings.seed)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        if base == "random":
            ft.recalibrate_batch_norm(model, train.chips)  # else it maps every face to one vector
        click.echo(f"{len(chips.chips)} face chips of {len(chips.identities)} people ({len(chips.refused)} photos "
                   f"refused); training on {len(train.identities)} people, validating on {len(val.identities)}")
        before = ft.verification_figures(model, val)
        click.echo(f"validation before: {figures_line(before)}")

        def show(record: ft.EpochRecord) -> None:
            click.echo(f"epoch {record.epoch:3d}: train loss {record.train_loss:.4f} (mined batches "
                   f"{record.mined_loss:.4f}), "
                   f"validation ROC-AUC {record.val_auc:.4f} ({record.seconds:.0f} s)")

        model, history = ft.finetune(model, train, val, settings, on_epoch=show, start_auc=before["roc_auc"])
        after = ft.verification_figures(model, val)
        click.echo(f"validation after:  {figures_line(after)}")
        summary = {"base": base, "dataset": str(dataset), "train_identities": train.identities,
                   "val_identities": val.identities, "validation_before": before, "validation_after": after,
                   "history": [asdict(r) for r in history]}
        ft.save_checkpoint(model, out, settings, summary)
        out.with_suffix(".json").write_text(json.dumps({"settings": asdict(settings), **summary}, indent=2))
        click.echo(f"Saved {out} (and {out.with_suffix('.json').name}). Next: measure and calibrate it, e.g.\n"
                   f"  flask --app run evaluate --weights {out} --pairs ../shared/datasets/lfw/pairs.txt\n"
                   f"  flask --app run calibrate --weights {out} --folders <held-out people>\n"
                   f"then serve it with FACE_MODEL=facenet FACENET_WEIGHTS={out} on a database enrolled with it.")


def base_network(base: str):
    """The InceptionResnetV1 to start from. 'random' is said out loud: it is untrained."""
    from facenet_pytorch import InceptionResnetV1

    if base == "random":
        click.echo("WARNING: starting from an untrained network (--base random): for trying the mechanics only.")
        return InceptionResnetV1(pretrained=None, classify=False)
    try:
        if base in FACENET_WEIGHT_FILES:
            return load_facenet(pretrained=base).network
        return load_facenet(weights_path=base).network
    except ModelUnavailableError as error:
        raise click.ClickException(error.message) from error


def figures_line(figures: dict) -> str:
    return (f"ROC-AUC {figures['roc_auc']:.4f}, best accuracy {figures['best_accuracy']:.2%}, "
            f"TAR at FAR 1% {figures['tar_at_far']['0.01']:.2%} ({figures['pairs']:,} pairs)")
