app_name = "permissions"

urlpatterns = []
