"""
Headers that protect every page: a strict Content-Security-Policy on every HTML answer (with templates that need
nothing inline to work under it), and X-Forwarded-Proto believed only from a configured proxy.
"""

import re
import runpy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from tests.urlwalk import API_PREFIXES, walk_project

pytestmark = pytest.mark.django_db

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PAGES = sorted({url.path for url in walk_project() if not url.path.startswith(API_PREFIXES)} | {"/api/docs/"})
# Among the HTML answers of the walk, so that it cannot pass by finding none.
MAIN_PAGES = ("/", "/incidents/", "/alerts/", "/permissions/", "/permissions/tokens/", "/resources/", "/api/docs/")
TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))
SETTINGS_FILE = Path(django_settings.BASE_DIR) / "portal" / "settings.py"

# What the policy blocks in a template: inline scripts, inline event handlers, style attributes and elements,
# javascript: URLs, and htmx attributes that evaluate code.
INLINE_CODE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "an event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "a style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
    "a style element": re.compile(r"<style\b", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "an hx-on attribute": re.compile(r"\b(?:data-)?hx-on", re.IGNORECASE),
}


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


# --- Content-Security-Policy ------------------------------------------------------------------------------------------


def test_every_html_page_answers_with_the_content_security_policy(client, admin_user):
    client.force_login(admin_user)

    answers = {path: client.get(path) for path in PAGES}

    policies = {path: answer.get("Content-Security-Policy") for path, answer in answers.items() if _is_html(answer)}
    assert set(MAIN_PAGES) <= set(policies)
    assert {path: policy for path, policy in policies.items() if policy != POLICY} == {}


@pytest.mark.parametrize("path", ["/login/", "/no-such-page/"])
def test_the_sign_in_and_error_pages_answer_with_the_policy_too(client, path):
    response = client.get(path)

    assert _is_html(response)
    assert response["Content-Security-Policy"] == POLICY


def test_the_api_docs_load_their_script_from_a_url_instead_of_inline(client, admin_user):
    client.force_login(admin_user)

    page = client.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', page)

    assert script_url, page
    script = client.get(script_url.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=[str(path.relative_to(TEMPLATES)) for path in TEMPLATE_FILES])
def test_no_template_needs_inline_code_or_styles(template):
    text = template.read_text()

    found = [what for what, pattern in INLINE_CODE.items() if pattern.search(text)]

    assert found == []


# --- X-Forwarded-Proto ------------------------------------------------------------------------------------------------


def _settings_with(monkeypatch, trusted_proxies: int) -> dict:
    """The settings module as it reads with TRUSTED_PROXY_COUNT set to `trusted_proxies`."""
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", str(trusted_proxies))
    return runpy.run_path(str(SETTINGS_FILE))


def test_without_a_trusted_proxy_x_forwarded_proto_is_not_believed(monkeypatch, settings, client):
    settings.SECURE_PROXY_SSL_HEADER = _settings_with(monkeypatch, 0).get("SECURE_PROXY_SSL_HEADER")
    settings.SECURE_SSL_REDIRECT = True

    request = RequestFactory().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")

    assert request.is_secure() is False
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


def test_behind_a_trusted_proxy_x_forwarded_proto_says_the_request_is_secure(monkeypatch, settings, client):
    settings.SECURE_PROXY_SSL_HEADER = _settings_with(monkeypatch, 1).get("SECURE_PROXY_SSL_HEADER")
    settings.SECURE_SSL_REDIRECT = True

    secure = RequestFactory().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    plain = RequestFactory().get("/login/", HTTP_X_FORWARDED_PROTO="http")
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")

    assert (secure.is_secure(), plain.is_secure()) == (True, False)
    assert response.status_code == 200
