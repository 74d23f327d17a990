"""
Playwright drives Debian's Chromium (never a downloaded browser) against pytest-django's live server. Every browser
test also checks that nothing on the pages it visits breaks the Content-Security-Policy.
"""

import os
from importlib import import_module

import pytest
from django.apps import apps

from permissions.signals import sync_builtin_role_permissions


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


# Chromium logs each refusal to the console ("Applying inline style violates the following Content Security Policy
# directive ..."); the page's securitypolicyviolation events are logged too, so that a refusal counts even where
# Chromium words it differently.
CSP_VIOLATION = "Content Security Policy"
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.effectiveDirective} refused ${event.blockedURI}`
    + ` at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""


@pytest.fixture(autouse=True)
def _no_content_security_policy_violations(context):
    violations = []
    context.add_init_script(REPORT_CSP_VIOLATIONS)

    def record(message):
        if CSP_VIOLATION in message.text:
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", record)
    yield
    assert not violations, "The pages broke the Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
def sign_in(live_server, page):
    """Sign in through the login page, as a person would."""

    def sign_in_as(username, password):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    return sign_in_as


@pytest.fixture(autouse=True)
def _data_from_migrations(transactional_db):
    """
    Live-server tests run in transactional databases, which are emptied after each test; put back what the data
    migrations create (built-in roles, the seeded More resources), through the migrations' own functions.
    """
    import_module("permissions.migrations.0002_builtin_roles").create_builtin_roles(apps, None)
    import_module("permissions.migrations.0004_more_builtin_roles_and_assignments").create_roles_and_assignments(
        apps, None
    )
    sync_builtin_role_permissions()
    import_module("resources.migrations.0002_seed_related_portals").seed(apps, None)
    import_module("portal.migrations.0006_home_cards").seed_home_cards(apps, None)
