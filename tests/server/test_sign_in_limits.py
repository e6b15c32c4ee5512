"""The sign-in limiter on a clock the test moves: bursts, lockout, refill, and a table that never grows unbounded."""

from __future__ import annotations

import pytest

from reko.server.sign_in_limits import ADDRESS_POLICY, KEY_POLICY, BucketPolicy, FailureBuckets, SignInLimits


class Clock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def test_a_burst_of_wrong_secrets_then_a_lockout_that_ends() -> None:
    clock = Clock()
    buckets = FailureBuckets(BucketPolicy(burst=3, refill_s=10.0, lockout_s=60.0), max_entries=10, clock=clock)
    for _ in range(2):
        buckets.failed("10.0.0.1")
        assert buckets.retry_after_s("10.0.0.1") == 0
    buckets.failed("10.0.0.1")
    assert buckets.retry_after_s("10.0.0.1") == 60
    assert buckets.retry_after_s("10.0.0.2") == 0  # another address is not affected
    clock.now_s += 59.5
    assert buckets.retry_after_s("10.0.0.1") == pytest.approx(0.5)
    clock.now_s += 0.5
    assert buckets.retry_after_s("10.0.0.1") == 0
    buckets.failed("10.0.0.1")  # straight after the lockout the bucket is still empty: locked again
    assert buckets.retry_after_s("10.0.0.1") == 60


@pytest.mark.parametrize(("quiet_s", "locked"), [(9.0, True), (21.0, False)])
def test_the_bucket_refills_with_time(quiet_s: float, locked: bool) -> None:
    clock = Clock()
    buckets = FailureBuckets(BucketPolicy(burst=3, refill_s=10.0, lockout_s=60.0), max_entries=10, clock=clock)
    buckets.failed("key")
    buckets.failed("key")
    clock.now_s += quiet_s  # 9 s gives back nothing whole; 21 s gives back two tokens
    buckets.failed("key")
    assert (buckets.retry_after_s("key") > 0) is locked


def test_the_table_is_capped_and_drops_the_longest_quiet_first() -> None:
    clock = Clock()
    buckets = FailureBuckets(BucketPolicy(burst=1, refill_s=10.0, lockout_s=60.0), max_entries=100, clock=clock)
    for number in range(1000):
        clock.now_s += 0.001
        buckets.failed(f"10.0.{number // 256}.{number % 256}")
    assert len(buckets) == 100
    assert buckets.retry_after_s("10.0.3.231") > 0  # the latest stays locked
    assert buckets.retry_after_s("10.0.0.0") == 0  # the first was dropped


def test_only_keys_of_the_store_are_tracked_and_either_limit_locks_out() -> None:
    clock = Clock()
    limits = SignInLimits(clock)
    for number in range(KEY_POLICY.burst):
        limits.failed(f"10.0.0.{number}", "AKIAKNOWN")  # one key, guessed from many addresses
    assert limits.retry_after_s("10.9.9.9", "AKIAKNOWN") == KEY_POLICY.lockout_s
    assert limits.retry_after_s("10.9.9.9", "AKIAOTHER") == 0
    for _ in range(ADDRESS_POLICY.burst):
        limits.failed("10.1.1.1", None)  # unknown key ids: counted against the address only
    assert len(limits.keys) == 1
    assert limits.retry_after_s("10.1.1.1", "AKIAOTHER") == ADDRESS_POLICY.lockout_s
