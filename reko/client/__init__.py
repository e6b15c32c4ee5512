"""`reko.client`: Rekognition's image operations as a typed Python API, against Reko or AWS, built on boto3.

It mirrors the low-code connector's five actions (CompareFaces, DetectFaces, DetectLabels, DetectCustomLabels,
DetectProtectiveEquipment) and adds the face collection operations. Every method takes an image as a path, bytes,
a PIL image, a NumPy array or an `S3Location`, and returns frozen dataclasses; a member the answer lacks is None
(an operation's main list, which the service always sends, is an empty tuple instead). Errors raise `RekoError`
subclasses named like Rekognition's, carrying the request id. `draw(image, result)` draws any answer.

This package depends on boto3, NumPy and Pillow only, never on Reko's server: it can be copied into any project.

Example:
    >>> from reko.client import Credentials, RekoClient, draw
    >>> client = RekoClient("http://127.0.0.1:8085", "us-east-1",
    ...                     Credentials("AKIAREKOLOCALDEV0001", "reko-local-development-secret-do-not-use-in-prod"))
    >>> result = client.detect_faces("tests/images/astronaut.png", attributes=["ALL"])
    >>> draw("tests/images/astronaut.png", result).save("astronaut-faces.png")
"""

from __future__ import annotations

from reko.client.client import Credentials, RekoClient
from reko.client.collections import (
    CreateCollectionResult,
    DeleteFacesResult,
    DescribeCollectionResult,
    FaceMatch,
    FaceRecord,
    IndexedFace,
    IndexFacesResult,
    ListCollectionsResult,
    ListFacesResult,
    SearchFacesByImageResult,
    SearchFacesResult,
    UnindexedFace,
    UnsuccessfulFaceDeletion,
)
from reko.client.draw import draw
from reko.client.enums import AwsRegion, QualityFilter
from reko.client.errors import (
    AccessDeniedException,
    ImageTooLargeException,
    InternalServerError,
    InvalidImageFormatException,
    InvalidPaginationTokenException,
    InvalidParameterException,
    InvalidS3ObjectException,
    LimitExceededException,
    NotImplementedException,
    ProvisionedThroughputExceededException,
    RekoError,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ResourceNotReadyException,
    ThrottlingException,
)
from reko.client.faces import (
    AgeRange,
    Beard,
    BooleanAttribute,
    CompareFacesMatch,
    CompareFacesResult,
    CoversBodyPart,
    DetectFacesResult,
    Emotion,
    EyeDirection,
    Eyeglasses,
    EyesOpen,
    Face,
    FaceOccluded,
    Gender,
    ImageQuality,
    Landmark,
    MouthOpen,
    Mustache,
    Pose,
    Smile,
    Sunglasses,
)
from reko.client.geometry import BoundingBox, Geometry, Point, Polygon
from reko.client.images import ImageInput, S3Location
from reko.client.labels import (
    CustomLabel,
    DetectCustomLabelsResult,
    DetectLabelsResult,
    DominantColor,
    ImageProperties,
    ImageRegionProperties,
    Instance,
    Label,
    LabelImageQuality,
)
from reko.client.parsing import ResponseParseError
from reko.client.ppe import (
    DetectProtectiveEquipmentResult,
    EquipmentDetection,
    ProtectiveEquipmentBodyPart,
    ProtectiveEquipmentPerson,
    ProtectiveEquipmentSummary,
)

__all__ = [
    "AccessDeniedException", "AgeRange", "AwsRegion", "Beard", "BooleanAttribute", "BoundingBox",
    "CompareFacesMatch", "CompareFacesResult", "CoversBodyPart", "CreateCollectionResult", "Credentials",
    "CustomLabel", "DeleteFacesResult", "DescribeCollectionResult", "DetectCustomLabelsResult", "DetectFacesResult",
    "DetectLabelsResult", "DetectProtectiveEquipmentResult", "DominantColor", "Emotion", "EquipmentDetection",
    "EyeDirection", "Eyeglasses", "EyesOpen", "Face", "FaceMatch", "FaceOccluded", "FaceRecord", "Gender",
    "Geometry", "ImageInput", "ImageProperties", "ImageQuality", "ImageRegionProperties", "ImageTooLargeException",
    "IndexFacesResult", "IndexedFace", "Instance", "InternalServerError", "InvalidImageFormatException",
    "InvalidPaginationTokenException", "InvalidParameterException", "InvalidS3ObjectException", "Label",
    "LabelImageQuality", "Landmark", "LimitExceededException", "ListCollectionsResult", "ListFacesResult",
    "MouthOpen", "Mustache", "NotImplementedException", "Point", "Polygon", "Pose",
    "ProtectiveEquipmentBodyPart", "ProtectiveEquipmentPerson", "ProtectiveEquipmentSummary",
    "ProvisionedThroughputExceededException", "QualityFilter", "RekoClient", "RekoError",
    "ResourceAlreadyExistsException", "ResourceNotFoundException", "ResourceNotReadyException",
    "ResponseParseError", "S3Location", "SearchFacesByImageResult", "SearchFacesResult", "Smile", "Sunglasses",
    "ThrottlingException", "UnindexedFace", "UnsuccessfulFaceDeletion", "draw",
]
