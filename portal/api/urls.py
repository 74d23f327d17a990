from django.urls import path

from portal.api.activity import ActivityLogView

app_name = "portal-api"

urlpatterns = [
    path("activity/", ActivityLogView.as_view(), name="activity"),
]
