from django.db import migrations

# Names and descriptions as in permissions/roles.py at the time of this migration; their permission sets are
# synchronised after every migrate by permissions.signals.
NEW_BUILTIN_ROLES = [
    ("Threat intelligence analyst", "Views security data and threat analytics; writes threat reports."),
    ("Posture manager", "Views and improves the secure score; reads threat analytics."),
]


def create_roles_and_assignments(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Role = apps.get_model("permissions", "Role")
    RoleAssignment = apps.get_model("permissions", "RoleAssignment")
    for name, description in NEW_BUILTIN_ROLES:
        group, _ = Group.objects.get_or_create(name=name)
        Role.objects.update_or_create(group=group, defaults={"description": description, "is_builtin": True})
    # Until now a role was held by joining its group; from here on it is held through an assignment over all data
    # (the scope every role had), and the role groups keep no members.
    for role in Role.objects.select_related("group"):
        for user in role.group.user_set.all():
            RoleAssignment.objects.get_or_create(role=role, user=user, defaults={"all_data": True})
        role.group.user_set.clear()


def remove_new_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    RoleAssignment = apps.get_model("permissions", "RoleAssignment")
    for assignment in RoleAssignment.objects.filter(user__isnull=False).select_related("role__group"):
        assignment.role.group.user_set.add(assignment.user)
    Group.objects.filter(name__in=[name for name, _ in NEW_BUILTIN_ROLES], role__is_builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("permissions", "0003_role_assignments")]

    operations = [migrations.RunPython(create_roles_and_assignments, remove_new_roles)]
