"""What /healthz checks: each dependency answers within a second, or it is reported down."""

import redis
from django.conf import settings
from django.db import connection

__all__ = ("check_database", "check_redis")

TIMEOUT_SECONDS = 1.0


def check_database() -> str | None:
    """None when PostgreSQL answers; otherwise why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return type(error).__name__
    return None


def check_redis() -> str | None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except Exception as error:
        return type(error).__name__
    finally:
        client.close()
    return None
