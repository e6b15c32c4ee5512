"""What an operation handler knows about the request besides its parameters."""

from __future__ import annotations

from dataclasses import dataclass

from reko.store.s3 import ObjectReader


@dataclass(frozen=True)
class OperationContext:
    request_id: str
    account_id: str
    region: str
    objects: ObjectReader  # where S3Object images are read from
