"""
Ingestion and correlation, end to end: alerts pushed over HTTP until every one is attached to an incident.

    .venv/bin/python bench/ingest.py [--alerts 20000] [--clients 8] [--batch 100] [--keep-db]
    .venv/bin/python bench/ingest.py --scale 0.01     # 200 alerts, 20 devices, 15 users: a quick run
    .venv/bin/python bench/ingest.py --url http://127.0.0.1:8000 --token SECRET   # an existing server

`--scale` multiplies the default sizes (20,000 alerts, 2,000 devices, 1,500 users); --alerts, --devices and --users
given explicitly win over it.

Without --url it starts its own gunicorn (portal.wsgi) and one Celery worker (--concurrency=2) against a fresh
database `vigil_bench_<pid>` created on the server of DATABASE_URL (or the embedded default), migrated, and
dropped at the end (--keep-db keeps it). The Celery broker is REDIS_URL as given: point it at a Redis database no
other worker consumes from (the bench refuses to start if another worker answers there).

Alerts are Microsoft Graph alerts_v2 JSON built from a fixed seed: an estate of devices and users, attack
"stories" of 2-10 alerts sharing a device or user, 3-6 evidence items per alert, and a few IPs (proxies, DNS
resolvers) that appear across many stories. K client threads push them in batches to POST /api/ingest/alerts.
The bench's user holds the Security administrator role over all data. A push that is not accepted (any answer
but 202: a refused token or role, a server error) stops the run: it prints the refusal on stderr, no figures, and
exits with status 1, since figures without the refused alerts would measure nothing.

Figures (one JSON object on stdout; progress goes to stderr):
- accepted_per_s: alerts accepted / wall time of the push phase.
- correlated_per_s: alerts / time from the first request until the last alert's correlated_at.
- latency_p50_s, latency_p95_s, latency_max_s: per alert, correlated_at - ingested_at (accepted -> in an incident).
- copy_per_s: the same alert and evidence rows written by a raw PostgreSQL COPY into plain scratch tables, alerts
  per second; ratio_to_copy = correlated_per_s / copy_per_s.
- Also: incidents, evidence_rows, push_s / correlate_s, request latencies, merged incidents, the largest incident,
  and cpu_s: CPU seconds of gunicorn, the Celery worker and the bench database's PostgreSQL backends from the first
  request until the last alert is correlated (where the time goes). On --timeout, timed_out is true, the latencies
  cover the alerts that were correlated, and partial_correlated_per_s gives their rate.
"""

import sys
from pathlib import Path

# bench/queue.py is named like the standard library's `queue`, which Celery and redis import: keep this folder
# behind the standard library on the import path.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.append(sys.path.pop(0))

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from harness import (
    CLOUD_APPS,
    FIRST_NAMES,
    LAST_NAMES,
    NS,
    OS_PLATFORMS,
    PYTHON,
    RISK_SCORES,
    ROOT,
    TENANT_ID,
    TOOLS,
    connect,
    log,
    manage,
    percentile,
    public_ip,
    random_hex,
    random_uuid,
    resolve_urls,
    stop_embedded_servers,
    with_database,
)

SEED = 20261126
# The default run's sizes (--scale 1).
ALERTS, DEVICES, USERS = 20_000, 2000, 1500
STOP_GRACE_SECONDS = 20
INGEST_PATH = "/api/ingest/alerts"


# ---------------------------------------------------------------------------------------------------------------
# The alerts: a seeded estate and attack stories in Graph alerts_v2 JSON
# ---------------------------------------------------------------------------------------------------------------

