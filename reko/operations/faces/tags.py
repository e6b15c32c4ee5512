"""TagResource, UntagResource, ListTagsForResource on the collections of the caller's account and region.

Collections are the only taggable resource Reko has (no stream processors, no Custom Labels models), so any other
ARN, or a collection ARN of another account or region, is a resource the caller does not have.
"""

from __future__ import annotations

from typing import Any

from reko.errors import ResourceNotFoundException, ServiceQuotaExceededException
from reko.operations.common.context import OperationContext
from reko.operations.faces.collections import MAX_TAGS_PER_RESOURCE, collection_arn, rekognition_errors
from reko.store.collections import TooManyTagsError


def collection_of(arn: str, context: OperationContext) -> str:
    """The collection id a `ResourceArn` names; ResourceNotFoundException when it names none of the caller's."""
    prefix = collection_arn(context, "")
    collection_id = arn[len(prefix):] if arn.startswith(prefix) else ""
    if not collection_id:
        raise ResourceNotFoundException(f"The resource {arn} does not exist")
    return collection_id


def tag_resource(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    collection_id = collection_of(request["ResourceArn"], context)
    try:
        with rekognition_errors(collection_id):
            context.store.collections.tag(context.caller.scope, collection_id, request["Tags"], MAX_TAGS_PER_RESOURCE)
    except TooManyTagsError:
        raise ServiceQuotaExceededException(f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags") from None
    return {}


def untag_resource(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    collection_id = collection_of(request["ResourceArn"], context)
    with rekognition_errors(collection_id):
        context.store.collections.untag(context.caller.scope, collection_id, request["TagKeys"])
    return {}


def list_tags_for_resource(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    collection_id = collection_of(request["ResourceArn"], context)
    with rekognition_errors(collection_id):
        tags = context.store.collections.tags(context.caller.scope, collection_id)
    return {"Tags": tags}
