"""Rekognition's errors as Python exceptions, each carrying the server's request id.

Every error answer becomes an instance of the class named like its `__type` (`InvalidParameterException`, …), all
under `RekoError`, so callers catch what they expect without parsing botocore's `ClientError`. A code this module
does not know still raises a `RekoError` whose `code` names it.
"""

from __future__ import annotations

from typing import Any


class RekoError(Exception):
    """Base of every error the service answers with.

    Attributes:
        code: the error's name on the wire, such as "InvalidParameterException".
        message: the server's explanation.
        request_id: the `x-amzn-RequestId` of the failed call, for the server's log (None if the answer lacked it).
        http_status: the HTTP status of the answer.

    Example:
        >>> try:
        ...     client.detect_faces(b"not an image")
        ... except RekoError as error:
        ...     print(error.code, error.request_id)
        InvalidImageFormatException 0f6c…
    """

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(f"{message} (request id {request_id})" if request_id else message)
        self.code = code or type(self).__name__
        self.message = message
        self.request_id = request_id
        self.http_status = http_status


class AccessDeniedException(RekoError):
    """The caller may not run this operation."""


class ConflictException(RekoError):
    """The request conflicts with the resource's current state."""


class HumanLoopQuotaExceededException(RekoError):
    """Too many human review loops."""


class IdempotentParameterMismatchException(RekoError):
    """A ClientRequestToken was reused with different parameters."""


class ImageTooLargeException(RekoError):
    """The image is larger than the operation accepts (bytes or pixels)."""


class InternalServerError(RekoError):
    """The service failed; retrying may help."""


class InvalidImageFormatException(RekoError):
    """The bytes are not a JPEG or PNG image the service can decode."""


class InvalidManifestException(RekoError):
    """A dataset manifest is not valid."""


class InvalidPaginationTokenException(RekoError):
    """A NextToken that this listing did not hand out, or one that expired."""


class InvalidParameterException(RekoError):
    """A request member is out of its range or otherwise not valid."""


class InvalidPolicyRevisionIdException(RekoError):
    """A project policy revision that does not match."""


class InvalidS3ObjectException(RekoError):
    """The S3 object cannot be read."""


class LimitExceededException(RekoError):
    """A service limit was reached."""


class MalformedPolicyDocumentException(RekoError):
    """A project policy that is not valid JSON policy."""


class ProvisionedThroughputExceededException(RekoError):
    """More requests than the account's throughput allows."""


class ResourceAlreadyExistsException(RekoError):
    """A collection (or other resource) of that id exists already."""


class ResourceInUseException(RekoError):
    """The resource is busy."""


class ResourceNotFoundException(RekoError):
    """No collection, face, project or version of that id."""


class ResourceNotReadyException(RekoError):
    """The resource (a model version, say) is not ready to use yet."""


class ServiceQuotaExceededException(RekoError):
    """A quota on the number of resources was reached."""


class SessionNotFoundException(RekoError):
    """A face liveness session that does not exist."""


class ThrottlingException(RekoError):
    """The service is busy; botocore retries these before they reach you."""


class VideoTooLargeException(RekoError):
    """The video is larger than the service accepts."""


class NotImplementedException(RekoError):
    """Reko's answer to an operation of the Rekognition model it does not implement (HTTP 501)."""


# Every exception of the Rekognition service model (botocore 1.44.8), plus Reko's NotImplementedException.
ERRORS_BY_CODE: dict[str, type[RekoError]] = {
    error.__name__: error
    for error in (
        AccessDeniedException, ConflictException, HumanLoopQuotaExceededException,
        IdempotentParameterMismatchException, ImageTooLargeException, InternalServerError,
        InvalidImageFormatException, InvalidManifestException, InvalidPaginationTokenException,
        InvalidParameterException, InvalidPolicyRevisionIdException, InvalidS3ObjectException,
        LimitExceededException, MalformedPolicyDocumentException, ProvisionedThroughputExceededException,
        ResourceAlreadyExistsException, ResourceInUseException, ResourceNotFoundException,
        ResourceNotReadyException, ServiceQuotaExceededException, SessionNotFoundException, ThrottlingException,
        VideoTooLargeException, NotImplementedException,
    )
}


def error_from_response(response: dict[str, Any]) -> RekoError:
    """The exception for botocore's `ClientError.response`: `{"Error": {"Code", "Message"}, "ResponseMetadata"}`."""
    error = response.get("Error", {})
    metadata = response.get("ResponseMetadata", {})
    code = str(error.get("Code") or "UnknownError")
    status = metadata.get("HTTPStatusCode")
    return ERRORS_BY_CODE.get(code, RekoError)(
        str(error.get("Message") or code), code=code, request_id=metadata.get("RequestId") or None,
        http_status=status if isinstance(status, int) else None,
    )
