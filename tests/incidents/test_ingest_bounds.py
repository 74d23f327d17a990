"""
Long and odd nested values on POST /api/ingest/alerts: every one is refused at its field path or stored cut, the
other alerts of the request are stored, and no answer is a 500.

Each request carries the alert under test first and a known-good alert second.
"""

import json

import pytest
from rest_framework.test import APIClient

from incidents.models import Alert, Entity, Evidence
from tests.api_clients import bearer_for
from tests.incidents import graph_samples as g

pytestmark = pytest.mark.django_db
URL = "/api/ingest/alerts"
KEY_MAX = Entity._meta.get_field("key").max_length
NAME_MAX = Entity._meta.get_field("display_name").max_length


@pytest.fixture
def api(admin_user) -> APIClient:
    return bearer_for(admin_user)


def _send_with_a_good_alert(api, tested: dict) -> tuple[dict, dict]:
    """(the answer's body, the good alert) after sending [tested, good]; a good alert is always stored."""
    good = g.alert(evidence=[g.device("ws-good.corp.example"), g.user("good@corp.example")])
    response = api.post(URL, data=json.dumps([tested, good]), content_type="application/json")
    assert response.status_code == 202
    assert Alert.objects.filter(provider_alert_id=good["id"]).exists()
    return response.json(), good


def _rejected(api, tested: dict) -> dict[str, str]:
    """The errors refusing `tested`, which is not stored."""
    body, _ = _send_with_a_good_alert(api, tested)
    [rejection] = body["rejected"]
    assert rejection["index"] == 0
    assert len(body["accepted"]) == 1
    assert not Alert.objects.filter(provider_alert_id=tested["id"]).exists()
    return rejection["errors"]


def _stored(api, tested: dict) -> Alert:
    body, _ = _send_with_a_good_alert(api, tested)
    assert body["rejected"] == []
    assert len(body["accepted"]) == 2
    return Alert.objects.get(provider_alert_id=tested["id"])


def _entities(alert: Alert, kind: str) -> list[Entity]:
    linked = Evidence.objects.filter(alert=alert)
    ids = {
        entity_id
        for row in linked.values_list("entity_id", "device_id", "image_file_id", "parent_process_id")
        for entity_id in row
        if entity_id
    }
    return list(Entity.objects.filter(pk__in=ids, kind=kind).order_by("pk"))


def _process_alert(**process_overrides) -> dict:
    ws = g.device("ws-fin-042.corp.example")
    return g.alert(evidence=[ws, g.process(4242, ws["mdeDeviceId"], **process_overrides)])


# The reported cases


def test_a_process_image_file_name_longer_than_a_name_is_stored_cut(api):
    alert = _stored(api, _process_alert(image_name="a" * 600 + ".exe"))

    image = next(entity for entity in _entities(alert, "file") if entity.key == g.POWERSHELL_SHA256)
    assert image.display_name == "a" * (NAME_MAX - 1) + "…"
    process = next(entity for entity in _entities(alert, "process") if entity.attributes["processId"] == 4242)
    # The process keeps its id in its name however long the image's name is.
    assert len(process.display_name) == NAME_MAX
    assert process.display_name.endswith("… (4242)")


def test_a_parent_process_image_file_name_longer_than_a_name_is_stored_cut(api):
    alert = _stored(api, _process_alert(parent_image_name="p" * 600 + ".exe"))

    parent = next(entity for entity in _entities(alert, "process") if entity.attributes["processId"] == 5872)
    assert parent.display_name == "p" * (NAME_MAX - len(" (5872)") - 1) + "… (5872)"


def test_an_image_file_known_only_by_a_long_path_is_stored_under_a_bounded_key(api):
    long_name = "n" * 600 + ".exe"
    image = {"fileName": long_name, "filePath": "C:\\Tools", "sha256": None, "sha1": None}
    alert = _stored(api, _process_alert(imageFile=image))

    [image] = [entity for entity in _entities(alert, "file") if entity.display_name.startswith("n")]
    assert len(image.key) == KEY_MAX
    assert image.key.startswith("c:\\tools\\nnn")
    assert image.display_name == long_name[: NAME_MAX - 1] + "…"


def test_a_parent_process_creation_time_that_is_no_date_refuses_the_alert_at_its_path(api):
    errors = _rejected(api, _process_alert(parent_created="2" * 1000))

    assert list(errors) == ["evidence[1].parentProcessCreationDateTime"]
    assert "ISO 8601" in errors["evidence[1].parentProcessCreationDateTime"]
    # The message quotes the start of the value, not all of it.
    assert len(errors["evidence[1].parentProcessCreationDateTime"]) < 200


