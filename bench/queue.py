"""
The queues at size: incident queue, alert queue and incident page over 100,000 incidents, 1,000,000 alerts and
3,000,000 evidence rows, for an all-data user and for a user scoped to one device group.

    .venv/bin/python bench/queue.py [--scale 1.0] [--repeat 30] [--keep-db] [--seed N]
    .venv/bin/python bench/queue.py --use-db vigil_bench_1234     # measure a database kept with --keep-db again

It creates a fresh database `vigil_bench_<pid>` on the server of DATABASE_URL (or the embedded default), migrates
it with manage.py and loads it with PostgreSQL COPY from a seeded generator (drops it at the end; --keep-db keeps
it). `--scale` multiplies the sizes: 0.01 gives 1,000 incidents / 10,000 alerts / 30,000 evidence rows.

The data: 8 device groups of unequal size, round(4000 * sqrt(scale)) devices (a few of them busy: device choice is
Zipf-like), round(3000 * sqrt(scale)) users with their mailboxes, cloud apps, tools, a malware campaign and shared
resolver IPs, plus per-incident C2 addresses, URLs, payloads, processes and messages. Each incident has 1-30 alerts
(10 on average; the alerts of a chunk of incidents are stored in time order, so an incident's alerts are spread
over the table as they arrive in reality), each alert 1-5 evidence rows (3 on average) linked to their entities.
Most incidents are resolved; about 12 % are active, 6 % in progress and 2 % awaiting action, recent ones more
often. Incident rollups (alert counts, severity, activity times, device groups, impacted assets, sources,
categories, techniques, name) are computed exactly as the rollup service would from the alerts and their evidence,
and incidents_incidententity holds each incident's entities. The load drops the foreign keys from and to the loaded
tables and the indexes and keys of the big ones (entities, alerts, evidence, incident entities), copies every row
with COPY ... FREEZE in one transaction (rows frozen and all-visible, as vacuum leaves a long-lived database),
restores the very same definitions (validating every foreign key), ANALYZEs and moves the identity sequences past
the loaded ids: the schema is the migrations' (pg_dump -s identical) and the app can insert afterwards.

Then, in this process, Django (DEBUG off, static files collected to a temporary manifest, cache keys of the run's
own) serves the pages through the test Client, 3 warm-ups then `--repeat` timed requests per page:
- queue: /incidents/ (the default view); queue_filtered: /incidents/?severity=high&status=active&q=<device> (the
  device of the scoped group that is in the most incidents); alert_queue: /alerts/; incident_page:
  /incidents/<id>/ (the open incident of the scoped group with the most alerts). User: a Security administrator.
- scoped_*: the same pages for a Security operator whose role assignment covers one device group ("Servers",
  ~13 % of the incidents): data scoping adds `device_group_ids && ARRAY[...]` to every query (the incident page
  is the same URL, an incident of that group).
- api_incidents, api_alerts: the native API's first page of each (/api/incidents/, /api/alerts/, 50 rows, no
  filter: every status); graph_incidents: /v1.0/security/incidents?$expand=alerts&$top=50; graph_alerts:
  /v1.0/security/alerts_v2?$top=50; scoped_api_incidents and scoped_graph_incidents for the scoped operator.

Figures (one JSON object on stdout; progress goes to stderr), milliseconds of server time: perf_counter around
Client.get, i.e. URL resolution, middleware, session and user, view, queries and template rendering:
- queue_p95_ms, queue_filtered_p95_ms, alert_queue_p95_ms, incident_page_p95_ms, scoped_queue_p95_ms (and the
  other scoped_*_p95_ms); pages.<name> has p50_ms / p95_ms, status, queries, bytes and the figures below.
- sql_p95_ms.<page> / ratio_to_sql.<page>: the bare SQL of the page is the read statements it ran (captured once
  with CaptureQueriesContext, session and user look-ups included) executed again in order and fetched, on the same
  database connection, once after every timed request (interleaved, so that both series see the same machine).
  ratio_to_sql = page p95 / SQL p95: 1.0 means the page costs no more than its queries, 3 means two thirds of its
  time is Python, templates and round trips. pages.<name>.ratio_to_sql_p50 is the same from the medians (steadier
  on a busy machine: a p95 of 30 samples is the second-slowest request); pages.<name>.slowest_sql gives the page's
  two slowest statements (median ms, first 400 characters).
- loaded (row counts), incident_statuses, targets (the device, incident and group used), load_s (generate_copy_s:
  generation and COPY overlapped, copy_wait_s the part spent waiting on PostgreSQL; indexes_s; analyze_s), and
  errors: a page that does not answer 200 (or raises) gets null figures and an entry with its status or exception,
  never a crash (the exit status is then 1).
"""

import sys
from pathlib import Path

# This file is named like the standard library's `queue`: drop its own directory from the import path before
# anything (concurrent.futures, redis, Django) imports `queue` and gets this script instead.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
# Its neighbours are still wanted, behind the standard library.
sys.path.append(str(Path(__file__).resolve().parent))

import argparse
import bisect
import contextlib
import io
import json
import logging
import math
import os
import queue
import random
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime

from harness import (
    CLOUD_APPS,
    FIRST_NAMES,
    LAST_NAMES,
    NS,
    OS_PLATFORMS,
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

sys.path.insert(0, str(ROOT))

from incidents.naming import incident_name

SEED = 20261127
INCIDENTS, ALERTS, EVIDENCE = 100_000, 1_000_000, 3_000_000
DEVICES, USERS = 4000, 3000
CHUNK_INCIDENTS = 1000
WARMUP = 3
DAY = 86_400.0
SCOPED_GROUP = "Servers"
NULL = "\\N"  # COPY text format


# ---------------------------------------------------------------------------------------------------------------
# The estate and the stories (values valid for incidents/choices.py and the check constraints)
# ---------------------------------------------------------------------------------------------------------------

# Device group -> share of the devices.
DEVICE_GROUPS = {
    "Headquarters workstations": 30,
    "Branch workstations": 20,
    "Servers": 15,
    "Developers": 12,
    "Executives": 3,
    "Kiosks": 5,
    "Lab": 5,
    "Cloud VMs": 10,
}
SITES = ("lon", "par", "ber", "nyc", "sgp", "syd")
PARENTS = ("explorer.exe", "winword.exe", "outlook.exe", "services.exe", "wmiprvse.exe")
# (title, category, MITRE techniques, severity)
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
        ("Unwanted software detected", "UnwantedSoftware", [], "informational"),
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
        ("Email reported by user as malware or phish", "InitialAccess", ["T1566"], "informational"),
    ),
    "cloud": (
        ("Mass download by a single user", "Exfiltration", ["T1530"], "medium"),
        ("Activity from infrequent country", "InitialAccess", ["T1078.004"], "low"),
        ("Suspicious inbox manipulation rule", "Persistence", ["T1564.008"], "medium"),
        ("Impossible travel activity", "InitialAccess", ["T1078.004"], "medium"),
    ),
}
# (serviceSource, detectionSource, productName)
SOURCES = {
    "endpoint": (
        ("microsoftDefenderForEndpoint", "microsoftDefenderForEndpoint", "Microsoft Defender for Endpoint"),
        ("microsoftDefenderForEndpoint", "antivirus", "Microsoft Defender for Endpoint"),
        ("microsoftDefenderForEndpoint", "customDetection", "Microsoft Defender XDR"),
    ),
    "identity": (
        ("microsoftDefenderForIdentity", "microsoftDefenderForIdentity", "Microsoft Defender for Identity"),
        ("azureAdIdentityProtection", "azureAdIdentityProtection", "Microsoft Entra ID Protection"),
    ),
    "email": (("microsoftDefenderForOffice365", "microsoftDefenderForOffice365", "Microsoft Defender for Office 365"),),
    "cloud": (("microsoftDefenderForCloudApps", "cloudAppSecurity", "Microsoft Defender for Cloud Apps"),),
}
KINDS = ("endpoint", "identity", "email", "cloud")
KIND_WEIGHTS = (55, 20, 15, 10)
SEVERITIES = ("unknown", "informational", "low", "medium", "high")
# Incident status -> share; open incidents are mostly recent (see Generator.plan).
INCIDENT_STATUSES = {"resolved": 80, "active": 12, "inProgress": 6, "awaitingAction": 2}
CLASSIFICATIONS = {
    "truePositive": (
        35,
        ("multiStagedAttack", "malware", "phishing", "compromisedUser", "maliciousUserActivity", "unwantedSoftware"),
    ),
    "falsePositive": (20, ("clean", "insufficientData", "other")),
    "informationalExpectedActivity": (25, ("securityTesting", "lineOfBusinessApplication", "confirmedUserActivity")),
    "unknown": (20, ("unknown",)),
}
CUSTOM_TAGS = ("phishing-campaign", "vip", "ransomware", "red-team", "pen-test", "escalated", "needs-review")
RECOMMENDED = "Investigate the device and the user's recent activity; isolate the device if the activity is confirmed."


