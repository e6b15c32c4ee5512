"""Rekognition's errors, named exactly as the service names them.

Raised anywhere below the edge; `reko.server` turns each into `{"__type": name, "Message": text}` with its HTTP
status, so boto3 raises the modelled exception class (`client.exceptions.InvalidParameterException`).
"""

from __future__ import annotations


class RekognitionError(Exception):
    """Base of every error a client may see; the class name is the wire `__type`."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__


class InvalidParameterException(RekognitionError):
    pass


class InvalidImageFormatException(RekognitionError):
    pass


class ImageTooLargeException(RekognitionError):
    pass


class InvalidS3ObjectException(RekognitionError):
    pass


class AccessDeniedException(RekognitionError):
    http_status = 403


class ResourceNotFoundException(RekognitionError):
    pass


class ThrottlingException(RekognitionError):
    """Too many requests in flight; clients retry it with backoff."""


class InternalServerError(RekognitionError):
    http_status = 500


class UnknownOperationException(RekognitionError):
    pass


class NotImplementedException(RekognitionError):
    """An operation of the Rekognition model that Reko does not implement yet (501: clients do not retry)."""

    http_status = 501


class SerializationException(RekognitionError):
    """The body is not the JSON object the AWS JSON 1.1 protocol requires."""


class MissingAuthenticationTokenException(RekognitionError):
    http_status = 403


class UnrecognizedClientException(RekognitionError):
    http_status = 403


class InvalidSignatureException(RekognitionError):
    http_status = 403


class ExpiredTokenException(RekognitionError):
    """Temporary credentials past their expiration (botocore refreshes refreshable credentials on this code)."""

    http_status = 403


class ValidationException(RekognitionError):
    """A Roles Anywhere CreateSession member out of its documented range (that service's name for it)."""


class IncompleteSignatureException(RekognitionError):
    http_status = 403


class RequestTimeoutException(RekognitionError):
    """The request body did not arrive in time (SDKs retry this code)."""

    http_status = 408


class RequestHeaderSectionTooLarge(RekognitionError):
    """The request's headers exceed the server's limit (S3's name for it)."""

    http_status = 431


class BadRequestException(RekognitionError):
    """Bytes that are not an HTTP/1.1 request at all."""


class ResourceAlreadyExistsException(RekognitionError):
    """A collection (or other resource) of that id already exists in the caller's account and region."""


class InvalidPaginationTokenException(RekognitionError):
    """A `NextToken` this server did not hand out for this listing."""


class ServiceQuotaExceededException(RekognitionError):
    """A write would take a resource past one of Rekognition's limits (50 tags on a collection)."""


class ConflictException(RekognitionError):
    """A user of that id already exists in the collection."""


class IdempotentParameterMismatchException(RekognitionError):
    """A `ClientRequestToken` was sent again with other parameters than the request that first used it."""


class ResourceInUseException(RekognitionError):
    """The resource is in a state that forbids the change (a project with versions, a running model)."""


class ResourceNotReadyException(RekognitionError):
    """A Custom Labels model version is not RUNNING."""


class LimitExceededException(RekognitionError):
    """More work than Reko takes on at once (queued training jobs)."""


class TooManyRequestsException(RekognitionError):
    """The console's sign-in after too many wrong secrets from one address or for one key (429, with Retry-After);
    the API never answers it."""

    http_status = 429