def test_a_device_dns_name_too_long_for_a_key_refuses_the_alert_even_when_reached_through_its_id(api):
    ws = g.device("ws-" + "x" * 600 + ".corp.example")
    errors = _rejected(api, g.alert(evidence=[ws, g.process(4242, ws["mdeDeviceId"])]))

    assert list(errors) == ["evidence[0].deviceDnsName"]
    assert f"at most {KEY_MAX}" in errors["evidence[0].deviceDnsName"]


# Every other way a payload value reaches a bounded column


@pytest.mark.parametrize(
    ("evidence", "path"),
    [
        (g.user("u" * 600 + "@corp.example"), "evidence[0].userAccount.userPrincipalName"),
        (g.user(None, userSid="S-1-5-" + "1" * 600), "evidence[0].userAccount.userSid"),
        (
            g.user(None, userSid=None, azureAdUserId=None, accountName="a" * 400, domainName="d" * 400),
            "evidence[0].userAccount.accountName",
        ),
        (g.mailbox("m" * 600 + "@corp.example"), "evidence[0].primaryAddress"),
        (g.cloud_app(int("9" * 600), "Huge app"), "evidence[0].appId"),
        (g.analyzed_message("n" * 600), "evidence[0].networkMessageId"),
        (g.device(None, mdeDeviceId="f" * 600), "evidence[0].mdeDeviceId"),
    ],
    ids=["upn", "sid", "domain-account", "mailbox", "app-id", "message-id", "device-id"],
)
def test_an_identifier_too_long_for_a_key_refuses_the_alert_at_its_path(api, evidence, path):
    errors = _rejected(api, g.alert(evidence=[evidence]))

    assert list(errors) == [path]
    assert f"at most {KEY_MAX}" in errors[path]


@pytest.mark.parametrize(
    ("evidence_ending_with", "kind"),
    [
        (lambda end: g.url("https://phish.example/login?session=" + "q" * 3000 + end), "url"),
        (lambda end: g.file(sha256=None, name="f" * 700 + end + ".docm", sha1=None), "file"),
        (lambda end: g.registry_key("SOFTWARE\\" + "k" * 700 + end), "registryKey"),
        (lambda end: g.registry_value("v" * 700 + end), "registryValue"),
        (lambda end: g.mail_cluster(value="Invoice " + "i" * 700 + end, urn=None), "mailCluster"),
    ],
    ids=["url", "file-path", "registry-key", "registry-value", "mail-cluster"],
)
def test_a_long_url_or_path_is_stored_under_a_bounded_key_that_tells_it_apart(api, evidence_ending_with, kind):
    # Two long values alike but for their last character are two entities, never one.
    alert = _stored(api, g.alert(evidence=[evidence_ending_with("1"), evidence_ending_with("2")]))

    entities = _entities(alert, kind)
    assert len(entities) == 2
    assert all(len(entity.key) <= KEY_MAX and len(entity.display_name) <= NAME_MAX for entity in entities)
    assert entities[0].key != entities[1].key


def test_a_process_on_a_device_with_a_long_name_is_stored_under_a_bounded_key(api):
    ws = g.device("ws-" + "x" * 480 + ".corp.example")
    alert = _stored(api, g.alert(evidence=[ws, g.process(4242, ws["mdeDeviceId"])]))

    processes = _entities(alert, "process")
    assert len(processes) == 2
    assert all(len(process.key) <= KEY_MAX for process in processes)


def test_a_long_message_subject_and_cluster_value_are_stored_cut(api):
    alert = _stored(api, g.alert(evidence=[g.analyzed_message(subject="s" * 900), g.mail_cluster(value="c" * 900)]))

    [message] = _entities(alert, "analyzedMessage")
    assert message.display_name == "s" * (NAME_MAX - 1) + "…"
    [cluster] = _entities(alert, "mailCluster")
    assert len(cluster.display_name) == NAME_MAX


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"processId": 2**63}, "evidence[1].processId"),
        ({"processId": -(2**63) - 1}, "evidence[1].processId"),
        ({"processId": "x" * 600}, "evidence[1].processId"),
        ({"processId": True}, "evidence[1].processId"),
        ({"parentProcessId": 10**30}, "evidence[1].parentProcessId"),
        ({"processCreationDateTime": {"at": "2026-11-20"}}, "evidence[1].processCreationDateTime"),
        ({"processCreationDateTime": "10000-01-01T00:00:00Z"}, "evidence[1].processCreationDateTime"),
    ],
    ids=["pid-above-bigint", "pid-below-bigint", "pid-text", "pid-boolean", "parent-pid", "created-object", "y10k"],
)
def test_a_process_id_or_creation_time_that_cannot_be_stored_refuses_the_alert_at_its_path(api, overrides, path):
    ws = g.device("ws-fin-042.corp.example")
    errors = _rejected(api, g.alert(evidence=[ws, g.process(4242, ws["mdeDeviceId"], **overrides)]))

    assert list(errors) == [path]


