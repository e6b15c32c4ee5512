"""What images the buckets hold, so the web console can offer them as `S3Object` inputs.

Only JPEG and PNG files by name (what Rekognition reads), a page at a time, hidden files (names starting with '.',
such as a write's temporary file) left out. An endpoint lists in S3's key order; a folder bucket segment by segment
(`a/z.png` before `a.jpg`), the order a walk of sorted folders gives without reading a whole bucket first.
Folder buckets are shared by every account of the server, as `S3Object` reads are; an endpoint's buckets are those
its own credentials can list.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reko.errors import InvalidS3ObjectException

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
MAX_LISTED_OBJECTS = 200  # a page of the console's object picker
MAX_LISTED_BUCKETS = 1000
MAX_SCANNED_ENTRIES = 100_000  # a page of a folder bucket stops after this many directory entries, images or not


@dataclass(frozen=True)
class ObjectPage:
    """One page of a bucket's images: `next_start_after` is the key to list after for the next page, or None."""

    names: list[str]
    sizes_bytes: list[int]
    next_start_after: str | None


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES) and not name.rsplit("/", 1)[-1].startswith(".")


def folder_buckets(root: Path, pattern: Any) -> list[str]:
    """The folders of `root` whose names are valid buckets (`pattern`), sorted."""
    try:
        entries = sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and pattern.fullmatch(entry.name))
    except OSError:
        return []
    return entries[:MAX_LISTED_BUCKETS]


def _walk(folder: Path, prefix: tuple[str, ...], after: tuple[str, ...], budget: list[int]) -> Iterator[
    tuple[tuple[str, ...], int]
]:
    """Files under `folder` as (segments, size) in segment order, from the first after `after`; links to folders
    are not followed (no loops), links to files are listed (reading them checks they stay in the bucket)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        budget[0] -= 1
        if budget[0] < 0:
            return
        segments = (*prefix, entry.name)
        if entry.name.startswith(".") or segments < after[: len(segments)]:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path), segments, after, budget)
            elif segments > after and entry.is_file() and is_image_name(entry.name):
                yield segments, entry.stat().st_size
        except OSError:
            continue


def folder_images(bucket_dir: Path, start_after: str | None, limit: int) -> ObjectPage:
    """A page of the images in a folder bucket, segment by segment, after the key `start_after`."""
    if not bucket_dir.is_dir():
        raise InvalidS3ObjectException(f"The bucket '{bucket_dir.name}' does not exist.")
    after = tuple(start_after.split("/")) if start_after else ()
    budget = [MAX_SCANNED_ENTRIES]
    names: list[str] = []
    sizes: list[int] = []
    for segments, size in _walk(bucket_dir, (), after, budget):
        if len(names) == limit:
            return ObjectPage(names, sizes, names[-1])
        names.append("/".join(segments))
        sizes.append(size)
    # Out of scan budget: the next page starts after the last image found (or says there is no more to find).
    return ObjectPage(names, sizes, names[-1] if budget[0] < 0 and names else None)


def endpoint_buckets(client: Any) -> list[str]:
    return sorted(bucket["Name"] for bucket in client.list_buckets().get("Buckets", []))[:MAX_LISTED_BUCKETS]


def endpoint_images(client: Any, bucket: str, start_after: str | None, limit: int) -> ObjectPage:
    """A page of the images of an endpoint's bucket; other objects are skipped, a few listing calls at most."""
    names: list[str] = []
    sizes: list[int] = []
    after = start_after or ""
    for _ in range(10):  # at most 10,000 keys looked at for one page
        answer = client.list_objects_v2(Bucket=bucket, StartAfter=after, MaxKeys=1000)
        for item in answer.get("Contents", []):
            after = item["Key"]
            if is_image_name(item["Key"]):
                names.append(item["Key"])
                sizes.append(int(item.get("Size", 0)))
                if len(names) == limit:
                    return ObjectPage(names, sizes, after)
        if not answer.get("IsTruncated"):
            return ObjectPage(names, sizes, None)
    return ObjectPage(names, sizes, after)
