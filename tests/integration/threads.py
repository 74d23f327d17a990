"""Running jobs at the same moment, each in its own thread with its own database connection."""

import threading

from django.db import connection

__all__ = ("run_in_threads",)


def run_in_threads(*jobs, timeout=60) -> list[BaseException]:
    """Run each job in its own thread (own database connection), all released together; return their errors."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            job()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors
