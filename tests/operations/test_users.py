"""Users of face collections through the real wire: lifecycle and request tokens, associations with every reason,
user searches by face, user and image on real photos, account isolation, durability across a restart, exact
output shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningServer, jpeg_bytes, needs_shared_data, stop_server, test_image
from tests.operations.test_collections import (
    ACCOUNTS,
    client_of,
    error_code,
    fresh_id,
    image_member,
    lfw_photo,
    raw_call,
    two_account_server,
)
from tests.signing import signed_headers

STRANGER_FACE = "00000000-0000-4000-8000-000000000000"  # a well-formed FaceId no collection holds


def raw_error(server: RunningServer, operation: str, body: dict) -> str:
    """The `__type` of an error answer, for requests boto3 would refuse before sending."""
    data = json.dumps(body).encode()
    headers = signed_headers(server.url, data, f"RekognitionService.{operation}")
    answer = httpx.post(server.url + "/", content=data, headers=headers, timeout=60)
    assert answer.status_code == 400, answer.text
    return str(answer.json()["__type"])


def face_ids_of(answer: dict) -> list[str]:
    return [record["Face"]["FaceId"] for record in answer["FaceRecords"]]


@pytest.fixture(scope="module")
def astronauts(store_client) -> Iterator[tuple[str, list[str]]]:
    """A collection holding three faces of the astronaut (one photo tiled with its mirror image), largest first."""
    astronaut = test_image("astronaut.png")
    tiled = np.concatenate([astronaut, astronaut[:, ::-1], astronaut], axis=1)
    collection = fresh_id("users")
    store_client.create_collection(CollectionId=collection)
    answer = store_client.index_faces(CollectionId=collection, Image={"Bytes": jpeg_bytes(tiled)})
    assert len(answer["FaceRecords"]) == 3
    yield collection, face_ids_of(answer)
    store_client.delete_collection(CollectionId=collection)


def test_user_lifecycle_tokens_and_pages(store_server: RunningServer, store_client) -> None:
    collection = fresh_id("users")
    store_client.create_collection(CollectionId=collection)
    assert raw_call(store_server, "CreateUser", {"CollectionId": collection, "UserId": "ann",
                                                 "ClientRequestToken": "create-ann"}) == {}
    retried = raw_call(store_server, "CreateUser", {"CollectionId": collection, "UserId": "ann",
                                                    "ClientRequestToken": "create-ann"})
    assert retried == {}  # the same token and parameters: the first answer again
    with pytest.raises(ClientError) as caught:
        store_client.create_user(CollectionId=collection, UserId="ann")  # boto3 sends a fresh token
    assert error_code(caught) == "ConflictException"
    with pytest.raises(ClientError) as caught:
        store_client.create_user(CollectionId=collection, UserId="bob", ClientRequestToken="create-ann")
    assert error_code(caught) == "IdempotentParameterMismatchException"
    for user_id in ("dan", "bob", "cy:1"):
        store_client.create_user(CollectionId=collection, UserId=user_id)
    seen: list[dict] = []
    arguments: dict = {"CollectionId": collection, "MaxResults": 3}
    while True:
        page = raw_call(store_server, "ListUsers", arguments)
        seen.extend(page["Users"])
        if "NextToken" not in page:
            break
        arguments["NextToken"] = page["NextToken"]
    assert seen == [{"UserId": user_id, "UserStatus": "CREATED"} for user_id in ("ann", "bob", "cy:1", "dan")]
    with pytest.raises(ClientError) as caught:
        store_client.list_users(CollectionId=collection, NextToken=arguments["NextToken"] + "x")
    assert error_code(caught) == "InvalidPaginationTokenException"
    assert store_client.describe_collection(CollectionId=collection)["UserCount"] == 4
    assert raw_call(store_server, "DeleteUser", {"CollectionId": collection, "UserId": "dan"}) == {}
    with pytest.raises(ClientError) as caught:
        store_client.delete_user(CollectionId=collection, UserId="dan")
    assert error_code(caught) == "ResourceNotFoundException"
    store_client.delete_collection(CollectionId=collection)  # its users go with it
    store_client.create_collection(CollectionId=collection)
    assert store_client.list_users(CollectionId=collection)["Users"] == []
    assert store_client.describe_collection(CollectionId=collection)["UserCount"] == 0
    store_client.delete_collection(CollectionId=collection)
    absent = fresh_id("absent")
    calls = (
        lambda: store_client.create_user(CollectionId=absent, UserId="ann"),
        lambda: store_client.delete_user(CollectionId=absent, UserId="ann"),
        lambda: store_client.list_users(CollectionId=absent),
        lambda: store_client.search_users(CollectionId=absent, UserId="ann"),
    )
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert error_code(caught) == "ResourceNotFoundException"


def test_associations_with_every_reason(store_server: RunningServer, store_client, astronauts) -> None:
    collection, (first, second, third) = astronauts
    ann, ben = fresh_id("ann"), fresh_id("ben")
    for user_id in (ann, ben):
        store_client.create_user(CollectionId=collection, UserId=user_id)
    answer = raw_call(store_server, "AssociateFaces", {
        "CollectionId": collection, "UserId": ann, "FaceIds": [first, second, STRANGER_FACE],
    })
    assert answer == {
        "AssociatedFaces": [{"FaceId": first}, {"FaceId": second}],
        "UnsuccessfulFaceAssociations": [{"FaceId": STRANGER_FACE, "Reasons": ["FACE_NOT_FOUND"]}],
        "UserStatus": "ACTIVE",
    }
    again = store_client.associate_faces(CollectionId=collection, UserId=ann, FaceIds=[first])
    assert again["AssociatedFaces"] == [] and again["UnsuccessfulFaceAssociations"] == []  # hers already: left out
    taken = raw_call(store_server, "AssociateFaces", {"CollectionId": collection, "UserId": ben, "FaceIds": [first]})
    assert taken["UnsuccessfulFaceAssociations"] == [
        {"FaceId": first, "UserId": ann, "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}
    ]
    assert taken["UserStatus"] == "CREATED"
    store_client.associate_faces(CollectionId=collection, UserId=ben, FaceIds=[third])
    listed = raw_call(store_server, "ListFaces", {"CollectionId": collection, "UserId": ann})
    assert sorted(face["FaceId"] for face in listed["Faces"]) == sorted([first, second])
    assert {face["UserId"] for face in listed["Faces"]} == {ann}
    assert raw_call(store_server, "ListFaces", {"CollectionId": collection, "UserId": "nobody"})["Faces"] == []
    matches = store_client.search_faces_by_image(CollectionId=collection,
                                                 Image={"Bytes": jpeg_bytes(test_image("astronaut.png"))})
    assert {match["Face"]["FaceId"]: match["Face"]["UserId"] for match in matches["FaceMatches"]} == {
        first: ann, second: ann, third: ben}
    users = {user["UserId"]: user["UserStatus"] for user in store_client.list_users(CollectionId=collection)["Users"]}
    assert users[ann] == "ACTIVE" and users[ben] == "ACTIVE"
    answer = raw_call(store_server, "DisassociateFaces", {
        "CollectionId": collection, "UserId": ann, "FaceIds": [second, third, STRANGER_FACE],
    })
    assert answer == {
        "DisassociatedFaces": [{"FaceId": second}],
        "UnsuccessfulFaceDisassociations": [
            {"FaceId": third, "UserId": ben, "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]},
            {"FaceId": STRANGER_FACE, "Reasons": ["FACE_NOT_FOUND"]},
        ],
        "UserStatus": "ACTIVE",
    }
    again = store_client.disassociate_faces(CollectionId=collection, UserId=ann, FaceIds=[second])
    assert again["DisassociatedFaces"] == [] and again["UnsuccessfulFaceDisassociations"] == []
    store_client.delete_user(CollectionId=collection, UserId=ben)  # its face stays, associated with no one
    (face,) = store_client.list_faces(CollectionId=collection, FaceIds=[third])["Faces"]
    assert "UserId" not in face
    store_client.disassociate_faces(CollectionId=collection, UserId=ann, FaceIds=[first])
    assert store_client.list_users(CollectionId=collection)["Users"] == [{"UserId": ann, "UserStatus": "CREATED"}]
    store_client.delete_user(CollectionId=collection, UserId=ann)


def test_association_errors_and_request_tokens(store_server: RunningServer, store_client, astronauts) -> None:
    collection, (first, _, _) = astronauts
    user_id = fresh_id("tok")
    store_client.create_user(CollectionId=collection, UserId=user_id)
    body = {"CollectionId": collection, "UserId": user_id, "FaceIds": [first], "ClientRequestToken": "assoc-1"}
    answer = raw_call(store_server, "AssociateFaces", body)
    store_client.disassociate_faces(CollectionId=collection, UserId=user_id, FaceIds=[first])
    assert raw_call(store_server, "AssociateFaces", body) == answer  # answered from the record: nothing done
    assert store_client.list_faces(CollectionId=collection, UserId=user_id)["Faces"] == []
    with pytest.raises(ClientError) as caught:
        store_client.associate_faces(**{**body, "UserMatchThreshold": 50.0})
    assert error_code(caught) == "IdempotentParameterMismatchException"
    for threshold in (-1, 100.5):
        assert raw_error(store_server, "AssociateFaces", {**body, "UserMatchThreshold": threshold,
                                                          "ClientRequestToken": "assoc-2"}) == \
            "InvalidParameterException"
        assert raw_error(store_server, "SearchUsers", {"CollectionId": collection, "UserId": user_id,
                                                       "UserMatchThreshold": threshold}) == "InvalidParameterException"
    for call in (store_client.associate_faces, store_client.disassociate_faces):
        with pytest.raises(ClientError) as caught:
            call(CollectionId=collection, UserId="nobody", FaceIds=[first])
        assert error_code(caught) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        store_client.associate_faces(CollectionId=collection, UserId=user_id, FaceIds=["not-a-face-id"])
    assert error_code(caught) == "InvalidParameterException"
    store_client.delete_user(CollectionId=collection, UserId=user_id)


def test_search_users_by_face_and_by_user(store_server: RunningServer, store_client, astronauts) -> None:
    collection, (first, second, third) = astronauts
    ann, ben, cid = fresh_id("ann"), fresh_id("ben"), fresh_id("cid")
    for user_id, faces in ((ann, [first]), (ben, [second]), (cid, [])):
        store_client.create_user(CollectionId=collection, UserId=user_id)
        if faces:
            store_client.associate_faces(CollectionId=collection, UserId=user_id, FaceIds=faces)
    by_face = raw_call(store_server, "SearchUsers", {"CollectionId": collection, "FaceId": third})
    assert by_face["SearchedFace"] == {"FaceId": third} and by_face["FaceModelVersion"] == "reko-sface-1"
    assert [match["User"] for match in by_face["UserMatches"]] == [
        {"UserId": ann, "UserStatus": "ACTIVE"}, {"UserId": ben, "UserStatus": "ACTIVE"}]  # third is first's copy
    similarities = [match["Similarity"] for match in by_face["UserMatches"]]
    assert similarities[0] > 99 and similarities == sorted(similarities, reverse=True)
    by_user = raw_call(store_server, "SearchUsers", {"CollectionId": collection, "UserId": ann, "MaxUsers": 5})
    assert by_user["SearchedUser"] == {"UserId": ann}
    assert [match["User"]["UserId"] for match in by_user["UserMatches"]] == [ben]  # the searched user left out
    assert store_client.search_users(CollectionId=collection, UserId=cid)["UserMatches"] == []  # no faces
    capped = store_client.search_users(CollectionId=collection, FaceId=third, MaxUsers=1)["UserMatches"]
    assert [match["User"]["UserId"] for match in capped] == [ann]
    for arguments in ({}, {"UserId": ann, "FaceId": third}, {"FaceId": STRANGER_FACE}):
        with pytest.raises(ClientError) as caught:
            store_client.search_users(CollectionId=collection, **arguments)
        assert error_code(caught) == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        store_client.search_users(CollectionId=collection, UserId="nobody")
    assert error_code(caught) == "ResourceNotFoundException"
    for user_id in (ann, ben, cid):
        store_client.delete_user(CollectionId=collection, UserId=user_id)


def test_search_users_by_image_reports_unsearched_faces(store_server: RunningServer, store_client, astronauts) -> None:
    collection, (first, _, _) = astronauts
    ann = fresh_id("ann")
    store_client.create_user(CollectionId=collection, UserId=ann)
    store_client.associate_faces(CollectionId=collection, UserId=ann, FaceIds=[first])
    astronaut = test_image("astronaut.png")
    canvas = np.zeros((512, 640, 3), np.uint8)
    canvas[:, :512] = astronaut
    canvas[:128, 512:] = astronaut[::4, ::4]  # the small copy's face is about 25 px: under AUTO's 40 px floor
    answer = raw_call(store_server, "SearchUsersByImage", {"CollectionId": collection,
                                                           "Image": image_member(jpeg_bytes(canvas))})
    (match,) = answer["UserMatches"]
    assert match["User"] == {"UserId": ann, "UserStatus": "ACTIVE"} and match["Similarity"] > 99
    assert set(answer["SearchedFace"]["FaceDetail"]) == {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}
    assert answer["SearchedFace"]["FaceDetail"]["BoundingBox"]["Left"] < 0.5
    (small,) = answer["UnsearchedFaces"]
    assert small["Reasons"] == ["FACE_NOT_LARGEST"]  # QualityFilter NONE: only its size keeps it out
    assert small["FaceDetails"]["BoundingBox"]["Left"] > 0.75
    filtered = store_client.search_users_by_image(CollectionId=collection, Image={"Bytes": jpeg_bytes(canvas)},
                                                  QualityFilter="AUTO", UserMatchThreshold=100)
    assert filtered["UserMatches"] == [] and "SearchedFace" in filtered
    assert filtered["UnsearchedFaces"][0]["Reasons"][:2] == ["FACE_NOT_LARGEST", "SMALL_BOUNDING_BOX"]
    only_small = np.zeros((512, 512, 3), np.uint8)
    only_small[:128, :128] = astronaut[::4, ::4]
    nobody = raw_call(store_server, "SearchUsersByImage", {"CollectionId": collection, "QualityFilter": "AUTO",
                                                           "Image": image_member(jpeg_bytes(only_small))})
    assert nobody["UserMatches"] == [] and "SearchedFace" not in nobody
    (unsearched,) = nobody["UnsearchedFaces"]
    assert "SMALL_BOUNDING_BOX" in unsearched["Reasons"] and "FACE_NOT_LARGEST" not in unsearched["Reasons"]
    no_face = store_client.search_users_by_image(CollectionId=collection,
                                                 Image={"Bytes": jpeg_bytes(test_image("coffee.png"))})
    assert no_face["UserMatches"] == [] and no_face["UnsearchedFaces"] == [] and "SearchedFace" not in no_face
    with pytest.raises(ClientError) as caught:
        store_client.search_users_by_image(CollectionId=fresh_id("absent"), Image={"Bytes": b"\xff\xd8\xff"})
    assert error_code(caught) == "ResourceNotFoundException"
    store_client.delete_user(CollectionId=collection, UserId=ann)


@needs_shared_data("faces", "lfw", "lfw-deepfunneled")
def test_users_of_real_people(store_server: RunningServer, store_client) -> None:
    collection = fresh_id("people")
    store_client.create_collection(CollectionId=collection)
    faces = {}
    for name, number in (("Abdullah_Gul", 1), ("Abdullah_Gul", 6), ("Adrien_Brody", 2), ("Al_Sharpton", 1)):
        answer = store_client.index_faces(CollectionId=collection, Image={"Bytes": lfw_photo(name, number)},
                                          MaxFaces=1)
        faces[name, number] = face_ids_of(answer)[0]
    try:
        store_client.create_user(CollectionId=collection, UserId="gul")
        store_client.create_user(CollectionId=collection, UserId="brody")
        store_client.associate_faces(CollectionId=collection, UserId="gul", FaceIds=[faces["Abdullah_Gul", 1]])
        store_client.associate_faces(CollectionId=collection, UserId="brody", FaceIds=[faces["Adrien_Brody", 2]])
        answer = raw_call(store_server, "AssociateFaces", {
            "CollectionId": collection, "UserId": "gul",
            "FaceIds": [faces["Abdullah_Gul", 6], faces["Al_Sharpton", 1]],
        })
        assert answer["AssociatedFaces"] == [{"FaceId": faces["Abdullah_Gul", 6]}]
        (refused,) = answer["UnsuccessfulFaceAssociations"]
        assert refused["FaceId"] == faces["Al_Sharpton", 1] and refused["UserId"] == "gul"
        assert refused["Reasons"] == ["LOW_MATCH_CONFIDENCE"] and 0 <= refused["Confidence"] < 75
        found = raw_call(store_server, "SearchUsersByImage", {"CollectionId": collection,
                                                              "Image": image_member(lfw_photo("Abdullah_Gul", 7))})
        assert [match["User"]["UserId"] for match in found["UserMatches"]] == ["gul"]
        assert found["UserMatches"][0]["Similarity"] >= 80
        stranger = store_client.search_users_by_image(CollectionId=collection,
                                                      Image={"Bytes": lfw_photo("Donna_Morrissey", 1)})
        assert stranger["UserMatches"] == [] and "SearchedFace" in stranger
        everyone = store_client.search_users(CollectionId=collection, FaceId=faces["Al_Sharpton", 1],
                                             UserMatchThreshold=0)["UserMatches"]
        assert {match["User"]["UserId"] for match in everyone} == {"gul", "brody"}
        assert everyone[0]["Similarity"] >= everyone[1]["Similarity"]
        gul_best = max(match["Similarity"] for match in everyone if match["User"]["UserId"] == "gul")
        assert gul_best == pytest.approx(refused["Confidence"], abs=1e-3)  # one Similarity for both answers
    finally:
        store_client.delete_collection(CollectionId=collection)


def test_users_are_isolated_by_account_and_survive_a_restart(tmp_path: Path) -> None:
    astronaut = jpeg_bytes(test_image("astronaut.png"))
    first = two_account_server(tmp_path)
    try:
        alice, bob = (client_of(first, account) for account in ACCOUNTS)
        alice.create_collection(CollectionId="staff")
        (face_id,) = face_ids_of(alice.index_faces(CollectionId="staff", Image={"Bytes": astronaut}))
        alice.create_user(CollectionId="staff", UserId="eileen", ClientRequestToken="create-eileen")
        alice.associate_faces(CollectionId="staff", UserId="eileen", FaceIds=[face_id])
        calls = (
            lambda: bob.list_users(CollectionId="staff"),
            lambda: bob.create_user(CollectionId="staff", UserId="eileen"),
            lambda: bob.associate_faces(CollectionId="staff", UserId="eileen", FaceIds=[face_id]),
            lambda: bob.search_users(CollectionId="staff", UserId="eileen"),
            lambda: bob.search_users_by_image(CollectionId="staff", Image={"Bytes": astronaut}),
        )
        for call in calls:
            with pytest.raises(ClientError) as caught:
                call()
            assert error_code(caught) == "ResourceNotFoundException"
        bob.create_collection(CollectionId="staff")
        assert bob.list_users(CollectionId="staff")["Users"] == []
        bob.create_user(CollectionId="staff", UserId="eileen", ClientRequestToken="create-eileen")  # his own token
        assert bob.search_users_by_image(CollectionId="staff", Image={"Bytes": astronaut})["UserMatches"] == []
    finally:
        stop_server(first)
    second = two_account_server(tmp_path)
    try:
        alice = client_of(second, ACCOUNTS[0])
        assert alice.list_users(CollectionId="staff")["Users"] == [{"UserId": "eileen", "UserStatus": "ACTIVE"}]
        assert alice.list_faces(CollectionId="staff", UserId="eileen")["Faces"][0]["FaceId"] == face_id
        assert alice.create_user(CollectionId="staff", UserId="eileen", ClientRequestToken="create-eileen")[
            "ResponseMetadata"]["HTTPStatusCode"] == 200  # the token outlived the restart
        (match,) = alice.search_users_by_image(CollectionId="staff", Image={"Bytes": astronaut})["UserMatches"]
        assert match["User"]["UserId"] == "eileen"
    finally:
        stop_server(second)