def test_a_process_id_sent_as_digits_is_the_same_process(api):
    ws = g.device("ws-fin-042.corp.example")
    alert = _stored(api, g.alert(evidence=[ws, g.process("4242", ws["mdeDeviceId"], parent_pid=None)]))

    [process] = _entities(alert, "process")
    assert process.display_name == "powershell.exe (4242)"


@pytest.mark.parametrize(
    ("evidence", "path"),
    [
        (g.file(fileSize=2**64), "evidence[0].fileDetails.fileSize"),
        (g.file(fileSize=-1), "evidence[0].fileDetails.fileSize"),
        (g.file(fileSize=1.5), "evidence[0].fileDetails.fileSize"),
        (
            g.process(4242, None, created="2026-11-20T08:03:41Z", imageFile={"fileName": "a.exe", "fileSize": 2**64}),
            "evidence[0].imageFile.fileSize",
        ),
        (
            g.process(
                4242,
                None,
                parent_created="2026-11-20T08:03:41Z",
                parentProcessImageFile={"fileDetails": {"sha256": g.EXPLORER_SHA256, "fileSize": "many"}},
            ),
            "evidence[0].parentProcessImageFile.fileDetails.fileSize",
        ),
    ],
    ids=["above-bigint", "negative", "fraction", "image-file", "wrapped-parent-image-file"],
)
def test_a_file_size_that_is_no_storable_integer_refuses_the_alert_at_its_path(api, evidence, path):
    errors = _rejected(api, g.alert(evidence=[evidence]))

    assert list(errors) == [path]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("createdDateTime", "10000-01-01T00:00:00Z"),
        ("firstActivityDateTime", "2026-11-20T08:00:00+99:00"),
        ("lastUpdateDateTime", "0001-01-01T00:00:00+23:59"),
        ("resolvedDateTime", "9" * 1000),
        ("lastActivityDateTime", ["2026-11-20T08:00:00Z"]),
    ],
    ids=["year-10000", "offset-beyond-a-day", "before-1970", "long-text", "list"],
)
def test_an_alert_date_that_cannot_be_stored_refuses_the_alert_at_its_path(api, field, value):
    errors = _rejected(api, g.alert(**{field: value}))

    assert list(errors) == [field]
    assert len(errors[field]) < 200


def test_a_date_with_an_offset_postgresql_does_not_take_is_stored_as_the_same_instant(api):
    # Python reads offsets up to a day; PostgreSQL refuses offsets beyond 15:59. The instant is what counts.
    alert = _stored(
        api,
        g.alert(
            createdDateTime="2026-11-20T20:00:00+20:00",
            evidence=[g.ip("198.51.100.24", createdDateTime="2026-11-20T20:00:00+23:30")],
        ),
    )

    assert alert.created_at.isoformat() == "2026-11-20T00:00:00+00:00"
    [evidence] = alert.evidence.all()
    assert evidence.created_at.isoformat() == "2026-11-19T20:30:00+00:00"


def test_a_device_risk_score_with_spaces_is_stored_as_its_value(api):
    alert = _stored(api, g.alert(evidence=[g.device("ws-risk.corp.example", riskScore=" High ")]))

    [device] = _entities(alert, "device")
    assert device.risk_score == "high"


def test_device_platform_and_group_are_cut_to_their_columns_and_ignored_unless_text(api):
    long_group = "g" * 300
    alert = _stored(
        api,
        g.alert(
            evidence=[
                g.device("ws-a.corp.example", osPlatform="w" * 300, rbacGroupName=long_group),
                g.device("ws-b.corp.example", osPlatform={"name": "Windows11"}, rbacGroupName=["Servers"]),
            ]
        ),
    )

    first, second = _entities(alert, "device")
    assert first.os_platform == "w" * Entity._meta.get_field("os_platform").max_length
    assert first.device_group.name == long_group[:100]
    assert second.os_platform == ""
    assert second.device_group is None


def test_an_enum_value_that_is_not_one_is_quoted_by_its_start(api):
    errors = _rejected(api, g.alert(severity="h" * 5000))

    assert list(errors) == ["severity"]
    assert errors["severity"].startswith("'" + "h" * 40 + "'… is not one of: ")
    assert len(errors["severity"]) < 200
