"""The `reko` commands for face collections: a thin shell over `Engine.dispatch`, as the server's own path.

They write the same SQLite file (`REKO_DATA_DIR`/defaults) the server uses; SQLite's WAL lets a running server and
the CLI share it, so faces indexed here are searchable there at once.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reko import config
from reko.errors import RekognitionError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
EXTERNAL_ID_MAX_CHARS = 255  # the model's length limit on ExternalImageId
EXTERNAL_ID_FORBIDDEN = re.compile(r"[^a-zA-Z0-9_.\-:]")  # the complement of the model's pattern
# `reko collections` actions: (name, help, takes a collection id)
COLLECTION_ACTIONS = (
    ("create", "CreateCollection", True),
    ("list", "ListCollections (the first 1000)", False),
    ("describe", "DescribeCollection (FaceCount, model version, ARN)", True),
    ("delete", "DeleteCollection and every face in it", True),
)
SHARED_DATABASE_NOTE = (
    "Writes the data folder's SQLite file (REKO_DATA_DIR, default ./reko-data) that `reko serve` uses; WAL lets "
    "both run at once."
)


class Session:
    """One engine (models loaded once) and the dev account's caller, for as many operations as a command needs."""

    def __init__(self) -> None:
        from reko.engine import Engine
        from reko.operations.common.context import Caller

        self.engine = Engine(config.from_environment())
        self.caller = Caller(request_id="cli", account_id=config.DEV_ACCOUNT_ID, region="us-east-1")

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """The operation's answer; Rekognition errors propagate."""
        return self.engine.dispatch(operation, request, self.caller)

    def close(self) -> None:
        self.engine.close()


def error_json(error: RekognitionError) -> dict[str, str]:
    """An error as the API's body carries it."""
    return {"__type": error.code, "Message": error.message}


def _os_error_json(error: OSError) -> dict[str, str]:
    """A file that could not be read, reported in the same shape as the API's errors."""
    return {"__type": type(error).__name__, "Message": f"{error.strerror or error}"}


def run_one(
    operation: str, request: dict[str, Any], on_answer: Callable[[Mapping[str, Any]], None] | None = None
) -> int:
    """Run one operation and print its JSON (then hand it to `on_answer`), or the API's error JSON with exit
    status 1."""
    session = Session()
    try:
        answer = session.call(operation, request)
        print(json.dumps(answer, indent=2))
        if on_answer is not None:
            on_answer(answer)
        return 0
    except RekognitionError as error:
        print(json.dumps(error_json(error), indent=2))
        return 1
    finally:
        session.close()


def image_member(path: Path | str) -> dict[str, Any]:
    return {"Bytes": base64.b64encode(Path(path).read_bytes()).decode()}


def external_image_id(path: Path) -> str:
    """The file name made to fit ExternalImageId's pattern `[a-zA-Z0-9_.\\-:]+` (others → `_`, 255 chars at most)."""
    return EXTERNAL_ID_FORBIDDEN.sub("_", path.name)[:EXTERNAL_ID_MAX_CHARS]


