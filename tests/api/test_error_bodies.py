"""
Every error of the native API has one body, {"detail", "code", "errors"?}, and the Graph-compatible API's paths
answer Graph's {"error": {"code", "message"}}, including for what Django answers itself (an unknown path, a crash);
the pages keep their HTML error pages.
"""

import pytest
from django.test import Client
from django.urls import path
from rest_framework.test import APIClient

from portal.urls import urlpatterns as project_urlpatterns
from resources.models import ResourceLink

pytestmark = pytest.mark.django_db


def _crash(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("api/crash", _crash),
    path("v1.0/security/crash", _crash),
    path("crash", _crash),
    *project_urlpatterns,
]
handler404 = "portal.api.fallback.page_not_found"
handler500 = "portal.api.fallback.server_error"


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def test_an_anonymous_call_is_refused_with_the_error_body(client):
    response = client.get("/api/resources/")

    assert response.status_code in (401, 403)
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_a_missing_permission_is_refused_with_the_error_body(reader):
    client = APIClient()
    client.force_authenticate(reader)

    response = client.post("/api/resources/", {"name": "X", "url": "https://x.example/"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "resources.change_resourcelink" in response.json()["detail"]


def test_invalid_input_names_each_field_in_errors_and_sums_them_up_in_detail(api):
    response = api.post("/api/resources/", {"name": "", "url": "ftp://x"}, format="json")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"name", "url"}
    assert body["detail"].startswith("Invalid input. ")
    assert "name: " in body["detail"] and "url: " in body["detail"]
    assert not ResourceLink.objects.filter(url="ftp://x").exists()


def test_a_body_that_is_not_json_is_a_parse_error(api):
    response = api.post("/api/resources/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_form_encoded_body_is_refused_as_an_unsupported_media_type(api):
    response = api.post("/api/resources/", {"name": "X", "url": "https://x.example/"}, format="multipart")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not ResourceLink.objects.filter(name="X").exists()


@pytest.mark.parametrize("path", ["/api/resources/", "/v1.0/security/incidents/1/comments"])
def test_a_body_nested_too_deeply_is_a_parse_error_in_both_apis(api, path):
    response = api.post(path, "[" * 100_000 + "]" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.content.decode()


def test_a_limit_beyond_any_number_gives_the_largest_page(api):
    response = api.get("/api/resources/", {"limit": str(2**70)})

    assert response.status_code == 200
    assert len(response.json()["results"]) == ResourceLink.objects.count()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/incidents/?since=2026-01-01T00:00:00%2B20:00", None),
        ("/api/alerts/?until=9999-12-31T23:59:59-14:00", "until"),
        ("/api/incidents/?q=%C2%B2", None),
        ("/api/alerts/?q=%C2%B2", None),
    ],
)
def test_odd_digits_and_far_utc_offsets_in_the_queue_filters_answer_without_a_500(api, path, field):
    response = api.get(path)

    assert response.status_code in (200, 400)
    if field:
        assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.parametrize(
    "path", ["/incidents/?q=%C2%B2", "/alerts/?q=%C2%B2", "/incidents/?since=2026-01-01T00:00:00%2B20:00"]
)
def test_the_queue_pages_take_the_same_odd_values_without_a_500(admin_user, client, path):
    client.force_login(admin_user)

    assert client.get(path).status_code == 200


@pytest.mark.parametrize("lookup", ["999999", "not-a-number", "null,null"])
def test_an_object_that_does_not_exist_is_not_found_with_the_error_body(api, lookup):
    response = api.get(f"/api/resources/{lookup}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_method_the_endpoint_does_not_have_is_refused_with_the_error_body(api):
    response = api.delete("/api/resources/")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_path_no_api_endpoint_matches_answers_json_not_an_html_page(admin_user, client):
    client.force_login(admin_user)

    native = client.get("/api/no-such-thing/")
    graph = client.get("/v1.0/security/no-such-thing")
    page = client.get("/no-such-page/")

    assert native.status_code == graph.status_code == page.status_code == 404
    assert native.json() == {"detail": "There is no resource at /api/no-such-thing/.", "code": "not_found"}
    assert graph.json()["error"]["code"] == "NotFound"
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.urls(__name__)
def test_a_crash_answers_the_api_error_bodies_and_the_html_page_elsewhere(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)

    native = client.get("/api/crash")
    graph = client.get("/v1.0/security/crash")
    page = client.get("/crash")

    assert native.status_code == graph.status_code == page.status_code == 500
    assert native.json()["code"] == "server_error"
    assert graph.json()["error"]["code"] == "InternalServerError"
    assert "a bug" not in native.content.decode() + graph.content.decode()
    assert page["Content-Type"].startswith("text/html")
