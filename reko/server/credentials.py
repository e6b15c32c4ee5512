"""Access keys and the accounts they belong to."""

from __future__ import annotations

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


def load_credentials(credentials_file: Path, environ: dict[str, str] | None = None) -> dict[str, Credential]:
    """Keys from `REKO_ACCESS_KEY_ID`/`REKO_SECRET_ACCESS_KEY`/`REKO_ACCOUNT_ID` and from the data folder's
    `credentials.json` (a list of objects with those fields in snake case). The documented development key pair
    is used only when neither configures any key, so a configured deployment never accepts it.
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
                )
            )
    if not keys:
        keys.append(Credential(DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY, DEV_ACCOUNT_ID))
    return {key.access_key_id: key for key in keys}
