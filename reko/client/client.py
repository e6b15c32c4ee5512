"""`RekoClient`: the connector's actions (and the face collection operations) as typed Python methods on boto3.

One boto3 client does the signing, retries and HTTP; this class only shapes requests from Python values and turns
answers into the frozen entities of `reko.client` and error answers into `RekoError`s. It works unchanged against
AWS (no endpoint) and against Reko (its URL as `endpoint`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from reko.client.collections import (
    CreateCollectionResult,
    DeleteFacesResult,
    DescribeCollectionResult,
    IndexedFace,
    IndexFacesResult,
    ListCollectionsResult,
    ListFacesResult,
    SearchFacesByImageResult,
    SearchFacesResult,
)
from reko.client.enums import AwsRegion, QualityFilter
from reko.client.errors import error_from_response
from reko.client.faces import CompareFacesResult, DetectFacesResult
from reko.client.images import ImageInput, image_member
from reko.client.labels import DetectCustomLabelsResult, DetectLabelsResult
from reko.client.ppe import DetectProtectiveEquipmentResult

R = TypeVar("R")


@dataclass(frozen=True)
class Credentials:
    """An access key pair, with the session token that temporary credentials carry.

    Example:
        >>> Credentials("AKIAREKOLOCALDEV0001", "secret")
        Credentials(access_key_id='AKIAREKOLOCALDEV0001', secret_access_key='***', session_token=None)
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        token = None if self.session_token is None else "***"
        return (f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***', "
                f"session_token={token!r})")


def _drop_none(**members: Any) -> dict[str, Any]:
    """The request members that were given: an absent member lets the service apply its documented default."""
    return {key: value for key, value in members.items() if value is not None}


def _enum_value(value: QualityFilter | str | None) -> str | None:
    return value.value if isinstance(value, QualityFilter) else value


