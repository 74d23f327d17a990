"""
The demo's attack stories as Graph alerts_v2 JSON, timed relative to now. They go in through `ingest_alerts` like
any sensor's alerts, so the portal opens on incidents that correlation itself built.

1. Phishing mail → PowerShell → credential theft → lateral movement from a workstation to a file server.
2. Ransomware on a database server.
3. Business email compromise of the CFO's mailbox.
4. Background noise: unrelated single alerts over the past days.
"""

from datetime import datetime, timedelta

__all__ = ("demo_alerts",)

NS = "#microsoft.graph.security."
MIMIKATZ_SHA256 = "92804faaab2175dc501d73e814663058c78c0a042675a8937266357bcfb96c50"
POWERSHELL_SHA256 = "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c"
PSEXEC_SHA256 = "078163d5c16f64caa5a14784323fd51451b8c831c73396b967b4e35e6879937b"
RANSOM_SHA256 = "4f2fcd4a3b5fc1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081920"
EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
ADWARE_SHA256 = "5b2c4a1f3e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def device(name: str, device_id: str, group: str, os_platform: str = "Windows11") -> dict:
    return {
        "@odata.type": NS + "deviceEvidence",
        "deviceDnsName": f"{name}.corp.example",
        "mdeDeviceId": device_id,
        "osPlatform": os_platform,
        "rbacGroupName": group,
        "healthStatus": "active",
        "onboardingStatus": "onboarded",
        "roles": [],
        "verdict": "suspicious",
        "remediationStatus": "none",
    }


def user(upn: str, display_name: str, *, roles=("compromised",)) -> dict:
    account, domain = upn.split("@")
    return {
        "@odata.type": NS + "userEvidence",
        "userAccount": {
            "accountName": account,
            "domainName": domain,
            "displayName": display_name,
            "userPrincipalName": upn,
        },
        "roles": list(roles),
        "verdict": "suspicious",
    }


def mailbox(address: str, display_name: str) -> dict:
    return {"@odata.type": NS + "mailboxEvidence", "primaryAddress": address, "displayName": display_name}


def file(sha256: str, name: str, path: str, device_id: str, *, verdict="malicious", status="remediated") -> dict:
    return {
        "@odata.type": NS + "fileEvidence",
        "fileDetails": {"sha256": sha256, "fileName": name, "filePath": path},
        "mdeDeviceId": device_id,
        "detectionStatus": "detected",
        "verdict": verdict,
        "remediationStatus": status,
    }


def process(pid: int, image: tuple[str, str], command_line: str, device_id: str, started: datetime, parent: int):
    sha256, name = image
    return {
        "@odata.type": NS + "processEvidence",
        "processId": pid,
        "parentProcessId": parent,
        "processCommandLine": command_line,
        "processCreationDateTime": _time(started),
        "imageFile": {"sha256": sha256, "fileName": name, "filePath": "C:\\Windows\\System32"},
        "mdeDeviceId": device_id,
        "detectionStatus": "detected",
        "roles": [],
        "verdict": "suspicious",
    }


def ip(address: str, country: str = "") -> dict:
    return {"@odata.type": NS + "ipEvidence", "ipAddress": address, "countryLetterCode": country, "roles": []}


def url(value: str) -> dict:
    return {"@odata.type": NS + "urlEvidence", "url": value, "verdict": "malicious"}


def alert(
    alert_id: str,
    title: str,
    *,
    at: datetime,
    source: str,
    detection: str,
    category: str,
    severity: str,
    techniques: list[str],
    evidence: list[dict],
    description: str = "",
    actions: str = "",
) -> dict:
    return {
        "id": alert_id,
        "providerAlertId": alert_id,
        "title": title,
        "description": description or title + ".",
        "recommendedActions": actions,
        "serviceSource": source,
        "detectionSource": detection,
        "category": category,
        "severity": severity,
        "status": "new",
        "mitreTechniques": techniques,
        "createdDateTime": _time(at + timedelta(minutes=2)),
        "firstActivityDateTime": _time(at),
        "lastActivityDateTime": _time(at + timedelta(minutes=1)),
        "evidence": evidence,
    }


