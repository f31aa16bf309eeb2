"""The fast paths agree with the libraries they stand in for, on real faces.

- dlib's face ResNet run by torch (`embeddings.dlib_network`) against dlib's own
  `compute_face_descriptor`, on the same aligned chips;
- the MTCNN driver (`embeddings.mtcnn`) against facenet-pytorch's `MTCNN.detect`.
"""

from __future__ import annotations

import numpy as np
import pytest
from facenet_pytorch import MTCNN

from embeddings.dlib_network import read_weights
from embeddings.embedders import dlib_model_dir
from embeddings.errors import ModelUnavailableError
from embeddings.image import decode_image, downscaled
from embeddings.mtcnn import detect_faces
from tests.photos import DATASETS, astronaut, astronaut_selfie, encode, two_astronauts

LFW_SAMPLE = 12  # LFW images per check when ../shared is there (first of every 60th identity)


def real_photos():
    """The always-present portraits, plus a spread of LFW images and the group photos when there."""
    photos = [astronaut(), astronaut_selfie(), two_astronauts()]
    if DATASETS.is_dir():
        identities = sorted((DATASETS / "lfw").iterdir())[::60][:LFW_SAMPLE]
        photos += [decode_image(next(iter(sorted(folder.glob("*.jpg")))).read_bytes()) for folder in identities]
        photos += [decode_image(path.read_bytes()) for path in sorted((DATASETS / "groups").glob("*.jpg"))]
    return photos


@pytest.fixture(scope="module")
def dlib_recogniser():
    import dlib

    return dlib.face_recognition_model_v1(str(dlib_model_dir() / "dlib_face_recognition_resnet_model_v1.dat"))


def test_torch_network_gives_dlibs_own_descriptors(engine, dlib_recogniser):
    embedder = engine.embedder
    compared = 0
    for image in real_photos():
        for face in engine.detector.detect(image):
            if face.probability < 0.95:
                continue
            chip = embedder.aligned_chip(image, face)
            theirs = np.asarray(dlib_recogniser.compute_face_descriptor(chip), dtype=np.float32)
            assert np.abs(embedder.descriptors(chip[None])[0] - theirs).max() < 1e-5
            assert np.abs(embedder.embed(image, [face])[0] - theirs / np.linalg.norm(theirs)).max() < 1e-5
            compared += 1
    assert compared >= 4


def test_a_batch_of_faces_gives_the_descriptors_of_one_at_a_time(engine):
    image = engine.decode(encode(two_astronauts()))
    faces = engine.detector.detect(image)
    assert len(faces) == 2
    together = engine.embedder.embed(image, faces)
    apart = np.vstack([engine.embedder.embed(image, [face]) for face in faces])
    assert np.abs(together - apart).max() < 1e-5


def test_a_file_that_is_not_the_network_is_refused(tmp_path):
    with pytest.raises(ModelUnavailableError):
        read_weights(dlib_model_dir() / "shape_predictor_5_face_landmarks.dat")
    truncated = tmp_path / "truncated.dat"
    truncated.write_bytes((dlib_model_dir() / "dlib_face_recognition_resnet_model_v1.dat").read_bytes()[:5_000_000])
    with pytest.raises(ModelUnavailableError):
        read_weights(truncated)
    with pytest.raises(ModelUnavailableError):
        read_weights(tmp_path / "missing.dat")


def iou(a, b) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_mtcnn_driver_finds_the_faces_facenet_pytorch_finds(engine):
    detector = engine.detector
    reference = MTCNN(keep_all=True, min_face_size=detector.min_face_size, post_process=False)
    overlaps, landmark_errors = [], []
    for image in real_photos():
        copy, scale = downscaled(image, detector.detection_max_side)
        boxes, probabilities, points = reference.detect(copy, landmarks=True)
        expected = [] if boxes is None else [(box * scale, mark * scale) for box, p, mark in
                                             zip(boxes, probabilities, points, strict=True) if p >= 0.99]
        found = [face for face in detector.detect(image) if face.probability >= 0.9]
        for box, marks in expected:
            best = max(found, key=lambda face: iou(box, face.box))
            overlaps.append(iou(box, best.box))
            landmark_errors.append(np.abs(best.landmarks - marks).max() / (box[2] - box[0]))
    assert len(overlaps) >= 4
    # Same faces, boxes within a few pixels: the resize filters differ, not the algorithm.
    assert min(overlaps) > 0.7 and np.median(overlaps) > 0.9
    assert np.median(landmark_errors) < 0.04


def test_mtcnn_driver_batches_equally_sized_photos(engine):
    images = [engine.decode(encode(astronaut())), engine.decode(encode(two_astronauts().resize((512, 512))))]
    together = engine.detector.detect_many(images)
    apart = [engine.detector.detect(image) for image in images]
    assert [len(faces) for faces in together] == [len(faces) for faces in apart] == [1, 2]
    for batch_faces, single_faces in zip(together, apart, strict=True):
        for a, b in zip(batch_faces, single_faces, strict=True):
            assert np.allclose(a.box, b.box, atol=1e-3)


def test_mtcnn_driver_finds_nothing_in_a_photo_smaller_than_a_face(engine):
    tiny = astronaut().resize((16, 16))  # under the 20 px minimum: no pyramid level at all
    [(boxes, probabilities, landmarks)] = detect_faces([tiny], engine.detector.networks, min_face_size=20)
    assert boxes.shape == (0, 4) and probabilities.shape == (0,) and landmarks.shape == (0, 5, 2)
