"""
Automatic, Defender-style incident names, built from what the incident's alerts say:
"Multi-stage incident involving Execution & Lateral movement on multiple endpoints reported by multiple sources".
"""

import re

__all__ = ("KILL_CHAIN", "category_label", "incident_name")

# MITRE ATT&CK tactics in kill-chain order, then the categories Defender adds.
KILL_CHAIN = (
    "Reconnaissance",
    "ResourceDevelopment",
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "CommandAndControl",
    "Exfiltration",
    "Impact",
    "SuspiciousActivity",
    "Exploit",
    "Malware",
    "Ransomware",
    "UnwantedSoftware",
)
_ORDER = {name.lower(): index for index, name in enumerate(KILL_CHAIN)}


def category_label(category: str) -> str:
    """'LateralMovement' → 'Lateral movement'."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", category.strip()).split()
    return " ".join([words[0].capitalize(), *(w.lower() for w in words[1:])]) if words else category


def sort_categories(categories) -> list[str]:
    return sorted(set(categories), key=lambda c: (_ORDER.get(c.lower(), len(_ORDER)), c.lower()))


def incident_name(*, titles: list[str], categories: list[str], assets: dict[str, int], sources: list[str]) -> str:
    ordered = sort_categories(c for c in categories if c)
    if len(ordered) >= 2:
        labels = [category_label(c) for c in ordered]
        listed = (
            f"{', '.join(labels[:-1])} & {labels[-1]}"
            if len(labels) <= 3
            else f"{labels[0]}, {labels[1]} & {len(labels) - 2} more stages"
        )
        head = f"Multi-stage incident involving {listed}"
    elif len(set(titles)) == 1:
        head = titles[0]
    elif ordered:
        head = f"{category_label(ordered[0])} incident"
    else:
        head = "Incident"
    return " ".join(part for part in (head, _scope(assets), _sources(sources)) if part)[:400]


def _scope(assets: dict[str, int]) -> str:
    for kind, one, many in (
        ("device", "on one endpoint", "on multiple endpoints"),
        ("user", "involving one user", "involving multiple users"),
        ("mailbox", "involving one mailbox", "involving multiple mailboxes"),
        ("cloudApplication", "involving one app", "involving multiple apps"),
    ):
        count = assets.get(kind, 0)
        if count:
            return one if count == 1 else many
    return ""


def _sources(sources: list[str]) -> str:
    return "reported by multiple sources" if len(set(sources)) > 1 else ""
