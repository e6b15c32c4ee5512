"""How many wrong secrets the console's sign-in tolerates: a token bucket per client address and per access key.

Each wrong secret takes a token from both buckets; an empty bucket locks its address or key out for a while, and
while locked out even the right secret is refused, so guessing cannot go on at the rate the server answers. A
bucket refills with time, so an occasional typo never locks anyone out. Only keys of the key store get a bucket (a
guess at an unknown key id cannot succeed) and the address table is capped, evicting the longest-quiet address
first: the limiter never grows without bound. The address is the TCP peer's; forwarded headers are not trusted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketPolicy:
    """A token bucket of wrong secrets: `burst` in a row, then one more every `refill_s`; empty locks `lockout_s`."""

    burst: int
    refill_s: float
    lockout_s: float


# One address may be a whole office behind NAT, so it gets more room than one key; both stay far below what a
# guessing attack needs (at most ~10 guesses a minute an address, 2 a minute a key once the burst is spent).
ADDRESS_POLICY = BucketPolicy(burst=20, refill_s=6.0, lockout_s=60.0)
KEY_POLICY = BucketPolicy(burst=10, refill_s=30.0, lockout_s=300.0)
MAX_TRACKED_ADDRESSES = 10_000  # ~200 bytes each: a few MB at most


@dataclass
class _Bucket:
    tokens: float
    updated_s: float
    locked_until_s: float = 0.0


class FailureBuckets:
    """Token buckets of wrong secrets keyed by a name (an address or a key id), at most `max_entries` of them."""

    def __init__(self, policy: BucketPolicy, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.max_entries = max_entries
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently failed first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def retry_after_s(self, name: str) -> float:
        """Seconds until `name` may try again; 0 when it may now."""
        with self._lock:
            bucket = self._buckets.get(name)
            return max(0.0, bucket.locked_until_s - self.clock()) if bucket else 0.0

    def failed(self, name: str) -> None:
        """One wrong secret for `name`: take a token, and lock it out when none is left."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(name, None) or _Bucket(tokens=float(self.policy.burst), updated_s=now)
            refilled = (now - max(bucket.updated_s, bucket.locked_until_s)) / self.policy.refill_s
            bucket.tokens = min(float(self.policy.burst), bucket.tokens + max(0.0, refilled)) - 1.0
            bucket.updated_s = now
            if bucket.tokens < 1.0:
                bucket.locked_until_s = now + self.policy.lockout_s
            self._buckets[name] = bucket  # to the end: the most recently failed
            while len(self._buckets) > self.max_entries:
                self._buckets.popitem(last=False)


class SignInLimits:
    """The console's sign-in guard: `retry_after_s` before checking a secret, `failed` after a wrong one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.addresses = FailureBuckets(ADDRESS_POLICY, MAX_TRACKED_ADDRESSES, clock)
        # Bounded by the key store: only known key ids are ever recorded (see `failed`).
        self.keys = FailureBuckets(KEY_POLICY, MAX_TRACKED_ADDRESSES, clock)

    def retry_after_s(self, address: str, access_key_id: str) -> int:
        """Whole seconds (for Retry-After) until this address may try this key again; 0 when it may now."""
        wait_s = max(self.addresses.retry_after_s(address), self.keys.retry_after_s(access_key_id))
        return math.ceil(wait_s)

    def failed(self, address: str, access_key_id: str | None) -> None:
        """A wrong secret from `address`; `access_key_id` only when it names a key of the store."""
        self.addresses.failed(address)
        if access_key_id is not None:
            self.keys.failed(access_key_id)
