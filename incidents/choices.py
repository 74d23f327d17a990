"""
Enumerations of the shared security model, with Microsoft Graph security API values (`microsoft.graph.security`).

The stored value is Graph's camelCase value, so the Graph-compatible API emits it unchanged; the label is what the
portal shows.
"""

from django.db import models

__all__ = (
    "AlertStatus",
    "Classification",
    "DetectionSource",
    "Determination",
    "DeviceRiskScore",
    "EntityKind",
    "EvidenceRemediationStatus",
    "EvidenceVerdict",
    "IncidentStatus",
    "ServiceSource",
    "Severity",
)


class Severity(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    INFORMATIONAL = "informational", "Informational"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"

    @classmethod
    def rank(cls, value: str) -> int:
        """0 (unknown) to 4 (high): the order the queues sort and compare severities in."""
        return list(cls.values).index(value)


class IncidentStatus(models.TextChoices):
    ACTIVE = "active", "New"
    IN_PROGRESS = "inProgress", "In progress"
    RESOLVED = "resolved", "Resolved"
    REDIRECTED = "redirected", "Redirected"
    AWAITING_ACTION = "awaitingAction", "Awaiting action"


class AlertStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    NEW = "new", "New"
    IN_PROGRESS = "inProgress", "In progress"
    RESOLVED = "resolved", "Resolved"


class Classification(models.TextChoices):
    UNKNOWN = "unknown", "Not set"
    TRUE_POSITIVE = "truePositive", "True positive"
    INFORMATIONAL_EXPECTED_ACTIVITY = "informationalExpectedActivity", "Informational, expected activity"
    FALSE_POSITIVE = "falsePositive", "False positive"


class Determination(models.TextChoices):
    """Graph v1.0 property-list spellings; the newer aliases are accepted on input and stored as these."""

    UNKNOWN = "unknown", "Not set"
    MULTI_STAGED_ATTACK = "multiStagedAttack", "Multistage attack"
    MALICIOUS_USER_ACTIVITY = "maliciousUserActivity", "Malicious user activity"
    COMPROMISED_USER = "compromisedUser", "Compromised account"
    MALWARE = "malware", "Malware"
    PHISHING = "phishing", "Phishing"
    UNWANTED_SOFTWARE = "unwantedSoftware", "Unwanted software"
    SECURITY_TESTING = "securityTesting", "Security test"
    LINE_OF_BUSINESS_APPLICATION = "lineOfBusinessApplication", "Line-of-business application"
    CONFIRMED_USER_ACTIVITY = "confirmedUserActivity", "Confirmed activity"
    CLEAN = "clean", "Not malicious"
    INSUFFICIENT_DATA = "insufficientData", "Not enough data to validate"
    OTHER = "other", "Other"
    # Deprecated by Microsoft in August 2022; kept so that old alerts still load.
    APT = "apt", "APT (deprecated)"
    SECURITY_PERSONNEL = "securityPersonnel", "Security personnel (deprecated)"


DETERMINATION_ALIASES = {
    "compromisedAccount": Determination.COMPROMISED_USER,
    "notMalicious": Determination.CLEAN,
    "notEnoughDataToValidate": Determination.INSUFFICIENT_DATA,
    "confirmedActivity": Determination.CONFIRMED_USER_ACTIVITY,
}


class ServiceSource(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    DEFENDER_FOR_ENDPOINT = "microsoftDefenderForEndpoint", "Defender for Endpoint"
    DEFENDER_FOR_IDENTITY = "microsoftDefenderForIdentity", "Defender for Identity"
    DEFENDER_FOR_CLOUD_APPS = "microsoftDefenderForCloudApps", "Defender for Cloud Apps"
    DEFENDER_FOR_OFFICE365 = "microsoftDefenderForOffice365", "Defender for Office 365"
    MICROSOFT_365_DEFENDER = "microsoft365Defender", "Defender XDR"
    AZURE_AD_IDENTITY_PROTECTION = "azureAdIdentityProtection", "Entra ID Protection"
    APP_GOVERNANCE = "microsoftAppGovernance", "App Governance"
    DATA_LOSS_PREVENTION = "dataLossPrevention", "Data Loss Prevention"
    DEFENDER_FOR_CLOUD = "microsoftDefenderForCloud", "Defender for Cloud"
    SENTINEL = "microsoftSentinel", "Sentinel"
    THREAT_INTELLIGENCE = "microsoftThreatIntelligence", "Threat Intelligence"


class DetectionSource(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    DEFENDER_FOR_ENDPOINT = "microsoftDefenderForEndpoint", "EDR"
    ANTIVIRUS = "antivirus", "Antivirus"
    SMART_SCREEN = "smartScreen", "SmartScreen"
    CUSTOM_TI = "customTi", "Custom TI"
    DEFENDER_FOR_OFFICE365 = "microsoftDefenderForOffice365", "Defender for Office 365"
    AUTOMATED_INVESTIGATION = "automatedInvestigation", "Automated investigation"
    THREAT_EXPERTS = "microsoftThreatExperts", "Threat Experts"
    CUSTOM_DETECTION = "customDetection", "Custom detection"
    DEFENDER_FOR_IDENTITY = "microsoftDefenderForIdentity", "Defender for Identity"
    CLOUD_APP_SECURITY = "cloudAppSecurity", "Defender for Cloud Apps"
    MICROSOFT_365_DEFENDER = "microsoft365Defender", "Defender XDR"
    AZURE_AD_IDENTITY_PROTECTION = "azureAdIdentityProtection", "Entra ID Protection"
    MANUAL = "manual", "Manual"
    DATA_LOSS_PREVENTION = "microsoftDataLossPrevention", "Data Loss Prevention"
    APP_GOVERNANCE_POLICY = "appGovernancePolicy", "App Governance policy"
    APP_GOVERNANCE_DETECTION = "appGovernanceDetection", "App Governance detection"
    DEFENDER_FOR_CLOUD = "microsoftDefenderForCloud", "Defender for Cloud"
    DEFENDER_FOR_IOT = "microsoftDefenderForIoT", "Defender for IoT"
    DEFENDER_FOR_SERVERS = "microsoftDefenderForServers", "Defender for Servers"
    DEFENDER_FOR_STORAGE = "microsoftDefenderForStorage", "Defender for Storage"
    DEFENDER_FOR_DNS = "microsoftDefenderForDNS", "Defender for DNS"
    DEFENDER_FOR_DATABASES = "microsoftDefenderForDatabases", "Defender for Databases"
    DEFENDER_FOR_CONTAINERS = "microsoftDefenderForContainers", "Defender for Containers"
    DEFENDER_FOR_NETWORK = "microsoftDefenderForNetwork", "Defender for Network"
    DEFENDER_FOR_APP_SERVICE = "microsoftDefenderForAppService", "Defender for App Service"
    DEFENDER_FOR_KEY_VAULT = "microsoftDefenderForKeyVault", "Defender for Key Vault"
    DEFENDER_FOR_RESOURCE_MANAGER = "microsoftDefenderForResourceManager", "Defender for Resource Manager"
    DEFENDER_FOR_API_MANAGEMENT = "microsoftDefenderForApiManagement", "Defender for API Management"


class EntityKind(models.TextChoices):
    """A Graph evidence type without its `Evidence` suffix."""

    DEVICE = "device", "Device"
    USER = "user", "User"
    MAILBOX = "mailbox", "Mailbox"
    FILE = "file", "File"
    PROCESS = "process", "Process"
    IP = "ip", "IP address"
    URL = "url", "URL"
    CLOUD_APPLICATION = "cloudApplication", "Cloud application"
    REGISTRY_KEY = "registryKey", "Registry key"
    REGISTRY_VALUE = "registryValue", "Registry value"
    ANALYZED_MESSAGE = "analyzedMessage", "Email message"
    MAIL_CLUSTER = "mailCluster", "Mail cluster"
    # Evidence of a type this list does not name keeps its @odata.type on the evidence row and this kind here.
    OTHER = "other", "Other"


class DeviceRiskScore(models.TextChoices):
    NONE = "none", "None"
    INFORMATIONAL = "informational", "Informational"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class EvidenceVerdict(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    SUSPICIOUS = "suspicious", "Suspicious"
    MALICIOUS = "malicious", "Malicious"
    NO_THREATS_FOUND = "noThreatsFound", "No threats found"


class EvidenceRemediationStatus(models.TextChoices):
    NONE = "none", "None"
    REMEDIATED = "remediated", "Remediated"
    PREVENTED = "prevented", "Prevented"
    BLOCKED = "blocked", "Blocked"
    NOT_FOUND = "notFound", "Not found"
    ACTIVE = "active", "Active"
    PENDING_APPROVAL = "pendingApproval", "Pending approval"
    DECLINED = "declined", "Declined"
    UNREMEDIATED = "unremediated", "Unremediated"
    RUNNING = "running", "Running"
    PARTIALLY_REMEDIATED = "partiallyRemediated", "Partially remediated"
