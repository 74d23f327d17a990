"""
`manage.py run_portal`: the web server, one Celery worker and beat together in the foreground.

The children get the resolved DATABASE_URL / REDIS_URL, so with the embedded default they share the one private
PostgreSQL and Redis this process started. Ctrl-C (or SIGTERM) stops all three; if one dies, the others are
stopped too, so nothing is left running behind the terminal.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo.services import DEMO_ACCOUNTS
from portal import embedded

STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the portal: web server, Celery worker and beat, stopped together with Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--prepare", action="store_true", help="Migrate and load the demo estate (seed_demo) before starting."
        )

    def handle(self, *args, host, port, prepare, **options):
        if prepare:
            call_command("migrate", interactive=False, verbosity=1)
            call_command("seed_demo")
        env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}
        manage = str(settings.BASE_DIR / "manage.py")
        schedule = str(settings.DATA_DIR / "celerybeat-schedule")
        commands = {
            "web": [sys.executable, manage, "runserver", f"{host}:{port}", "--noreload"],
            "worker": [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO", "--schedule", schedule],
        }
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, command in commands.items():
                # Each child leads its own process group, so stopping it also stops what it forked (Celery's pool).
                children[name] = subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
            self._announce(host, port)
            while not stopping:
                exited = {name: child.returncode for name, child in children.items() if child.poll() is not None}
                if exited:
                    self.stderr.write(f"Stopping: {', '.join(f'{n} exited ({c})' for n, c in exited.items())}.")
                    break
                time.sleep(0.5)
        finally:
            self._stop_all(children)
            embedded.stop_servers_started_here()
        if not stopping:
            raise SystemExit(1)

    def _announce(self, host, port):
        lines = [
            "",
            f"Vigil is running at http://{host}:{port}/  (Ctrl-C stops the web server, worker and beat)",
            "Demo sign-ins:",
            *(f"  {a.username:<8} / {a.password:<20} {a.role}{_scope_text(a)}" for a in DEMO_ACCOUNTS),
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _stop_all(self, children):
        # Signal whole groups even when the leader has exited: its forked workers may still be running.
        for child in children.values():
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()


def _scope_text(account) -> str:
    return f" (device groups: {', '.join(account.device_groups)})" if account.device_groups else ""


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)