_hours: dict[int, str] = {}


def _ts(moment: float) -> str:
    """Epoch seconds -> ISO 8601 in UTC, for COPY and for Graph JSON (the hour's text is formatted once)."""
    whole = int(moment)
    hour = _hours.get(whole // 3600)
    if hour is None:
        hour = _hours[whole // 3600] = datetime.fromtimestamp(whole // 3600 * 3600, UTC).strftime("%Y-%m-%dT%H:")
    return f"{hour}{whole // 60 % 60:02d}:{whole % 60:02d}.{int((moment - whole) * 1e6):06d}+00:00"


def _graph_time(moment: float) -> str:
    return _ts(moment)[:-6] + "0Z"


def _json(value) -> str:
    """JSON as a COPY text field (the only character JSON text can hold that COPY escapes is the backslash)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("\\", "\\\\")


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _array(values) -> str:
    return "{" + ",".join(str(v) for v in values) + "}"


def _quota(total: int, count: int, draw, lo: int, hi: int):
    """`count` integers in [lo, hi] from `draw()`, nudged so that they add up to exactly `total`."""
    done = 0
    for index in range(count):
        left = count - index
        want = total - done
        # Keep what remains reachable, and pull the running sum towards its share.
        share = want / left
        value = draw() + max(-2, min(2, round((share - (total / count)) * 4)))
        value = max(lo, min(hi, value, want - lo * (left - 1)))
        value = max(value, want - hi * (left - 1))
        done += value
        yield value


class Entities:
    """Entity rows with their ids, written into the current chunk's COPY buffer as they are created."""

    COLUMNS = (
        "id, kind, key, display_name, attributes, first_seen, last_seen, device_group_id, os_platform, risk_score, "
        "is_isolated"
    )

    def __init__(self):
        self.next_id = 1
        self.lines: list[str] = []

    def add(self, kind, key, display, attributes, first_seen, last_seen, group_id=None, os_platform="", risk=""):
        entity_id = self.next_id
        self.next_id += 1
        self.lines.append(
            f"{entity_id}\t{kind}\t{_text(key)}\t{_text(display)}\t{_json(attributes)}\t{_ts(first_seen)}\t"
            f"{_ts(last_seen)}\t{group_id or NULL}\t{os_platform}\t{risk}\tf\n"
        )
        return entity_id

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


class Generator:
    """
    Seeded data in COPY text format, one chunk of CHUNK_INCIDENTS incidents at a time (every chunk: the entities it
    introduces, its incidents, their alerts in time order, the alerts' evidence, the incidents' entity links).
    """

    def __init__(self, *, scale: float, seed: int, now: float):
        self.rng = rng = random.Random(seed)
        self.now = now
        self.incidents = max(1, round(INCIDENTS * scale))
        self.alerts = max(self.incidents, round(ALERTS * scale))
        self.evidence = max(self.alerts, round(EVIDENCE * scale))
        if self.alerts > 30 * self.incidents or self.evidence > 5 * self.alerts:
            raise ValueError("at most 30 alerts per incident and 5 evidence rows per alert")
        self.entities = Entities()
        self.next_alert = self.next_evidence = self.next_link = 1
        self.group_ids = {name: index + 1 for index, name in enumerate(DEVICE_GROUPS)}
        self.analysts = [f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}" for _ in range(25)]
        self.detectors = {title: random_uuid(rng) for titles in TITLES.values() for title, *_ in titles}
        self.ips: dict[str, int] = {}
        self._url_serial = 0
        self._payloads: dict[tuple, str] = {}
        self._build_estate(max(50, round(DEVICES * math.sqrt(scale))), max(50, round(USERS * math.sqrt(scale))))

    # -- the shared estate ------------------------------------------------------------------------------------

    def _build_estate(self, devices: int, users: int) -> None:
        rng, add, now = self.rng, self.entities.add, self.now
        since = now - 400 * DAY
        names, weights = list(DEVICE_GROUPS), list(DEVICE_GROUPS.values())
        self.devices = []
        for index in range(devices):
            group = rng.choices(names, weights)[0]
            stem = "srv" if group in ("Servers", "Cloud VMs") else ("kiosk" if group == "Kiosks" else "ws")
            name = f"{stem}-{rng.choice(SITES)}-{index:04d}"
            device = {
                "name": name,
                "fqdn": f"{name}.corp.example",
                "mde": random_hex(rng, 40),
                "aad": random_uuid(rng),
                "group": group,
                "group_id": self.group_ids[group],
                "os": "WindowsServer2022" if stem == "srv" and rng.random() < 0.7 else rng.choice(OS_PLATFORMS),
                "risk": rng.choice(RISK_SCORES),
                "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            }
            device["evidence"] = self._device_evidence(device)
            attributes = {k: v for k, v in device["evidence"].items() if k not in EVIDENCE_ONLY}
            device["id"] = add(
                "device",
                device["fqdn"],
                name,
                attributes,
                since + rng.uniform(0, 200 * DAY),
                now - rng.uniform(0, 2 * DAY),
                device["group_id"],
                device["os"],
                device["risk"],
            )
            self.devices.append(device)
        # A few busy machines, a long quiet tail: Zipf-like weights in a random order.
        ranks = list(range(devices))
        rng.shuffle(ranks)
        self.device_cum = list(_cumulative(1.0 / (rank + 10) for rank in ranks))
        self.users = []
        for index in range(users):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            account = f"{first}.{last}{index}"
            user = {
                "accountName": account,
                "domainName": "corp.example",
                "displayName": f"{first.title()} {last.title()}",
                "userPrincipalName": f"{account}@corp.example",
                "userSid": f"S-1-5-21-1004336348-1177238915-682003330-{10000 + index}",
                "azureAdUserId": random_uuid(rng),
            }
            seen = since + rng.uniform(0, 200 * DAY), now - rng.uniform(0, 2 * DAY)
            user["id"] = add("user", user["userPrincipalName"], user["displayName"], user, *seen)
            mailbox = {"displayName": user["displayName"], "primaryAddress": user["userPrincipalName"]}
            mailbox["upn"] = user["userPrincipalName"]
            user["mailbox_id"] = add("mailbox", user["userPrincipalName"], user["displayName"], mailbox, *seen)
            self.users.append(user)
        self.user_cum = list(_cumulative(1.0 / (rank + 20) for rank in range(users)))
        self.apps = []
        for name in [*CLOUD_APPS, *(f"OAuth app {n}" for n in range(200))]:
            app_id = random_uuid(rng)
            attributes = {"appId": app_id, "displayName": name, "instanceName": name, "saasAppId": rng.randint(1, 9)}
            self.apps.append((add("cloudApplication", app_id, name, attributes, since, now - DAY), app_id, name))
        self.tools = []
        for name, path in TOOLS:
            details = {"sha256": random_hex(rng, 64), "sha1": random_hex(rng, 40), "fileName": name, "filePath": path}
            self.tools.append((add("file", details["sha256"], name, details, since, now - 3600), details))
        self.campaign = []
        for n in range(60):
            details = {"sha256": random_hex(rng, 64), "sha1": random_hex(rng, 40), "fileName": f"payload{n}.exe"}
            details["filePath"] = "C:\\Users\\Public"
            self.campaign.append((add("file", details["sha256"], details["fileName"], details, since, now), details))
        self.noisy_ips = [self._ip(address, since, now) for address in ("10.0.0.53", "10.0.0.54", "8.8.8.8", "1.1.1.1")]

    def _device_evidence(self, device: dict) -> dict:
        return {
            "@odata.type": NS + "deviceEvidence",
            "mdeDeviceId": device["mde"],
            "azureAdDeviceId": device["aad"],
            "deviceDnsName": device["fqdn"],
            "osPlatform": device["os"],
            "osBuild": 22631,
            "version": "23H2",
            "healthStatus": "active",
            "riskScore": device["risk"],
            "rbacGroupName": device["group"],
            "onboardingStatus": "onboarded",
            "defenderAvStatus": "updated",
            "ipInterfaces": [device["ip"]],
        }

    def _ip(self, address: str, first: float, last: float) -> tuple[int, str]:
        """(entity id, address): an address seen before (a random one may repeat) is the same entity."""
        entity_id = self.ips.get(address)
        if entity_id is None:
            attributes = {"ipAddress": address, "countryLetterCode": self.rng.choice(("NL", "US", "RU", "BR", "DE"))}
            entity_id = self.ips[address] = self.entities.add("ip", address, address, attributes, first, last)
        return entity_id, address

    def _device(self) -> dict:
        return self.devices[bisect.bisect(self.device_cum, self.rng.random() * self.device_cum[-1])]

    def _user(self) -> dict:
        return self.users[bisect.bisect(self.user_cum, self.rng.random() * self.user_cum[-1])]

    # -- the plan: every incident's status, start and size, in creation order ------------------------------------

    def plan(self) -> list[tuple[float, str, int]]:
        rng, now = self.rng, self.now
        statuses, weights = list(INCIDENT_STATUSES), list(INCIDENT_STATUSES.values())
        sizes = _quota(self.alerts, self.incidents, self._incident_size, 1, 30)
        plan = []
        for size in sizes:
            status = rng.choices(statuses, weights)[0]
            if status == "resolved":
                age = rng.uniform(2 * 3600, 182 * DAY)
            else:
                age = min(180 * DAY, 600 + rng.expovariate(1 / (10 * DAY)))
            plan.append((now - age, status, size))
        plan.sort()
        return plan

    def _incident_size(self) -> int:
        rng, band = self.rng, self.rng.random()
        if band < 0.35:
            return rng.randint(1, 3)
        if band < 0.70:
            return rng.randint(4, 12)
        return rng.randint(13, 30)

    def _evidence_size(self) -> int:
        return self.rng.choices((2, 3, 4, 5), (30, 45, 20, 5))[0]

    # -- chunks -----------------------------------------------------------------------------------------------

    def chunks(self):
        plan = self.plan()
        per_alert = _quota(self.evidence, self.alerts, self._evidence_size, 1, 5)
        for start in range(0, len(plan), CHUNK_INCIDENTS):
            incident_lines, link_lines, alerts = [], [], []
            for offset, (begin, status, size) in enumerate(plan[start : start + CHUNK_INCIDENTS]):
                incident_id = start + offset + 1
                incident_line, links, incident_alerts = self._incident(incident_id, begin, status, size, per_alert)
                incident_lines.append(incident_line)
                link_lines.extend(links)
                alerts.extend(incident_alerts)
            alerts.sort(key=lambda alert: alert["ingested_at"])
            self._payloads.clear()
            alert_lines, evidence_lines = [], []
            for alert in alerts:
                alert_lines.append(self._alert_line(alert))
                evidence_lines.extend(self._evidence_lines(alert))
            yield (
                {
                    "incidents_entity": self.entities.take(),
                    "incidents_incident": incident_lines,
                    "incidents_alert": alert_lines,
                    "incidents_evidence": evidence_lines,
                    "incidents_incidententity": link_lines,
                },
                len(alerts),
            )

    def _incident(self, incident_id: int, begin: float, status: str, size: int, per_alert):
        rng, now = self.rng, self.now
        theme = rng.choices(KINDS, KIND_WEIGHTS)[0]
        device, user = self._device(), self._user()
        context = {
            "device": device,
            "second_device": self._device() if rng.random() < 0.25 else device,
            "user": user,
            "other_user": self._user(),
        }
        # Alert times: minutes to hours apart, now and then a day or more.
        offsets, at = [], 0.0
        for _ in range(size):
            offsets.append(at)
            at += rng.expovariate(1 / 1800) if rng.random() < 0.9 else rng.uniform(DAY, 3 * DAY)
        span = offsets[-1] + 900
        begin = min(begin, now - 600 - span)
        context["c2"] = self._ip(public_ip(rng), begin, begin + span)
        context["sender_ip"] = self._ip(public_ip(rng), begin, begin + span)
        self._url_serial += 1
        url = (
            f"https://{rng.choice(('login', 'secure', 'verify', 'docs', 'cdn'))}-{random_hex(rng, 6)}"
            f"{self._url_serial}.example/{rng.choice(('owa', 'invoice', 'share', 'auth'))}/{random_hex(rng, 8)}"
        )
        context["url"] = (
            self.entities.add("url", url, url, {"url": url}, begin, begin + span),
            url,
        )
        if rng.random() < 0.1:
            context["malware"] = rng.choice(self.campaign)
        else:
            details = {
                "sha256": random_hex(rng, 64),
                "sha1": random_hex(rng, 40),
                "fileName": f"{random_hex(rng, 6)}.exe",
            }
            details["filePath"] = f"C:\\Users\\{user['accountName']}\\AppData\\Local\\Temp"
            file_id = self.entities.add("file", details["sha256"], details["fileName"], details, begin, begin + span)
            context["malware"] = (file_id, details)
        context["app"] = rng.choice(self.apps)
        context["parent"] = self._process(device, user, begin - rng.uniform(600, 86_400), parent=True)
        context["message"] = None

        # Status and triage.
        classification, determination = "unknown", "unknown"
        if status == "resolved" or (status != "active" and rng.random() < 0.3):
            names = list(CLASSIFICATIONS)
            classification = rng.choices(names, [CLASSIFICATIONS[n][0] for n in names])[0]
            determination = rng.choice(CLASSIFICATIONS[classification][1])
        # Resolved incidents were mostly assigned; new ones mostly wait for someone; the rest have an owner.
        owned = {"resolved": 0.9, "active": 0.3}.get(status, 1.0)
        assigned = rng.choice(self.analysts) if rng.random() < owned else ""

        alerts, entity_kinds, group_ids = [], {}, set()
        titles, categories, services, detections, techniques = set(), set(), set(), set(), set()
        top = 0
        first_activity, last_activity = math.inf, -math.inf
        last_seen = begin
        for index, offset in enumerate(offsets):
            kind = theme if rng.random() < 0.7 else rng.choices(KINDS, KIND_WEIGHTS)[0]
            title, category, mitre, severity = rng.choice(TITLES[kind])
            if rng.random() < 0.15:
                severity = SEVERITIES[max(1, min(4, SEVERITIES.index(severity) + rng.choice((-1, 1))))]
            service, detection, product = rng.choice(SOURCES[kind])
            first = begin + offset
            last = first + rng.uniform(5, 300)
            created = last + rng.uniform(60, 600)
            ingested = created + rng.uniform(1, 30)
            evidence = self._alert_evidence(kind, next(per_alert), first, context)
            subject = evidence[0][13]
            if index == 0:
                reason = f"New incident: no open incident within 24 h shares {subject}."
            else:
                reason = f"shares {subject}"
            alert = {
                "incident_id": incident_id,
                "kind": kind,
                "title": title,
                "category": category,
                "mitre": mitre,
                "severity": severity,
                "service": service,
                "detection": detection,
                "product": product,
                "first": first,
                "last": last,
                "created": created,
                "ingested_at": ingested,
                "correlated": ingested + rng.uniform(0.2, 3),
                "evidence": evidence,
                "assigned": assigned,
                "subject": subject.split(" ", 1)[1],
                "reason": reason,
            }
            alerts.append(alert)
            titles.add(title)
            categories.add(category)
            services.add(service)
            detections.add(detection)
            techniques.update(mitre)
            top = max(top, SEVERITIES.index(severity))
            first_activity, last_activity = min(first_activity, first), max(last_activity, last)
            last_seen = max(last_seen, alert["correlated"])
            groups = set()
            for row in evidence:
                entity_kinds[row[0]] = row[10]
                if row[10] == "device":
                    group_ids.add(row[11])
                    groups.add(row[11])
                if row[6] is not None:
                    groups.add(row[12])
            alert["group_ids"] = sorted(groups)

        # Alert statuses consistent with the incident's: an open incident keeps at least one open alert.
        resolved_at = None
        if status == "resolved":
            resolved_at = min(now - 60, last_seen + 60 + rng.expovariate(1 / (2 * DAY)))
            for alert in alerts:
                alert["status"] = "resolved"
        else:
            for alert in alerts:
                if status == "active":
                    alert["status"] = "new" if rng.random() < 0.85 else "resolved"
                else:
                    alert["status"] = rng.choices(("inProgress", "new", "resolved"), (50, 30, 20))[0]
            if all(alert["status"] == "resolved" for alert in alerts):
                alerts[-1]["status"] = "new" if status == "active" else "inProgress"
        active = 0
        for alert in alerts:
            if alert["status"] == "resolved":
                alert["resolved_at"] = resolved_at or min(now - 30, alert["correlated"] + rng.uniform(600, DAY))
                if status == "resolved":
                    alert["classification"], alert["determination"] = classification, determination
                else:
                    alert["classification"], alert["determination"] = "falsePositive", "clean"
                alert["last_update"] = alert["resolved_at"]
            else:
                active += 1
                alert["resolved_at"] = None
                alert["classification"] = alert["determination"] = "unknown"
                alert["last_update"] = alert["created"] + 60
        if status == "resolved":
            last_update = resolved_at
        elif status == "active":
            last_update = min(now - 30, last_seen + rng.uniform(0, 600))
        else:
            last_update = min(now - 30, last_seen + rng.uniform(0, 2 * DAY))

        assets: dict[str, int] = {}
        for kind in entity_kinds.values():
            assets[kind] = assets.get(kind, 0) + 1
        name = incident_name(
            titles=sorted(titles)[:2], categories=sorted(categories), assets=assets, sources=sorted(services)
        )
        tags = rng.sample(CUSTOM_TAGS, rng.randint(1, 2)) if rng.random() < 0.08 else []
        comment = f"Closed after triage: {determination}." if status == "resolved" and rng.random() < 0.6 else ""
        created_at = min(alert["ingested_at"] for alert in alerts)
        incident_line = "\t".join(
            (
                str(incident_id),
                _text(name),
                "f",
                "",
                "",
                SEVERITIES[top],
                "f",
                status,
                classification,
                determination,
                assigned,
                _array(tags),
                "{}",
                NULL,
                comment,
                assigned if status != "active" else "",
                _ts(first_activity),
                _ts(last_activity),
                _ts(created_at),
                _ts(last_update),
                str(len(alerts)),
                str(active),
                _json(dict(sorted(assets.items()))),
                _array(sorted(services)),
                _array(sorted(detections)),
                _array(sorted(categories)),
                _array(sorted(techniques)),
                _array(sorted(group_ids)),
                "f",
            )
        )
        links = []
        for entity_id in sorted(entity_kinds):
            links.append(f"{self.next_link}\t{incident_id}\t{entity_id}\n")
            self.next_link += 1
        return incident_line + "\n", links, alerts

    def _process(self, device: dict, user: dict, started: float, parent: bool = False) -> tuple:
        rng = self.rng
        name = rng.choice(PARENTS) if parent else None
        tool_id, tool = rng.choice(self.tools)
        image = name or tool["fileName"]
        pid = rng.randint(500, 65000)
        created = _graph_time(started)
        key = f"{device['fqdn']}:{pid}:{created}".lower()
        command = f"{image} -nop -w hidden -enc {random_hex(rng, 48)}" if not parent else image
        attributes = {"processId": pid, "creationDateTime": created, "commandLine": command}
        entity_id = self.entities.add("process", key, f"{image} ({pid})", attributes, started, started + 60)
        return entity_id, pid, created, command, tool_id, tool

    def _alert_evidence(self, kind: str, count: int, at: float, ctx: dict) -> list[tuple]:
        """
        `count` evidence rows of one alert, each a tuple: (entity_id, odata type, roles, verdict, remediation,
        created, device link, image file link, parent process link, payload, entity kind, group of a device entity,
        group of the linked device).
        """
        rng = self.rng
        device, user = ctx["device"], ctx["user"]
        if kind == "endpoint":
            core = [lambda: self._ev_device(device, at), lambda: self._ev_user(user, at)]
            optional = [
                lambda: self._ev_process(device, user, at, ctx),
                lambda: self._ev_file(ctx["malware"], device, at),
                lambda: self._ev_ip(ctx["c2"], "commandAndControl", at),
                lambda: self._ev_url(ctx["url"], at),
                lambda: self._ev_process(device, user, at, ctx),
                lambda: self._ev_device(ctx["second_device"], at),
            ]
        elif kind == "identity":
            core = [lambda: self._ev_user(user, at), lambda: self._ev_device(device, at)]
            optional = [
                lambda: self._ev_ip(ctx["c2"], "attacker", at),
                lambda: self._ev_device(ctx["second_device"], at),
                lambda: self._ev_user(ctx["other_user"], at, roles=("attacked",)),
                lambda: self._ev_process(device, user, at, ctx),
                lambda: self._ev_ip(ctx["sender_ip"], "source", at),
            ]
        elif kind == "email":
            core = [lambda: self._ev_mailbox(user, at), lambda: self._ev_url(ctx["url"], at)]
            optional = [
                lambda: self._ev_user(user, at),
                lambda: self._ev_message(user, ctx, at),
                lambda: self._ev_ip(ctx["sender_ip"], "source", at),
                lambda: self._ev_file(ctx["malware"], None, at),
            ]
        else:
            core = [lambda: self._ev_user(user, at), lambda: self._ev_app(ctx["app"], at)]
            optional = [
                lambda: self._ev_ip(ctx["c2"], "source", at),
                lambda: self._ev_url(ctx["url"], at),
                lambda: self._ev_device(device, at),
            ]
        if rng.random() < 0.2:
            optional.append(lambda: self._ev_ip(rng.choice(self.noisy_ips), "contextual", at))
        rng.shuffle(optional)
        rows, seen = [], set()
        for make in core + optional:
            if len(rows) >= count:
                break
            row = make()
            if row[0] not in seen:  # one row per entity per alert (evidence_alert_entity_unique)
                seen.add(row[0])
                rows.append((*row[:5], at - rng.uniform(0, 120), *row[5:]))
        return rows

    # Evidence builders: (entity_id, odata, roles, verdict, remediation, device link, image file link, parent process
    # link, payload as COPY-ready JSON, entity kind, the entity's device group, the linked device's group, subject).
    # Payloads that repeat (a device, a user, an incident's URL) are serialised once per chunk.

    def _cached(self, key: tuple, build) -> str:
        text = self._payloads.get(key)
        if text is None:
            text = self._payloads[key] = _json(build())
        return text

    @staticmethod
    def _base(odata: str, roles, verdict: str, created: str) -> dict:
        return {
            "@odata.type": NS + odata,
            "createdDateTime": created,
            "roles": list(roles),
            "detailedRoles": [],
            "tags": [],
            "verdict": verdict,
            "remediationStatus": "none",
        }

    def _ev_device(self, device: dict, at: float) -> tuple:
        payload = self._cached(
            ("device", device["id"]),
            lambda: {**self._base("deviceEvidence", (), "suspicious", _graph_time(at)), **device["evidence"]},
        )
        return (device["id"], "deviceEvidence", "{}", "suspicious", "none", None, None, None, payload, "device",
                device["group_id"], None, f"device {device['fqdn']}")  # fmt: skip

    def _ev_user(self, user: dict, at: float, roles=("compromised",)) -> tuple:
        def build():
            account = {k: v for k, v in user.items() if k not in ("id", "mailbox_id")}
            return {**self._base("userEvidence", roles, "suspicious", _graph_time(at)), "userAccount": account}

        payload = self._cached(("user", user["id"], roles), build)
        return (user["id"], "userEvidence", _array(roles), "suspicious", "none", None, None, None, payload, "user",
                None, None, f"user {user['userPrincipalName'].lower()}")  # fmt: skip

    def _ev_mailbox(self, user: dict, at: float) -> tuple:
        def build():
            payload = self._base("mailboxEvidence", ("attacked",), "suspicious", _graph_time(at))
            payload["displayName"] = user["displayName"]
            payload["primaryAddress"] = payload["upn"] = user["userPrincipalName"]
            return payload

        payload = self._cached(("mailbox", user["id"]), build)
        return (user["mailbox_id"], "mailboxEvidence", "{attacked}", "suspicious", "none", None, None, None, payload,
                "mailbox", None, None, f"mailbox {user['userPrincipalName'].lower()}")  # fmt: skip

    def _ev_file(self, malware: tuple, device: dict | None, at: float) -> tuple:
        file_id, details = malware
        remediation = self.rng.choice(("remediated", "prevented", "blocked", "none"))

        def build():
            payload = self._base("fileEvidence", (), "malicious", _graph_time(at))
            payload.update(fileDetails=details, detectionStatus="detected", remediationStatus=remediation)
            if device is not None:
                payload["mdeDeviceId"] = device["mde"]
            return payload

        payload = self._cached(("file", file_id, remediation, device["id"] if device else None), build)
        return (file_id, "fileEvidence", "{}", "malicious", remediation, device["id"] if device else None, None, None,
                payload, "file", None, device["group_id"] if device else None,
                f"file {details['sha256']}")  # fmt: skip

    def _ev_process(self, device: dict, user: dict, at: float, ctx: dict) -> tuple:
        entity_id, pid, created, command, tool_id, tool = self._process(device, user, at - self.rng.uniform(1, 600))
        parent_id, parent_pid, parent_created, parent_image, *_ = ctx["parent"]
        payload = {
            **self._base("processEvidence", (), "suspicious", _graph_time(at)),
            "processId": pid,
            "parentProcessId": parent_pid,
            "processCommandLine": command,
            "processCreationDateTime": created,
            "parentProcessCreationDateTime": parent_created,
            "imageFile": tool,
            "parentProcessImageFile": {"fileName": parent_image},
            "userAccount": {"accountName": user["accountName"], "userSid": user["userSid"]},
            "mdeDeviceId": device["mde"],
            "detectionStatus": "detected",
        }
        return (entity_id, "processEvidence", "{}", "suspicious", "none", device["id"], tool_id, parent_id,
                _json(payload), "process", None, device["group_id"], f"device {device['fqdn']}")  # fmt: skip

    def _ev_ip(self, ip: tuple[int, str], role: str, at: float) -> tuple:
        ip_id, address = ip
        payload = self._cached(
            ("ip", ip_id, role),
            lambda: {**self._base("ipEvidence", (role,), "suspicious", _graph_time(at)), "ipAddress": address},
        )
        return (ip_id, "ipEvidence", "{" + role + "}", "suspicious", "none", None, None, None, payload, "ip",
                None, None, f"IP {address}")  # fmt: skip

    def _ev_url(self, url: tuple, at: float) -> tuple:
        url_id, address = url
        payload = self._cached(
            ("url", url_id), lambda: {**self._base("urlEvidence", (), "malicious", _graph_time(at)), "url": address}
        )
        return (url_id, "urlEvidence", "{}", "malicious", "none", None, None, None, payload, "url", None, None,
                f"URL {address}")  # fmt: skip

    def _ev_app(self, app: tuple, at: float) -> tuple:
        app_id, graph_id, name = app

        def build():
            payload = self._base("cloudApplicationEvidence", ("contextual",), "suspicious", _graph_time(at))
            payload.update(appId=graph_id, displayName=name, instanceName=name)
            return payload

        payload = self._cached(("app", app_id), build)
        return (app_id, "cloudApplicationEvidence", "{contextual}", "suspicious", "none", None, None, None, payload,
                "cloudApplication", None, None, f"cloud app {name}")  # fmt: skip

    def _ev_message(self, user: dict, ctx: dict, at: float) -> tuple:
        if ctx["message"] is None:
            rng = self.rng
            message = {
                "networkMessageId": random_uuid(rng),
                "internetMessageId": f"<{random_hex(rng, 16)}@mail.example>",
                "subject": rng.choice(("Action required: your mailbox is almost full", "Invoice overdue", "Fax")),
                "recipientEmailAddress": user["userPrincipalName"],
                "deliveryAction": "delivered",
                "deliveryLocation": "inbox",
                "antiSpamDirection": "inbound",
                "receivedDateTime": _graph_time(at - 300),
            }
            entity_id = self.entities.add(
                "analyzedMessage", message["networkMessageId"], message["subject"], message, at, at
            )
            payload = _json({**self._base("analyzedMessageEvidence", (), "malicious", _graph_time(at)), **message})
            ctx["message"] = (entity_id, payload)
        entity_id, payload = ctx["message"]
        return (entity_id, "analyzedMessageEvidence", "{}", "malicious", "none", None, None, None, payload,
                "analyzedMessage", None, None, f"user {user['userPrincipalName'].lower()}")  # fmt: skip

    # -- rows -------------------------------------------------------------------------------------------------

    ALERT_COLUMNS = (
        "id, graph_id, provider_alert_id, title, description, recommended_actions, category, severity, status, "
        "classification, determination, assigned_to, service_source, detection_source, detector_id, product_name, "
        "actor_display_name, threat_display_name, threat_family_name, mitre_techniques, system_tags, alert_web_url, "
        "tenant_id, additional_data, first_activity, last_activity, created_at, last_update, resolved_at, payload, "
        "repeat_count, ingested_at, device_group_ids, correlated_at, correlation_reason, incident_id, ingested_via"
    )
    EVIDENCE_COLUMNS = (
        "id, alert_id, entity_id, odata_type, roles, detailed_roles, tags, verdict, remediation_status, "
        "remediation_status_details, created_at, device_id, image_file_id, parent_process_id, payload"
    )
    INCIDENT_COLUMNS = (
        "id, display_name, display_name_is_custom, description, summary, severity, severity_is_custom, status, "
        "classification, determination, assigned_to, custom_tags, system_tags, redirect_incident_id, "
        "resolving_comment, last_modified_by, first_activity, last_activity, created_at, last_update, alerts_total, "
        "alerts_active, impacted_assets, service_sources, detection_sources, categories, mitre_techniques, "
        "device_group_ids, rollups_stale"
    )
    LINK_COLUMNS = "id, incident_id, entity_id"

    def _alert_line(self, alert: dict) -> str:
        alert_id = self.next_alert
        self.next_alert += 1
        alert["id"] = alert_id
        rng = self.rng
        prefix = {"endpoint": "da", "identity": "aa", "email": "fa", "cloud": "ca"}[alert["kind"]]
        provider_id = f"{prefix}{638000000000000000 + alert_id}_{rng.randint(1, 2**31 - 1)}"
        description = f"{alert['title']} involving {alert['subject']}."
        family = "Emotet" if "Emotet" in alert["title"] else ""
        url = f"https://security.microsoft.com/alerts/{provider_id}?tid={TENANT_ID}"
        payload = {
            "@odata.type": NS + "alert",
            "id": provider_id,
            "providerAlertId": provider_id,
            "incidentId": str(alert["incident_id"]),
            "tenantId": TENANT_ID,
            "title": alert["title"],
            "description": description,
            "recommendedActions": RECOMMENDED,
            "category": alert["category"],
            "severity": alert["severity"],
            "status": "new",
            "serviceSource": alert["service"],
            "detectionSource": alert["detection"],
            "detectorId": self.detectors[alert["title"]],
            "productName": alert["product"],
            "mitreTechniques": alert["mitre"],
            "threatFamilyName": family or None,
            "alertWebUrl": url,
            "createdDateTime": _graph_time(alert["created"]),
            "lastUpdateDateTime": _graph_time(alert["created"] + 60),
            "firstActivityDateTime": _graph_time(alert["first"]),
            "lastActivityDateTime": _graph_time(alert["last"]),
            "systemTags": [],
        }
        text = _json(payload)
        text = text[:-1] + ',"evidence":[' + ",".join(row[9] for row in alert["evidence"]) + "]}"
        resolved = alert["resolved_at"]
        return (
            "\t".join(
                (
                    str(alert_id),
                    provider_id,
                    provider_id,
                    _text(alert["title"]),
                    _text(description),
                    RECOMMENDED,
                    alert["category"],
                    alert["severity"],
                    alert["status"],
                    alert["classification"],
                    alert["determination"],
                    alert["assigned"],
                    alert["service"],
                    alert["detection"],
                    self.detectors[alert["title"]],
                    alert["product"],
                    "",
                    family,
                    family,
                    _array(alert["mitre"]),
                    "{}",
                    url,
                    TENANT_ID,
                    "{}",
                    _ts(alert["first"]),
                    _ts(alert["last"]),
                    _ts(alert["created"]),
                    _ts(alert["last_update"]),
                    _ts(resolved) if resolved else NULL,
                    text,
                    "0",
                    _ts(alert["ingested_at"]),
                    _array(alert["group_ids"]),
                    _ts(alert["correlated"]),
                    _text(alert["reason"]),
                    str(alert["incident_id"]),
                    "api:bench-queue",
                )
            )
            + "\n"
        )

    def _evidence_lines(self, alert: dict) -> list[str]:
        lines = []
        for row in alert["evidence"]:
            entity_id, odata, roles, verdict, remediation, created, device, image, parent, payload = row[:10]
            lines.append(
                f"{self.next_evidence}\t{alert['id']}\t{entity_id}\t{NS}{odata}\t{roles}\t{{}}\t{{}}\t{verdict}\t"
                f"{remediation}\t\t{_ts(created)}\t{device or NULL}\t{image or NULL}\t{parent or NULL}\t{payload}\n"
            )
            self.next_evidence += 1
        return lines


EVIDENCE_ONLY = frozenset(
    {"@odata.type", "createdDateTime", "roles", "detailedRoles", "verdict", "remediationStatus", "tags"}
)


def _cumulative(values):
    total = 0.0
    for value in values:
        total += value
        yield total


# ---------------------------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------------------------


LOADED_TABLES = (
    "incidents_entity",
    "incidents_incident",
    "incidents_alert",
    "incidents_evidence",
    "incidents_incidententity",
)
# The big tables lose their indexes and keys while COPY runs and get them back built in one sort each. The
# incident table (a tenth of the alerts) keeps its own: one of them has a predicate that PostgreSQL would print
# back in a different (equivalent) spelling, and the restored schema is meant to be the migrations', byte for byte.
REINDEXED_TABLES = ("incidents_entity", "incidents_alert", "incidents_evidence", "incidents_incidententity")


def strip_keys_and_indexes(cursor) -> list[str]:
    """
    Drop the foreign keys from and to the loaded tables, and the indexes, primary and unique keys of the reindexed
    ones; return the statements that restore exactly those definitions. Check constraints stay.
    """
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE (contype = 'f' AND (conrelid = ANY(%(loaded)s::regclass[]) OR confrelid = ANY(%(loaded)s::regclass[])))
           OR (contype IN ('p', 'u') AND conrelid = ANY(%(reindexed)s::regclass[]))
        ORDER BY contype = 'f' DESC, conrelid::regclass::text, conname
        """,
        {"loaded": list(LOADED_TABLES), "reindexed": list(REINDEXED_TABLES)},
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
        FROM pg_index
        WHERE indrelid = ANY(%(reindexed)s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid AND c.contype IN ('p', 'u'))
        ORDER BY 1
        """,
        {"reindexed": list(REINDEXED_TABLES)},
    )
    indexes = cursor.fetchall()
    for table, name, _, _ in constraints:  # foreign keys first (ORDER BY), then the keys they depend on
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    keys = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, kind, d in constraints if kind != "f"]
    foreign = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, kind, d in constraints if kind == "f"]
    return keys + [definition for _, definition in indexes] + foreign


