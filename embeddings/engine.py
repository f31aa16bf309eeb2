"""The face engine: bytes in, one normalised embedding out. No web framework, no database."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .detector import DetectedFace, MtcnnDetector
from .embedders import DLIB_MODEL_NAME, Embedder, load_dlib, load_facenet
from .errors import FaceEngineError, FaceTooSmallError, ModelMismatchError, ModelUnavailableError, MultipleFacesError, NoFaceError
from .image import DecodeLimits, decode_image

log = logging.getLogger(__name__)

MODEL_CHOICES = ("auto", "facenet", "dlib")


@dataclass(frozen=True)
class FacePolicy:
    min_probability: float = 0.95  # MTCNN confidence below this is not treated as a face
    min_face_size: int = 40  # pixels across, in the decoded image
    # Several faces are refused unless the largest is this many times the area of the next:
    # a selfie with a colleague far behind passes, two people side by side do not.
    dominance_ratio: float = 4.0

    def select(self, faces: Sequence[DetectedFace]) -> DetectedFace:
        faces = sorted((f for f in faces if f.probability >= self.min_probability), key=lambda f: f.area, reverse=True)
        if not faces:
            raise NoFaceError("No face was found in the photo.")
        main = faces[0]
        if len(faces) > 1 and main.area < self.dominance_ratio * faces[1].area:
            raise MultipleFacesError(f"{len(faces)} faces were found; the photo must show one person.")
        if min(main.width, main.height) < self.min_face_size:
            raise FaceTooSmallError(
                f"The face is {int(min(main.width, main.height))} px across; at least {self.min_face_size} px is needed."
            )
        return main


@dataclass(frozen=True)
class FaceEmbedding:
    vector: np.ndarray
    face: DetectedFace


@dataclass(frozen=True)
class EngineSettings:
    model: str = "auto"  # auto | facenet | dlib
    facenet_pretrained: str = "vggface2"
    facenet_weights: str | None = None  # local weights file (offline sites, fine-tuned models)
    facenet_margin: float = 0.0
    allow_untrained_base: bool = False  # only the accuracy tools, to measure a `finetune --base random` result
    device: str = "cpu"
    # MTCNN looks for faces of 20 px and up in this copy: in a 480 px copy of a photo up to 960 px
    # that is the policy's 40 px minimum, and its cost is half a 640 px copy's.
    detection_max_side: int = 480
    decode: DecodeLimits = DecodeLimits()
    policy: FacePolicy = FacePolicy()


class FaceEngine:
    def __init__(self, detector: MtcnnDetector, embedder: Embedder,
                 policy: FacePolicy = FacePolicy(), decode_limits: DecodeLimits = DecodeLimits()):
        self.detector = detector
        self.embedder = embedder
        self.policy = policy
        self.decode_limits = decode_limits

    @property
    def model_name(self) -> str:
        return self.embedder.name

    @property
    def embedding_dim(self) -> int:
        return self.embedder.dim

    def decode(self, data: bytes) -> Image.Image:
        return decode_image(data, self.decode_limits)

    def embed_image(self, image: Image.Image) -> FaceEmbedding:
        """Embedding of the one face the policy accepts, or a FaceEngineError saying why not."""
        face = self.policy.select(self.detector.detect(image))
        return FaceEmbedding(vector=self.embedder.embed(image, [face])[0], face=face)

    def embed_bytes(self, data: bytes) -> FaceEmbedding:
        return self.embed_image(self.decode(data))

    def embed_many(self, photos: Sequence[bytes]) -> list[FaceEmbedding | FaceEngineError]:
        """Like embed_bytes for each photo, batched: one result or one error per photo, in order."""
        results: list[FaceEmbedding | FaceEngineError | None] = [None] * len(photos)
        images: dict[int, Image.Image] = {}
        for index, data in enumerate(photos):
            try:
                images[index] = self.decode(data)
            except FaceEngineError as error:
                results[index] = error
        chosen: dict[int, DetectedFace] = {}
        for index, faces in zip(images, self.detector.detect_many(list(images.values())), strict=True):
            try:
                chosen[index] = self.policy.select(faces)
            except FaceEngineError as error:
                results[index] = error
        if chosen:
            vectors = self.embedder.embed_pairs([(images[i], face) for i, face in chosen.items()])
            for (index, face), vector in zip(chosen.items(), vectors, strict=True):
                results[index] = FaceEmbedding(vector=vector, face=face)
        return results

    def warm_up(self) -> None:
        """Run every stage once so that the first real request is not the slow one."""
        blank = Image.new("RGB", (320, 240), (128, 128, 128))
        self.detector.detect(blank)
        fake = DetectedFace(box=(80.0, 40.0, 240.0, 200.0), probability=1.0, landmarks=np.zeros((5, 2)))
        self.embedder.embed(blank, [fake])


def load_engine(settings: EngineSettings, enrolled_models: Sequence[str] = ()) -> FaceEngine:
    """Build the engine for `settings`, consistent with the models the database already holds.

    `auto` takes the model the database was enrolled with; for an empty database, FaceNet
    when its weights can be had, else dlib. A database enrolled with one model never
    starts with another: the stored templates would silently stop matching.
    """
    if settings.model not in MODEL_CHOICES:
        raise ModelUnavailableError(f"FACE_MODEL must be one of {', '.join(MODEL_CHOICES)}, not {settings.model!r}.")
    if len(set(enrolled_models)) > 1:
        raise ModelMismatchError(f"The database holds templates of several models: {sorted(set(enrolled_models))}.")
    enrolled = enrolled_models[0] if enrolled_models else None
    embedder = _load_embedder(settings, enrolled)
    ensure_compatible(embedder.name, enrolled_models)
    detector = MtcnnDetector(settings.detection_max_side, device=settings.device)
    return FaceEngine(detector, embedder, settings.policy, settings.decode)


def ensure_compatible(model_name: str, enrolled_models: Sequence[str]) -> None:
    """Refuse a model other than the one the stored templates were made with."""
    others = sorted(set(enrolled_models) - {model_name})
    if others:
        raise ModelMismatchError(
            f"The database was enrolled with model {others[0]!r} but the configured model is {model_name!r}. "
            f"Set FACE_MODEL=auto (with the same weights as at enrolment), or re-enrol every employee "
            f"with the new model on a new database."
        )


def model_setting_for(model_name: str) -> str:
    """The FACE_MODEL value that loads the embedder named `model_name` (as stored with templates)."""
    return "dlib" if model_name == DLIB_MODEL_NAME else "facenet"


def _load_embedder(settings: EngineSettings, enrolled: str | None) -> Embedder:
    model = settings.model
    if model == "auto" and enrolled is not None:
        model = model_setting_for(enrolled)
    if model == "dlib":
        return load_dlib()
    if model == "facenet":
        return _load_facenet(settings)
    try:
        return _load_facenet(settings)
    except ModelUnavailableError as exc:
        log.warning("FACE_MODEL=auto: FaceNet is unavailable (%s); using dlib's face ResNet instead.", exc.message)
        return load_dlib()


def _load_facenet(settings: EngineSettings) -> Embedder:
    return load_facenet(settings.facenet_pretrained, settings.facenet_weights, settings.facenet_margin, settings.device,
                        allow_untrained_base=settings.allow_untrained_base)
