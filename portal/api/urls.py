app_name = "portal-api"

urlpatterns = []
