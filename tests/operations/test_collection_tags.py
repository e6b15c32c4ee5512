"""TagResource, UntagResource and ListTagsForResource on collection ARNs, through the real wire with boto3."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from reko.config import DEV_ACCOUNT_ID
from reko.operations.faces.tags import MAX_TAGS_PER_RESOURCE
from tests.conftest import stop_server
from tests.operations.test_collections import ACCOUNTS, client_of, error_code, fresh_id, two_account_server


def test_tag_list_untag_list(store_client) -> None:
    name = fresh_id("tags")
    arn = store_client.create_collection(CollectionId=name, Tags={"team": "doors"})["CollectionArn"]
    try:
        assert store_client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "doors"}
        store_client.tag_resource(ResourceArn=arn, Tags={"team": "gates", "site": "north", "empty": ""})
        assert store_client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {
            "team": "gates", "site": "north", "empty": ""}
        store_client.untag_resource(ResourceArn=arn, TagKeys=["team", "never-set"])
        assert store_client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"site": "north", "empty": ""}
    finally:
        store_client.delete_collection(CollectionId=name)
    # A collection created again under the same id starts without the deleted one's tags.
    store_client.create_collection(CollectionId=name)
    try:
        assert store_client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}
    finally:
        store_client.delete_collection(CollectionId=name)
    with pytest.raises(ClientError) as caught:
        store_client.list_tags_for_resource(ResourceArn=arn)
    assert error_code(caught) == "ResourceNotFoundException"


def test_more_than_the_limit_is_refused_whole(store_client) -> None:
    name = fresh_id("tags")
    arn = store_client.create_collection(CollectionId=name)["CollectionArn"]
    try:
        present = {f"k{number}": "v" for number in range(MAX_TAGS_PER_RESOURCE - 1)}
        store_client.tag_resource(ResourceArn=arn, Tags=present)
        with pytest.raises(ClientError) as caught:
            store_client.tag_resource(ResourceArn=arn, Tags={"one": "1", "two": "2"})
        assert error_code(caught) == "ServiceQuotaExceededException"
        assert store_client.list_tags_for_resource(ResourceArn=arn)["Tags"] == present
        store_client.tag_resource(ResourceArn=arn, Tags={"k0": "replaced", "one": "1"})  # exactly the limit
        assert len(store_client.list_tags_for_resource(ResourceArn=arn)["Tags"]) == MAX_TAGS_PER_RESOURCE
    finally:
        store_client.delete_collection(CollectionId=name)


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:rekognition:us-east-1:{DEV_ACCOUNT_ID}:collection/",
        f"arn:aws:rekognition:eu-west-1:{DEV_ACCOUNT_ID}:collection/absent",
        f"arn:aws:rekognition:us-east-1:{DEV_ACCOUNT_ID}:project/absent/1",
        "arn:aws:s3:::a-bucket-of-twenty-chars",
    ],
)
def test_arns_naming_no_collection_of_the_caller(store_client, arn: str) -> None:
    assert_no_such_resource(store_client, arn)


def test_aws_prefixed_keys_are_invalid(store_client) -> None:
    name = fresh_id("tags")
    arn = store_client.create_collection(CollectionId=name)["CollectionArn"]
    try:
        with pytest.raises(ClientError) as caught:
            store_client.tag_resource(ResourceArn=arn, Tags={"aws:owner": "me"})
        assert error_code(caught) == "InvalidParameterException"
    finally:
        store_client.delete_collection(CollectionId=name)


def test_another_accounts_key_finds_no_such_resource(tmp_path: Path, backend_flags: tuple[str, ...]) -> None:
    server = two_account_server(tmp_path, *backend_flags)
    try:
        alice, bob = (client_of(server, account) for account in ACCOUNTS)
        arn = alice.create_collection(CollectionId="staff", Tags={"owner": "alice"})["CollectionArn"]
        bob.create_collection(CollectionId="staff")  # the same id in Bob's account does not make the ARN his
        assert_no_such_resource(bob, arn)
        assert alice.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"owner": "alice"}
    finally:
        stop_server(server)


def test_create_collection_keeps_the_same_cap(store_client) -> None:
    """A collection created with more tags than TagResource allows would never be taggable again: refused."""
    too_many = {f"k{i}": "v" for i in range(MAX_TAGS_PER_RESOURCE + 1)}
    collection_id = fresh_id("capped")
    with pytest.raises(ClientError) as caught:
        store_client.create_collection(CollectionId=collection_id, Tags=too_many)
    assert error_code(caught) == "ServiceQuotaExceededException"
    with pytest.raises(ClientError) as missing:
        store_client.describe_collection(CollectionId=collection_id)
    assert error_code(missing) == "ResourceNotFoundException"


def assert_no_such_resource(client, arn: str) -> None:
    """All three tag operations answer ResourceNotFoundException for `arn` (and change nothing)."""
    for call in (
        lambda: client.list_tags_for_resource(ResourceArn=arn),
        lambda: client.tag_resource(ResourceArn=arn, Tags={"owner": "intruder"}),
        lambda: client.untag_resource(ResourceArn=arn, TagKeys=["owner"]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_code(caught) == "ResourceNotFoundException"
