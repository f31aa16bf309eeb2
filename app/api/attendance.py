from flask import Blueprint, request
from flask_jwt_extended import current_user, jwt_required

from ..face import face_service
from ..services import attendance
from ..uploads import photos_from_request
from . import employee_id_field

bp = Blueprint("attendance", __name__)


@bp.post("/predict")
@jwt_required()
def predict():
    """Match a selfie (field `photo`); `employee_id` optionally names who it claims to be."""
    claimed = employee_id_field(request.form, required=False)
    photo = photos_from_request("photo", max_count=1)[0]
    return attendance.check_in(current_user, photo, claimed, face_service())
