import pytest
from PIL import Image

from models import Employee, FaceTemplate, User, db
from tests.api.test_auth import assert_error
from tests.photos import astronaut, astronaut_selfie, dataset, encode, two_astronauts


def test_hr_registers_an_employee_with_two_photos_and_a_login(app, api, astronaut_jpeg):
    selfie = (encode(astronaut_selfie(), "PNG"), "selfie.png")
    response = api.register(api.hr(), "EMP-001", [astronaut_jpeg, selfie], name="Eileen Collins", password="s3cret-pass")
    assert response.status_code == 201, response.json
    assert response.json["employee"].items() >= {"employee_id": "EMP-001", "name": "Eileen Collins", "active": True,
                                                 "faces": 2, "login": True}.items()
    with app.app_context():
        templates = db.session.query(FaceTemplate).all()
        assert [(t.model, t.dim, len(t.vector)) for t in templates] == [("dlib-resnet-v1", 128, 512)] * 2
        assert db.session.query(User).filter_by(username="EMP-001").one().role.value == "employee"
    assert api.login("EMP-001", "s3cret-pass")["user"]["employee_id"] == "EMP-001"


def test_admin_may_register_without_a_password(api, astronaut_jpeg):
    response = api.register(api.admin(), "E2", [astronaut_jpeg])
    assert response.status_code == 201 and response.json["employee"]["login"] is False


def test_an_employee_cannot_register(api, astronaut_jpeg):
    api.register(api.hr(), "E1", [astronaut_jpeg], password="employee-pass")
    employee = api.token("E1", "employee-pass")
    assert_error(api.register(employee, "E9", [astronaut_jpeg]), 403, "forbidden")


def test_registering_needs_a_token(client):
    assert_error(client.post("/register", data={"employee_id": "E1"}), 401, "unauthorized")


def test_a_duplicate_employee_id_is_409(api, astronaut_jpeg):
    assert api.register(api.hr(), "E1", [astronaut_jpeg]).status_code == 201
    assert_error(api.register(api.hr(), "E1", [astronaut_jpeg]), 409, "conflict")


def test_an_employee_id_that_is_an_existing_username_is_409(api, astronaut_jpeg):
    assert_error(api.register(api.hr(), "admin", [astronaut_jpeg]), 409, "conflict")


@pytest.mark.parametrize("form, code", [
    ({"name": "No Id"}, "missing_field"),
    ({"employee_id": "E1"}, "missing_field"),
    ({"employee_id": "E 1/../x", "name": "Bad Id"}, "invalid_field"),
    ({"employee_id": "E1", "name": "x" * 201}, "invalid_field"),
    ({"employee_id": "E1", "name": "Short Password", "password": "short"}, "invalid_password"),
])
def test_invalid_fields_are_400(api, client, astronaut_jpeg, form, code):
    import io

    form = {**form, "photo": (io.BytesIO(astronaut_jpeg[0]), "a.jpg")}
    response = client.post("/register", headers=api.hr(), data=form, content_type="multipart/form-data")
    assert_error(response, 400, code)


def test_no_photo_is_400(api):
    assert_error(api.register(api.hr(), "E1", []), 400, "missing_file")


def test_too_many_photos_is_400(app, api, astronaut_jpeg):
    app.config["MAX_PHOTOS"] = 2
    assert_error(api.register(api.hr(), "E1", [astronaut_jpeg] * 3), 400, "too_many_files")


@pytest.mark.parametrize("photo, status, code", [
    ((b"GIF89a" + b"\0" * 100, "face.gif"), 415, "unsupported_media_type"),
    ((b"just some text, not a photo", "face.jpg"), 415, "unsupported_media_type"),
    ((b"%PDF-1.7\n" + b"x" * 200, "face.png"), 415, "unsupported_media_type"),
    ((encode(astronaut())[:3000], "truncated.jpg"), 400, "invalid_image"),
    ((b"", "empty.jpg"), 400, "invalid_image"),
    ((encode(astronaut()), "no-extension"), 415, "unsupported_media_type"),
])
def test_bad_files_are_refused_with_their_code(api, photo, status, code):
    assert_error(api.register(api.hr(), "E1", [photo]), status, code)


def test_a_photo_over_the_size_limit_is_413(app, api, astronaut_jpeg):
    app.config["MAX_PHOTO_BYTES"] = 10_000
    assert_error(api.register(api.hr(), "E1", [astronaut_jpeg]), 413, "file_too_large")


def test_a_request_over_the_total_limit_is_413(app, api, astronaut_jpeg):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    assert_error(api.register(api.hr(), "E1", [astronaut_jpeg]), 413, "file_too_large")


def test_an_image_with_too_many_pixels_is_413(app, api):
    bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")
    assert_error(api.register(api.hr(), "E1", [(bomb, "bomb.png")]), 413, "file_too_large")


@pytest.mark.parametrize("image, code", [
    (Image.new("RGB", (640, 480), (90, 140, 200)), "no_face"),
    (two_astronauts(), "multiple_faces"),
    (astronaut().resize((160, 160)), "face_too_small"),
])
def test_unusable_faces_are_422(api, image, code):
    assert_error(api.register(api.hr(), "E1", [(encode(image), "p.jpg")]), 422, code)


def test_one_bad_photo_refuses_the_whole_request_and_stores_nothing(app, api, astronaut_jpeg):
    blank = (encode(Image.new("RGB", (640, 480))), "second.jpg")
    response = api.register(api.hr(), "E1", [astronaut_jpeg, blank], password="employee-pass")
    assert_error(response, 422, "no_face")
    assert "second.jpg" in response.json["message"]
    with app.app_context():
        assert db.session.query(Employee).count() == 0
        assert db.session.query(FaceTemplate).count() == 0
        assert db.session.query(User).filter_by(username="E1").count() == 0
    assert api.register(api.hr(), "E1", [astronaut_jpeg]).status_code == 201


def test_webp_content_named_jpg_is_accepted_by_content(api):
    photo = dataset("people/deepface_id03/img47.jpg")
    assert api.register(api.hr(), "E1", [(photo.read_bytes(), photo.name)]).status_code == 201


def test_a_group_photo_from_the_dataset_is_refused(api):
    photo = dataset("groups/obama_and_biden.jpg")
    assert_error(api.register(api.hr(), "E1", [(photo.read_bytes(), photo.name)]), 422, "multiple_faces")


def test_a_blank_optional_field_counts_as_absent(api):
    """Found by schemathesis: a whitespace-only optional field was a 500 (its length check ran on None)."""
    response = api.client.get("/employees?q=%20%20", headers=api.hr())
    assert response.status_code == 200 and response.json["total"] == 0


@pytest.mark.parametrize("path", ["/employees?q=a%00b", "/audit?reason=x%00"])
def test_a_nul_character_in_text_is_400_on_every_database(api, path):
    """Found by schemathesis on PostgreSQL, whose text cannot hold NUL: it was a 500 there."""
    response = api.client.get(path, headers=api.hr())
    assert response.status_code == 400 and response.json["error"] == "invalid_field"