def image_files(paths: list[str]) -> list[Path]:
    """The files given, and the .jpg/.jpeg/.png files under the folders given (recursively), in a stable order."""
    found: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            found.extend(sorted(p for p in given.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(given)
    return found


def indexed_external_ids(session: Session, collection_id: str) -> set[str]:
    """Every ExternalImageId already in the collection, through ListFaces page by page."""
    seen: set[str] = set()
    request: dict[str, Any] = {"CollectionId": collection_id}
    while True:
        page = session.call("ListFaces", request)
        seen.update(face["ExternalImageId"] for face in page["Faces"] if "ExternalImageId" in face)
        if "NextToken" not in page:
            return seen
        request["NextToken"] = page["NextToken"]


@dataclass
class IndexSummary:
    """What one `reko index-faces` run did, printed as JSON at the end."""

    collection_id: str
    images_indexed: int = 0
    faces_indexed: int = 0
    faces_not_indexed: int = 0
    skipped_already_indexed: list[str] = field(default_factory=list)
    skipped_same_name: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "CollectionId": self.collection_id, "ImagesIndexed": self.images_indexed,
            "FacesIndexed": self.faces_indexed, "FacesNotIndexed": self.faces_not_indexed,
            "SkippedAlreadyIndexed": self.skipped_already_indexed, "SkippedSameName": self.skipped_same_name,
            "Failed": self.failed,
        }


def _progress(position: int, total: int, path: Path, outcome: str, keep: bool = False) -> None:
    """One line per image on stderr; on a terminal each overwrites the last unless `keep` (a failure, say)."""
    line = f"[{position}/{total}] {path.name}: {outcome}"
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{line}" + ("\n" if keep or position == total else ""))
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _index_file(session: Session, args: argparse.Namespace, path: Path, external_id: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "CollectionId": args.collection, "Image": image_member(path), "ExternalImageId": external_id,
    }
    if args.max_faces is not None:
        request["MaxFaces"] = args.max_faces
    if args.quality_filter is not None:
        request["QualityFilter"] = args.quality_filter
    return session.call("IndexFaces", request)


def _index_all(session: Session, args: argparse.Namespace, files: list[Path], summary: IndexSummary) -> None:
    already = indexed_external_ids(session, args.collection)
    this_run: set[str] = set()
    for position, path in enumerate(files, start=1):
        external_id = external_image_id(path)
        if external_id in already:
            summary.skipped_already_indexed.append(str(path))
            _progress(position, len(files), path, "already indexed, skipped")
            continue
        if external_id in this_run:
            summary.skipped_same_name.append(str(path))
            _progress(position, len(files), path, "same name as an earlier file, skipped", keep=True)
            continue
        try:
            answer = _index_file(session, args, path, external_id)
        except (RekognitionError, OSError) as error:
            failure = error_json(error) if isinstance(error, RekognitionError) else _os_error_json(error)
            summary.failed.append({"Path": str(path), **failure})
            _progress(position, len(files), path, f"FAILED {failure['__type']}: {failure['Message']}", keep=True)
            continue
        this_run.add(external_id)
        summary.images_indexed += 1
        summary.faces_indexed += len(answer["FaceRecords"])
        summary.faces_not_indexed += len(answer["UnindexedFaces"])
        count = len(answer["FaceRecords"])
        _progress(position, len(files), path, f"{count} face{'' if count == 1 else 's'}")


def index_faces_command(args: argparse.Namespace) -> int:
    """IndexFaces on every image given; skips names already in the collection; exit 1 when any file failed."""
    files = image_files(args.paths)
    summary = IndexSummary(args.collection)
    session = Session()
    try:
        _index_all(session, args, files, summary)
    except RekognitionError as error:  # the collection itself: missing, or a bad id
        print(json.dumps(error_json(error), indent=2))
        return 1
    finally:
        session.close()
    print(json.dumps(summary.as_json(), indent=2))
    return 1 if summary.failed else 0


def _collections_command(args: argparse.Namespace) -> int:
    if args.action == "list":
        return run_one("ListCollections", {})
    operation = {"create": "CreateCollection", "describe": "DescribeCollection", "delete": "DeleteCollection"}
    return run_one(operation[args.action], {"CollectionId": args.collection_id})


def _search_faces_command(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"CollectionId": args.collection, "Image": image_member(args.image)}
    if args.threshold is not None:
        request["FaceMatchThreshold"] = args.threshold
    if args.max_faces is not None:
        request["MaxFaces"] = args.max_faces
    return run_one("SearchFacesByImage", request)


def add_commands(commands: Any) -> None:
    """Add `collections`, `index-faces` and `search-faces` to the `reko` parser's subcommands."""
    collections = commands.add_parser(
        "collections", help="create, list, describe or delete face collections (the API's JSON)",
        description=f"Face collections, printed as the API's JSON; errors as the API's error JSON, exit 1. "
        f"{SHARED_DATABASE_NOTE}",
    )
    actions = collections.add_subparsers(dest="action", required=True)
    for action, help_text, takes_id in COLLECTION_ACTIONS:
        parser = actions.add_parser(action, help=help_text)
        if takes_id:
            parser.add_argument("collection_id", metavar="ID")
    collections.set_defaults(run=_collections_command)

    index = commands.add_parser(
        "index-faces", help="IndexFaces on image files and folders, resumable",
        description="IndexFaces on each file given and each .jpg/.jpeg/.png under each folder given (recursively), "
        "with ExternalImageId = the file name (characters outside [a-zA-Z0-9_.-:] become _, 255 at most). "
        "Resumable: images whose ExternalImageId is already in the collection (ListFaces) are skipped, so a run "
        "cut short can simply be started again (an image where no face was indexed leaves no trace, so it is "
        "tried again); a second file with the same name in one run is skipped too. "
        "A file that fails (not an image, too large) is reported and skipped; the exit status is then 1. "
        f"Progress on stderr, a JSON summary on stdout. {SHARED_DATABASE_NOTE}",
    )
    index.add_argument("collection", metavar="COLLECTION")
    index.add_argument("paths", nargs="+", metavar="PATH")
    index.add_argument("--max-faces", type=int, metavar="N", help="the N largest faces per image (1-100)")
    index.add_argument("--quality-filter", metavar="F", help="NONE, AUTO (default), LOW, MEDIUM or HIGH")
    index.set_defaults(run=index_faces_command)

    search = commands.add_parser(
        "search-faces", help="SearchFacesByImage: the largest face of IMAGE against COLLECTION",
        description=f"SearchFacesByImage, printed as the API's JSON. {SHARED_DATABASE_NOTE}",
    )
    search.add_argument("collection", metavar="COLLECTION")
    search.add_argument("image", metavar="IMAGE")
    search.add_argument("--threshold", type=float, metavar="N", help="FaceMatchThreshold, 0-100 (default 80)")
    search.add_argument("--max-faces", type=int, metavar="N", help="most matches returned (default 80)")
    search.set_defaults(run=_search_faces_command)