def load(database_url: str, generator: Generator) -> dict:
    """Load the generated rows; returns the seconds each phase took."""
    timings = {}
    with contextlib.closing(connect(database_url, autocommit=False)) as db, db.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        restore = strip_keys_and_indexes(cursor)
        # FREEZE: rows written by the transaction that truncated the table are frozen and all-visible at once,
        # as a long-lived database's are after vacuum (index-only scans need no heap visits, reads set no hints).
        cursor.execute(f"TRUNCATE {', '.join(LOADED_TABLES)}")
        for rank, name in enumerate(DEVICE_GROUPS):
            cursor.execute(
                "INSERT INTO incidents_devicegroup (id, name, description, rank, device_name_pattern, created_at) "
                "VALUES (%s, %s, %s, %s, '', now() - interval '400 days')",
                [generator.group_ids[name], name, f"Devices of {name.lower()}", rank],
            )
        columns = {
            "incidents_entity": Entities.COLUMNS,
            "incidents_incident": Generator.INCIDENT_COLUMNS,
            "incidents_alert": Generator.ALERT_COLUMNS,
            "incidents_evidence": Generator.EVIDENCE_COLUMNS,
            "incidents_incidententity": Generator.LINK_COLUMNS,
        }
        # One thread generates the next chunk while this one waits on PostgreSQL's COPY (the GIL is released
        # during the wait), so the two cores both work.
        chunks: queue.Queue = queue.Queue(maxsize=2)
        failure: list[BaseException] = []

        def produce():
            try:
                for chunk in generator.chunks():
                    chunks.put(chunk)
            except BaseException as error:
                failure.append(error)
            finally:
                chunks.put(None)

        producer = threading.Thread(target=produce, name="generator", daemon=True)
        producer.start()
        alerts_done, last_log, copy_s = 0, time.monotonic(), 0.0
        while True:
            item = chunks.get()
            if item is None:
                break
            tables, alert_count = item
            copy_started = time.perf_counter()
            for table, lines in tables.items():
                if lines:
                    data = io.BytesIO("".join(lines).encode())
                    cursor.copy_expert(f"COPY {table} ({columns[table]}) FROM STDIN WITH (FREEZE)", data, size=1 << 20)
            copy_s += time.perf_counter() - copy_started
            alerts_done += alert_count
            if time.monotonic() - last_log > 10:
                log(f"copied {alerts_done}/{generator.alerts} alerts")
                last_log = time.monotonic()
        producer.join()
        if failure:
            raise failure[0]
        db.commit()
        timings["generate_copy_s"] = time.perf_counter() - started
        timings["copy_wait_s"] = copy_s
        log(f"rows copied in {timings['generate_copy_s']:.1f} s; restoring keys and indexes")
        db.autocommit = True
        started = time.perf_counter()
        for statement in restore:
            cursor.execute(statement)
        timings["indexes_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for table in ("incidents_devicegroup", *LOADED_TABLES):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our table names
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        cursor.execute("ANALYZE")
        timings["analyze_s"] = time.perf_counter() - started
    return timings


def counts(cursor) -> dict:
    found = {}
    for table in (*LOADED_TABLES, "incidents_devicegroup"):
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our table names
        found[table.removeprefix("incidents_")] = cursor.fetchone()[0]
    return found


# ---------------------------------------------------------------------------------------------------------------
# Measuring the pages
# ---------------------------------------------------------------------------------------------------------------


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def choose_targets(cursor, group_id: int) -> dict:
    """The device to search for, and the incident page to open: both in the scoped group."""
    cursor.execute(
        """
        SELECT e.display_name, count(*) AS incidents
        FROM incidents_incidententity ie JOIN incidents_entity e ON e.id = ie.entity_id
        WHERE e.kind = 'device' AND e.device_group_id = %s
        GROUP BY e.id, e.display_name ORDER BY incidents DESC, e.display_name LIMIT 1
        """,
        [group_id],
    )
    device, device_incidents = cursor.fetchone() or ("", 0)
    cursor.execute(
        """
        SELECT id, alerts_total FROM incidents_incident
        WHERE device_group_ids @> ARRAY[%s]::bigint[] AND status IN ('active', 'inProgress', 'awaitingAction')
        ORDER BY alerts_total DESC, last_update DESC LIMIT 1
        """,
        [group_id],
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute("SELECT id, alerts_total FROM incidents_incident ORDER BY alerts_total DESC LIMIT 1")
        row = cursor.fetchone()
    incident_id, incident_alerts = row
    return {
        "filter_device": device,
        "filter_device_incidents": device_incidents,
        "incident_id": incident_id,
        "incident_alerts": incident_alerts,
        "scoped_group_id": group_id,
    }


def measure(repeat: int, targets: dict, database: str) -> tuple[dict, list[dict]]:
    """In this process: Django against the bench database, the pages through the test Client."""
    import django

    django.setup()
    from django.conf import settings

    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from incidents.models import DeviceGroup
    from permissions.models import Role
    from permissions.services import assignment_set

    group, device, incident = targets["scoped_group_id"], targets["filter_device"], targets["incident_id"]
    clients = {}
    scoped_to = list(DeviceGroup.objects.filter(pk=group))
    for name, role, device_groups in (
        ("all", "Security administrator", []),
        ("scoped", "Security operator", scoped_to),
    ):
        # get_or_create: --use-db measures a database an earlier run already signed these users up in.
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench-queue-{name}", defaults={"email": f"bench-queue-{name}@vigil.example"}
        )
        assignment_set(
            role=Role.objects.get(group__name=role),
            user=user,
            all_data=not device_groups,
            device_groups=device_groups,
            actor=None,
        )
        clients[name] = Client()
        clients[name].force_login(user)

    filtered = f"/incidents/?severity=high&status=active&q={device}"
    pages = {
        "queue": ("all", "/incidents/"),
        "queue_filtered": ("all", filtered),
        "alert_queue": ("all", "/alerts/"),
        "incident_page": ("all", f"/incidents/{incident}/"),
        # A scoped person's default views: their role assignment restricts them to one device group.
        "scoped_queue": ("scoped", "/incidents/"),
        "scoped_queue_filtered": ("scoped", filtered),
        "scoped_alert_queue": ("scoped", "/alerts/"),
        "scoped_incident_page": ("scoped", f"/incidents/{incident}/"),
        # The same data through the APIs: the native lists' first page (50 rows) and Graph's with its alerts.
        "api_incidents": ("all", "/api/incidents/"),
        "api_alerts": ("all", "/api/alerts/"),
        "graph_incidents": ("all", "/v1.0/security/incidents?$expand=alerts&$top=50"),
        "graph_alerts": ("all", "/v1.0/security/alerts_v2?$top=50"),
        "scoped_api_incidents": ("scoped", "/api/incidents/"),
        "scoped_graph_incidents": ("scoped", "/v1.0/security/incidents?$expand=alerts&$top=50"),
    }
    results, errors = {}, []
    static_root = tempfile.mkdtemp(prefix="vigil-bench-static-")
    try:
        # DEBUG off serves static URLs from the collected manifest, as a deployment does; cache keys of their own,
        # so that nothing another run (or the portal) cached in the same Redis database is served here.
        caches = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"vigil-{database}"}}
        with override_settings(STATIC_ROOT=static_root, CACHES=caches):
            call_command("collectstatic", interactive=False, verbosity=0)
            for name, (who, url) in pages.items():
                log(f"page {name}: {url}")
                results[name] = measure_page(clients[who], url, repeat, connection, CaptureQueriesContext, errors, name)
    finally:
        subprocess.run(["rm", "-rf", static_root], check=False)
        connection.close()
    return results, errors


