"""Access keys and the accounts they belong to."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from reko.config import DEV_ACCESS_KEY_ID, DEV_ACCOUNT_ID, DEV_SECRET_ACCESS_KEY


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret_access_key: str
    account_id: str
    session_token: str | None = None  # when set, requests must carry exactly this X-Amz-Security-Token
    expiration: dt.datetime | None = None  # aware UTC; from then on the key is refused (temporary credentials)

    def expired(self, now: dt.datetime) -> bool:
        return self.expiration is not None and now >= self.expiration


def parse_expiration(value: str) -> dt.datetime:
    """An ISO 8601 instant (`2026-12-01T12:00:00Z`, as STS and Roles Anywhere write it) as aware UTC; a value
    without a zone is read as UTC, as AWS means it."""
    stamp = dt.datetime.fromisoformat(value.strip())
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def format_expiration(value: dt.datetime) -> str:
    """The wire form of an expiration: whole seconds, UTC, `Z` (what botocore's credential parsers read)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expiration(value: str | None) -> dt.datetime | None:
    return parse_expiration(value) if value else None


def load_credentials(credentials_file: Path, environ: dict[str, str] | None = None) -> dict[str, Credential]:
    """Keys from `REKO_ACCESS_KEY_ID`/`REKO_SECRET_ACCESS_KEY`/`REKO_ACCOUNT_ID` (temporary ones also
    `REKO_SESSION_TOKEN` and `REKO_SESSION_EXPIRATION`) and from the data folder's `credentials.json` (a list of
    objects with those fields in snake case). The documented development key pair is used only when neither
    configures any key, so a configured deployment never accepts it.
    """
    env = dict(os.environ if environ is None else environ)
    keys: list[Credential] = []
    if env.get("REKO_ACCESS_KEY_ID") and env.get("REKO_SECRET_ACCESS_KEY"):
        keys.append(
            Credential(
                access_key_id=env["REKO_ACCESS_KEY_ID"],
                secret_access_key=env["REKO_SECRET_ACCESS_KEY"],
                account_id=env.get("REKO_ACCOUNT_ID", DEV_ACCOUNT_ID),
                session_token=env.get("REKO_SESSION_TOKEN") or None,
                expiration=_expiration(env.get("REKO_SESSION_EXPIRATION")),
            )
        )
    if credentials_file.is_file():
        for entry in json.loads(credentials_file.read_text()):
            keys.append(
                Credential(
                    access_key_id=entry["access_key_id"],
                    secret_access_key=entry["secret_access_key"],
                    account_id=str(entry["account_id"]),
                    session_token=entry.get("session_token"),
                    expiration=_expiration(entry.get("expiration")),
                )
            )
    if not keys:
        keys.append(Credential(DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY, DEV_ACCOUNT_ID))
    return {key.access_key_id: key for key in keys}
