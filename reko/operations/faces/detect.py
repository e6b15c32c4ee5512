"""DetectFaces: the faces of an image with the `FaceDetail` members the request asks for."""

from __future__ import annotations

from typing import Any

from reko.operations.common.boxes import xyxy_to_ratio_box
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.operations.faces import details
from reko.operations.faces.landmarks import DEFAULT_LANDMARK_TYPES, LANDMARK_TYPES, landmarks_from_mesh
from reko.pipelines.faces import FaceAnalysis, Needs
from reko.vision.faces.expressions import ExpressionCurves

# FER-2013's seven classes under Rekognition's names.
EMOTION_NAMES_BY_FER_CLASS = {
    "happy": "HAPPY",
    "sad": "SAD",
    "angry": "ANGRY",
    "disgust": "DISGUSTED",
    "surprise": "SURPRISED",
    "neutral": "CALM",
    "fear": "FEAR",
}
# No gaze ground truth exists here, so EyeDirection's angles are unmeasured: its Confidence is capped at 50 %
# (no claim beyond a coin's) and scaled by what can be measured: the mesh's face presence and EyesOpen
# (no iris to read on a shut eye).
GAZE_CONFIDENCE_CAP = 0.5


def detect_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Faces in the image, the 100 largest, with the `FaceDetail` members the `Attributes` ask for."""
    image = load_image(request["Image"], context)
    attributes = request.get("Attributes") or ["DEFAULT"]
    members = details.requested_members(attributes)
    needs = attribute_needs(attributes, members)
    landmark_types = LANDMARK_TYPES if details.wants_all_landmarks(attributes) else DEFAULT_LANDMARK_TYPES
    faces = context.faces.analyze(image.rgb, needs)
    curves = context.faces.expression_curves
    return {
        "FaceDetails": [
            face_detail(face, members, landmark_types, (image.width, image.height), curves) for face in faces
        ]
    }


def attribute_needs(attributes: list[str], members: frozenset[str]) -> Needs:
    """The optional models the requested `FaceDetail` members need (shared with IndexFaces)."""
    return Needs(
        # pupils, gaze and the lid contours EyesOpen reads all come from the iris model
        iris=details.wants_all_landmarks(attributes) or bool({"EyeDirection", "EyesOpen"} & members),
        age_gender=bool({"AgeRange", "Gender"} & members),
        emotions=bool({"Emotions", "Smile"} & members),
        wear=bool({"Eyeglasses", "Sunglasses", "Beard", "Mustache", "FaceOccluded"} & members),
    )


def face_detail(
    face: FaceAnalysis,
    members: frozenset[str],
    landmark_types: tuple[str, ...],
    size: tuple[int, int],
    curves: ExpressionCurves,
    order: tuple[str, ...] = details.FACE_DETAIL_ORDER,
) -> dict[str, Any]:
    """One face as DetectFaces' `FaceDetail` or CompareFaces' `ComparedFace`: one code path for both.

    Args:
        members: the members to return (those a face lacks, such as an unrequested Gender, are left out).
        size: (width, height) of the decoded image, px.
        order: the shape's member order in botocore's model, kept so answers read like Rekognition's.
    """
    width, height = size
    pose = face.geometry.pose
    values: dict[str, Any] = {
        "BoundingBox": xyxy_to_ratio_box(face.box, width, height),
        "Landmarks": landmarks_from_mesh(face.mesh.points, width, height, landmark_types),
        "Pose": {"Roll": pose.roll_deg, "Yaw": pose.yaw_deg, "Pitch": pose.pitch_deg},
        "Quality": {"Brightness": face.quality.brightness, "Sharpness": face.quality.sharpness},
        "Confidence": details.percent(face.score),
    }
    if face.age_range is not None and face.male_probability is not None and face.gender_confidence is not None:
        values["AgeRange"] = {"Low": face.age_range[0], "High": face.age_range[1]}
        values["Gender"] = details.gender(face.male_probability, face.gender_confidence)
    if face.emotions is not None:
        values["Emotions"] = details.emotions(rekognition_emotions(face.emotions))
        values["Smile"] = details.boolean_attribute(curves.smile_probability(face.geometry, face.emotions["happy"]))
    if face.wear is not None:
        values["Eyeglasses"] = details.boolean_attribute(face.wear.eyeglasses)
        values["Sunglasses"] = details.boolean_attribute(face.wear.sunglasses)
        values["Beard"] = details.boolean_attribute(face.wear.beard)
        values["Mustache"] = details.boolean_attribute(face.wear.mustache)
        values["FaceOccluded"] = details.boolean_attribute(face.wear.occluded)
    eyes_open = curves.eyes_open_probability(face.geometry)
    values["EyesOpen"] = details.boolean_attribute(eyes_open)
    values["MouthOpen"] = details.boolean_attribute(curves.mouth_open_probability(face.geometry))
    values["EyeDirection"] = {
        "Yaw": face.geometry.gaze_yaw_deg,
        "Pitch": face.geometry.gaze_pitch_deg,
        "Confidence": details.percent(GAZE_CONFIDENCE_CAP * face.mesh.presence * eyes_open),
    }
    return {name: values[name] for name in order if name in members and name in values}


def rekognition_emotions(fer_probabilities: dict[str, float]) -> dict[str, float]:
    """The expression model's seven FER-2013 classes under Rekognition's names (neutral is CALM).

    CONFUSED and UNKNOWN are left out: FER-2013 has no such class and no measured signal stands in for them
    (the spread of the seven was tried: UNKNOWN then came first for a quarter of labelled faces).
    """
    return {EMOTION_NAMES_BY_FER_CLASS[name]: p for name, p in fer_probabilities.items()}
