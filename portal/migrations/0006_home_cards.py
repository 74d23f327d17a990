"""
The built-in Home cards and which built-in roles see them (the default matrix; admins change it in Permissions &
roles › Home cards). A grant is a django-guardian object permission `portal.view_homecard` on the card's row, held by
the role's group.

Default matrix, by each role's job:
- Security administrator: every card.
- Security operator (works the queues): every card — active incidents, incidents assigned to me, alerts over the
  last 7 days, devices and users at risk, latest high-severity alerts, recent activity.
- Security reader (watches, changes nothing): active incidents, alerts over the last 7 days, devices and users at
  risk, latest high-severity alerts — no personal queue, no activity stream.
- Threat intelligence analyst (looks for campaigns): active incidents, latest high-severity alerts, alerts over the
  last 7 days.
- Posture manager: none of these. The role holds no permission to view security data, and a card also needs its
  data's permission, so a security-data card granted to it would never show; its card is the secure score card,
  which the Secure score section adds with its own migration.

Idempotent (get_or_create throughout): the browser tests call `seed_home_cards` again after emptying the database.
"""

from django.db import migrations

# (key, title, description, position) as in portal/home/cards.py at the time of this migration.
CARDS = [
    (
        "active-incidents",
        "Active incidents",
        "Open incidents (new and in progress) by severity, each number a link to the queue.",
        10,
    ),
    ("assigned-to-me", "Incidents assigned to me", "Your open incidents, most recently updated first.", 20),
    ("alerts-last-7-days", "Alerts over the last 7 days", "Alerts created per day, by severity.", 30),
    ("devices-at-risk", "Devices at risk", "Devices in unresolved alerts, the most severe first.", 40),
    ("users-at-risk", "Users at risk", "User accounts in unresolved alerts, the most severe first.", 50),
    ("latest-high-severity-alerts", "Latest high-severity alerts", "The newest unresolved high-severity alerts.", 60),
    (
        "recent-activity",
        "Recent activity",
        "The latest changes to incidents and alerts, by people and by the system.",
        70,
    ),
]
ALL_CARDS = [key for key, *_ in CARDS]
DEFAULT_MATRIX = {
    "Security administrator": ALL_CARDS,
    "Security operator": ALL_CARDS,
    "Security reader": [
        "active-incidents",
        "alerts-last-7-days",
        "devices-at-risk",
        "users-at-risk",
        "latest-high-severity-alerts",
    ],
    "Threat intelligence analyst": ["active-incidents", "latest-high-severity-alerts", "alerts-last-7-days"],
    "Posture manager": [],
}


def _view_homecard(apps):
    # Permissions are created after the last migration of a fresh database: make this one now (post_migrate then
    # finds it by content type and codename and leaves it be).
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="portal", model="homecard")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="view_homecard", defaults={"name": "Can view home card"}
    )
    return content_type, permission


def seed_home_cards(apps, schema_editor):
    HomeCard = apps.get_model("portal", "HomeCard")
    Group = apps.get_model("auth", "Group")
    GroupObjectPermission = apps.get_model("guardian", "GroupObjectPermission")
    content_type, permission = _view_homecard(apps)
    cards = {}
    for key, title, description, position in CARDS:
        cards[key], _ = HomeCard.objects.get_or_create(
            key=key, defaults={"title": title, "description": description, "position": position}
        )
    for role_name, keys in DEFAULT_MATRIX.items():
        group = Group.objects.filter(name=role_name).first()
        if group is None:  # a built-in role someone removed by hand: nothing to grant
            continue
        for key in keys:
            GroupObjectPermission.objects.get_or_create(
                group=group, permission=permission, content_type=content_type, object_pk=str(cards[key].pk)
            )


def remove_home_cards(apps, schema_editor):
    HomeCard = apps.get_model("portal", "HomeCard")
    GroupObjectPermission = apps.get_model("guardian", "GroupObjectPermission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = HomeCard.objects.filter(key__in=ALL_CARDS)
    content_type = ContentType.objects.filter(app_label="portal", model="homecard").first()
    if content_type is not None:
        GroupObjectPermission.objects.filter(
            content_type=content_type, object_pk__in=[str(pk) for pk in rows.values_list("pk", flat=True)]
        ).delete()
    rows.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_homecard"),
        ("permissions", "0004_more_builtin_roles_and_assignments"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed_home_cards, remove_home_cards)]