DEVICE_GROUPS = (
    "Headquarters workstations",
    "Branch workstations",
    "Servers",
    "Developers",
    "Executives",
    "Kiosks",
    "Lab",
    "Cloud VMs",
)
# (title, category, MITRE techniques, severity, serviceSource, detectionSource)
TITLES = {
    "endpoint": (
        ("Suspicious PowerShell command line", "Execution", ["T1059.001"], "medium"),
        ("Mimikatz credential theft tool", "CredentialAccess", ["T1003.001"], "high"),
        ("Suspicious process injection observed", "DefenseEvasion", ["T1055"], "medium"),
        ("Ransomware behavior detected in the file system", "Impact", ["T1486"], "high"),
        ("Suspicious execution of hidden file", "DefenseEvasion", ["T1564.001"], "medium"),
        ("Remote service execution with PsExec", "LateralMovement", ["T1021.002", "T1569.002"], "high"),
        ("Suspicious scheduled task", "Persistence", ["T1053.005"], "low"),
        ("An active 'Emotet' malware was detected", "Malware", ["T1204.002"], "high"),
        ("Suspicious file dropped and launched", "Execution", ["T1204.002", "T1105"], "medium"),
        ("Anomalous account lookups", "Discovery", ["T1087.002"], "low"),
    ),
    "identity": (
        ("Suspected overpass-the-hash attack (Kerberos)", "LateralMovement", ["T1550.002"], "high"),
        ("Suspected brute-force attack (LDAP)", "CredentialAccess", ["T1110.001"], "medium"),
        ("Account enumeration reconnaissance", "Discovery", ["T1087.002"], "medium"),
        ("Suspected DCSync attack (replication of directory services)", "CredentialAccess", ["T1003.006"], "high"),
        ("Unfamiliar sign-in properties", "InitialAccess", ["T1078"], "medium"),
    ),
    "email": (
        ("Email messages containing malicious URL removed after delivery", "InitialAccess", ["T1566.002"], "medium"),
        ("A potentially malicious URL click was detected", "InitialAccess", ["T1566.002", "T1204.001"], "high"),
        ("Suspicious email sending patterns detected", "Exfiltration", ["T1114.003"], "medium"),
        ("User restricted from sending email", "Exfiltration", ["T1534"], "high"),
    ),
    "cloud": (
        ("Mass download by a single user", "Exfiltration", ["T1530"], "medium"),
        ("Activity from infrequent country", "InitialAccess", ["T1078.004"], "low"),
        ("Suspicious inbox manipulation rule", "Persistence", ["T1564.008"], "medium"),
        ("Impossible travel activity", "InitialAccess", ["T1078.004"], "medium"),
    ),
}
SOURCES = {
    "endpoint": (
        ("microsoftDefenderForEndpoint", "microsoftDefenderForEndpoint"),
        ("microsoftDefenderForEndpoint", "antivirus"),
    ),
    "identity": (
        ("microsoftDefenderForIdentity", "microsoftDefenderForIdentity"),
        ("azureAdIdentityProtection", "azureAdIdentityProtection"),
    ),
    "email": (("microsoftDefenderForOffice365", "microsoftDefenderForOffice365"),),
    "cloud": (("microsoftDefenderForCloudApps", "cloudAppSecurity"),),
}
KIND_WEIGHTS = {"endpoint": 55, "identity": 20, "email": 15, "cloud": 10}


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


