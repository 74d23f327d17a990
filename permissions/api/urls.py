app_name = "permissions-api"

urlpatterns = []
