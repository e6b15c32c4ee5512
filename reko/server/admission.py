"""Admission at the door: the in-flight cap, and reading a body within a size cap and a deadline.

Both run after the headers authenticated and before any body byte is read, so a stranger never makes the server
buffer anything and a throttled caller is answered in microseconds, not after its upload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import Request

from reko.errors import ImageTooLargeException, RequestTimeoutException, ThrottlingException

# 5 MiB of image is 6.99 MB of base64; the rest of any request is small.
MAX_BODY_BYTES = 8 * 1024 * 1024


class InFlight:
    """Requests admitted and not yet answered (reading their body, queued or computing).

    Counted on the event loop's thread only, so a plain integer needs no lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    @contextmanager
    def admit(self) -> Iterator[None]:
        if self.count >= self.limit:
            raise ThrottlingException(f"Rate exceeded: {self.limit} requests are in flight; retry with backoff.")
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1


def _too_large(limit: int) -> ImageTooLargeException:
    return ImageTooLargeException(f"Request body exceeds the {limit} byte limit.")


async def read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    """The body, refused as soon as it passes `limit` (at once when Content-Length says so) or when it has not
    all arrived `timeout_s` after the headers. A client that goes away raises starlette's ClientDisconnect."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError as error:
        raise RequestTimeoutException(
            f"Your socket connection to the server was not read from or written to within the timeout period "
            f"({timeout_s:g} s for the whole body; {size} bytes arrived)."
        ) from error
    return b"".join(chunks)
