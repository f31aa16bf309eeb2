"""Fine-tune FaceNet (InceptionResnetV1) on an organisation's own faces.

Metric learning with pytorch-metric-learning: triplet loss with online semi-hard mining
(or contrastive loss), cosine similarity as the distance - the service matches by cosine -,
P identities x K photos per batch, a validation split by identity (no person in both), early
stopping on validation ROC-AUC, and augmentation that looks like selfies (mirror, lighting,
a slight head tilt). Face chips come from the product's own decode and MTCNN detection.
"""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .embedders import face_chip, normalise_rows
from .engine import FaceEngine
from .errors import FaceEngineError
from .evaluation import best_accuracy_threshold, threshold_free

log = logging.getLogger(__name__)

CHIP_SIZE = 160
# Layers trained with `train_layers="last"`: the last Inception block and the embedding head.
LAST_LAYERS = ("block8", "last_linear", "last_bn")


@dataclass
class FaceChips:
    chips: np.ndarray  # (n, 160, 160, 3) uint8
    labels: np.ndarray  # (n,) int identity index
    identities: list[str]
    refused: list[tuple[str, str]] = field(default_factory=list)  # (photo, reason)


def collect_chips(engine: FaceEngine, identities: dict[str, list[Path]], margin: float = 0.0,
                  on_photo: Callable[[int], None] = lambda n: None) -> FaceChips:
    """Decode, detect (the same policy as enrolment) and crop every photo; refusals are listed."""
    chips, labels, names, refused = [], [], [], []
    for name, photos in identities.items():
        mine = []
        for photo in photos:
            try:
                image = engine.decode(photo.read_bytes())
                mine.append(face_chip(image, engine.policy.select(engine.detector.detect(image)), CHIP_SIZE, margin))
            except FaceEngineError as error:
                refused.append((str(photo), error.code))
            on_photo(1)
        if len(mine) >= 2:  # a person with one usable photo gives no positive pair
            chips.extend(mine)
            labels.extend([len(names)] * len(mine))
            names.append(name)
    empty = np.zeros((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
    return FaceChips(np.stack(chips) if chips else empty, np.array(labels, dtype=np.int64), names, refused)


def split_by_identity(data: FaceChips, val_fraction: float, seed: int = 0) -> tuple[FaceChips, FaceChips]:
    """Train and validation sets with no identity in both."""
    order = list(range(len(data.identities)))
    random.Random(seed).shuffle(order)
    n_val = max(2, round(len(order) * val_fraction))
    if len(order) - n_val < 2:
        raise ValueError(f"{len(order)} identities with 2+ usable photos: at least {n_val + 2} are needed.")
    return _subset(data, order[n_val:]), _subset(data, order[:n_val])


def _subset(data: FaceChips, identity_indices: Sequence[int]) -> FaceChips:
    keep = np.isin(data.labels, identity_indices)
    remap = {old: new for new, old in enumerate(identity_indices)}
    return FaceChips(data.chips[keep], np.array([remap[int(x)] for x in data.labels[keep]], dtype=np.int64),
                     [data.identities[i] for i in identity_indices])


@dataclass
class FineTuneSettings:
    loss: str = "triplet"  # triplet | contrastive
    margin: float = 0.2  # triplet margin, in cosine similarity
    epochs: int = 30
    patience: int = 5  # epochs without a better validation AUC before stopping
    identities_per_batch: int = 8
    photos_per_identity: int = 4
    steps_per_epoch: int = 20
    learning_rate: float = 1e-4
    train_layers: str = "last"  # last | all
    seed: int = 0


@dataclass
class EpochRecord:
    epoch: int
    mined_loss: float  # mean loss of the mined batches: a moving target as mining adapts
    train_loss: float  # loss over every pair/triplet of a fixed training sample: comparable across epochs
    val_auc: float
    seconds: float


def standardise(chips):
    """uint8 NHWC array or tensor -> float NCHW, as facenet-pytorch's fixed_image_standardization."""
    import torch

    return _standardise_nchw(torch.as_tensor(chips).permute(0, 3, 1, 2))


def _standardise_nchw(batch):
    return (batch.float() - 127.5) / 128.0


def embed_chips(model, chips: np.ndarray, batch_size: int = 64) -> np.ndarray:
    import torch

    model.eval()
    rows = []
    with torch.inference_mode():
        for start in range(0, len(chips), batch_size):
            rows.append(model(standardise(chips[start:start + batch_size])).numpy())
    return normalise_rows(np.concatenate(rows)) if rows else np.zeros((0, 512), np.float32)


def verification_figures(model, data: FaceChips) -> dict:
    """ROC-AUC, TAR at FAR and best accuracy over every pair of the set's photos."""
    vectors = embed_chips(model, data.chips)
    scores = vectors @ vectors.T
    upper = np.triu_indices(len(vectors), k=1)
    same = (data.labels[:, None] == data.labels[None, :])[upper]
    scores = scores[upper].astype(np.float64)
    threshold = best_accuracy_threshold(scores, same)
    return {**threshold_free(scores, same), "best_accuracy": float(((scores >= threshold) == same).mean()),
            "pairs": int(len(scores))}


def recalibrate_batch_norm(model, chips: np.ndarray, batch_size: int = 64) -> None:
    """Set every batch-norm layer's running statistics from these photos (a cumulative average).

    An untrained network's statistics (mean 0, variance 1) do not match its activations, so in
    eval mode it maps every face to nearly the same vector; this gives it usable statistics.
    """
    import torch

    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    model.train()
    with torch.no_grad():
        for start in range(0, len(chips), batch_size):
            model(standardise(chips[start:start + batch_size]))
    for norm in norms:
        norm.momentum = 0.1
    model.eval()


def fixed_loss(model, data: FaceChips, criterion, limit: int = 256) -> float:
    """The loss over all triplets (or pairs) of up to `limit` training photos, unaugmented and unmined."""
    import torch

    keep = np.random.default_rng(0).permutation(len(data.chips))[:limit]
    embeddings = torch.as_tensor(embed_chips(model, data.chips[keep]))
    with torch.inference_mode():
        return float(criterion(embeddings, torch.as_tensor(data.labels[keep])))


def augmenter(seed: int):
    """Selfie-like variation: mirror, brightness and contrast, a few degrees of tilt."""
    import torch
    from torchvision.transforms import v2

    torch.manual_seed(seed)
    return v2.Compose([
        v2.RandomHorizontalFlip(),
        v2.ColorJitter(brightness=0.3, contrast=0.2, saturation=0.2),
        v2.RandomRotation(8),
    ])


def _trainable(model, train_layers: str) -> list:
    if train_layers not in ("last", "all"):
        raise ValueError(f"train_layers must be 'last' or 'all', not {train_layers!r}")
    for name, parameter in model.named_parameters():
        parameter.requires_grad = train_layers == "all" or name.split(".")[0] in LAST_LAYERS
    return [p for p in model.parameters() if p.requires_grad]


def _set_train_mode(model, train_layers: str) -> None:
    """Frozen layers stay in eval mode: their batch-norm statistics must not drift."""
    model.eval()
    for name, module in model.named_children():
        if train_layers == "all" or name in LAST_LAYERS:
            module.train()


def loss_function(settings: FineTuneSettings):
    from pytorch_metric_learning import distances, losses, miners

    cosine = distances.CosineSimilarity()
    if settings.loss == "triplet":
        miner = miners.TripletMarginMiner(margin=settings.margin, type_of_triplets="semihard", distance=cosine)
        return losses.TripletMarginLoss(margin=settings.margin, distance=cosine), miner
    if settings.loss == "contrastive":
        # With a similarity, positives are pushed above pos_margin and negatives below neg_margin.
        miner = miners.PairMarginMiner(pos_margin=0.9, neg_margin=0.3, distance=cosine)
        return losses.ContrastiveLoss(pos_margin=0.9, neg_margin=0.3, distance=cosine), miner
    raise ValueError(f"loss must be 'triplet' or 'contrastive', not {settings.loss!r}")


def _batches(labels: np.ndarray, settings: FineTuneSettings, rng: random.Random):
    """P identities x K photos (with replacement for people with fewer than K)."""
    by_identity: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        by_identity.setdefault(int(label), []).append(index)
    people = sorted(by_identity)
    for _ in range(settings.steps_per_epoch):
        chosen = rng.sample(people, min(settings.identities_per_batch, len(people)))
        yield [i for person in chosen for i in rng.choices(by_identity[person], k=settings.photos_per_identity)]


def finetune(model, train: FaceChips, val: FaceChips, settings: FineTuneSettings,
             on_epoch: Callable[[EpochRecord], None] = lambda record: None,
             start_auc: float | None = None) -> tuple[object, list[EpochRecord]]:
    """Train in place; returns the model with the weights of the best validation epoch, and the history.

    `start_auc`: the untrained model's validation ROC-AUC when the caller has measured it already.
    """
    import torch

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    augment = augmenter(settings.seed)
    parameters = _trainable(model, settings.train_layers)
    optimiser = torch.optim.Adam(parameters, lr=settings.learning_rate)
    criterion, miner = loss_function(settings)
    if start_auc is None:
        start_auc = verification_figures(model, val)["roc_auc"]
    best_auc, best_state, since_best = start_auc, copy.deepcopy(model.state_dict()), 0
    history = []
    for epoch in range(1, settings.epochs + 1):
        started, losses = time.perf_counter(), []
        _set_train_mode(model, settings.train_layers)
        for indices in _batches(train.labels, settings, rng):
            images = torch.stack([augment(torch.as_tensor(train.chips[i]).permute(2, 0, 1)) for i in indices])
            embeddings = model(_standardise_nchw(images))
            labels = torch.as_tensor(train.labels[indices])
            loss = criterion(embeddings, labels, miner(embeddings, labels))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        auc = verification_figures(model, val)["roc_auc"]
        record = EpochRecord(epoch, float(np.mean(losses)), fixed_loss(model, train, criterion), auc,
                             time.perf_counter() - started)
        history.append(record)
        on_epoch(record)
        if auc > best_auc:
            best_auc, best_state, since_best = auc, copy.deepcopy(model.state_dict()), 0
        else:
            since_best += 1
            if since_best >= settings.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return model, history


def save_checkpoint(model, path: Path, settings: FineTuneSettings, summary: dict) -> Path:
    """A file the service loads with FACENET_WEIGHTS=path (its weights under `state_dict`)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "absen_finetune": {"settings": asdict(settings), **summary}}, path)
    return path
