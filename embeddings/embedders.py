"""Face embedders behind one small interface.

- FaceNetEmbedder: facenet-pytorch's InceptionResnetV1 (512-d), the product's main model.
- DlibEmbedder: dlib's face ResNet (128-d) from the `face_recognition_models` package, whose
  weights install from PyPI, so a site without internet access still has real recognition
  (run by torch: `dlib_network`).

Every embedder returns L2-normalised float32 rows, so cosine similarity is a dot product.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from .detector import DetectedFace
from .dlib_network import CHIP_SIZE, build_network, read_weights
from .errors import ModelUnavailableError

log = logging.getLogger(__name__)

# The file names facenet-pytorch gives the published weights (its release assets).
FACENET_WEIGHT_FILES = {
    "vggface2": "20180402-114759-vggface2.pt",
    "casia-webface": "20180408-102900-casia-webface.pt",
}
DLIB_MODEL_NAME = "dlib-resnet-v1"


class Embedder(Protocol):
    name: str  # stored with every template: embeddings of different models never mix
    dim: int

    def embed(self, image: Image.Image, faces: Sequence[DetectedFace]) -> np.ndarray:
        """One normalised row per face, shape (len(faces), dim)."""
        ...

    def embed_pairs(self, pairs: Sequence[tuple[Image.Image, DetectedFace]]) -> np.ndarray:
        """Faces of several images in one batch: one row per (image, face) pair."""
        ...


def square_box(box: Sequence[float], margin: float = 0.0) -> tuple[int, int, int, int]:
    """A square around the box's centre (never squeezed), grown by `margin` of its side."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1.0 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = side / 2
    return round(cx - half), round(cy - half), round(cx + half), round(cy + half)


def face_chip(image: Image.Image, face: DetectedFace, size: int = 160, margin: float = 0.0) -> np.ndarray:
    """The square face crop FaceNet sees, size x size x 3 uint8 (also what fine-tuning trains on)."""
    crop = image.crop(square_box(face.box, margin))
    crop = crop.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(crop, dtype=np.uint8)


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class FaceNetEmbedder:
    dim = 512
    input_size = 160

    def __init__(self, model, name: str, margin: float = 0.0, device: str = "cpu"):
        self._model = model.eval().to(device)
        self._device = device
        self.name = name
        self.margin = margin

    @property
    def network(self):
        """The InceptionResnetV1 itself (fine-tuning starts from it)."""
        return self._model

    def embed(self, image: Image.Image, faces: Sequence[DetectedFace]) -> np.ndarray:
        return self.embed_pairs([(image, face) for face in faces])

    def embed_pairs(self, pairs: Sequence[tuple[Image.Image, DetectedFace]]) -> np.ndarray:
        import torch

        crops = [self._crop(image, face) for image, face in pairs]
        batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).to(self._device)
        # facenet-pytorch's fixed_image_standardization: what the weights were trained on.
        batch = (batch - 127.5) / 128.0
        with torch.inference_mode():
            vectors = self._model(batch).cpu().numpy()
        return normalise_rows(vectors)

    def _crop(self, image: Image.Image, face: DetectedFace) -> np.ndarray:
        return face_chip(image, face, self.input_size, self.margin).astype(np.float32)


def load_facenet(pretrained: str = "vggface2", weights_path: str | None = None,
                 margin: float = 0.0, device: str = "cpu", allow_untrained_base: bool = False) -> FaceNetEmbedder:
    """Load trained FaceNet weights, or raise ModelUnavailableError: never a random network.

    Without `weights_path`, facenet-pytorch's own loader fetches the published weights into
    $TORCH_HOME/checkpoints (or finds them there). With it, the file is read offline: the
    published weights under their published file name keep the name `facenet-<pretrained>`;
    any other checkpoint (a fine-tuned one) is named by its content hash.
    """
    if pretrained not in FACENET_WEIGHT_FILES:
        raise ModelUnavailableError(f"Unknown FaceNet weights {pretrained!r}; use one of {sorted(FACENET_WEIGHT_FILES)}.")
    from facenet_pytorch import InceptionResnetV1

    if weights_path is None:
        try:
            model = InceptionResnetV1(pretrained=pretrained)
        except Exception as exc:  # network, disk or format: all mean "no usable weights"
            raise ModelUnavailableError(
                f"FaceNet weights {pretrained!r} could not be downloaded or read ({exc}). "
                "Place the file on disk and set FACENET_WEIGHTS to its path."
            ) from exc
        return FaceNetEmbedder(model, f"facenet-{pretrained}", margin, device)

    path = Path(weights_path)
    model = InceptionResnetV1(pretrained=None, classify=False)
    state = _read_facenet_state(path, expected=set(model.state_dict()), allow_untrained_base=allow_untrained_base)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # tensors of the wrong shape
        raise ModelUnavailableError(f"FaceNet weights file {path} does not fit InceptionResnetV1 ({exc}).") from exc
    if path.name == FACENET_WEIGHT_FILES[pretrained]:
        name = f"facenet-{pretrained}"
    else:
        name = f"facenet-custom-{_file_digest(path)[:12]}"
    log.info("FaceNet weights loaded from %s as %s", path, name)
    return FaceNetEmbedder(model, name, margin, device)


