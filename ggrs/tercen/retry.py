"""Retrying transient Tercen failures with exponential backoff, bounded by total time.

Only :class:`~ggrs.errors.RemoteUnavailable` is retried (UNAVAILABLE,
RESOURCE_EXHAUSTED, a stream cut mid-way): retrying a refused token, a missing
table or a malformed payload would only delay the same error. The bound is a
total time, not a count, so a slow and a fast failure cost the same patience.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ggrs.errors import RemoteUnavailable

_T = TypeVar("_T")
log = logging.getLogger("ggrs.tercen")


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is worth retrying."""
    return isinstance(exc, RemoteUnavailable)


@dataclass(frozen=True)
class Retry:
    """Exponential backoff: ``initial``, × ``multiplier`` per attempt, at most ``maximum``.

    Attributes:
        initial: first delay in seconds.
        maximum: longest single delay.
        multiplier: growth per attempt.
        timeout: total seconds from the first attempt after which no new attempt starts;
            the last error is raised instead.
        predicate: which exceptions are retried.
        sleep, clock: injectable for tests.
    """

    initial: float = 0.1
    maximum: float = 5.0
    multiplier: float = 2.0
    timeout: float = 60.0
    predicate: Callable[[BaseException], bool] = is_transient
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __call__(self, fn: Callable[[], _T], what: str = "call") -> _T:
        """Calls `fn` until it succeeds, fails permanently, or the time is up.

        Args:
            fn: the attempt; takes no arguments (bind them with a lambda or partial).
            what: names the operation in log lines.

        Raises:
            Whatever `fn` raised last: a non-transient error at once, a transient one
            once another attempt would start after ``timeout``.
        """
        deadline = self.clock() + self.timeout
        delay = self.initial
        attempt = 1
        while True:
            try:
                return fn()
            except Exception as exc:
                if not self.predicate(exc):
                    raise
                # Jitter spreads the retries of many operators hitting one server.
                pause = min(delay, self.maximum) * random.uniform(0.5, 1.0)
                if self.clock() + pause > deadline:
                    log.warning("%s: giving up after %d attempts: %s", what, attempt, exc)
                    raise
                log.warning("%s failed (attempt %d), retrying in %.2fs: %s", what, attempt, pause,
                            exc)  # fmt: skip
                self.sleep(pause)
                delay *= self.multiplier
                attempt += 1
