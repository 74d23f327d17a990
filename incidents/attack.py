"""
MITRE ATT&CK technique names for the ids alerts carry (`mitreTechniques`, e.g. "T1059.001").

A small offline table (the portal runs on air-gapped networks): the techniques the demo estate, the benchmarks
and the common Defender detections use. An unknown sub-technique falls back to its parent's name, an unknown
technique to its bare id, so a page never fails on an id it has not heard of.
"""

import re
from dataclasses import dataclass

__all__ = ("TECHNIQUES", "Technique", "technique", "techniques")

TECHNIQUES = {
    "T1003": "OS Credential Dumping",
    "T1003.001": "OS Credential Dumping: LSASS Memory",
    "T1003.006": "OS Credential Dumping: DCSync",
    "T1021": "Remote Services",
    "T1021.001": "Remote Services: Remote Desktop Protocol",
    "T1021.002": "Remote Services: SMB/Windows Admin Shares",
    "T1027": "Obfuscated Files or Information",
    "T1036": "Masquerading",
    "T1047": "Windows Management Instrumentation",
    "T1053": "Scheduled Task/Job",
    "T1053.005": "Scheduled Task/Job: Scheduled Task",
    "T1055": "Process Injection",
    "T1059": "Command and Scripting Interpreter",
    "T1059.001": "Command and Scripting Interpreter: PowerShell",
    "T1059.003": "Command and Scripting Interpreter: Windows Command Shell",
    "T1071": "Application Layer Protocol",
    "T1071.001": "Application Layer Protocol: Web Protocols",
    "T1078": "Valid Accounts",
    "T1078.002": "Valid Accounts: Domain Accounts",
    "T1078.004": "Valid Accounts: Cloud Accounts",
    "T1087": "Account Discovery",
    "T1087.002": "Account Discovery: Domain Account",
    "T1090": "Proxy",
    "T1090.003": "Proxy: Multi-hop Proxy",
    "T1105": "Ingress Tool Transfer",
    "T1110": "Brute Force",
    "T1110.001": "Brute Force: Password Guessing",
    "T1110.003": "Brute Force: Password Spraying",
    "T1114": "Email Collection",
    "T1114.003": "Email Collection: Email Forwarding Rule",
    "T1190": "Exploit Public-Facing Application",
    "T1204": "User Execution",
    "T1204.001": "User Execution: Malicious Link",
    "T1204.002": "User Execution: Malicious File",
    "T1486": "Data Encrypted for Impact",
    "T1490": "Inhibit System Recovery",
    "T1530": "Data from Cloud Storage",
    "T1534": "Internal Spearphishing",
    "T1543": "Create or Modify System Process",
    "T1543.003": "Create or Modify System Process: Windows Service",
    "T1547": "Boot or Logon Autostart Execution",
    "T1547.001": "Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder",
    "T1550": "Use Alternate Authentication Material",
    "T1550.002": "Use Alternate Authentication Material: Pass the Hash",
    "T1550.003": "Use Alternate Authentication Material: Pass the Ticket",
    "T1558": "Steal or Forge Kerberos Tickets",
    "T1558.003": "Steal or Forge Kerberos Tickets: Kerberoasting",
    "T1562": "Impair Defenses",
    "T1562.001": "Impair Defenses: Disable or Modify Tools",
    "T1564": "Hide Artifacts",
    "T1564.001": "Hide Artifacts: Hidden Files and Directories",
    "T1564.008": "Hide Artifacts: Email Hiding Rules",
    "T1566": "Phishing",
    "T1566.001": "Phishing: Spearphishing Attachment",
    "T1566.002": "Phishing: Spearphishing Link",
    "T1569": "System Services",
    "T1569.002": "System Services: Service Execution",
    "T1570": "Lateral Tool Transfer",
    "T1621": "Multi-Factor Authentication Request Generation",
}

_ID = re.compile(r"^T\d{4}(\.\d{3})?$")


@dataclass(frozen=True)
class Technique:
    id: str
    # The ATT&CK name, or the bare id when the table does not know it.
    name: str
    known: bool

    @property
    def url(self) -> str:
        """The technique's page on attack.mitre.org (T1059.001 → /techniques/T1059/001/), or "" for a non-id."""
        if not _ID.match(self.id):
            return ""
        return "https://attack.mitre.org/techniques/" + self.id.replace(".", "/") + "/"


def technique(technique_id: str) -> Technique:
    cleaned = (technique_id or "").strip().upper()
    if cleaned in TECHNIQUES:
        return Technique(cleaned, TECHNIQUES[cleaned], True)
    parent = cleaned.split(".", 1)[0]
    if parent != cleaned and parent in TECHNIQUES:
        return Technique(cleaned, f"{TECHNIQUES[parent]} (sub-technique {cleaned})", True)
    return Technique(cleaned or technique_id, cleaned or technique_id, False)


def techniques(ids) -> list[Technique]:
    return [technique(technique_id) for technique_id in dict.fromkeys(ids or []) if technique_id]