def demo_alerts(now: datetime) -> list[dict]:
    return [
        *_phishing_to_lateral_movement(now),
        *_ransomware(now),
        *_business_email_compromise(now),
        *_shared_admin_account(now),
        *_noise(now),
    ]


def _phishing_to_lateral_movement(now: datetime) -> list[dict]:
    start = now - timedelta(hours=20)
    ws = ("ws-lon-002", "8b3c0f2e6a4d41b7a1c9e0d2f4a6b8c0d2e4f6a8", "Headquarters workstations")
    fs = ("fs01", "1f0e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6", "Servers", "WindowsServer2019")
    alice = user("alice.ward@corp.example", "Alice Ward")
    lure = "https://login-micros0ft-support.example/owa/verify"
    return [
        alert(
            "fa638659861000000001_1",
            "Email messages containing malicious URL removed after delivery",
            at=start,
            source="microsoftDefenderForOffice365",
            detection="microsoftDefenderForOffice365",
            category="InitialAccess",
            severity="medium",
            techniques=["T1566.002"],
            evidence=[
                mailbox("alice.ward@corp.example", "Alice Ward"),
                alice,
                url(lure),
                {
                    "@odata.type": NS + "analyzedMessageEvidence",
                    "networkMessageId": "5e7b6c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b",
                    "subject": "Action required: your mailbox is almost full",
                    "senderIp": "198.51.100.77",
                    "recipientEmailAddress": "alice.ward@corp.example",
                    "p1Sender": {"emailAddress": "it-support@micros0ft-support.example"},
                    "deliveryAction": "delivered",
                    "deliveryLocation": "inbox",
                    "antiSpamDirection": "inbound",
                },
            ],
            actions="Reset the user's password and review their sign-ins since the message arrived.",
        ),
        alert(
            "fa638659861000000002_1",
            "A potentially malicious URL click was detected",
            at=start + timedelta(minutes=9),
            source="microsoftDefenderForOffice365",
            detection="microsoftDefenderForOffice365",
            category="InitialAccess",
            severity="high",
            techniques=["T1566.002", "T1204.001"],
            evidence=[alice, url(lure), mailbox("alice.ward@corp.example", "Alice Ward")],
        ),
        alert(
            "da638659861000000003_-1",
            "Suspicious PowerShell command line",
            at=start + timedelta(minutes=14),
            source="microsoftDefenderForEndpoint",
            detection="microsoftDefenderForEndpoint",
            category="Execution",
            severity="medium",
            techniques=["T1059.001", "T1105"],
            evidence=[
                device(*ws),
                alice,
                process(
                    7420,
                    (POWERSHELL_SHA256, "powershell.exe"),
                    "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
                    ws[1],
                    start + timedelta(minutes=14),
                    6112,
                ),
                ip("203.0.113.45", "NL"),
            ],
        ),
        alert(
            "da638659861000000004_-1",
            "Mimikatz credential theft tool",
            at=start + timedelta(minutes=31),
            source="microsoftDefenderForEndpoint",
            detection="antivirus",
            category="CredentialAccess",
            severity="high",
            techniques=["T1003.001"],
            evidence=[
                device(*ws),
                alice,
                file(MIMIKATZ_SHA256, "mimi.exe", "C:\\Users\\alice.ward\\AppData\\Local\\Temp", ws[1]),
            ],
            actions="Isolate the device and reset the credentials of every account that signed in to it.",
        ),
        alert(
            "aa638659861000000005",
            "Suspected overpass-the-hash attack (Kerberos)",
            at=start + timedelta(minutes=52),
            source="microsoftDefenderForIdentity",
            detection="microsoftDefenderForIdentity",
            category="LateralMovement",
            severity="high",
            techniques=["T1550.002"],
            evidence=[device(*ws), device(*fs), user("ben.okafor@corp.example", "Ben Okafor")],
        ),
        alert(
            "da638659861000000006_-1",
            "Remote service execution with PsExec",
            at=start + timedelta(minutes=58),
            source="microsoftDefenderForEndpoint",
            detection="microsoftDefenderForEndpoint",
            category="LateralMovement",
            severity="high",
            techniques=["T1021.002", "T1569.002"],
            evidence=[
                device(*fs),
                user("ben.okafor@corp.example", "Ben Okafor"),
                process(
                    912,
                    (PSEXEC_SHA256, "PSEXESVC.exe"),
                    "C:\\Windows\\PSEXESVC.exe",
                    fs[1],
                    start + timedelta(minutes=58),
                    604,
                ),
            ],
        ),
    ]


