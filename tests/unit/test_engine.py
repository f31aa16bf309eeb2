"""The face engine on real photos with real MTCNN and real dlib recognition."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from config import MODEL_THRESHOLDS
from embeddings.errors import FaceTooSmallError, MultipleFacesError, NoFaceError
from tests.photos import astronaut, astronaut_selfie, cameraman, dataset, encode, rotated_with_exif, two_astronauts

THRESHOLD = MODEL_THRESHOLDS["dlib-resnet-v1"]


def similarity(engine, a: bytes, b: bytes) -> float:
    return float(engine.embed_bytes(a).vector @ engine.embed_bytes(b).vector)


def test_embeddings_are_unit_vectors_of_the_model_size(engine):
    vector = engine.embed_bytes(encode(astronaut())).vector
    assert vector.shape == (engine.embedding_dim,) == (128,)
    assert vector.dtype == np.float32
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_same_face_in_another_shot_is_accepted(engine):
    assert similarity(engine, encode(astronaut()), encode(astronaut_selfie())) >= THRESHOLD


def test_different_people_are_refused(engine):
    assert similarity(engine, encode(astronaut()), encode(cameraman())) < THRESHOLD


def test_two_faces_of_equal_size_are_refused(engine):
    with pytest.raises(MultipleFacesError):
        engine.embed_bytes(encode(two_astronauts()))


def test_a_photo_without_a_face_is_refused(engine):
    from skimage import data

    with pytest.raises(NoFaceError):
        engine.embed_bytes(encode(Image.fromarray(data.chelsea())))  # a cat


def test_a_face_below_the_minimum_size_is_refused(engine):
    with pytest.raises(FaceTooSmallError):
        engine.embed_bytes(encode(astronaut().resize((160, 160))))


def test_exif_rotated_photo_is_turned_upright_and_matches(engine):
    rotated = rotated_with_exif(astronaut_selfie())
    assert Image.open(io.BytesIO(rotated)).size == (720, 720)
    assert similarity(engine, encode(astronaut()), rotated) >= THRESHOLD


@pytest.mark.parametrize("person, first, second", [
    ("jerry_seinfeld", "js.jpg", "httpwwwnndbcompeoplejerryseinfeldaujpg.jpg"),
    ("barack_obama", "obama.jpg", "obama2.jpg"),
    ("deepface_id04", "img13.jpg", "img14.jpg"),
])
def test_same_person_on_real_photos_is_accepted(engine, person, first, second):
    a = dataset(f"people/{person}/{first}").read_bytes()
    b = dataset(f"people/{person}/{second}").read_bytes()
    assert similarity(engine, a, b) >= THRESHOLD


@pytest.mark.parametrize("first, second", [
    ("jerry_seinfeld/js.jpg", "mindy_kaling/mk.jpg"),
    ("barack_obama/obama.jpg", "joe_biden/biden.jpg"),
    ("madonna/mad.jpg", "elton_john/ej.jpg"),
])
def test_different_people_on_real_photos_are_refused(engine, first, second):
    a = dataset(f"people/{first}").read_bytes()
    b = dataset(f"people/{second}").read_bytes()
    assert similarity(engine, a, b) < THRESHOLD


@pytest.mark.parametrize("photo", ["couple.jpg", "two_people.jpg", "obama_and_biden.jpg", "selfie-many-people.jpg"])
def test_group_photos_are_refused(engine, photo):
    with pytest.raises(MultipleFacesError):
        engine.embed_bytes(dataset(f"groups/{photo}").read_bytes())


def test_rgba_png_is_recognised(engine):
    embedding = engine.embed_bytes(dataset("edge/rgba_32bit.png").read_bytes())
    assert embedding.face.probability >= 0.95


def test_webp_content_under_a_jpg_name_decodes(engine):
    data = dataset("people/deepface_id03/img47.jpg").read_bytes()
    assert data[8:12] == b"WEBP"
    same = dataset("people/deepface_id03/img48.jpg").read_bytes()
    assert similarity(engine, data, same) >= THRESHOLD


def test_large_phone_photo_is_decoded_reduced_and_still_matches(engine):
    # A 12 MP upscale of a real photo: decoded at 1:2 in the DCT (draft), with no resampling after.
    original = Image.open(dataset("people/barack_obama/obama.jpg")).convert("RGB")
    scale = 4000 / max(original.size)
    large = original.resize((round(original.width * scale), round(original.height * scale)), Image.Resampling.BICUBIC)
    data = encode(large, quality=92)
    assert max(engine.decode(data).size) == 2000
    assert similarity(engine, data, dataset("people/barack_obama/obama2.jpg").read_bytes()) >= THRESHOLD


def test_concurrent_requests_get_the_same_embeddings_as_sequential_ones(engine):
    # gunicorn runs several threads per worker over one engine.
    from concurrent.futures import ThreadPoolExecutor

    photos = [encode(astronaut()), encode(cameraman()), encode(astronaut_selfie())]
    expected = [engine.embed_bytes(p).vector for p in photos]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: engine.embed_bytes(photos[i % 3]).vector, range(12)))
    for i, vector in enumerate(results):
        np.testing.assert_allclose(vector, expected[i % 3], atol=1e-5)


def test_multi_picture_jpeg_from_phones_is_decoded_reduced(engine):
    large = astronaut().resize((3600, 3600))
    data = encode(large, "MPO", save_all=True, append_images=[large.resize((200, 200))])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert max(engine.decode(data).size) == 1800  # 1:2 in the DCT


def test_batched_embedding_matches_one_by_one_and_reports_each_failure(engine):
    photos = [encode(astronaut()), b"broken", encode(cameraman()), encode(two_astronauts()),
              encode(astronaut_selfie()), encode(astronaut().transpose(Image.Transpose.FLIP_LEFT_RIGHT))]
    results = engine.embed_many(photos)
    assert [getattr(r, "code", "ok") for r in results] == ["ok", "invalid_image", "ok", "multiple_faces", "ok", "ok"]
    for photo, result in zip(photos, results, strict=True):
        if not isinstance(result, Exception):
            np.testing.assert_allclose(result.vector, engine.embed_bytes(photo).vector, atol=1e-4)


@pytest.mark.parametrize("size", [(1, 1), (8, 300), (19, 19)])
def test_an_image_smaller_than_the_smallest_face_is_no_face_not_a_crash(engine, size):
    """Found by schemathesis: MTCNN has no scale to run on such an image and raised from torch.cat."""
    with pytest.raises(NoFaceError):
        engine.embed_bytes(encode(astronaut().resize(size), "PNG"))
