from rest_framework.routers import SimpleRouter

from permissions.api.views.assignments import AssignmentViewSet
from permissions.api.views.device_groups import DeviceGroupViewSet
from permissions.api.views.roles import RoleViewSet
from permissions.api.views.tokens import ApiTokenViewSet

app_name = "permissions-api"

router = SimpleRouter()
router.register("device-groups", DeviceGroupViewSet, basename="devicegroup")
router.register("roles", RoleViewSet, basename="role")
router.register("role-assignments", AssignmentViewSet, basename="roleassignment")
router.register("tokens", ApiTokenViewSet, basename="apitoken")
urlpatterns = router.urls
