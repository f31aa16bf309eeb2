"""`flask evaluate` and `flask calibrate`: measuring accuracy on the product's own engine.

Each uses the service's engine (same decode, MTCNN detection and embedder as /predict), or the
model named by --model/--weights, so a fine-tuned checkpoint is measured before it serves.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click
import numpy as np
from flask import Flask, current_app
from tqdm import tqdm

from embeddings import EngineSettings, FaceEngine, load_engine
from embeddings import evaluation as ev
from embeddings.engine import model_setting_for
from embeddings.errors import ModelUnavailableError

from .face import calibrated_thresholds, calibrated_thresholds_path, engine_settings, face_service


def dataset_options(command):
    """The dataset and model options shared by evaluate and calibrate."""
    options = [
        click.option("--pairs", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="LFW-style pairs file (10 folds); images in its folder, one folder per person."),
        click.option("--folders", type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="Identity-folder dataset: every genuine pair and a sample of impostor pairs."),
        click.option("--exclude", multiple=True, help="Identity folder to leave out (repeatable)."),
        click.option("--impostors-per-genuine", type=click.FloatRange(min=0, min_open=True), default=3.0,
                     show_default=True),
        click.option("--face", "face_choice", type=click.Choice(list(ev.FACE_CHOICES)),
                     help="Which face: 'central' (LFW: crops centred on the person; default with --pairs) "
                          "or 'policy' (exactly /predict's rule; default with --folders)."),
        click.option("--model", type=click.Choice(["dlib", "facenet"]), help="Default: the service's model."),
        click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="FaceNet weights file (e.g. a fine-tuned checkpoint); implies --model facenet."),
        click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
                     help="Processes for embedding (one engine each)."),
        click.option("--far", type=click.FloatRange(0, 1), default=0.001, show_default=True,
                     help="Target false-accept rate."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def register_accuracy_cli(app: Flask) -> None:
    @app.cli.command("evaluate")
    @dataset_options
    @click.option("--threshold", type=float, help="Decision threshold for the confusion matrix and F1. "
                  "Default: the threshold for --far chosen on all pairs.")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("evaluation"),
                  show_default=True, help="Folder for report.json and the PNG plots.")
    @click.option("--tsne-identities", type=click.IntRange(0, 200), default=20, show_default=True,
                  help="Identities (most photos first) in the t-SNE picture; 0 for none.")
    def evaluate(threshold: float | None, out: Path, tsne_identities: int, **dataset) -> None:
        """Accuracy, ROC-AUC, EER, TAR at FAR, precision/recall/F1, confusion matrix, plots."""
        from embeddings import plots

        far = dataset.pop("far")
        run = load_scores(**dataset)
        report = ev.evaluate_scores(run.scores, run.same, run.folds, threshold, far)
        report = {**run.header(), **report}
        out.mkdir(parents=True, exist_ok=True)
        title = f"{run.engine.model_name} on {run.dataset_name}"
        chosen = report["at_threshold"]
        pictures = [
            plots.roc_curve(run.scores, run.same, out / "roc.png", title),
            plots.score_histograms(run.scores, run.same, chosen["threshold"], out / "similarity.png", title),
            plots.confusion_matrix(chosen["confusion_matrix"], out / "confusion.png",
                                   f"{title}\nthreshold {chosen['threshold']:.4f}"),
        ]
        if tsne_identities:
            vectors, labels = run.identity_vectors(tsne_identities)
            if len(vectors) >= 5:
                pictures.append(plots.tsne(vectors, labels, out / "tsne.png", f"t-SNE, {len(set(labels))} identities"))
        report["plots"] = [p.name for p in pictures]
        (out / "report.json").write_text(json.dumps(report, indent=2))
        click.echo(summary_text(report))
        click.echo(f"Report and plots: {out}/ ({', '.join(report['plots'])})")

    @app.cli.command("calibrate")
    @dataset_options
    def calibrate(**dataset) -> None:
        """Pick the threshold for a target false-accept rate and store it for this site."""
        far = dataset.pop("far")
        run = load_scores(**dataset)
        threshold = ev.threshold_for_far(run.scores[~run.same], far)
        at = ev.rates_at(run.scores, run.same, threshold)
        ten_fold = ev.k_fold(run.scores, run.same, run.folds, far)["summary"]
        path = calibrated_thresholds_path(current_app.config)
        stored = calibrated_thresholds(current_app.config)
        stored[run.engine.model_name] = {
            "threshold": threshold, "target_far": far, "far": at["far"], "tar": at["tar"],
            "k_fold_tar": ten_fold["tar"], "k_fold_far": ten_fold["far"], "dataset": run.dataset_name,
            "pairs": len(run.scores), "calibrated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        path.write_text(json.dumps(stored, indent=2))
        click.echo(f"{run.engine.model_name}: threshold {threshold:.4f} for FAR <= {far:.2%} on {run.dataset_name}\n"
                   f"  on all {len(run.scores):,} pairs: TAR {at['tar']:.2%}, FAR {at['far']:.2%} "
                   f"({refused_share(at['tar'])})\n"
                   f"  {len(np.unique(run.folds))}-fold (threshold from the other folds): "
                   f"TAR {ten_fold['tar']['mean']:.2%} +- {ten_fold['tar']['std']:.2%}, "
                   f"FAR {ten_fold['far']['mean']:.2%} +- {ten_fold['far']['std']:.2%}\n"
                   f"Stored in {path}; the service uses it from its next start (FACE_THRESHOLD still overrides).")


def refused_share(tar: float) -> str:
    return "no genuine attempt refused" if tar >= 1 else f"1 genuine attempt in {1 / (1 - tar):.0f} is refused"


class ScoredPairs:
    """Pairs of a dataset with their similarity scores, and what produced them."""

    def __init__(self, engine: FaceEngine, root: Path, dataset_name: str, face_choice: str,
                 pairs: list[ev.Pair], vectors: dict[str, np.ndarray | None]):
        self.engine, self.root, self.dataset_name, self.face_choice = engine, root, dataset_name, face_choice
        self.pairs, self.vectors = pairs, vectors
        self.scores = ev.pair_scores(pairs, vectors)
        self.same = np.array([p.same for p in pairs])
        self.folds = np.array([p.fold for p in pairs])

    def header(self) -> dict:
        failed = sorted(name for name, vector in self.vectors.items() if vector is None)
        return {"model": self.engine.model_name, "dataset": self.dataset_name, "face": self.face_choice,
                "images": len(self.vectors), "failures_to_detect": len(failed), "images_without_face": failed,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds")}

    def identity_vectors(self, limit: int) -> tuple[np.ndarray, list[str]]:
        """Embeddings of the `limit` identities with the most embedded photos (two or more)."""
        by_identity: dict[str, list[np.ndarray]] = {}
        for name, vector in sorted(self.vectors.items()):
            if vector is not None:
                by_identity.setdefault(name.split("/")[0], []).append(vector)
        ranked = sorted((n for n, v in by_identity.items() if len(v) >= 2), key=lambda n: (-len(by_identity[n]), n))
        chosen = ranked[:limit]
        vectors = [v for name in chosen for v in by_identity[name]]
        labels = [name for name in chosen for _ in by_identity[name]]
        return (np.stack(vectors) if vectors else np.zeros((0, self.engine.embedding_dim))), labels


def load_scores(pairs: Path | None, folders: Path | None, exclude: tuple[str, ...], impostors_per_genuine: float,
                face_choice: str | None, model: str | None, weights: Path | None, workers: int) -> ScoredPairs:
    if (pairs is None) == (folders is None):
        raise click.UsageError("Give exactly one of --pairs FILE or --folders DIR.")
    engine, settings = tool_engine(model, weights)
    if pairs is not None:
        root, face_choice = pairs.parent, face_choice or "central"
        pair_list = [p for p in ev.read_lfw_pairs(pairs)
                     if p.a.split("/")[0] not in exclude and p.b.split("/")[0] not in exclude]
    else:
        root, face_choice = folders, face_choice or "policy"
        identities = {k: v for k, v in ev.identity_folders(folders).items() if k not in exclude}
        pair_list = ev.identity_pairs(identities, impostors_per_genuine)
    if not pair_list or all(p.same for p in pair_list) or not any(p.same for p in pair_list):
        raise click.ClickException("The dataset gives no genuine or no impostor pairs to evaluate.")
    names = sorted({n for p in pair_list for n in (p.a, p.b)})
    cache = ev.EmbeddingCache(cache_path(engine.model_name, face_choice, root))
    with tqdm(total=len(names), unit="image", desc="embedding", dynamic_ncols=True) as bar:
        vectors = ev.embed_images(engine, root, names, cache, face_choice, bar.update, workers, settings)
    return ScoredPairs(engine, root, root.name if pairs is None else f"{root.name}/{pairs.name}", face_choice,
                       pair_list, vectors)


def tool_engine(model: str | None, weights: Path | None) -> tuple[FaceEngine, EngineSettings]:
    """The service's engine, or the one --model/--weights name; and settings to rebuild it in workers."""
    settings = engine_settings(current_app.config)
    service_engine = face_service().engine
    if weights is not None:
        model = "facenet"
    if model is None:
        return service_engine, replace(settings, model=model_setting_for(service_engine.model_name))
    settings = replace(settings, model=model, facenet_weights=str(weights) if weights else settings.facenet_weights,
                       allow_untrained_base=True)  # measuring is allowed; serving it is not
    try:
        return load_engine(settings), settings
    except ModelUnavailableError as error:
        raise click.ClickException(error.message) from error


