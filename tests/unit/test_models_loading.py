"""Model loading: trained weights or a clear refusal, never a random network by accident."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from facenet_pytorch import InceptionResnetV1

from embeddings import EngineSettings, ensure_compatible, load_engine
from embeddings.embedders import FACENET_WEIGHT_FILES, load_facenet
from embeddings.errors import ModelMismatchError, ModelUnavailableError
from tests.photos import astronaut, encode


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A complete InceptionResnetV1 state dict written by the test (random, but every tensor there)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "finetuned.pt"
    torch.save(InceptionResnetV1(pretrained=None, classify=False).state_dict(), path)
    return path


def test_facenet_loads_a_checkpoint_file_and_embeds_faces(checkpoint, engine):
    embedder = load_facenet(weights_path=str(checkpoint))
    assert embedder.name.startswith("facenet-custom-") and embedder.dim == 512
    image = engine.decode(encode(astronaut()))
    face = engine.detector.detect(image)[0]
    vectors = embedder.embed(image, [face, face])
    assert vectors.shape == (2, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[1], atol=1e-5)  # deterministic in eval mode


def test_published_weights_file_keeps_the_published_name(checkpoint, tmp_path):
    published = tmp_path / FACENET_WEIGHT_FILES["vggface2"]
    state = torch.load(checkpoint, weights_only=True)
    state["logits.weight"] = torch.zeros(8631, 512)  # the published file carries the classifier head
    state["logits.bias"] = torch.zeros(8631)
    torch.save(state, published)
    assert load_facenet("vggface2", weights_path=str(published)).name == "facenet-vggface2"


def test_training_checkpoint_wrapping_the_state_dict_loads(checkpoint, tmp_path):
    wrapped = tmp_path / "epoch3.pt"
    torch.save({"state_dict": torch.load(checkpoint, weights_only=True), "epoch": 3}, wrapped)
    assert load_facenet(weights_path=str(wrapped)).name.startswith("facenet-custom-")


def test_missing_corrupt_or_partial_weights_are_refused(checkpoint, tmp_path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_facenet(weights_path=str(tmp_path / "absent.pt"))
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(ModelUnavailableError, match="not a readable checkpoint"):
        load_facenet(weights_path=str(corrupt))
    partial = tmp_path / "partial.pt"
    state = torch.load(checkpoint, weights_only=True)
    torch.save({k: v for k, v in state.items() if not k.startswith("block8")}, partial)
    with pytest.raises(ModelUnavailableError, match="missing"):
        load_facenet(weights_path=str(partial))


def test_unknown_pretrained_name_is_refused():
    with pytest.raises(ModelUnavailableError, match="Unknown FaceNet weights"):
        load_facenet("imagenet")


def test_auto_falls_back_to_dlib_when_facenet_weights_are_unavailable(tmp_path, caplog):
    engine = load_engine(EngineSettings(model="auto", facenet_weights=str(tmp_path / "absent.pt")))
    assert engine.model_name == "dlib-resnet-v1"
    assert "using dlib" in caplog.text


def test_auto_follows_the_model_the_database_was_enrolled_with():
    assert load_engine(EngineSettings(model="auto"), ["dlib-resnet-v1"]).model_name == "dlib-resnet-v1"


def test_a_database_enrolled_with_another_model_refuses_to_start():
    with pytest.raises(ModelMismatchError, match="re-enrol"):
        load_engine(EngineSettings(model="dlib"), ["facenet-vggface2"])
    with pytest.raises(ModelMismatchError):
        ensure_compatible("dlib-resnet-v1", ["dlib-resnet-v1", "facenet-vggface2"])
    ensure_compatible("dlib-resnet-v1", ["dlib-resnet-v1"])  # same model: fine


def test_unknown_model_setting_is_refused():
    with pytest.raises(ModelUnavailableError, match="FACE_MODEL"):
        load_engine(EngineSettings(model="arcface"))
