"""What the Custom Labels operations share: ARNs in Rekognition's form, store errors under Rekognition's names,
reading a manifest from a bucket."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reko.errors import (
    InvalidParameterException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from reko.operations.common.context import OperationContext
from reko.store.custom_labels import (
    DatasetExistsError,
    DatasetNotEmptyError,
    DatasetNotFoundError,
    ProjectExistsError,
    ProjectInUseError,
    ProjectNotFoundError,
)
from reko.store.manifests import DatasetEntry, ManifestError, parse_manifest
from reko.store.model_versions import VersionExistsError, VersionNotFoundError

DEFAULT_PAGE_SIZE = 100  # the model's maximum MaxResults of every Custom Labels listing, used when absent


def arn_prefix(context: OperationContext) -> str:
    caller = context.caller
    return f"arn:aws:rekognition:{caller.region}:{caller.account_id}"


def arn_stamp() -> int:
    """The number ending an ARN: milliseconds since the epoch, as Rekognition's ARNs end."""
    return int(time.time() * 1000)


def project_arn(context: OperationContext, project_name: str, stamp: int) -> str:
    return f"{arn_prefix(context)}:project/{project_name}/{stamp}"


def dataset_arn(context: OperationContext, project_name: str, dataset_type: str, stamp: int) -> str:
    return f"{arn_prefix(context)}:project/{project_name}/dataset/{dataset_type.lower()}/{stamp}"


def version_arn(context: OperationContext, project_name: str, version_name: str, stamp: int) -> str:
    return f"{arn_prefix(context)}:project/{project_name}/version/{version_name}/{stamp}"


@contextmanager
def custom_labels_errors() -> Iterator[None]:
    """The store's errors under Rekognition's names and messages."""
    try:
        yield
    except (ProjectNotFoundError, DatasetNotFoundError, VersionNotFoundError) as error:
        kind = {ProjectNotFoundError: "project", DatasetNotFoundError: "dataset"}.get(type(error), "model version")
        raise ResourceNotFoundException(f"The {kind} {error} does not exist") from None
    except ProjectExistsError as error:
        raise ResourceInUseException(f"A project named {error} already exists") from None
    except VersionExistsError as error:
        raise ResourceInUseException(f"A model version named {error} already exists in the project") from None
    except DatasetExistsError as error:
        raise ResourceAlreadyExistsException(f"The project already has a {error} dataset") from None
    except ProjectInUseError:
        raise ResourceInUseException(
            "The project has model versions; delete them (DeleteProjectVersion) before the project"
        ) from None
    except DatasetNotEmptyError:
        raise InvalidParameterException("The test dataset must be empty to distribute entries into it") from None


def read_manifest(context: OperationContext, s3_object: dict[str, Any]) -> list[DatasetEntry]:
    """The entries of a Ground Truth manifest in a bucket; InvalidParameterException with the bad line's number."""
    bucket, name = s3_object.get("Bucket", ""), s3_object.get("Name", "")
    data = context.store.objects.read(bucket, name, s3_object.get("Version"))
    return parse_manifest_text(data, f"The manifest file s3://{bucket}/{name}")


def parse_manifest_text(data: bytes, what: str) -> list[DatasetEntry]:
    try:
        return parse_manifest(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidParameterException(f"{what} is not UTF-8 text (byte {error.start})") from None
    except ManifestError as error:
        raise InvalidParameterException(f"{what} has an error at line {error.line}: {error.reason}") from None
