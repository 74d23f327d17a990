from rest_framework.routers import SimpleRouter

from resources.api.views import ResourceLinkViewSet

app_name = "resources-api"

# /api/resources/ is the directory itself, /api/resources/<id>/ one entry.
router = SimpleRouter()
router.register("", ResourceLinkViewSet, basename="resourcelink")
urlpatterns = router.urls