def cache_path(model_name: str, face_choice: str, root: Path) -> Path:
    """One cache per model, face rule and dataset folder, in the instance folder."""
    where = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:10]
    return Path(current_app.instance_path) / "evaluation-cache" / f"{model_name}-{face_choice}-{root.name}-{where}.npz"


def summary_text(report: dict) -> str:
    best = report["k_fold_best_accuracy"]["summary"]
    target = report["k_fold_target_far"]["summary"]
    at = report["at_threshold"]
    cm = at["confusion_matrix"]
    folds = len(report["k_fold_best_accuracy"]["folds"])
    return "\n".join([
        f"{report['model']} on {report['dataset']}: {report['pairs']['genuine']:,} genuine and "
        f"{report['pairs']['impostor']:,} impostor pairs, {report['images']:,} images, "
        f"{report['failures_to_detect']} without a usable face",
        f"  ROC-AUC {report['roc_auc']:.4f} ({_auc(report['roc_auc_faces_found'])} without the pairs where no face "
        f"was found: {report['pairs']['genuine_without_face']:,} genuine, {report['pairs']['impostor_without_face']:,} "
        f"impostor)",
        f"  EER {report['eer']:.2%}   "
        f"TAR at FAR 1%: {report['tar_at_far']['0.01']:.2%}   at FAR 0.1%: {report['tar_at_far']['0.001']:.2%}",
        f"  {folds}-fold accuracy (best-accuracy threshold from the other folds): "
        f"{best['accuracy']['mean']:.2%} +- {best['accuracy']['std']:.2%}",
        f"  {folds}-fold at {report['k_fold_target_far']['rule']}: TAR {target['tar']['mean']:.2%} +- "
        f"{target['tar']['std']:.2%}, FAR {target['far']['mean']:.2%} +- {target['far']['std']:.2%}",
        f"  at threshold {at['threshold']:.4f} ({at['chosen']}): accuracy {at['accuracy']:.2%}, "
        f"precision {at['precision']:.2%}, recall {at['recall']:.2%}, F1 {at['f1']:.4f}, "
        f"confusion TN {cm['tn']:,} FP {cm['fp']:,} FN {cm['fn']:,} TP {cm['tp']:,}",
    ])


def _auc(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
