"""Face collections: the faces stored in them and the answers of the collection operations.

`IndexedFace` is the service model's `Face` (a stored face, with its FaceId); the connector's `Face` is the face
as detected (`reko.client.faces.Face`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reko.client.faces import Face
from reko.client.geometry import BoundingBox
from reko.client.parsing import (
    Answer,
    optional_datetime,
    optional_float,
    optional_int,
    optional_str,
    optional_struct,
    result_list,
    str_list,
)


@dataclass(frozen=True)
class IndexedFace:
    """A face stored in a collection."""

    face_id: str | None
    bounding_box: BoundingBox | None
    image_id: str | None
    external_image_id: str | None
    confidence: float | None
    index_faces_model_version: str | None = None
    user_id: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> IndexedFace:
        return cls(
            face_id=optional_str(answer, "FaceId"),
            bounding_box=optional_struct(answer, "BoundingBox", BoundingBox.from_api),
            image_id=optional_str(answer, "ImageId"),
            external_image_id=optional_str(answer, "ExternalImageId"),
            confidence=optional_float(answer, "Confidence"),
            index_faces_model_version=optional_str(answer, "IndexFacesModelVersion"),
            user_id=optional_str(answer, "UserId"),
        )


@dataclass(frozen=True)
class CreateCollectionResult:
    status_code: int | None
    collection_arn: str | None
    face_model_version: str | None

    @classmethod
    def from_api(cls, answer: Answer) -> CreateCollectionResult:
        return cls(
            optional_int(answer, "StatusCode"), optional_str(answer, "CollectionArn"),
            optional_str(answer, "FaceModelVersion"),
        )


@dataclass(frozen=True)
class ListCollectionsResult:
    """One page of collection ids; pass `next_token` back for the next page (None: this was the last)."""

    collection_ids: tuple[str, ...]
    face_model_versions: tuple[str, ...] | None
    next_token: str | None

    @classmethod
    def from_api(cls, answer: Answer) -> ListCollectionsResult:
        return cls(
            str_list(answer, "CollectionIds") or (), str_list(answer, "FaceModelVersions"),
            optional_str(answer, "NextToken"),
        )


@dataclass(frozen=True)
class DescribeCollectionResult:
    face_count: int | None
    face_model_version: str | None
    collection_arn: str | None
    creation_timestamp: datetime | None
    user_count: int | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> DescribeCollectionResult:
        return cls(
            face_count=optional_int(answer, "FaceCount"),
            face_model_version=optional_str(answer, "FaceModelVersion"),
            collection_arn=optional_str(answer, "CollectionARN"),
            creation_timestamp=optional_datetime(answer, "CreationTimestamp"),
            user_count=optional_int(answer, "UserCount"),
        )


@dataclass(frozen=True)
class FaceRecord:
    """A face IndexFaces stored: the stored face and what was detected on it."""

    face: IndexedFace | None
    face_detail: Face | None

    @classmethod
    def from_api(cls, answer: Answer) -> FaceRecord:
        return cls(
            optional_struct(answer, "Face", IndexedFace.from_api), optional_struct(answer, "FaceDetail", Face.from_api)
        )


@dataclass(frozen=True)
class UnindexedFace:
    """A face IndexFaces found but did not store, and why (EXCEEDS_MAX_FACES, LOW_SHARPNESS, …)."""

    reasons: tuple[str, ...] | None
    face_detail: Face | None

    @classmethod
    def from_api(cls, answer: Answer) -> UnindexedFace:
        return cls(str_list(answer, "Reasons"), optional_struct(answer, "FaceDetail", Face.from_api))


@dataclass(frozen=True)
class IndexFacesResult:
    face_records: tuple[FaceRecord, ...]
    unindexed_faces: tuple[UnindexedFace, ...]
    face_model_version: str | None = None
    orientation_correction: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> IndexFacesResult:
        return cls(
            face_records=result_list(answer, "FaceRecords", FaceRecord.from_api),
            unindexed_faces=result_list(answer, "UnindexedFaces", UnindexedFace.from_api),
            face_model_version=optional_str(answer, "FaceModelVersion"),
            orientation_correction=optional_str(answer, "OrientationCorrection"),
        )


@dataclass(frozen=True)
class FaceMatch:
    """A stored face that matched, with its similarity (0-100)."""

    similarity: float | None
    face: IndexedFace | None

    @classmethod
    def from_api(cls, answer: Answer) -> FaceMatch:
        return cls(optional_float(answer, "Similarity"), optional_struct(answer, "Face", IndexedFace.from_api))


@dataclass(frozen=True)
class SearchFacesByImageResult:
    """The largest face of the image, and the stored faces that match it, most similar first."""

    searched_face_bounding_box: BoundingBox | None
    searched_face_confidence: float | None
    face_matches: tuple[FaceMatch, ...]
    face_model_version: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> SearchFacesByImageResult:
        return cls(
            searched_face_bounding_box=optional_struct(answer, "SearchedFaceBoundingBox", BoundingBox.from_api),
            searched_face_confidence=optional_float(answer, "SearchedFaceConfidence"),
            face_matches=result_list(answer, "FaceMatches", FaceMatch.from_api),
            face_model_version=optional_str(answer, "FaceModelVersion"),
        )


@dataclass(frozen=True)
class SearchFacesResult:
    searched_face_id: str | None
    face_matches: tuple[FaceMatch, ...]
    face_model_version: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> SearchFacesResult:
        return cls(
            optional_str(answer, "SearchedFaceId"), result_list(answer, "FaceMatches", FaceMatch.from_api),
            optional_str(answer, "FaceModelVersion"),
        )


@dataclass(frozen=True)
class ListFacesResult:
    """One page of stored faces; pass `next_token` back for the next page (None: this was the last)."""

    faces: tuple[IndexedFace, ...]
    next_token: str | None
    face_model_version: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> ListFacesResult:
        return cls(
            result_list(answer, "Faces", IndexedFace.from_api), optional_str(answer, "NextToken"),
            optional_str(answer, "FaceModelVersion"),
        )


@dataclass(frozen=True)
class UnsuccessfulFaceDeletion:
    """A face DeleteFaces kept, and why (FACE_NOT_FOUND, ASSOCIATED_TO_AN_EXISTING_USER)."""

    face_id: str | None
    user_id: str | None
    reasons: tuple[str, ...] | None

    @classmethod
    def from_api(cls, answer: Answer) -> UnsuccessfulFaceDeletion:
        return cls(optional_str(answer, "FaceId"), optional_str(answer, "UserId"), str_list(answer, "Reasons"))


@dataclass(frozen=True)
class DeleteFacesResult:
    deleted_face_ids: tuple[str, ...]
    unsuccessful_deletions: tuple[UnsuccessfulFaceDeletion, ...]

    @classmethod
    def from_api(cls, answer: Answer) -> DeleteFacesResult:
        return cls(
            str_list(answer, "DeletedFaces") or (),
            result_list(answer, "UnsuccessfulFaceDeletions", UnsuccessfulFaceDeletion.from_api),
        )
