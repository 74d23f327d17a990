"""The ingest endpoint end to end: shapes, partial acceptance, limits, deduplication, every evidence type."""

import json

import pytest
from rest_framework.test import APIClient

from incidents.models import Alert, Entity, Evidence
from permissions.services import api_token_create

pytestmark = pytest.mark.django_db
URL = "/api/ingest/alerts"
NS = "#microsoft.graph.security."
SHA256 = "a" * 64


def _client(user):
    _, secret = api_token_create(user=user, name=f"forwarder {user.api_tokens.count()}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def _alert(alert_id="da1", **extra):
    return {"id": alert_id, "title": "Suspicious activity", "serviceSource": "microsoftDefenderForEndpoint", **extra}


EVERY_EVIDENCE = [
    {"@odata.type": NS + "deviceEvidence", "deviceDnsName": "WS1.Corp.Example", "mdeDeviceId": "dev-1"},
    {"@odata.type": NS + "userEvidence", "userAccount": {"userPrincipalName": "Alice@Corp.Example"}},
    {"@odata.type": NS + "mailboxEvidence", "primaryAddress": "Alice@Corp.Example"},
    {"@odata.type": NS + "fileEvidence", "fileDetails": {"sha256": SHA256.upper(), "fileName": "x.exe"}},
    {
        "@odata.type": NS + "processEvidence",
        "processId": 42,
        "mdeDeviceId": "dev-1",
        "imageFile": {"fileDetails": {"sha256": SHA256, "fileName": "x.exe"}},
    },
    {"@odata.type": NS + "ipEvidence", "ipAddress": "::ffff:203.0.113.9"},
    {"@odata.type": NS + "urlEvidence", "url": "HTTPS://Evil.Example:443/login"},
    {"@odata.type": NS + "cloudApplicationEvidence", "appId": 11161, "displayName": "Microsoft 365"},
    {"@odata.type": NS + "registryKeyEvidence", "registryHive": "HKEY_LOCAL_MACHINE", "registryKey": "SOFTWARE\\Run"},
    {
        "@odata.type": NS + "registryValueEvidence",
        "registryHive": "HKEY_LOCAL_MACHINE",
        "registryKey": "SOFTWARE\\Run",
        "registryValueName": "updater",
    },
    {"@odata.type": NS + "analyzedMessageEvidence", "networkMessageId": "MSG-1", "subject": "Invoice"},
    {"@odata.type": NS + "mailClusterEvidence", "clusterBy": "Subject", "clusterByValue": "Invoice"},
    {"@odata.type": NS + "kubernetesPodEvidence", "name": "api-7f9c"},
]


def test_it_stores_every_evidence_type_with_its_odata_type_and_canonical_keys(admin_user):
    response = _post(_client(admin_user), _alert(evidence=EVERY_EVIDENCE))

    assert response.status_code == 202
    assert response.json()["rejected"] == []
    alert = Alert.objects.get(pk=response.json()["accepted"][0])
    stored = {e.odata_type: e for e in Evidence.objects.filter(alert=alert).select_related("entity")}
    assert set(stored) == {item["@odata.type"] for item in EVERY_EVIDENCE}
    keys = {t.rsplit(".", 1)[-1]: (e.entity.kind, e.entity.key) if e.entity else None for t, e in stored.items()}
    assert keys["deviceEvidence"] == ("device", "ws1.corp.example")
    assert keys["userEvidence"] == ("user", "alice@corp.example")
    assert keys["mailboxEvidence"] == ("mailbox", "alice@corp.example")
    assert keys["fileEvidence"] == ("file", SHA256)
    assert keys["ipEvidence"] == ("ip", "203.0.113.9")
    assert keys["urlEvidence"] == ("url", "https://evil.example/login")
    assert keys["cloudApplicationEvidence"] == ("cloudApplication", "11161")
    assert keys["registryValueEvidence"] == ("registryValue", "hkey_local_machine\\software\\run\\updater")
    assert keys["analyzedMessageEvidence"] == ("analyzedMessage", "msg-1")
    assert keys["mailClusterEvidence"] == ("mailCluster", "subject:invoice")
    assert keys["kubernetesPodEvidence"] is None
    assert stored[NS + "kubernetesPodEvidence"].payload["name"] == "api-7f9c"
    process = stored[NS + "processEvidence"]
    assert process.device.key == "ws1.corp.example"
    assert process.image_file.key == SHA256
    assert alert.ingested_via == "api:admin"


def test_a_bad_item_is_reported_by_index_and_the_good_ones_are_stored(admin_user):
    body = {"value": [_alert("ok-1"), {"id": "bad", "title": "", "severity": "huge"}, _alert("ok-2")]}
    response = _post(_client(admin_user), body)

    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 2
    [rejection] = response.json()["rejected"]
    assert rejection["index"] == 1
    assert set(rejection["errors"]) == {"title", "severity"}
    assert not Alert.objects.filter(provider_alert_id="bad").exists()


def test_a_resent_alert_updates_and_counts_instead_of_duplicating(admin_user):
    client = _client(admin_user)
    first = _post(client, _alert("da-repeat", status="New", evidence=EVERY_EVIDENCE[:1])).json()
    again = _post(client, _alert("da-repeat", status="InProgress", evidence=EVERY_EVIDENCE[1:2])).json()

    assert again["updated"] == first["accepted"]
    alert = Alert.objects.get(provider_alert_id="da-repeat")
    assert (alert.status, alert.repeat_count) == ("inProgress", 1)
    assert alert.evidence.count() == 2


def test_the_same_id_from_two_sources_is_two_alerts(admin_user):
    client = _client(admin_user)
    _post(client, _alert("shared-id"))
    _post(client, _alert("shared-id", serviceSource="microsoftDefenderForIdentity"))
    assert Alert.objects.filter(provider_alert_id="shared-id").count() == 2


def test_junk_values_never_become_entities(admin_user):
    junk = [
        {"@odata.type": NS + "ipEvidence", "ipAddress": value}
        for value in ("0.0.0.0", "::", "-", "", "127.0.0.1")  # noqa: S104
    ] + [{"@odata.type": NS + "userEvidence", "userAccount": {"userPrincipalName": "N/A"}}]
    response = _post(_client(admin_user), _alert(evidence=junk))

    assert response.status_code == 202
    assert not Entity.objects.exists()
    assert Evidence.objects.filter(entity__isnull=True).count() == len(junk)


@pytest.mark.parametrize("body", [b"not json", b'"a string"', b"5", b'{"value": 5}', b'{"a": NaN}'])
def test_it_answers_400_to_bodies_that_are_not_alerts(admin_user, body):
    response = _client(admin_user).post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Alert.objects.exists()


def test_it_answers_413_over_the_limits(admin_user, settings):
    client = _client(admin_user)
    settings.INGEST_MAX_ALERTS = 2
    response = _post(client, [_alert("a"), _alert("b"), _alert("c")])
    assert response.status_code == 413
    assert "at most 2" in response.json()["detail"]
    settings.INGEST_MAX_ALERTS = 5000
    settings.INGEST_MAX_BODY_BYTES = 100
    assert _post(client, _alert(description="x" * 200)).status_code == 413
    assert not Alert.objects.exists()


def test_an_empty_list_or_page_is_accepted_and_stores_nothing(admin_user):
    client = _client(admin_user)
    for body in ([], {"value": []}):
        response = _post(client, body)
        assert response.status_code == 202
        assert response.json() == {"accepted": [], "updated": [], "rejected": []}
    assert not Alert.objects.exists()


def test_it_needs_the_ingest_permission(reader):
    response = _post(_client(reader), _alert())
    assert response.status_code == 403
    assert APIClient().post(URL, data="{}", content_type="application/json").status_code == 401
    assert not Alert.objects.exists()


def test_correlation_is_enqueued_after_commit(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _post(_client(admin_user), _alert())
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _post(_client(admin_user), {"title": ""})
    assert callbacks == []


def test_placeholder_group_names_and_bare_process_ids_create_nothing(admin_user):
    from incidents.models import DeviceGroup

    evidence = [
        {"@odata.type": NS + "deviceEvidence", "deviceDnsName": "ws7.corp.example", "rbacGroupName": "N/A"},
        {"@odata.type": NS + "processEvidence", "processId": 4},
    ]
    response = _post(_client(admin_user), _alert(evidence=evidence))

    assert response.status_code == 202
    assert not DeviceGroup.objects.filter(name="N/A").exists()
    assert not Entity.objects.filter(kind="process").exists()
    assert Entity.objects.get(kind="device").device_group is None
