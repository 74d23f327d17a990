from django.db import migrations

RELATED_PORTALS = [
    (
        "Microsoft 365 compliance center",
        "https://compliance.microsoft.com/",
        "Manage compliance across Microsoft 365: data loss prevention, retention, eDiscovery and audit.",
    ),
    (
        "Azure Active Directory",
        "https://aad.portal.azure.com/",
        "Manage your organisation's identities: users, groups, multi-factor authentication, sign-ins and "
        "company branding.",
    ),
    (
        "Azure AD Identity Protection",
        "https://portal.azure.com/#blade/Microsoft_AAD_ProtectionCenter/IdentitySecurityDashboardMenuBlade/RiskyUsers",
        "Detect risky users and sign-ins, configure automated responses and investigate identity risks.",
    ),
    (
        "Azure Information Protection",
        "https://portal.azure.com/#blade/Microsoft_Azure_InformationProtection/DataClassGroupEditBlade/quickstartBlade",
        "Classify and label sensitive documents and email, and manage the scanner and its analytics.",
    ),
    (
        "Microsoft Defender for Cloud",
        "https://portal.azure.com/#blade/Microsoft_Azure_Security/SecurityMenuBlade/0",
        "Protect data centres and cloud workloads in Azure, other clouds and on premises with posture management "
        "and threat protection.",
    ),
    (
        "Microsoft Defender for Cloud Apps",
        "https://portal.cloudappsecurity.com/",
        "See and control the cloud apps your organisation uses, detect threats in them and protect their data.",
    ),
    (
        "Microsoft 365 Defender portal",
        "https://security.microsoft.com/",
        "Microsoft's unified portal for incidents, hunting and protection across endpoints, identities, email "
        "and apps.",
    ),
]


def seed(apps, schema_editor):
    ResourceLink = apps.get_model("resources", "ResourceLink")
    for position, (name, url, description) in enumerate(RELATED_PORTALS):
        ResourceLink.objects.get_or_create(
            name=name, defaults={"url": url, "description": description, "position": position}
        )


def unseed(apps, schema_editor):
    ResourceLink = apps.get_model("resources", "ResourceLink")
    ResourceLink.objects.filter(name__in=[name for name, _, _ in RELATED_PORTALS]).delete()


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
