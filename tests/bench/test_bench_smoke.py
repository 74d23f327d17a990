"""
Every benchmark in bench/ runs at a tiny size, as a person runs it, and prints its figures.

Benchmarks are not timed tests (bench/README.md): nothing here checks a figure's size, only that each bench still
runs to the end, prints the JSON object it documents with positive numbers where figures belong, and leaves
nothing behind (its database `vigil_bench_<pid>`, its gunicorn and Celery processes). Each bench runs against the
suite's PostgreSQL server and Redis: the URLs the settings resolved, the embedded servers' when DATABASE_URL /
REDIS_URL are unset.
"""

import contextlib
import http.server
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from django.conf import settings

BENCH_DIR = Path(settings.BASE_DIR) / "bench"
# Modules the benches import, not benches.
NOT_BENCHES = {"harness"}
# A bound for a bench that hangs, not the expected time (about 15 s each on the 2-core development machine).
RUN_TIMEOUT_S = 150
# Time for an interrupted bench to stop its children and drop its database (its own grace is 20 s per child).
STOP_GRACE_S = 45
# Set in a bench's environment, which its children inherit: how the test finds every process the run started, even
# after the bench itself is gone.
RUN_MARKER = "VIGIL_BENCH_SMOKE_RUN"


@dataclass
class BenchRun:
    returncode: int
    stdout: str
    stderr: str
    database_left: bool
    processes_left: list[int]

    def figures(self) -> dict:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert lines, f"no output on stdout\n{self.stderr_tail()}"
        return json.loads(lines[-1])

    def stderr_tail(self, lines: int = 40) -> str:
        return "\n".join(self.stderr.splitlines()[-lines:])


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _admin_connection():
    connection = psycopg2.connect(_with_database(settings.DATABASE_URL, "postgres"))
    connection.autocommit = True
    return connection


def _drop_if_left(database: str) -> bool:
    with contextlib.closing(_admin_connection()) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        left = cursor.fetchone() is not None
        if left:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return left


def _processes_marked(marker: str) -> list[int]:
    needle = f"{RUN_MARKER}={marker}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as environ:
                if needle in environ.read().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:  # gone meanwhile, or another user's
            continue
    return found


def _kill_marked(marker: str) -> list[int]:
    """Kill what carries the marker; again while any remains (a gunicorn master may fork between scan and kill)."""
    first = found = _processes_marked(marker)
    for _ in range(10):
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        found = _processes_marked(marker)
    return first


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    """As Ctrl-C would: the bench stops its own children and drops its database; killed if it does not."""
    if process.poll() is not None:
        return "", ""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def run_bench(name: str, *args: str, env: dict | None = None) -> BenchRun:
    marker = uuid.uuid4().hex
    environment = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        **(env or {}),
        RUN_MARKER: marker,
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running one of our scripts
        [sys.executable, f"bench/{name}.py", *args],
        cwd=BENCH_DIR.parent,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        # Also on a failure or Ctrl-C in this process: nothing the bench started outlives the test.
        stopped_output = _stop(process)
        left = _kill_marked(marker)
        # The bench runs as `python bench/<name>.py`, so its pid is the one in its database's name.
        database_left = _drop_if_left(f"vigil_bench_{process.pid}")
    if timed_out:
        stderr = "\n".join(stopped_output[1].splitlines()[-40:])
        pytest.fail(f"bench/{name}.py {' '.join(args)} still ran after {RUN_TIMEOUT_S} s\n{stderr}")
    return BenchRun(process.returncode, stdout, stderr, database_left, left)


def assert_positive_numbers(figures: dict, keys) -> None:
    for key in keys:
        value = figures.get(key)
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{key} = {value!r}"
        assert math.isfinite(value) and value > 0, f"{key} = {value!r}"


def check_ingest(figures: dict) -> None:
    assert figures["alerts"] == 200
    assert figures["correlated"] == 200
    assert figures["timed_out"] is False
    assert figures["failed_requests"] == 0
    assert figures["rejected"] == 0
    assert_positive_numbers(
        figures,
        (
            "accepted_per_s",
            "correlated_per_s",
            "latency_p50_s",
            "latency_p95_s",
            "latency_max_s",
            "copy_per_s",
            "ratio_to_copy",
            "incidents",
            "evidence_rows",
            "push_s",
            "correlate_s",
        ),
    )
    assert_positive_numbers(figures["cpu_s"], ("web", "worker"))


QUEUE_PAGES = (
    "queue",
    "queue_filtered",
    "alert_queue",
    "incident_page",
    "scoped_queue",
    "scoped_queue_filtered",
    "scoped_alert_queue",
    "scoped_incident_page",
    "api_incidents",
    "api_alerts",
    "graph_incidents",
    "graph_alerts",
    "scoped_api_incidents",
    "scoped_graph_incidents",
)


def check_queue(figures: dict) -> None:
    assert figures["errors"] == []
    assert figures["loaded"]["incident"] == 100
    assert figures["loaded"]["alert"] == 1000
    assert_positive_numbers(figures, [f"{page}_p95_ms" for page in QUEUE_PAGES])
    assert_positive_numbers(figures["sql_p95_ms"], QUEUE_PAGES)
    assert_positive_numbers(figures["ratio_to_sql"], QUEUE_PAGES)


# Each bench's smallest sensible run (a few hundred alerts) and the figures it documents.
SMOKE_RUNS = {
    "ingest": (("--scale", "0.01", "--timeout", "60"), check_ingest),
    "queue": (("--scale", "0.001", "--repeat", "3"), check_queue),
}


def test_every_bench_has_a_smoke_run():
    benches = {path.stem for path in BENCH_DIR.glob("*.py")} - NOT_BENCHES
    assert sorted(benches) == sorted(SMOKE_RUNS)


@pytest.mark.parametrize("name", sorted(SMOKE_RUNS))
def test_bench_runs_small_prints_its_figures_and_leaves_nothing_behind(name):
    args, check_figures = SMOKE_RUNS[name]

    run = run_bench(name, *args)

    assert run.returncode == 0, f"exit status {run.returncode}\n{run.stderr_tail()}"
    assert not run.database_left, "the bench did not drop its database"
    assert run.processes_left == [], "processes the bench started outlived it"
    check_figures(run.figures())


class _Refusing(http.server.BaseHTTPRequestHandler):
    status = 403
    detail = "You do not have permission to perform this action."

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"detail": self.detail}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def refusing_server():
    def start(status: int) -> str:
        handler = type("Refusing", (_Refusing,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    servers = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_ingest_bench_stops_with_a_clear_message_and_no_figures_when_a_push_is_refused(refusing_server, status):
    url = refusing_server(status)

    # Against a running server the bench reads correlation from DATABASE_URL; the server's maintenance database
    # will do, since a refused push must stop the run before anything is read.
    run = run_bench(
        "ingest",
        "--scale",
        "0.001",
        "--url",
        url,
        "--token",
        "vigil_refused",
        env={"DATABASE_URL": _with_database(settings.DATABASE_URL, "postgres")},
    )

    assert run.returncode == 1, run.stderr_tail()
    assert run.stdout == ""
    last_line = run.stderr.splitlines()[-1]
    assert "push refused, no figures" in last_line
    assert f"HTTP {status}" in last_line
    assert _Refusing.detail in last_line
