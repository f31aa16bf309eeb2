"""Property-based fuzzing of the upload path (hypothesis): mutated and random files of every kind go
through /predict and /register/check with the real decoder, detector and recogniser. No input may
produce a 5xx, every answer is our JSON shape, and memory stays bounded.

ABSEN_FUZZ_EXAMPLES sets the number of inputs (CI: 10,000 through /predict, about 4 minutes here).
"""

from __future__ import annotations

import io
import os
import resource

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.photos import astronaut, encode

EXAMPLES = int(os.environ.get("ABSEN_FUZZ_EXAMPLES", "10000"))
MAX_RSS_GROWTH_MB = 400


def seeds() -> list[bytes]:
    """Small real files to mutate: faces (so mutants reach detection and embedding) and non-faces."""
    face = astronaut().crop((120, 20, 320, 220))
    small = [face.resize((s, s)) for s in (48, 96, 160)]
    noise = Image.effect_noise((64, 64), 80).convert("RGB")
    files = [encode(image, fmt) for image in [*small, noise] for fmt in ("JPEG", "PNG", "WEBP")]
    files.append(encode(small[1], "PNG", optimize=True))
    files.append(encode(small[1].convert("P"), "PNG"))
    return files


SEEDS = seeds()


@st.composite
def mutant(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "splice", "overwrite_header"]))
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[where:]
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[where:where + draw(st.integers(1, 64))]
        elif kind == "splice":
            other = draw(st.sampled_from(SEEDS))
            data[where:] = other[draw(st.integers(0, len(other) - 1)):]
        elif kind == "overwrite_header":  # dimensions and chunk lengths live in the first bytes
            data[where % 40:where % 40 + 4] = draw(st.binary(min_size=4, max_size=4))
    return bytes(data)


# Mostly mutants with accepted names, so that most inputs get past the name to libmagic and the decoder.
uploads = st.one_of(mutant(), mutant(), mutant(), st.binary(max_size=4096))
filenames = st.one_of(
    st.sampled_from(["selfie.jpg", "selfie.jpeg", "selfie.png", "selfie.webp", "SELFIE.JPG"]),
    st.sampled_from(["selfie.jpg", "selfie.png", "s\u00e9lfie.webp", "a" * 300 + ".jpg", "../x.png"]),
    st.sampled_from(["selfie.gif", "selfie", ".jpg", "x.jpg\x00.exe"]),
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_answer(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    body = response.json
    assert isinstance(body, dict), response.get_data(as_text=True)[:200]
    if response.status_code >= 400:
        assert set(body) == {"error", "message"} and body["error"] and body["message"]


@pytest.mark.fuzz
def test_fuzzed_uploads_never_cause_a_server_error(app, api):
    app.config["PREDICT_TOKEN_LIMIT"] = "1000000 per minute"  # fuzz the upload path, not the rate limit
    assert api.register(api.hr(), "EMP-1", [(encode(astronaut()), "enrol.jpg")]).status_code == 201
    kiosk = api.hr()
    statuses: dict[int, int] = {}
    before = rss_mb()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(data=uploads, filename=filenames)
    def one_upload(data: bytes, filename: str) -> None:
        response = api.client.post("/predict", headers=kiosk, content_type="multipart/form-data",
                                   data={"photo": (io.BytesIO(data), filename)})
        check_answer(response)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    one_upload()
    total = sum(statuses.values())
    print(f"\nfuzzed /predict with {total} inputs: statuses {dict(sorted(statuses.items()))}; "
          f"max RSS {before:.0f} -> {rss_mb():.0f} MB")
    assert total >= EXAMPLES * 0.95  # hypothesis may stop early only on exhausting the space
    assert 200 in statuses and any(s >= 400 for s in statuses)  # both paths were exercised
    assert rss_mb() - before < MAX_RSS_GROWTH_MB


@pytest.mark.fuzz
def test_fuzzed_batches_to_the_photo_check_never_cause_a_server_error(api):
    hr = api.hr()

    @settings(max_examples=max(EXAMPLES // 20, 50), deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(batch=st.lists(st.tuples(uploads, filenames), min_size=1, max_size=4))
    def one_batch(batch) -> None:
        response = api.client.post("/register/check", headers=hr, content_type="multipart/form-data",
                                   data={"photo": [(io.BytesIO(d), n) for d, n in batch]})
        check_answer(response)
        if response.status_code == 200:
            assert len(response.json["results"]) == len(batch)

    one_batch()