def _ransomware(now: datetime) -> list[dict]:
    start = now - timedelta(hours=2)
    sql = ("sql01", "a9b8c7d6e5f40312233445566778899aabbccdde", "Servers", "WindowsServer2022")
    svc = user("svc-backup@corp.example", "Backup service account")
    return [
        alert(
            "da638659862000000001_-1",
            "Suspicious service registration",
            at=start,
            source="microsoftDefenderForEndpoint",
            detection="microsoftDefenderForEndpoint",
            category="Persistence",
            severity="medium",
            techniques=["T1543.003"],
            evidence=[device(*sql), svc, ip("198.51.100.23", "RU")],
        ),
        alert(
            "da638659862000000002_-1",
            "File backups were deleted",
            at=start + timedelta(minutes=6),
            source="microsoftDefenderForEndpoint",
            detection="microsoftDefenderForEndpoint",
            category="Impact",
            severity="high",
            techniques=["T1490"],
            evidence=[device(*sql), svc],
        ),
        alert(
            "da638659862000000003_-1",
            "Ransomware behavior detected in the file system",
            at=start + timedelta(minutes=9),
            source="microsoftDefenderForEndpoint",
            detection="antivirus",
            category="Ransomware",
            severity="high",
            techniques=["T1486"],
            evidence=[
                device(*sql),
                svc,
                file(RANSOM_SHA256, "svchosts.exe", "C:\\ProgramData", sql[1], status="prevented"),
            ],
            actions="Isolate the server, keep it powered on for forensics, and restore from offline backups.",
        ),
    ]


def _business_email_compromise(now: datetime) -> list[dict]:
    start = now - timedelta(hours=6)
    cfo = user("ian.shaw@corp.example", "Ian Shaw (CFO)")
    office = {
        "@odata.type": NS + "cloudApplicationEvidence",
        "appId": 11161,
        "displayName": "Microsoft 365",
        "instanceName": "Microsoft 365",
    }
    return [
        alert(
            "ad638659863000000001",
            "Unfamiliar sign-in properties",
            at=start,
            source="azureAdIdentityProtection",
            detection="azureAdIdentityProtection",
            category="InitialAccess",
            severity="medium",
            techniques=["T1078.004"],
            evidence=[cfo, ip("203.0.113.50", "NG")],
        ),
        alert(
            "ca638659863000000002",
            "Suspicious inbox forwarding rule",
            at=start + timedelta(minutes=25),
            source="microsoftDefenderForCloudApps",
            detection="cloudAppSecurity",
            category="Collection",
            severity="high",
            techniques=["T1114.003"],
            evidence=[cfo, mailbox("ian.shaw@corp.example", "Ian Shaw"), office, ip("203.0.113.50", "NG")],
        ),
        alert(
            "fa638659863000000003_1",
            "Suspicious email sending patterns detected",
            at=start + timedelta(minutes=70),
            source="microsoftDefenderForOffice365",
            detection="microsoftDefenderForOffice365",
            category="Exfiltration",
            severity="medium",
            techniques=["T1534"],
            evidence=[mailbox("ian.shaw@corp.example", "Ian Shaw"), cfo],
        ),
    ]