class RekoClient:
    """Rekognition's image operations as typed methods, against Reko or AWS.

    Args:
        endpoint: the service URL, such as "http://localhost:8085" for Reko; None uses AWS (or the
            AWS_ENDPOINT_URL_REKOGNITION / AWS_ENDPOINT_URL variables, as boto3 does).
        region: an `AwsRegion` or any region code; None reads AWS_REGION / AWS_DEFAULT_REGION / the profile.
        credentials: an access key pair; None uses boto3's usual chain (environment, profile, instance role).
        profile: a profile of ~/.aws/config to read region and credentials from.
        config: a botocore `Config` (timeouts, retries) for the underlying client.

    Every method raises a `RekoError` subclass for an error answer. What fails before an answer exists stays
    botocore's own exception: a request boto3 refuses to send (`ParamValidationError`), no credentials
    (`NoCredentialsError`), no connection (`EndpointConnectionError`); a file that cannot be read is an `OSError`.

    Example:
        >>> from reko.client import Credentials, RekoClient
        >>> client = RekoClient("http://localhost:8085", "us-east-1",
        ...                     Credentials("AKIAREKOLOCALDEV0001", "reko-local-development-secret-do-not-use-in-prod"))
        >>> [round(face.confidence or 0) for face in client.detect_faces("tests/images/astronaut.png").faces]
        [100]
    """

    def __init__(
        self, endpoint: str | None = None, region: AwsRegion | str | None = None,
        credentials: Credentials | None = None, *, profile: str | None = None, config: Config | None = None,
    ) -> None:
        session = boto3.session.Session(profile_name=profile)
        keys = {} if credentials is None else {
            "aws_access_key_id": credentials.access_key_id, "aws_secret_access_key": credentials.secret_access_key,
            "aws_session_token": credentials.session_token,
        }
        self.boto3_client: Any = session.client(
            "rekognition", endpoint_url=endpoint, region_name=region.value if isinstance(region, AwsRegion) else region,
            config=config, **keys,
        )

    @classmethod
    def from_boto3(cls, boto3_client: Any) -> RekoClient:
        """Wrap a boto3 Rekognition client made elsewhere (with its own session, credentials provider, hooks)."""
        client = cls.__new__(cls)
        client.boto3_client = boto3_client
        return client

    def _call(self, operation: str, request: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], R]) -> R:
        try:
            answer = getattr(self.boto3_client, operation)(**request)
        except ClientError as error:
            raise error_from_response(error.response) from error
        return parse(answer)

    # The connector's five actions.

    def detect_faces(self, image: ImageInput, attributes: Sequence[str] = ("DEFAULT",)) -> DetectFacesResult:
        """DetectFaces: the faces of the image, largest first.

        Args:
            image: a path, bytes, PIL image, NumPy array (RGB) or `S3Location`.
            attributes: "DEFAULT" (box, landmarks, pose, quality, confidence), "ALL", or single attributes such as
                "SMILE" (added to DEFAULT).

        Example:
            >>> face = client.detect_faces("tests/images/astronaut.png", attributes=["ALL"]).faces[0]
            >>> face.smile
            Smile(value=True, confidence=…)
        """
        return self._call(
            "detect_faces", {"Image": image_member(image), "Attributes": list(attributes)}, DetectFacesResult.from_api
        )

    def compare_faces(
        self, source: ImageInput, target: ImageInput, similarity_threshold: float | None = None,
        quality_filter: QualityFilter | str | None = None,
    ) -> CompareFacesResult:
        """CompareFaces: the largest face of `source` against up to 100 faces of `target`.

        Args:
            similarity_threshold: 0-100; matches below it are listed as unmatched (service default 80).
            quality_filter: drop low-quality faces first (service default NONE).

        Example:
            >>> result = client.compare_faces("alice-1.jpg", "team.jpg", similarity_threshold=90)
            >>> [round(match.similarity or 0) for match in result.matches]
            [99]
        """
        request = _drop_none(
            SourceImage=image_member(source), TargetImage=image_member(target),
            SimilarityThreshold=similarity_threshold, QualityFilter=_enum_value(quality_filter),
        )
        return self._call("compare_faces", request, CompareFacesResult.from_api)

    def detect_labels(
        self, image: ImageInput, max_labels: int | None = None, min_confidence: float | None = None,
        features: Sequence[str] | None = None, settings: Mapping[str, Any] | None = None,
    ) -> DetectLabelsResult:
        """DetectLabels: things, scenes and concepts, with parents, instances (boxes) and categories.

        Args:
            max_labels: the most labels returned (service default 1000).
            min_confidence: 0-100 (service default 55).
            features: "GENERAL_LABELS" and/or "IMAGE_PROPERTIES" (service default GENERAL_LABELS).
            settings: the API's `Settings` member as is (label and category filters, MaxDominantColors).

        Example:
            >>> [label.name for label in client.detect_labels("tests/images/chelsea.png", max_labels=3).labels]
            ['Cat', 'Animal', 'Mammal']
        """
        request = _drop_none(
            Image=image_member(image), MaxLabels=max_labels, MinConfidence=min_confidence,
            Features=None if features is None else list(features), Settings=settings,
        )
        return self._call("detect_labels", request, DetectLabelsResult.from_api)

    def detect_custom_labels(
        self, image: ImageInput, project_version_arn: str, max_results: int | None = None,
        min_confidence: float | None = None,
    ) -> DetectCustomLabelsResult:
        """DetectCustomLabels: the labels of a trained (and started) Custom Labels model version.

        Example:
            >>> result = client.detect_custom_labels("part.jpg", "arn:aws:rekognition:…:project/…/version/…/1")
            >>> [(label.name, label.geometry is not None) for label in result.custom_labels]
            [('scratch', True)]
        """
        request = _drop_none(
            ProjectVersionArn=project_version_arn, Image=image_member(image), MaxResults=max_results,
            MinConfidence=min_confidence,
        )
        return self._call("detect_custom_labels", request, DetectCustomLabelsResult.from_api)

    def detect_protective_equipment(
        self, image: ImageInput, required_equipment: Sequence[str] | None = None, min_confidence: float = 80.0,
    ) -> DetectProtectiveEquipmentResult:
        """DetectProtectiveEquipment: persons, their body parts and the equipment on each.

        Args:
            required_equipment: FACE_COVER, HAND_COVER and/or HEAD_COVER; when given, the answer's summary sorts
                persons by whether they wear all of it.
            min_confidence: the summary's threshold (0-100), used only with `required_equipment`.

        Example:
            >>> result = client.detect_protective_equipment("site.jpg", required_equipment=["HEAD_COVER"])
            >>> [person.id for person in result.persons]
            [0, 1]
        """
        request: dict[str, Any] = {"Image": image_member(image)}
        if required_equipment is not None:
            request["SummarizationAttributes"] = {
                "MinConfidence": min_confidence, "RequiredEquipmentTypes": list(required_equipment),
            }
        return self._call("detect_protective_equipment", request, DetectProtectiveEquipmentResult.from_api)

    # Face collections.

    def create_collection(self, collection_id: str, tags: Mapping[str, str] | None = None) -> CreateCollectionResult:
        """CreateCollection. Example: `client.create_collection("staff").collection_arn`."""
        request = _drop_none(CollectionId=collection_id, Tags=None if tags is None else dict(tags))
        return self._call("create_collection", request, CreateCollectionResult.from_api)

    def list_collections(self, max_results: int | None = None, next_token: str | None = None) -> ListCollectionsResult:
        """ListCollections, one page. Example: `client.list_collections().collection_ids`."""
        request = _drop_none(MaxResults=max_results, NextToken=next_token)
        return self._call("list_collections", request, ListCollectionsResult.from_api)

    def describe_collection(self, collection_id: str) -> DescribeCollectionResult:
        """DescribeCollection. Example: `client.describe_collection("staff").face_count`."""
        return self._call("describe_collection", {"CollectionId": collection_id}, DescribeCollectionResult.from_api)

    def delete_collection(self, collection_id: str) -> int | None:
        """DeleteCollection; the answer's StatusCode (200)."""
        answer = self._call("delete_collection", {"CollectionId": collection_id}, dict)
        status = answer.get("StatusCode")
        return status if isinstance(status, int) else None

    def index_faces(
        self, collection_id: str, image: ImageInput, external_image_id: str | None = None,
        detection_attributes: Sequence[str] | None = None, max_faces: int | None = None,
        quality_filter: QualityFilter | str | None = None,
    ) -> IndexFacesResult:
        """IndexFaces: store the image's faces (largest first, up to `max_faces`) in the collection.

        Example:
            >>> record = client.index_faces("staff", "alice.jpg", external_image_id="alice").face_records[0]
            >>> record.face.external_image_id if record.face else None
            'alice'
        """
        request = _drop_none(
            CollectionId=collection_id, Image=image_member(image), ExternalImageId=external_image_id,
            DetectionAttributes=None if detection_attributes is None else list(detection_attributes),
            MaxFaces=max_faces, QualityFilter=_enum_value(quality_filter),
        )
        return self._call("index_faces", request, IndexFacesResult.from_api)

    def search_faces_by_image(
        self, collection_id: str, image: ImageInput, max_faces: int | None = None,
        face_match_threshold: float | None = None, quality_filter: QualityFilter | str | None = None,
    ) -> SearchFacesByImageResult:
        """SearchFacesByImage: the stored faces most like the image's largest face.

        Example:
            >>> match = client.search_faces_by_image("staff", "door-camera.jpg").face_matches[0]
            >>> match.face.external_image_id if match.face else None
            'alice'
        """
        request = _drop_none(
            CollectionId=collection_id, Image=image_member(image), MaxFaces=max_faces,
            FaceMatchThreshold=face_match_threshold, QualityFilter=_enum_value(quality_filter),
        )
        return self._call("search_faces_by_image", request, SearchFacesByImageResult.from_api)

    def search_faces(
        self, collection_id: str, face_id: str, max_faces: int | None = None, face_match_threshold: float | None = None,
    ) -> SearchFacesResult:
        """SearchFaces: the stored faces most like a stored face (itself excluded)."""
        request = _drop_none(
            CollectionId=collection_id, FaceId=face_id, MaxFaces=max_faces, FaceMatchThreshold=face_match_threshold,
        )
        return self._call("search_faces", request, SearchFacesResult.from_api)

    def list_faces(
        self, collection_id: str, max_results: int | None = None, next_token: str | None = None,
        user_id: str | None = None, face_ids: Sequence[str] | None = None,
    ) -> ListFacesResult:
        """ListFaces, one page; `iter_faces` walks every page."""
        request = _drop_none(
            CollectionId=collection_id, MaxResults=max_results, NextToken=next_token, UserId=user_id,
            FaceIds=None if face_ids is None else list(face_ids),
        )
        return self._call("list_faces", request, ListFacesResult.from_api)

    def iter_faces(self, collection_id: str, page_size: int | None = None) -> Iterator[IndexedFace]:
        """Every face of the collection, page after page.

        Example:
            >>> sum(1 for _ in client.iter_faces("staff"))
            42
        """
        next_token: str | None = None
        while True:
            page = self.list_faces(collection_id, max_results=page_size, next_token=next_token)
            yield from page.faces
            if page.next_token is None:
                return
            next_token = page.next_token

    def delete_faces(self, collection_id: str, face_ids: Sequence[str]) -> DeleteFacesResult:
        """DeleteFaces: the ids deleted, and those kept with the reason."""
        request = {"CollectionId": collection_id, "FaceIds": list(face_ids)}
        return self._call("delete_faces", request, DeleteFacesResult.from_api)
