from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import views

api_patterns = [
    path("", include("incidents.api.urls")),
    path("", include("permissions.api.urls")),
    path("", include("portal.api.urls")),
    path("resources/", include("resources.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from a URL: the Content-Security-Policy allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", include("home.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("permissions.account.urls")),
    path("", include("incidents.urls")),
    path("permissions/", include("permissions.urls")),
    path("resources/", include("resources.urls")),
    path("api/", include(api_patterns)),
    # The Graph-compatible security API: tools written for Microsoft Graph's /v1.0/security/ work against it.
    path("v1.0/security/", include("incidents.graph.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "portal.api.fallback.page_not_found"
handler500 = "portal.api.fallback.server_error"