def measure_page(client, url: str, repeat: int, connection, capture_queries, errors: list, name: str) -> dict:
    """
    `repeat` timed requests of the page, each followed by one timed replay of the page's bare SQL, so that both
    series see the same machine (a test suite starting on the other core slows both, not one).
    """
    result = {"url": url, "status": None, "p50_ms": None, "p95_ms": None, "sql_p50_ms": None, "sql_p95_ms": None}

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise PageError(f"HTTP {response.status_code}", response.status_code)
        return response

    def replay(reads: list[str], per_statement: list[list[float]]) -> float:
        # The same statements on the same connection, fetched, with no Django in between.
        connection.ensure_connection()
        started = time.perf_counter()
        with connection.connection.cursor() as cursor:
            for sql, times in zip(reads, per_statement, strict=True):
                statement_started = time.perf_counter()
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
                times.append(time.perf_counter() - statement_started)
        return time.perf_counter() - started

    try:
        with capture_queries(connection) as captured:
            response = get()
        # Read now: the log is the connection's, and the next request's request_started signal empties it.
        statements = [query["sql"] for query in captured.captured_queries]
        reads = [sql for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
        result["status"] = 200
        result["bytes"] = len(response.content)
        result["queries"] = len(statements)
        if len(reads) != len(statements):
            result["queries_not_replayed"] = len(statements) - len(reads)
        for _ in range(WARMUP - 1):
            get()
        for _ in range(WARMUP):
            replay(reads, [[] for _ in reads])
        timings, sql_timings, per_statement = [], [], [[] for _ in reads]
        for _ in range(repeat):
            started = time.perf_counter()
            get()
            timings.append(time.perf_counter() - started)
            sql_timings.append(replay(reads, per_statement))
    except PageError as error:
        result["status"] = error.status
        errors.append({"page": name, "url": url, "status": error.status})
        log(f"  {name}: {error}")
        return result
    except Exception as error:  # a page not built yet, a template error: recorded, never fatal
        errors.append({"page": name, "url": url, "status": None, "exception": f"{type(error).__name__}: {error}"})
        log(f"  {name}: {type(error).__name__}: {error}")
        return result
    for key, series in (("", timings), ("sql_", sql_timings)):
        result[f"{key}p50_ms"] = _ms(percentile(series, 0.5))
        result[f"{key}p95_ms"] = _ms(percentile(series, 0.95))
    # Where the SQL time goes: the page's two slowest statements by median.
    slowest = sorted(zip(reads, per_statement, strict=True), key=lambda item: -percentile(item[1], 0.5))[:2]
    result["slowest_sql"] = [{"p50_ms": _ms(percentile(times, 0.5)), "sql": sql[:400]} for sql, times in slowest]
    if result["sql_p95_ms"] and result["sql_p50_ms"]:
        result["ratio_to_sql"] = round(result["p95_ms"] / result["sql_p95_ms"], 2)
        result["ratio_to_sql_p50"] = round(result["p50_ms"] / result["sql_p50_ms"], 2)
    log(
        f"  {name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {len(statements)} queries, "
        f"SQL p50 {result['sql_p50_ms']} ms, p95 {result['sql_p95_ms']} ms"
    )
    return result


class PageError(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="data size factor (default 1: 100k incidents, 1M alerts)"
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database vigil_bench_<pid>")
    parser.add_argument("--use-db", metavar="NAME", help="measure an existing bench database: no load, no drop")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def run(args: argparse.Namespace) -> dict:
    database_url, redis_url = resolve_urls()
    bench_db = args.use_db or f"vigil_bench_{os.getpid()}"
    admin_url = with_database(database_url, "postgres")
    run_url = with_database(database_url, bench_db)
    created_db = False
    result: dict = {"scale": args.scale, "repeat": args.repeat, "seed": args.seed}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": run_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # One connection for the whole measurement: no reconnect lands in a timed request.
        "DATABASE_CONN_MAX_AGE": "3600",
    }
    try:
        if not args.use_db:
            with contextlib.closing(connect(admin_url)) as admin, admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{bench_db}"')
            created_db = True
            log(f"database {bench_db}: migrating")
            # --skip-checks: the checks import every URLconf, and the pages may be half-built while this runs.
            manage(["migrate", "--noinput", "-v", "0", "--skip-checks"], env)
            generator = Generator(scale=args.scale, seed=args.seed, now=time.time())
            log(
                f"loading {generator.incidents} incidents, {generator.alerts} alerts, {generator.evidence} evidence "
                f"rows ({len(generator.devices)} devices, {len(generator.users)} users)"
            )
            started = time.perf_counter()
            timings = load(run_url, generator)
            result["load_s"] = {key: round(value, 1) for key, value in timings.items()}
            result["load_s"]["total_s"] = round(time.perf_counter() - started, 1)
            log(f"loaded in {result['load_s']['total_s']} s")
        with contextlib.closing(connect(run_url)) as db, db.cursor() as cursor:
            result["loaded"] = counts(cursor)
            cursor.execute("SELECT id FROM incidents_devicegroup WHERE name = %s", [SCOPED_GROUP])
            group_id = cursor.fetchone()[0]
            targets = choose_targets(cursor, group_id)
            cursor.execute(
                "SELECT count(*) FROM incidents_incident WHERE device_group_ids @> ARRAY[%s]::bigint[]", [group_id]
            )
            targets["scoped_group_incidents"] = cursor.fetchone()[0]
            cursor.execute("SELECT status, count(*) FROM incidents_incident GROUP BY status ORDER BY count(*) DESC")
            result["incident_statuses"] = dict(cursor.fetchall())
        log(f"loaded: {result['loaded']}")
        result["targets"] = {"scoped_group": SCOPED_GROUP, **targets}
        os.environ.update(env)
        pages, errors = measure(args.repeat, targets, bench_db)
        for name, page in pages.items():
            result[f"{name}_p95_ms"] = page["p95_ms"]
        result["ratio_to_sql"] = {name: page.get("ratio_to_sql") for name, page in pages.items()}
        result["sql_p95_ms"] = {name: page["sql_p95_ms"] for name, page in pages.items()}
        result["pages"] = pages
        result["errors"] = errors
        result["notes"] = [
            f"Scoping: the scoped_* pages are requested by a Security operator assigned over {SCOPED_GROUP!r} only; "
            "scoped_incident_page is the same URL as incident_page (an incident of that group).",
            "ratio_to_sql = page p95 / p95 of the page's own read statements replayed on the same connection.",
        ]
        return result
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if created_db:
            if args.keep_db:
                log(f"kept database {bench_db}")
            else:
                with contextlib.closing(connect(admin_url)) as admin, admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')
                log(f"dropped database {bench_db}")
        stop_embedded_servers()


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
    print(json.dumps(result), flush=True)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