class AlertFactory:
    """Builds the run's alerts from a seed; only the alert ids (a per-run prefix) and the clock vary between runs."""

    def __init__(self, *, seed: int, devices: int, users: int, noisy_share: float, prefix: str, now: datetime):
        self.rng = random.Random(seed)
        self.noisy_share = noisy_share
        self.prefix = prefix
        self.now = now.replace(second=0, microsecond=0)
        rng = self.rng
        self.devices = []
        for index in range(devices):
            group = rng.choice(DEVICE_GROUPS)
            stem = "srv" if group in ("Servers", "Cloud VMs") else "ws"
            site = rng.choice(("lon", "par", "ber", "nyc", "sgp", "syd"))
            self.devices.append(
                {
                    "name": f"{stem}-{site}-{index:04d}",
                    "id": random_hex(rng, 40),
                    "aad": random_uuid(rng),
                    "group": group,
                    "os": rng.choice(OS_PLATFORMS),
                    "risk": rng.choice(RISK_SCORES),
                    "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                }
            )
        self.users = []
        for index in range(users):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            account = f"{first}.{last}{index}"
            self.users.append(
                {
                    "account": account,
                    "display": f"{first.title()} {last.title()}",
                    "upn": f"{account}@corp.example",
                    "sid": f"S-1-5-21-1004336348-1177238915-682003330-{10000 + index}",
                    "oid": random_uuid(rng),
                }
            )
        # Shared widely: the corporate proxies and DNS resolvers, and a few public resolvers.
        self.noisy_ips = ["10.0.0.53", "10.0.0.54", "10.1.0.8", "10.1.0.9", "8.8.8.8", "1.1.1.1", "9.9.9.9"]
        # Malware seen across several stories (one campaign on many machines) and everyday tools.
        self.campaign_files = [(random_hex(rng, 64), random_hex(rng, 40), f"payload{n}.exe") for n in range(60)]
        self.tools = [(random_hex(rng, 64), random_hex(rng, 40), name, path) for name, path in TOOLS]
        self.apps = [(random_uuid(rng), name) for name in CLOUD_APPS] + [
            (random_uuid(rng), f"OAuth app {n}") for n in range(200)
        ]

    def alerts(self, count: int) -> list[dict]:
        alerts, story = [], 0
        while len(alerts) < count:
            alerts.extend(self._story(story, start_index=len(alerts)))
            story += 1
        alerts = alerts[:count]
        # A forwarder sends alerts roughly in the order they happened.
        alerts.sort(key=lambda a: a["firstActivityDateTime"])
        return alerts

    # -- one story: 2-10 alerts about one user and one device (sometimes a second device), over minutes to hours

    def _story(self, story: int, *, start_index: int) -> list[dict]:
        rng = self.rng
        start = self.now - timedelta(minutes=rng.randint(60, 7 * 24 * 60))
        context = {
            "device": rng.choice(self.devices),
            "second_device": rng.choice(self.devices),
            "user": rng.choice(self.users),
            "c2": public_ip(rng),
            "url": f"https://{rng.choice(('login', 'secure', 'verify', 'docs', 'cdn'))}-{random_hex(rng, 6)}.example/"
            f"{rng.choice(('owa', 'invoice', 'share', 'auth'))}/{random_hex(rng, 8)}",
            "malware": rng.choice(self.campaign_files)
            if rng.random() < 0.1
            else (random_hex(rng, 64), random_hex(rng, 40), f"{random_hex(rng, 6)}.exe"),
            "app": rng.choice(self.apps),
            "sender_ip": public_ip(rng),
        }
        at, alerts = start, []
        for offset in range(rng.randint(2, 10)):
            kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
            alerts.append(self._alert(start_index + offset, kind, at, context))
            at += timedelta(minutes=rng.randint(1, 45), seconds=rng.randint(0, 59))
        return alerts

    def _alert(self, index: int, kind: str, at: datetime, ctx: dict) -> dict:
        rng = self.rng
        title, category, techniques, severity = rng.choice(TITLES[kind])
        service, detection = rng.choice(SOURCES[kind])
        alert_id = f"{self.prefix}{index:07d}_{rng.randint(-(2**31), 2**31 - 1)}"
        evidence = self._evidence(kind, at, ctx)
        return {
            "@odata.type": NS + "alert",
            "id": alert_id,
            "providerAlertId": alert_id,
            "tenantId": TENANT_ID,
            "title": title,
            "description": f"{title} on {ctx['device']['name']} involving {ctx['user']['display']}.",
            "recommendedActions": "Investigate the device and the user's recent activity; isolate if confirmed.",
            "category": category,
            "severity": severity,
            "status": "new",
            "classification": None,
            "determination": None,
            "serviceSource": service,
            "detectionSource": detection,
            "detectorId": random_uuid(rng),
            "productName": "Microsoft Defender XDR",
            "mitreTechniques": techniques,
            "threatFamilyName": "Emotet" if "Emotet" in title else None,
            "alertWebUrl": f"https://security.microsoft.com/alerts/{alert_id}?tid={TENANT_ID}",
            "createdDateTime": _time(at + timedelta(minutes=2)),
            "lastUpdateDateTime": _time(at + timedelta(minutes=3)),
            "firstActivityDateTime": _time(at),
            "lastActivityDateTime": _time(at + timedelta(seconds=rng.randint(5, 300))),
            "systemTags": [],
            "evidence": evidence,
        }

    def _evidence(self, kind: str, at: datetime, ctx: dict) -> list[dict]:
        rng = self.rng
        device, user = ctx["device"], ctx["user"]
        if kind == "endpoint":
            core = [self._device(device, at), self._user(user)]
            optional = [
                lambda: self._process(device, user, at),
                lambda: self._file(ctx["malware"], device, at),
                lambda: self._ip(ctx["c2"], "commandAndControl"),
                lambda: self._url(ctx["url"]),
                lambda: self._process(device, user, at),
                lambda: self._device(ctx["second_device"], at),
            ]
        elif kind == "identity":
            core = [self._user(user), self._device(device, at), self._ip(ctx["c2"], "attacker")]
            optional = [
                lambda: self._device(ctx["second_device"], at),
                lambda: self._user(rng.choice(self.users), roles=["attacked"]),
                lambda: self._process(device, user, at),
            ]
        elif kind == "email":
            core = [self._mailbox(user), self._user(user), self._url(ctx["url"])]
            optional = [
                lambda: self._message(user, ctx, at),
                lambda: self._ip(ctx["sender_ip"], "source"),
                lambda: self._file(ctx["malware"], device, at),
            ]
        else:
            core = [self._user(user), self._app(ctx["app"]), self._ip(ctx["c2"], "source")]
            optional = [lambda: self._url(ctx["url"]), lambda: self._device(device, at)]
        target = rng.randint(3, 6)
        evidence = list(core)
        if rng.random() < self.noisy_share and len(evidence) < target:
            evidence.append(self._ip(rng.choice(self.noisy_ips), "contextual"))
        rng.shuffle(optional)
        for make in optional:
            if len(evidence) >= target:
                break
            evidence.append(make())
        return evidence

    def _base(self, odata_type: str, roles=(), verdict="suspicious") -> dict:
        return {
            "@odata.type": NS + odata_type,
            "createdDateTime": _time(self.now),
            "roles": list(roles),
            "detailedRoles": [],
            "tags": [],
            "verdict": verdict,
            "remediationStatus": "none",
            "remediationStatusDetails": None,
        }

    def _device(self, device: dict, at: datetime) -> dict:
        return {
            **self._base("deviceEvidence", verdict="suspicious"),
            "mdeDeviceId": device["id"],
            "azureAdDeviceId": device["aad"],
            "deviceDnsName": f"{device['name']}.corp.example",
            "osPlatform": device["os"],
            "osBuild": 22631,
            "version": "23H2",
            "healthStatus": "active",
            "riskScore": device["risk"],
            "rbacGroupName": device["group"],
            "onboardingStatus": "onboarded",
            "defenderAvStatus": "updated",
            "firstSeenDateTime": _time(at - timedelta(days=200)),
            "ipInterfaces": [device["ip"]],
            "loggedOnUsers": [],
        }

    def _account(self, user: dict) -> dict:
        return {
            "accountName": user["account"],
            "domainName": "corp.example",
            "displayName": user["display"],
            "userPrincipalName": user["upn"],
            "userSid": user["sid"],
            "azureAdUserId": user["oid"],
        }

    def _user(self, user: dict, roles=("compromised",)) -> dict:
        return {**self._base("userEvidence", roles=roles), "userAccount": self._account(user)}

    def _mailbox(self, user: dict) -> dict:
        return {
            **self._base("mailboxEvidence", roles=["attacked"]),
            "displayName": user["display"],
            "primaryAddress": user["upn"],
            "upn": user["upn"],
        }

    def _file(self, file: tuple, device: dict, at: datetime) -> dict:
        sha256, sha1, name = file
        return {
            **self._base("fileEvidence", verdict="malicious"),
            "fileDetails": {
                "sha256": sha256,
                "sha1": sha1,
                "fileName": name,
                "filePath": f"C:\\Users\\Public\\{random_hex(self.rng, 4)}",
                "fileSize": self.rng.randint(20_000, 4_000_000),
                "filePublisher": None,
                "signer": None,
                "issuer": None,
            },
            "mdeDeviceId": device["id"],
            "detectionStatus": "detected",
        }

    def _process(self, device: dict, user: dict, at: datetime) -> dict:
        rng = self.rng
        sha256, sha1, name, path = rng.choice(self.tools)
        parent = rng.choice(self.tools)
        started = at - timedelta(seconds=rng.randint(1, 600))
        return {
            **self._base("processEvidence"),
            "processId": rng.randint(1000, 65000),
            "parentProcessId": rng.randint(500, 9000),
            "processCommandLine": f"{name} -nop -w hidden -enc {random_hex(rng, 48)}",
            "processCreationDateTime": _time(started),
            "parentProcessCreationDateTime": _time(started - timedelta(minutes=rng.randint(1, 120))),
            "imageFile": {"sha256": sha256, "sha1": sha1, "fileName": name, "filePath": path},
            "parentProcessImageFile": {
                "sha256": parent[0],
                "sha1": parent[1],
                "fileName": parent[2],
                "filePath": parent[3],
            },
            "userAccount": self._account(user),
            "mdeDeviceId": device["id"],
            "detectionStatus": "detected",
        }

    def _ip(self, address: str, role: str) -> dict:
        return {
            **self._base("ipEvidence", roles=[role]),
            "ipAddress": address,
            "countryLetterCode": self.rng.choice(("NL", "US", "RU", "BR", "DE", "")),
        }

    def _url(self, url: str) -> dict:
        return {**self._base("urlEvidence", verdict="malicious"), "url": url}

    def _app(self, app: tuple) -> dict:
        app_id, name = app
        return {
            **self._base("cloudApplicationEvidence", roles=["contextual"]),
            "appId": app_id,
            "displayName": name,
            "instanceId": 0,
            "instanceName": name,
            "saasAppId": self.rng.randint(10000, 30000),
        }

    def _message(self, user: dict, ctx: dict, at: datetime) -> dict:
        return {
            **self._base("analyzedMessageEvidence"),
            "networkMessageId": random_uuid(self.rng),
            "internetMessageId": f"<{random_hex(self.rng, 16)}@mail.example>",
            "subject": "Action required: your mailbox is almost full",
            "senderIp": ctx["sender_ip"],
            "recipientEmailAddress": user["upn"],
            "p1Sender": {"emailAddress": "it-support@micros0ft-support.example"},
            "deliveryAction": "delivered",
            "deliveryLocation": "inbox",
            "antiSpamDirection": "inbound",
            "receivedDateTime": _time(at - timedelta(minutes=5)),
            "urlCount": 1,
            "attachmentsCount": 0,
        }


# ---------------------------------------------------------------------------------------------------------------
# Servers, databases and children
# ---------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Children:
    """Processes this bench started, each leading its own process group so that stopping it stops its forks."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs = []

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        output = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop_all
        self._logs.append(output)
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def check(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self) -> None:
        # SIGTERM to the leaders only: gunicorn's master and Celery's main process stop their own children
        # (Celery's warm shutdown returns the messages it holds to the queue instead of losing them mid-task).
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # The leader may have gone while its forks linger (a Celery pool process): finish the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for output in self._logs:
            output.close()


# A role is held through an assignment (group membership alone grants nothing): the same service the demo seed
# and bench/queue.py use.
USER_SCRIPT = """
from django.contrib.auth import get_user_model
from permissions.models import Role
from permissions.services import api_token_create, assignment_set

user = get_user_model().objects.create_user(username="bench-ingest", email="bench-ingest@vigil.example")
assignment_set(
    role=Role.objects.get(group__name="Security administrator"), user=user, all_data=True, device_groups=[], actor=None
)
token, secret = api_token_create(user=user, name="bench/ingest.py")
print("BENCH_SECRET=" + secret)
"""


def create_token(env: dict) -> str:
    for line in manage(["shell", "-c", USER_SCRIPT], env).splitlines():
        if line.startswith("BENCH_SECRET="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError("manage.py shell did not print the token")


def celery_app(redis_url: str):
    from celery import Celery

    # The broker URL the portal derives from REDIS_URL (portal/settings.py).
    return Celery("bench", broker=redis_url.replace("unix://", "redis+socket://", 1))


def wait_for(what: str, ready, children: Children, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        children.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready within {timeout:g} s")
        time.sleep(0.25)


def http_ok(host: str, port: int, path: str) -> bool:
    try:
        connection = http.client.HTTPConnection(host, port, timeout=5)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status == 200
    except OSError:
        return False


def process_groups() -> dict[int, tuple[int, float]]:
    """pid -> (process group, CPU seconds used) for every process on this host."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # After "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        found[int(entry.name)] = (int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


class CpuSampler(threading.Thread):
    """CPU seconds of the web server, the worker and the bench database's backends, sampled while they run."""

    def __init__(self, children: Children, database_url: str, database: str):
        super().__init__(name="cpu-sampler", daemon=True)
        self.groups = {process.pid: name for name, process in children.processes.items()}
        self.database_url = database_url
        self.database = database
        self.latest: dict[int, tuple[str, float]] = {}  # pid -> (group, CPU seconds when last seen)
        self.stopping = threading.Event()

    def run(self) -> None:
        with contextlib.closing(connect(self.database_url)) as db, db.cursor() as cursor:
            while not self.stopping.is_set():
                self.sample(cursor)
                self.stopping.wait(0.5)
            self.sample(cursor)

    def sample(self, cursor) -> None:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
        )
        backends = {pid for (pid,) in cursor.fetchall()}
        for pid, (group, cpu) in process_groups().items():
            name = self.groups.get(group) or ("postgres" if pid in backends else None)
            if name is not None:
                self.latest[pid] = (name, cpu)

    def totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, cpu in list(self.latest.values()):
            totals[name] = totals.get(name, 0.0) + cpu
        return totals

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def queue_length(redis_url: str) -> int:
    import redis

    return redis.Redis.from_url(redis_url).llen("celery")


def purge_leftover_messages(redis_url: str, pids: set[int]) -> int:
    """Remove the Celery messages our web server and worker published and left behind (a timeout, Ctrl-C)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    host = socket.gethostname()

    def ours(raw: bytes) -> bool:
        try:
            message = json.loads(raw)
            message = message[0] if isinstance(message, list) else message
            origin = message["headers"]["origin"]
        except (ValueError, KeyError, TypeError, IndexError):
            return False
        pid, _, origin_host = origin.removeprefix("gen").partition("@")
        return origin_host == host and pid.isdigit() and int(pid) in pids

    removed = 0
    for raw in client.lrange("celery", 0, -1):
        if ours(raw):
            removed += client.lrem("celery", 1, raw)
    for tag, raw in client.hscan_iter("unacked"):
        if ours(raw):
            removed += client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    return removed


# ---------------------------------------------------------------------------------------------------------------
# The phases: push, wait for correlation, measure, COPY baseline
# ---------------------------------------------------------------------------------------------------------------


class PushRefused(Exception):
    """The server did not accept a batch: the run has nothing to measure."""

    def __init__(self, status: int, body: bytes):
        super().__init__(f"HTTP {status}: {body.decode(errors='replace')}")
        self.status = status


def push(bodies: list[tuple[bytes, int]], *, url: str, token: str, clients: int) -> dict:
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = parts.path.rstrip("/") + INGEST_PATH
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}
    local = threading.local()

    def send(body: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            connection = getattr(local, "connection", None)
            if connection is None:
                connection = local.connection = connection_class(parts.hostname, parts.port, timeout=900)
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                # A kept-alive connection the server closed meanwhile; ingestion is idempotent, so resend once.
                connection.close()
                local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(body: bytes, count: int) -> dict:
        started = time.perf_counter()
        status, data = send(body)
        elapsed = time.perf_counter() - started
        if status != 202:
            return {"count": count, "failed": True, "status": status, "body": data[:300], "elapsed": elapsed}
        result = json.loads(data)
        return {
            "count": count,
            "failed": False,
            "accepted": len(result["accepted"]),
            "updated": len(result["updated"]),
            "rejected": result["rejected"],
            "elapsed": elapsed,
        }

    totals = {"accepted": 0, "updated": 0, "rejected": 0, "request_s": []}
    executor = ThreadPoolExecutor(max_workers=clients, thread_name_prefix="client")
    try:
        started = time.time()
        futures = [executor.submit(post, body, count) for body, count in bodies]
        for done, future in enumerate(as_completed(futures), 1):
            outcome = future.result()
            totals["request_s"].append(outcome["elapsed"])
            if outcome["failed"]:
                raise PushRefused(outcome["status"], outcome["body"])
            totals["accepted"] += outcome["accepted"]
            totals["updated"] += outcome["updated"]
            totals["rejected"] += len(outcome["rejected"])
            if outcome["rejected"] and totals["rejected"] == len(outcome["rejected"]):
                log(f"alerts rejected, first: {outcome['rejected'][0]}")
            if done % max(1, len(bodies) // 10) == 0:
                log(f"pushed {done}/{len(bodies)} requests")
        totals["started"] = started
        totals["finished"] = time.time()
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    return totals


def wait_correlated(db, like: str, expected: int, timeout: float) -> tuple[int, bool]:
    deadline = time.monotonic() + timeout
    last_log = 0.0
    with db.cursor() as cursor:
        while True:
            # Only the uncorrelated rows, through the partial index the sweep uses: a poll that scanned every alert
            # (wide rows with their payloads) would itself load the database the bench measures.
            cursor.execute(
                "SELECT count(*) FROM incidents_alert WHERE correlated_at IS NULL AND provider_alert_id LIKE %s",
                [like],
            )
            correlated = expected - cursor.fetchone()[0]
            if correlated >= expected:
                return correlated, False
            if time.monotonic() > deadline:
                return correlated, True
            if time.monotonic() - last_log > 10:
                log(f"correlated {correlated}/{expected}")
                last_log = time.monotonic()
            time.sleep(1.0)


def measure(db, like: str, own_database: bool) -> dict:
    with db.cursor() as cursor:
        cursor.execute(
            """
            SELECT extract(epoch FROM correlated_at - ingested_at), extract(epoch FROM correlated_at)
            FROM incidents_alert WHERE provider_alert_id LIKE %s AND correlated_at IS NOT NULL
            """,
            [like],
        )
        rows = cursor.fetchall()
        cursor.execute(
            """
            SELECT count(DISTINCT incident_id), coalesce(max(n), 0) FROM (
                SELECT incident_id, count(*) OVER (PARTITION BY incident_id) AS n
                FROM incidents_alert WHERE provider_alert_id LIKE %s AND incident_id IS NOT NULL
            ) per_alert
            """,
            [like],
        )
        incidents, largest = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*) FROM incidents_evidence e JOIN incidents_alert a ON a.id = e.alert_id
            WHERE a.provider_alert_id LIKE %s
            """,
            [like],
        )
        (evidence_rows,) = cursor.fetchone()
        merged = None
        if own_database:
            cursor.execute("SELECT count(*) FROM incidents_incident WHERE status = 'redirected'")
            (merged,) = cursor.fetchone()
    latencies = [float(latency) for latency, _ in rows]
    return {
        "latencies": latencies,
        "last_correlated": max((float(at) for _, at in rows), default=None),
        "incidents": incidents,
        "incidents_merged": merged,
        "largest_incident_alerts": largest,
        "evidence_rows": evidence_rows,
    }


