"""What the benchmarks share: where the project is, the servers they use, their logs and their random ids."""

import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = (
    "CLOUD_APPS",
    "FIRST_NAMES",
    "LAST_NAMES",
    "NS",
    "OS_PLATFORMS",
    "PYTHON",
    "RISK_SCORES",
    "ROOT",
    "TENANT_ID",
    "TOOLS",
    "connect",
    "log",
    "manage",
    "percentile",
    "public_ip",
    "random_hex",
    "random_uuid",
    "resolve_urls",
    "stop_embedded_servers",
    "with_database",
)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

_started = time.monotonic()

# The synthetic estate both benchmarks draw from.
CLOUD_APPS = (
    "Microsoft Exchange Online",
    "Microsoft SharePoint Online",
    "Salesforce",
    "Dropbox",
    "Box",
    "GitHub",
    "Slack",
    "Zoom",
    "ServiceNow",
    "Workday",
)
FIRST_NAMES = tuple(
    [
        "alice",
        "ben",
        "chloe",
        "david",
        "emma",
        "farid",
        "grace",
        "hiro",
        "isla",
        "jonas",
        "kara",
        "liam",
        "maya",
        "noah",
        "olga",
        "priya",
        "quinn",
        "rosa",
        "sam",
        "tara",
        "umar",
        "vera",
        "will",
        "xena",
        "yusuf",
        "zoe",
        "adam",
        "bea",
        "carl",
        "dina",
    ]
)
LAST_NAMES = tuple(
    [
        "ward",
        "okafor",
        "martin",
        "nguyen",
        "schmidt",
        "rossi",
        "kowalski",
        "silva",
        "tanaka",
        "haddad",
        "jensen",
        "murphy",
        "novak",
        "patel",
        "costa",
        "larsen",
        "dubois",
        "fischer",
        "moreau",
        "ivanova",
    ]
)
NS = "#microsoft.graph.security."
OS_PLATFORMS = ("Windows11", "Windows11", "Windows10", "WindowsServer2022", "WindowsServer2019", "Linux", "macOS")
RISK_SCORES = ("none", "informational", "low", "medium", "high")
TENANT_ID = "4b2462a4-bbee-495a-a0e1-f23ae524cc9c"
TOOLS = (
    ("powershell.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0"),
    ("cmd.exe", "C:\\Windows\\System32"),
    ("rundll32.exe", "C:\\Windows\\System32"),
    ("wmic.exe", "C:\\Windows\\System32\\wbem"),
    ("mshta.exe", "C:\\Windows\\System32"),
    ("certutil.exe", "C:\\Windows\\System32"),
    ("regsvr32.exe", "C:\\Windows\\System32"),
)


def log(message: str) -> None:
    """Progress on stderr, with the seconds since the benchmark started; stdout is for the JSON result."""
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def resolve_urls() -> tuple[str, str]:
    """DATABASE_URL / REDIS_URL as the portal's settings resolve them (starting the embedded servers if unset)."""
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        from portal import embedded

        data_dir = ROOT / ".data"
        database_url = database_url or embedded.postgres_url(data_dir)
        redis_url = redis_url or embedded.redis_url(data_dir)
    return database_url, redis_url


def stop_embedded_servers() -> None:
    if "portal.embedded" in sys.modules:
        sys.modules["portal.embedded"].stop_servers_started_here()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def connect(url: str, *, autocommit: bool = True):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = autocommit
    return connection


def manage(args: list[str], env: dict) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def random_hex(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def public_ip(rng: random.Random) -> str:
    while True:
        first = rng.randint(11, 223)
        if first not in (100, 127, 169, 172, 192, 198, 203):
            return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