def _read_facenet_state(path: Path, expected: set[str], allow_untrained_base: bool = False) -> dict:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise ModelUnavailableError(f"FaceNet weights file {path} does not exist.") from exc
    except Exception as exc:
        raise ModelUnavailableError(f"FaceNet weights file {path} is not a readable checkpoint ({exc}).") from exc
    finetuned = state.get("absen_finetune", {}) if isinstance(state, dict) else {}
    if finetuned.get("base") == "random" and not allow_untrained_base:
        # `flask finetune --base random` tries the mechanics; what it makes recognises nobody.
        raise ModelUnavailableError(
            f"FaceNet weights file {path} was fine-tuned from an untrained network (--base random): "
            "it is for trying the tools, never for serving. Fine-tune from vggface2 or casia-webface weights."
        )
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # training checkpoints wrap the weights
    if not isinstance(state, dict):
        raise ModelUnavailableError(f"FaceNet weights file {path} holds no state dict.")
    # The classifier head of the published weights is not used for embeddings.
    state = {key: value for key, value in state.items() if not key.startswith("logits.")}
    if set(state) != expected:
        missing = len(expected - set(state))
        unexpected = len(set(state) - expected)
        raise ModelUnavailableError(
            f"FaceNet weights file {path} does not match InceptionResnetV1 "
            f"({missing} missing and {unexpected} unexpected tensors)."
        )
    return state


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class DlibEmbedder:
    """dlib's ResNet on a 5-point aligned chip, computed on a small crop around the face.

    dlib finds the landmarks and cuts the chip; the network itself runs in torch
    (`dlib_network`), ten times faster than the BLAS-less dlib-bin wheel and equal to it.
    """

    name = DLIB_MODEL_NAME
    dim = 128
    # The face is scaled to about this many pixels across before alignment (the chip is 150).
    working_face_size = 200

    def __init__(self, model_dir: Path):
        import dlib

        self._dlib = dlib
        self._shape_predictor = dlib.shape_predictor(str(model_dir / "shape_predictor_5_face_landmarks.dat"))
        self._network = build_network(read_weights(model_dir / "dlib_face_recognition_resnet_model_v1.dat"))

    def embed(self, image: Image.Image, faces: Sequence[DetectedFace]) -> np.ndarray:
        return self.embed_pairs([(image, face) for face in faces])

    def embed_pairs(self, pairs: Sequence[tuple[Image.Image, DetectedFace]]) -> np.ndarray:
        return normalise_rows(self.descriptors(np.stack([self.aligned_chip(image, face) for image, face in pairs])))

    def descriptors(self, chips: np.ndarray) -> np.ndarray:
        """dlib's raw 128-d descriptors of aligned chips (N, 150, 150, 3), as compute_face_descriptor gives them."""
        import torch

        with torch.inference_mode():
            return self._network(torch.from_numpy(chips)).numpy()

    def aligned_chip(self, image: Image.Image, face: DetectedFace) -> np.ndarray:
        """The 150x150 chip dlib's compute_face_descriptor would feed its network."""
        # Work on a crop with room for alignment, scaled down: dlib copies whatever it is given.
        region = square_box(face.box, margin=1.0)
        crop = image.crop(region)
        scale = min(1.0, self.working_face_size / max(face.width, face.height, 1.0))
        if scale < 1.0:  # reducing_gap=1: a box reduction by the whole factor, then a short bilinear step
            crop = crop.resize((max(1, round(crop.width * scale)),) * 2, Image.Resampling.BILINEAR, reducing_gap=1.0)
        pixels = np.ascontiguousarray(np.asarray(crop, dtype=np.uint8))
        x1, y1, x2, y2 = ((v - o) * scale for v, o in zip(face.box, region[:2] * 2, strict=True))
        rect = self._dlib.rectangle(round(x1), round(y1), round(x2), round(y2))
        shape = self._shape_predictor(pixels, rect)
        return self._dlib.get_face_chip(pixels, shape, size=CHIP_SIZE, padding=0.25)


def dlib_model_dir() -> Path:
    # Locate the data files without importing the package: its __init__ needs pkg_resources.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError("The face_recognition_models package is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def load_dlib() -> DlibEmbedder:
    try:
        return DlibEmbedder(dlib_model_dir())
    except ImportError as exc:
        raise ModelUnavailableError("dlib is not installed (pip install dlib-bin).") from exc
    except RuntimeError as exc:  # dlib's way of saying a model file is missing or corrupt
        raise ModelUnavailableError(f"dlib's face models could not be loaded ({exc}).") from exc
