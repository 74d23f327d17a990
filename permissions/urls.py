from django.urls import path

from permissions.views import assignments, device_groups, home_cards, roles, tokens

app_name = "permissions"

urlpatterns = [
    path("", roles.role_list, name="roles"),
    path("roles/new/", roles.role_create, name="role_create"),
    path("roles/<int:pk>/", roles.role_detail, name="role"),
    path("roles/<int:pk>/edit/", roles.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", roles.role_delete, name="role_delete"),
    path("roles/<int:pk>/assign/", assignments.assignment_create, name="assignment_create"),
    path("assignments/<int:pk>/", assignments.assignment_edit, name="assignment_edit"),
    path("assignments/<int:pk>/delete/", assignments.assignment_delete, name="assignment_delete"),
    path("device-groups/", device_groups.device_group_list, name="device_groups"),
    path("device-groups/new/", device_groups.device_group_create, name="device_group_create"),
    path("device-groups/<int:pk>/", device_groups.device_group_detail, name="device_group"),
    path("device-groups/<int:pk>/edit/", device_groups.device_group_edit, name="device_group_edit"),
    path("device-groups/<int:pk>/apply/", device_groups.device_group_apply, name="device_group_apply"),
    path("device-groups/<int:pk>/devices/add/", device_groups.device_group_add, name="device_group_add"),
    path("device-groups/<int:pk>/devices/remove/", device_groups.device_group_remove, name="device_group_remove"),
    path("device-groups/<int:pk>/delete/", device_groups.device_group_delete, name="device_group_delete"),
    path("home-cards/", home_cards.home_card_matrix, name="home_cards"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/new/", tokens.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
]