def _shared_admin_account(now: datetime) -> list[dict]:
    """
    One incident across two device groups: an IT account misused on a branch workstation, then on a domain
    controller, and signing in from afar. The `branch` demo account sees the first alert only, and may not change
    the incident (it also holds alerts outside Branch offices), only move that alert to a new incident.
    """
    start = now - timedelta(hours=5)
    workstation = ("ws-lds-002", "f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829", "Branch offices", "Windows11")
    controller = ("dc02", "0718293a4b5c6d7e8f90a1b2c3d4e5f607182930", "Servers", "WindowsServer2022")
    it_ops = user("it-ops@corp.example", "IT operations account")
    return [
        alert(
            "da638659865000000001_-1",
            "Suspicious PowerShell download cradle",
            at=start,
            source="microsoftDefenderForEndpoint",
            detection="microsoftDefenderForEndpoint",
            category="Execution",
            severity="medium",
            techniques=["T1059.001"],
            evidence=[device(*workstation), it_ops],
        ),
        alert(
            "da638659865000000002_-1",
            "Credential dumping from LSASS memory on a domain controller",
            at=start + timedelta(minutes=40),
            source="microsoftDefenderForEndpoint",
            detection="microsoftDefenderForEndpoint",
            category="CredentialAccess",
            severity="high",
            techniques=["T1003.001"],
            evidence=[device(*controller), it_ops],
            actions="Reset the account's password twice, and review the domain controller's logons.",
        ),
        alert(
            "ad638659865000000003",
            "Atypical travel",
            at=start + timedelta(hours=1),
            source="azureAdIdentityProtection",
            detection="azureAdIdentityProtection",
            category="InitialAccess",
            severity="medium",
            techniques=["T1078"],
            evidence=[it_ops, ip("203.0.113.77", "BR")],
        ),
    ]


def _noise(now: datetime) -> list[dict]:
    return [
        alert(
            "da638659864000000001_-1",
            "'Adload' unwanted software was detected",
            at=now - timedelta(days=3, hours=4),
            source="microsoftDefenderForEndpoint",
            detection="antivirus",
            category="UnwantedSoftware",
            severity="low",
            techniques=[],
            evidence=[
                device("ws-lds-001", "c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6", "Branch offices", "Windows10"),
                file(ADWARE_SHA256, "setup_free_player.exe", "C:\\Users\\Public\\Downloads", "c3d4e5f6"),
            ],
        ),
        alert(
            "da638659864000000002_-1",
            "Connection to a custom network indicator was blocked",
            at=now - timedelta(days=2, hours=1),
            source="microsoftDefenderForEndpoint",
            detection="customTi",
            category="CommandAndControl",
            severity="low",
            techniques=["T1071.001"],
            evidence=[
                device("ws-man-001", "d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607", "Branch offices"),
                url("http://cdn-update-check.example/ping"),
            ],
        ),
        alert(
            "da638659864000000003_-1",
            "EICAR test file detected",
            at=now - timedelta(days=1, hours=9),
            source="microsoftDefenderForEndpoint",
            detection="antivirus",
            category="Malware",
            severity="informational",
            techniques=[],
            evidence=[
                device("ws-lon-004", "e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718", "Headquarters workstations", "macOS"),
                file(EICAR_SHA256, "eicar.com", "/Users/chloe.martin/Downloads", "e5f60718", status="prevented"),
            ],
        ),
        alert(
            "ad638659864000000004",
            "Anonymous IP address",
            at=now - timedelta(days=4, hours=2),
            source="azureAdIdentityProtection",
            detection="azureAdIdentityProtection",
            category="InitialAccess",
            severity="low",
            techniques=["T1090.003"],
            evidence=[user("dan.hughes@corp.example", "Dan Hughes"), ip("185.220.101.4")],
        ),
    ]
