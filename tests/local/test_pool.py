"""The environment pool on its own, with stand-in environments and an injected clock:
slots, warm reuse, throttles (account limit and reserved concurrency), the live bound,
retirement, idle reclaim and stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from dogxray.core.errors import DogxrayError
from dogxray.local.pool import (
    ACCOUNT,
    RESERVED,
    Lease,
    Pool,
    Throttled,
    parse_idle_timeout,
    parse_limit,
)
from tests.helpers import wait_for


class FakeEnv:
    def __init__(self, name: str) -> None:
        self.name = name
        self.killed = 0

    @property
    def alive(self) -> bool:
        return self.killed == 0

    def kill(self) -> None:
        self.killed += 1

    def __repr__(self) -> str:
        return self.name


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pool(clock: Clock) -> Iterator[Pool]:
    made = Pool(limit=3, idle_timeout_s=60, clock=clock)
    yield made
    made.stop()


def cold(pool: Pool, arn: str, name: str, sig: str = "v1", reserved: int | None = None) -> Lease:
    lease = pool.acquire(arn, sig, reserved)
    assert lease.cold and lease.env is None
    assert pool.adopt(lease, FakeEnv(name))
    return lease


def test_concurrent_requests_get_their_own_environment_then_reuse_it(pool: Pool) -> None:
    a, b = cold(pool, "f", "a"), cold(pool, "f", "b")
    assert (a.concurrent, b.concurrent) == (1, 2)
    assert pool.busy("f") == 2 and pool.live == 2
    pool.release(a, reusable=True)
    pool.release(b, reusable=True)
    assert pool.busy() == 0 and pool.live == 2
    again = pool.acquire("f", "v1")
    assert not again.cold and again.env is b.env  # the most recently used one
    assert again.concurrent == 1


def test_beyond_the_account_limit_requests_are_throttled(pool: Pool) -> None:
    leases = [cold(pool, f"f{i}", f"e{i}") for i in range(3)]
    with pytest.raises(Throttled) as info:
        pool.acquire("other", "v1")
    assert info.value.reason == ACCOUNT
    pool.release(leases[0], reusable=True)
    assert pool.acquire("f0", "v1").env is leases[0].env


def test_reserved_concurrency_caps_the_function(pool: Pool) -> None:
    cold(pool, "f", "a", reserved=1)
    with pytest.raises(Throttled) as info:
        pool.acquire("f", "v1", 1)
    assert info.value.reason == RESERVED
    cold(pool, "g", "b")  # others still scale
    with pytest.raises(Throttled):
        pool.acquire("h", "v1", 0)  # reserved 0: every request throttled, as Lambda


def test_the_longest_idle_environment_makes_room(pool: Pool, clock: Clock) -> None:
    first = cold(pool, "f", "a")
    second = cold(pool, "g", "b")
    third = cold(pool, "g", "c")
    pool.release(first, reusable=True)
    clock.now += 1
    pool.release(second, reusable=True)
    clock.now += 1
    pool.release(third, reusable=True)
    assert pool.live == 3
    new = cold(pool, "h", "d")  # the limit of live environments is reached
    assert first.env.killed == 1 and second.env.alive and third.env.alive
    assert pool.live == 3
    pool.release(new, reusable=True)


def test_a_changed_function_loses_its_environments(pool: Pool) -> None:
    idle, busy = cold(pool, "f", "a"), cold(pool, "f", "b")
    pool.release(idle, reusable=True)
    pool.retire("f")
    assert idle.env.killed == 1  # now
    assert busy.env.alive  # its invocation finishes first
    pool.release(busy, reusable=True)
    assert busy.env.killed == 1
    assert pool.acquire("f", "v1").cold


def test_a_new_signature_does_not_reuse_old_environments(pool: Pool) -> None:
    lease = cold(pool, "f", "a", sig="v1")
    pool.release(lease, reusable=True)
    assert pool.acquire("f", "v2").cold
    assert lease.env.killed == 1


def test_failed_environments_are_not_reused(pool: Pool) -> None:
    lease = cold(pool, "f", "a")
    pool.release(lease, reusable=False)
    assert lease.env.killed == 1 and pool.live == 0


def test_idle_environments_are_reclaimed_after_the_timeout(pool: Pool, clock: Clock) -> None:
    old, recent = cold(pool, "f", "a"), cold(pool, "g", "b")
    pool.release(old, reusable=True)
    clock.now += 30
    pool.release(recent, reusable=True)
    clock.now += 29.9
    assert pool.reclaim() == 0
    clock.now += 0.1  # `old` idle for 60 s
    assert pool.reclaim() == 1
    assert old.env.killed == 1 and recent.env.alive and pool.live == 1
    clock.now += 30
    assert pool.reclaim() == 1 and pool.live == 0


def test_the_sweeper_reclaims_in_the_background(clock: Clock) -> None:
    pool = Pool(limit=2, idle_timeout_s=0.5, clock=clock).start()  # sweeps every 0.05 s
    try:
        lease = cold(pool, "f", "a")
        pool.release(lease, reusable=True)
        sweeps = pool.sweeps
        assert wait_for(lambda: pool.sweeps >= sweeps + 2)
        assert lease.env.alive  # the injected clock has not moved
        clock.now += 0.5
        assert wait_for(lambda: not lease.env.alive)
    finally:
        pool.stop()


def test_stop_kills_busy_and_idle_environments(pool: Pool) -> None:
    idle, busy = cold(pool, "f", "a"), cold(pool, "f", "b")
    pool.release(idle, reusable=True)
    late = pool.acquire("g", "v1")
    pool.stop()
    assert idle.env.killed and busy.env.killed
    assert not pool.adopt(late, FakeEnv("c"))  # the caller kills what it started
    pool.release(busy, reusable=True)
    assert pool.live == 0


def test_slots_are_exact_under_contention(clock: Clock) -> None:
    """Many threads racing for 5 slots: never more than 5 busy, every throttle counted."""
    pool = Pool(limit=5, idle_timeout_s=60, clock=clock)
    peak, throttled, lock = [0], [0], threading.Lock()

    def worker() -> None:
        for _ in range(200):
            try:
                lease = pool.acquire("f", "v1")
            except Throttled:
                with lock:
                    throttled[0] += 1
                continue
            if lease.env is None:
                pool.adopt(lease, FakeEnv("x"))
            with lock:
                peak[0] = max(peak[0], pool.busy("f"))
            pool.release(lease, reusable=True)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert peak[0] <= 5 and pool.busy() == 0 and pool.live <= 5
    pool.stop()


def test_limits_from_arguments_and_the_environment() -> None:
    assert parse_limit(None, {}) == 10
    assert parse_limit(None, {"DOGXRAY_LOCAL_CONCURRENCY": "3"}) == 3
    assert parse_limit(4, {"DOGXRAY_LOCAL_CONCURRENCY": "3"}) == 4
    assert parse_idle_timeout(None, {}) == 300
    assert parse_idle_timeout(None, {"DOGXRAY_LOCAL_IDLE_TIMEOUT": "2.5"}) == 2.5
    with pytest.raises(DogxrayError) as info:
        parse_limit(None, {"DOGXRAY_LOCAL_CONCURRENCY": "many"})
    assert info.value.exit_code == 2
    assert str(info.value.what) == "DOGXRAY_LOCAL_CONCURRENCY many is not a concurrency limit"
    with pytest.raises(DogxrayError):
        parse_limit(0, {})
    with pytest.raises(DogxrayError):
        parse_idle_timeout(None, {"DOGXRAY_LOCAL_IDLE_TIMEOUT": "-1"})


@pytest.mark.parametrize("error", [ValueError("readline of closed file"), OSError(9, "EBADF")])
def test_a_pipe_closed_under_its_reader_ends_the_reader_quietly(error: Exception) -> None:
    """`kill` closes a child's pipes while the reader threads read them (Ctrl-C under
    load): the readers end as at end of output, no traceback on stderr."""
    import io

    from dogxray.local.environment import _lines

    class ClosedUnderneath(io.BytesIO):
        def __iter__(self) -> ClosedUnderneath:
            return self

        def __next__(self) -> bytes:
            line = self.readline()
            if not line:
                raise error
            return line

    assert list(_lines(ClosedUnderneath(b"one\ntwo\n"))) == [b"one\n", b"two\n"]
