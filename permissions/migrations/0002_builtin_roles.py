from django.db import migrations

# Names and descriptions as in permissions/roles.py at the time of this migration; their permission sets are
# synchronised after every migrate by permissions.signals.
BUILTIN_ROLES = [
    ("Security administrator", "Everything: security operations, posture, roles and assignments, rules and settings."),
    ("Security operator", "Views security data, manages alerts and incidents, and takes response actions."),
    ("Security reader", "Views security data and reports; changes nothing."),
]


def create_builtin_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Role = apps.get_model("permissions", "Role")
    for name, description in BUILTIN_ROLES:
        group, _ = Group.objects.get_or_create(name=name)
        Role.objects.update_or_create(group=group, defaults={"description": description, "is_builtin": True})


def remove_builtin_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[name for name, _ in BUILTIN_ROLES], role__is_builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("permissions", "0001_initial")]

    operations = [migrations.RunPython(create_builtin_roles, remove_builtin_roles)]
