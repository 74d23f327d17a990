"""
Doing again a transaction that PostgreSQL aborted because of a concurrent one: a deadlock victim (40P01) or a
serialisation failure (40001). The transaction was rolled back whole, so running it again is safe and nearly always
succeeds at once. The attempts are bounded: work that keeps colliding raises StillConflicting, which a caller
answers with "try again later" (the ingest API: 503 with Retry-After) rather than as a failure.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

__all__ = ("StillConflicting", "is_transient_conflict", "retry_on_conflict")

logger = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_PGCODES = {"40P01": "deadlock", "40001": "serialisation failure"}
ATTEMPTS = 3
# The first pause; each next one doubles. Jittered, so that the transactions that collided do not meet again.
FIRST_PAUSE_SECONDS = 0.05


class StillConflicting(Exception):
    """Every attempt collided with a concurrent transaction; nothing of the work is stored. Try again later."""

    # Seconds: time enough for the transactions it collided with (a correlation batch, a merge) to commit.
    retry_after = 2


def is_transient_conflict(error: BaseException) -> bool:
    """Whether PostgreSQL aborted the transaction only because of a concurrent one (Django wraps psycopg2's)."""
    return isinstance(error, OperationalError) and getattr(error.__cause__, "pgcode", None) in TRANSIENT_PGCODES


def retry_on_conflict(work: Callable[[], T], *, what: str, attempts: int = ATTEMPTS) -> T:
    """
    Run `work`, and run it again after a short pause each time PostgreSQL aborts it as a deadlock victim or a
    serialisation failure; StillConflicting when the last of `attempts` is aborted too.

    `work` must make its writes in transaction.atomic blocks of its own: a failed attempt is then rolled back whole
    (to a savepoint when a caller's transaction is open), and the on-commit hooks it registered are dropped with it,
    so only the attempt that commits sends them.
    """
    attempt = 1
    while True:
        try:
            return work()
        except OperationalError as error:
            if not is_transient_conflict(error):
                raise
            reason = TRANSIENT_PGCODES[error.__cause__.pgcode]
            if attempt >= attempts:
                logger.warning("%s: %s on each of %d attempts; giving up", what, reason, attempts)
                raise StillConflicting(
                    f"{what} collided with concurrent work {attempts} times; nothing was stored."
                ) from error
            logger.warning("%s: %s on attempt %d of %d; trying again", what, reason, attempt, attempts)
        time.sleep(FIRST_PAUSE_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))  # noqa: S311
        attempt += 1