def copy_baseline(db, like: str, alerts: int) -> float | None:
    """Alerts per second for a raw COPY of the same alert and evidence rows into plain temp tables."""
    if not alerts:
        return None
    with db.cursor() as cursor:
        alert_rows, evidence_rows = io.BytesIO(), io.BytesIO()
        select_alerts = cursor.mogrify(
            "SELECT * FROM incidents_alert WHERE provider_alert_id LIKE %s ORDER BY id", [like]
        ).decode()
        select_evidence = cursor.mogrify(
            "SELECT e.* FROM incidents_evidence e JOIN incidents_alert a ON a.id = e.alert_id "
            "WHERE a.provider_alert_id LIKE %s ORDER BY e.id",
            [like],
        ).decode()
        cursor.copy_expert(f"COPY ({select_alerts}) TO STDOUT", alert_rows)
        cursor.copy_expert(f"COPY ({select_evidence}) TO STDOUT", evidence_rows)
        # LIKE copies column names and types only (no indexes, checks, defaults, identity or generation).
        cursor.execute("CREATE TEMP TABLE bench_copy_alert (LIKE incidents_alert)")
        cursor.execute("CREATE TEMP TABLE bench_copy_evidence (LIKE incidents_evidence)")
        alert_rows.seek(0)
        evidence_rows.seek(0)
        db.autocommit = False
        started = time.perf_counter()
        cursor.copy_expert("COPY bench_copy_alert FROM STDIN", alert_rows)
        cursor.copy_expert("COPY bench_copy_evidence FROM STDIN", evidence_rows)
        db.commit()
        elapsed = time.perf_counter() - started
        db.autocommit = True
        cursor.execute("DROP TABLE bench_copy_alert, bench_copy_evidence")
    log(f"COPY baseline: {alerts} alerts in {elapsed:.2f} s")
    return alerts / elapsed


# ---------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="size factor for --alerts, --devices and --users (default 1)"
    )
    parser.add_argument("--alerts", type=int, help=f"alerts to push (default {ALERTS} x scale)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    parser.add_argument("--batch", type=int, default=100, help="alerts per request (default 100)")
    parser.add_argument("--url", help="an existing server's base URL: start nothing (needs --token)")
    parser.add_argument("--token", help="API token secret for --url")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database vigil_bench_<pid>")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for correlation (default 600)")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    parser.add_argument("--web-threads", type=int, default=1, help="threads per gunicorn worker; >1 is gthread")
    parser.add_argument("--devices", type=int, help=f"devices in the estate (default {DEVICES} x scale)")
    parser.add_argument("--users", type=int, help=f"users in the estate (default {USERS} x scale)")
    parser.add_argument(
        "--noisy-share", type=float, default=0.2, help="share of alerts naming a widely shared IP (default 0.2)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = parser.parse_args(argv)
    if args.url and not args.token:
        parser.error("--url needs --token")
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    for name, full_size in (("alerts", ALERTS), ("devices", DEVICES), ("users", USERS)):
        if getattr(args, name) is None:
            setattr(args, name, max(1, round(full_size * args.scale)))
    if min(args.alerts, args.clients, args.batch, args.devices, args.users) < 1:
        parser.error("--alerts, --clients, --batch, --devices and --users must be at least 1")
    return args


def run(args: argparse.Namespace) -> dict:
    database_url, redis_url = resolve_urls()
    own = not args.url
    run_id = f"{os.getpid()}{secrets.token_hex(3)}"
    prefix = f"bench{run_id}-"
    like = prefix + "%"
    bench_db = f"vigil_bench_{os.getpid()}"
    admin_url = with_database(database_url, "postgres")
    log_dir = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    children = Children(log_dir)
    created_db = failed = False
    db = sampler = None
    child_pids: set[int] = set()
    try:
        log(f"generating {args.alerts} alerts (seed {args.seed})")
        factory = AlertFactory(
            seed=args.seed,
            devices=args.devices,
            users=args.users,
            noisy_share=args.noisy_share,
            prefix=prefix,
            now=datetime.now(UTC),
        )
        alerts = factory.alerts(args.alerts)
        bodies = [
            (json.dumps(alerts[i : i + args.batch], separators=(",", ":")).encode(), len(alerts[i : i + args.batch]))
            for i in range(0, len(alerts), args.batch)
        ]
        evidence_items = sum(len(a["evidence"]) for a in alerts)
        log(f"{len(bodies)} requests, {sum(len(b) for b, _ in bodies) / 1e6:.1f} MB, {evidence_items} evidence items")
        del alerts

        if own:
            run_url = with_database(database_url, bench_db)
            with contextlib.closing(connect(admin_url)) as admin, admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{bench_db}"')
            created_db = True
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "DATABASE_URL": run_url,
                "REDIS_URL": redis_url,
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "SECURE_SSL_REDIRECT": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
            log(f"database {bench_db}: migrating")
            manage(["migrate", "--noinput", "-v", "0"], env)
            token = create_token(env)

            control = celery_app(redis_url).control
            others = control.ping(timeout=1.0)
            if others:
                names = ", ".join(name for reply in others for name in reply)
                raise RuntimeError(
                    f"other Celery workers consume from {redis_url} ({names}): they would take the bench's tasks. "
                    "Point REDIS_URL at a Redis database nobody else uses (e.g. redis://127.0.0.1:6379/7)."
                )
            waiting = queue_length(redis_url)
            if waiting:
                log(f"warning: {waiting} messages already wait in the Celery queue; the bench's worker will run them")
            port = free_port()
            web_command = [
                PYTHON,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.web_workers),
                "--timeout",
                "600",
                "--log-level",
                "warning",
            ]
            if args.web_threads > 1:
                web_command += ["--worker-class", "gthread", "--threads", str(args.web_threads)]
            worker_name = f"bench-ingest-{os.getpid()}@{socket.gethostname()}"
            worker_command = [PYTHON, "-m", "celery", "-A", "portal", "worker", "--concurrency=2"]
            worker_command += ["--loglevel=WARNING", "-n", worker_name, "--without-gossip", "--without-mingle"]
            log(f"starting gunicorn on 127.0.0.1:{port} and a Celery worker")
            children.start("web", web_command, env)
            children.start("worker", worker_command, env)
            wait_for("gunicorn", lambda: http_ok("127.0.0.1", port, "/healthz"), children)
            wait_for("the Celery worker", lambda: bool(control.ping(destination=[worker_name], timeout=0.5)), children)
            url = f"http://127.0.0.1:{port}"
            db = connect(run_url)
            sampler = CpuSampler(children, run_url, bench_db)
            sampler.start()
        else:
            url, token = args.url, args.token
            db = connect(database_url)

        with db.cursor() as cursor:
            cursor.execute("SELECT current_setting('autovacuum')")
            (autovacuum,) = cursor.fetchone()
        if autovacuum != "on":
            log(
                "warning: autovacuum is off on this PostgreSQL server: the bench database's tables are never "
                "analysed during the run, so plans are made without statistics"
            )
        log(f"pushing with {args.clients} clients, {args.batch} alerts per request")
        cpu_before = sampler.totals() if sampler else {}
        client_before = time.process_time()
        pushed = push(bodies, url=url, token=token, clients=args.clients)
        push_s = pushed["finished"] - pushed["started"]
        stored = pushed["accepted"] + pushed["updated"]
        log(f"push done: {stored} alerts in {push_s:.1f} s ({stored / push_s:.0f}/s)")
        correlated, timed_out = wait_correlated(db, like, stored, args.timeout)
        if timed_out:
            log(f"timed out after {args.timeout:g} s: {correlated}/{stored} correlated")
        cpu = None
        if own:
            children.check()
            sampler.stop()
            child_pids |= set(sampler.latest)
            cpu = {
                name: round(total - cpu_before.get(name, 0.0), 1) for name, total in sorted(sampler.totals().items())
            }
            cpu["bench_clients"] = round(time.process_time() - client_before, 1)
        figures = measure(db, like, own)
        copy_per_s = copy_baseline(db, like, stored)
        correlate_s = (figures["last_correlated"] or pushed["started"]) - pushed["started"]
        correlated_per_s = correlated / correlate_s if correlated and not timed_out else None
        latencies = figures["latencies"]
        requests = pushed["request_s"]
        web_kind = f"gthread {args.web_threads}" if args.web_threads > 1 else "sync"
        result = {
            "alerts": stored,
            "clients": args.clients,
            "batch": args.batch,
            "accepted_per_s": round(stored / push_s, 1),
            "correlated_per_s": round(correlated_per_s, 1) if correlated_per_s else None,
            "latency_p50_s": _round(percentile(latencies, 0.5)),
            "latency_p95_s": _round(percentile(latencies, 0.95)),
            "latency_max_s": _round(max(latencies, default=None)),
            "incidents": figures["incidents"],
            "evidence_rows": figures["evidence_rows"],
            "copy_per_s": round(copy_per_s, 1) if copy_per_s else None,
            "ratio_to_copy": round(correlated_per_s / copy_per_s, 4) if correlated_per_s and copy_per_s else None,
            "push_s": round(push_s, 2),
            "correlate_s": round(correlate_s, 2),
            "correlated": correlated,
            "timed_out": timed_out,
            # With a timeout, the rate reached by the alerts that did get an incident (their latencies likewise).
            "partial_correlated_per_s": round(correlated / correlate_s, 1) if timed_out and correlate_s > 0 else None,
            "requests": len(bodies),
            "failed_requests": 0,  # kept for comparison with older runs: a refused push now stops the run
            "rejected": pushed["rejected"],
            "request_p50_s": _round(percentile(requests, 0.5)),
            "request_p95_s": _round(percentile(requests, 0.95)),
            "incidents_merged": figures["incidents_merged"],
            "largest_incident_alerts": figures["largest_incident_alerts"],
            "cpu_s": cpu,
            "autovacuum": autovacuum,
            "web": f"gunicorn {args.web_workers} x {web_kind}" if own else args.url,
            "worker": "celery prefork x2" if own else None,
            "seed": args.seed,
        }
        failed = timed_out
        return result
    except BaseException:
        failed = True
        raise
    finally:
        if db is not None:
            db.close()
        if sampler is not None:
            sampler.stop()
            child_pids |= set(sampler.latest)
        if children.processes:
            leaders = {process.pid for process in children.processes.values()}
            child_pids |= {pid for pid, (group, _) in process_groups().items() if group in leaders}
            log("stopping gunicorn and the Celery worker")
            children.stop_all()
            removed = purge_leftover_messages(redis_url, child_pids)
            if removed:
                log(f"removed {removed} unprocessed Celery messages the bench left in the broker")
        if failed and children.processes:
            for name in children.processes:
                log(f"--- last lines of {name} ---\n{children.tail(name, 20)}")
        if created_db:
            if args.keep_db:
                log(f"kept database {bench_db}")
            else:
                with contextlib.closing(connect(admin_url)) as admin, admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')
                log(f"dropped database {bench_db}")
        for path in log_dir.iterdir():
            path.unlink()
        log_dir.rmdir()
        stop_embedded_servers()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main(argv=None) -> int:
    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    args = parse_args(argv)
    try:
        result = run(args)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except PushRefused as refused:
        log(f"push refused, no figures: POST {INGEST_PATH} answered {refused}")
        return 1
    print(json.dumps(result), flush=True)
    return 1 if result["timed_out"] else 0


if __name__ == "__main__":
    sys.exit(main())
