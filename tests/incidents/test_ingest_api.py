"""
POST /api/ingest/alerts end to end: who may push, the body shapes, every evidence subtype, enum spellings,
partial acceptance, limits, deduplication and the correlation hand-off after commit.
"""

import json
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from incidents.models import Alert, DeviceGroup, Entity, Evidence
from permissions.services import api_token_create, api_token_revoke
from tests.incidents import graph_samples as g

pytestmark = pytest.mark.django_db
URL = "/api/ingest/alerts"
EMPTY = {"accepted": [], "updated": [], "rejected": []}


def _client_for(user) -> APIClient:
    _, secret = api_token_create(user=user, name=f"graph forwarder {user.api_tokens.count()}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def api(admin_user) -> APIClient:
    return _client_for(admin_user)


def _post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def _post_raw(client, raw: bytes):
    return client.post(URL, data=raw, content_type="application/json")


def _nothing_stored():
    return not Alert.objects.exists() and not Evidence.objects.exists() and not Entity.objects.exists()


# Who may push


def test_it_lets_a_security_administrator_push_with_a_bearer_token(api):
    body = g.alert()
    response = _post(api, body)

    assert response.status_code == 202
    [alert_id] = response.json()["accepted"]
    assert response.json() == {"accepted": [alert_id], "updated": [], "rejected": []}
    alert = Alert.objects.get(pk=alert_id)
    assert alert.provider_alert_id == body["providerAlertId"]
    assert alert.ingested_via == "api:admin"


def test_it_answers_403_to_a_security_reader_and_stores_nothing(reader):
    response = _post(_client_for(reader), g.alert())

    assert response.status_code == 403
    assert "incidents.ingest_alert" in response.json()["detail"]
    assert _nothing_stored()


@pytest.mark.parametrize("user_fixture", ["analyst", "outsider"])
def test_it_answers_403_to_users_without_the_ingest_permission(request, user_fixture):
    user = request.getfixturevalue(user_fixture)
    response = _post(_client_for(user), g.alert())

    assert response.status_code == 403
    assert not Alert.objects.exists()


def test_it_answers_401_to_an_anonymous_caller(db):
    response = _post(APIClient(), g.alert())

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not Alert.objects.exists()


def test_it_answers_401_to_a_revoked_token(admin_user):
    token, secret = api_token_create(user=admin_user, name="retired forwarder")
    api_token_revoke(token=token, actor=admin_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = _post(client, g.alert())

    assert response.status_code == 401
    assert not Alert.objects.exists()


def test_it_records_the_pushing_user_as_the_ingestion_source(admin_user, api):
    response = _post(api, [g.alert(), g.alert()])

    assert response.status_code == 202
    assert set(Alert.objects.values_list("ingested_via", flat=True)) == {f"api:{admin_user.username}"}


# Body shapes


def test_it_accepts_one_alert_object(api):
    response = _post(api, g.alert(title="Suspicious execution of hidden file"))

    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 1
    assert Alert.objects.get().title == "Suspicious execution of hidden file"


def test_it_accepts_a_json_list_of_alerts(api):
    alerts = [g.alert(), g.alert(), g.alert()]
    response = _post(api, alerts)

    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 3
    assert set(Alert.objects.values_list("provider_alert_id", flat=True)) == {a["id"] for a in alerts}


def test_it_accepts_a_graph_page_with_its_context_and_next_link(api):
    alerts = [g.alert(), g.alert()]
    body = g.page(*alerts, next_link="https://graph.microsoft.com/v1.0/security/alerts_v2?$skip=2")
    response = _post(api, body)

    assert response.status_code == 202
    assert response.json()["rejected"] == []
    assert sorted(response.json()["accepted"]) == sorted(Alert.objects.values_list("pk", flat=True))
    assert Alert.objects.count() == 2


def test_it_accepts_a_graph_page_that_carries_an_odata_count(api):
    # What GET /security/alerts_v2?$count=true returns, forwarded as is.
    body = {**g.page(g.alert(), g.alert()), "@odata.count": 2}
    response = _post(api, body)

    assert response.status_code == 202
    assert response.json()["rejected"] == []
    assert Alert.objects.count() == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"this is not json", "not valid JSON"),
        (b'{"title": "unterminated', "not valid JSON"),
        (b'"a JSON string"', "Send one alert"),
        (b"42", "Send one alert"),
        (b"null", "Send one alert"),
        (b"true", "Send one alert"),
        (b'{"value": 5}', '"value" must be a list'),
        (b'{"value": {"title": "x"}}', '"value" must be a list'),
        (b'{"title": "x", "severity": NaN}', "not valid JSON"),
    ],
)
def test_it_answers_400_with_a_clear_message_to_a_body_that_is_not_alerts(api, raw, message):
    response = _post_raw(api, raw)

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert _nothing_stored()


def test_it_answers_400_to_a_body_that_is_not_utf8(api):
    response = _post_raw(api, b'{"title": "caf\xe9"}')

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    assert _nothing_stored()


def test_it_refuses_a_number_too_large_for_json_storage_without_failing_the_request(api):
    # 1e999 parses to Python's inf, which PostgreSQL's jsonb cannot store: that item is rejected, never a 500.
    raw = json.dumps(g.alert()).encode()[:-1] + b', "additionalData": {"score": 1e999}}'
    response = _post_raw(api, raw)

    assert response.status_code == 202
    [rejection] = response.json()["rejected"]
    assert rejection["index"] == 0
    assert "Infinity" in rejection["errors"][""]
    assert _nothing_stored()


def test_it_refuses_deeply_nested_json_with_a_400(api):
    raw = b'{"title": "deep", "additionalData": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001
    response = _post_raw(api, raw)

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_rejects_an_alert_with_a_lone_surrogate_and_stores_the_others(api):
    # "\ud83d" alone is valid JSON but not Unicode text; PostgreSQL cannot store it.
    good = g.alert()
    raw = (
        b"["
        + json.dumps(good).encode()
        + b","
        + json.dumps(g.alert()).encode()[:-1]
        + b', "description": "broken \\ud83d emoji"}]'
    )
    response = _post_raw(api, raw)

    assert response.status_code == 202
    assert [rejection["index"] for rejection in response.json()["rejected"]] == [1]
    assert list(Alert.objects.values_list("provider_alert_id", flat=True)) == [good["id"]]


def test_it_reads_a_date_time_without_an_offset_as_utc(api):
    response = _post(api, g.alert(createdDateTime="2026-11-20T08:05:54", firstActivityDateTime="2026-11-20T08:01:00"))

    assert response.status_code == 202
    assert response.json()["rejected"] == []
    alert = Alert.objects.get()
    assert alert.created_at == datetime(2026, 11, 20, 8, 5, 54, tzinfo=UTC)
    assert alert.first_activity == datetime(2026, 11, 20, 8, 1, tzinfo=UTC)


def test_it_answers_202_and_stores_nothing_for_an_empty_list_or_an_empty_page(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for body in ([], g.page()):
            response = _post(api, body)
            assert response.status_code == 202
            assert response.json() == EMPTY

    assert callbacks == []
    assert _nothing_stored()


# Every evidence subtype

CORE = [
    ("deviceEvidence", "device", "ws-fin-042.corp.example"),
    ("userEvidence", "user", "alice@corp.example"),
    ("mailboxEvidence", "mailbox", "alice@corp.example"),
    ("fileEvidence", "file", g.sha256_of("file:invoice_2026-0412.exe")),
    ("processEvidence", "process", None),
    ("ipEvidence", "ip", "198.51.100.24"),
    ("urlEvidence", "url", "https://contoso-payments.example/invoice/0412"),
    ("cloudApplicationEvidence", "cloudApplication", "11161"),
    ("registryKeyEvidence", "registryKey", "hkey_local_machine\\software\\microsoft\\windows\\currentversion\\run"),
    (
        "registryValueEvidence",
        "registryValue",
        "hkey_local_machine\\software\\microsoft\\windows\\currentversion\\run\\onedriveupdatersvc",
    ),
    ("analyzedMessageEvidence", "analyzedMessage", None),
    ("mailClusterEvidence", "mailCluster", None),
]


def test_it_stores_every_core_evidence_subtype_with_its_odata_type_and_an_entity_of_the_matching_kind(api):
    evidence = g.every_core_evidence()
    response = _post(api, g.alert(evidence=evidence))

    assert response.status_code == 202
    assert response.json()["rejected"] == []
    alert = Alert.objects.get(pk=response.json()["accepted"][0])
    rows = {row.odata_type: row for row in alert.evidence.select_related("entity")}
    assert set(rows) == {g.NS + subtype for subtype, _, _ in CORE}
    for subtype, kind, key in CORE:
        row = rows[g.NS + subtype]
        assert row.entity is not None, subtype
        assert row.entity.kind == kind, subtype
        if key is not None:
            assert row.entity.key == key, subtype
        sent = next(item for item in evidence if item["@odata.type"] == g.NS + subtype)
        assert row.payload == sent, subtype
        assert row.verdict == "suspicious"


def test_it_keys_messages_and_clusters_by_their_ids(api):
    message = g.analyzed_message(network_message_id="5A4D1E2F-7C0B-4B38-9E1A-08DCF1A2B3C4")
    cluster = g.mail_cluster(urn=None, cluster_by="Subject", value="Invoice 0412")
    response = _post(api, g.alert(serviceSource="microsoftDefenderForOffice365", evidence=[message, cluster]))

    assert response.status_code == 202
    assert Entity.objects.get(kind="analyzedMessage").key == "5a4d1e2f-7c0b-4b38-9e1a-08dcf1a2b3c4"
    assert Entity.objects.get(kind="mailCluster").key == "subject:invoice 0412"


def test_it_keeps_an_unknown_evidence_type_without_an_entity_and_with_its_original_object(api):
    pod = g.kubernetes_pod()
    response = _post(api, g.alert(evidence=[g.device("aks-node-3.corp.example"), pod]))

    assert response.status_code == 202
    assert response.json()["rejected"] == []
    row = Evidence.objects.get(odata_type=g.NS + "kubernetesPodEvidence")
    assert row.entity is None
    assert row.payload == pod
    assert row.alert_id == response.json()["accepted"][0]
    assert list(Entity.objects.values_list("kind", flat=True)) == ["device"]


def test_it_keeps_evidence_of_a_non_graph_type_as_sent(api):
    item = {"@odata.type": "#contoso.sensor.honeytokenEvidence", "token": "svc-backup-ht", "roles": ["attacked"]}
    response = _post(api, g.alert(evidence=[item]))

    assert response.status_code == 202
    row = Evidence.objects.get()
    assert (row.odata_type, row.entity, row.payload, row.roles) == (item["@odata.type"], None, item, ["attacked"])


# Enum spellings


def test_it_accepts_pascal_case_enum_values_and_stores_graph_camel_case(api):
    body = g.alert(
        status="InProgress",
        severity="High",
        classification="TruePositive",
        determination="MultiStagedAttack",
        serviceSource="MicrosoftDefenderForEndpoint",
        detectionSource="Antivirus",
        evidence=[g.device("ws1.corp.example", verdict="Malicious", remediationStatus="Remediated", riskScore="High")],
    )
    response = _post(api, body)

    assert response.status_code == 202, response.json()
    assert response.json()["rejected"] == []
    alert = Alert.objects.get()
    assert (alert.status, alert.severity, alert.classification, alert.determination) == (
        "inProgress",
        "high",
        "truePositive",
        "multiStagedAttack",
    )
    assert (alert.service_source, alert.detection_source) == ("microsoftDefenderForEndpoint", "antivirus")
    evidence = alert.evidence.get()
    assert (evidence.verdict, evidence.remediation_status) == ("malicious", "remediated")
    assert evidence.entity.risk_score == "high"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("notMalicious", "clean"),
        ("NotMalicious", "clean"),
        ("compromisedAccount", "compromisedUser"),
        ("CompromisedAccount", "compromisedUser"),
        ("notEnoughDataToValidate", "insufficientData"),
        ("confirmedActivity", "confirmedUserActivity"),
        ("compromisedUser", "compromisedUser"),
        ("clean", "clean"),
    ],
)
def test_it_stores_determination_aliases_in_the_v1_spelling(api, sent, stored):
    response = _post(api, g.alert(classification="falsePositive", determination=sent))

    assert response.status_code == 202
    assert response.json()["rejected"] == []
    assert Alert.objects.get().determination == stored


def test_it_rejects_an_enum_value_graph_does_not_define_and_names_the_accepted_ones(api):
    response = _post(api, g.alert(severity="Critical"))

    assert response.status_code == 202
    [rejection] = response.json()["rejected"]
    assert rejection["index"] == 0
    assert "'Critical' is not one of" in rejection["errors"]["severity"]
    assert "high" in rejection["errors"]["severity"]
    assert not Alert.objects.exists()


# Partial acceptance


def test_it_reports_a_bad_item_by_index_with_field_paths_and_stores_the_good_ones(api):
    good_first, good_last = g.alert(), g.alert()
    bad = g.alert(title="   ", severity="huge", mitreTechniques=["Phishing"])
    response = _post(api, g.page(good_first, bad, good_last))

    assert response.status_code == 202
    body = response.json()
    assert len(body["accepted"]) == 2
    assert body["updated"] == []
    [rejection] = body["rejected"]
    assert rejection["index"] == 1
    assert set(rejection["errors"]) == {"title", "severity", "mitreTechniques"}
    assert all(isinstance(message, str) and message for message in rejection["errors"].values())
    assert set(Alert.objects.values_list("provider_alert_id", flat=True)) == {good_first["id"], good_last["id"]}
    assert set(Alert.objects.values_list("pk", flat=True)) == set(body["accepted"])


def test_it_never_stores_half_an_alert_whose_evidence_is_bad(api):
    bad = g.alert(
        evidence=[
            g.device("ws-hr-007.corp.example", rbacGroupName="HR workstations"),
            g.user("bob@corp.example", verdict="veryBad"),
            {"@odata.type": "", "name": "no type"},
        ]
    )
    response = _post(api, [bad])

    assert response.status_code == 202
    [rejection] = response.json()["rejected"]
    assert rejection == {
        "index": 0,
        "errors": {
            "evidence[1].verdict": rejection["errors"]["evidence[1].verdict"],
            "evidence[2].@odata.type": rejection["errors"]["evidence[2].@odata.type"],
        },
    }
    assert "'veryBad' is not one of" in rejection["errors"]["evidence[1].verdict"]
    assert response.json()["accepted"] == []
    assert _nothing_stored()
    assert not DeviceGroup.objects.filter(name="HR workstations").exists()


@pytest.mark.parametrize("item", ["an alert as a string", 7, None, ["nested", "list"]])
def test_it_rejects_an_item_that_is_not_an_object_by_its_index(api, item):
    good = g.alert()
    response = _post(api, [good, item])

    assert response.status_code == 202
    assert response.json()["rejected"] == [{"index": 1, "errors": {"": "each alert must be a JSON object"}}]
    assert list(Alert.objects.values_list("provider_alert_id", flat=True)) == [good["id"]]


def test_it_rejects_an_alert_without_any_id(api):
    response = _post(api, g.alert(id=None, providerAlertId=None))

    assert response.status_code == 202
    [rejection] = response.json()["rejected"]
    assert "providerAlertId" in rejection["errors"]
    assert not Alert.objects.exists()


# Limits


@pytest.fixture
def small_limits(settings):
    settings.INGEST_MAX_ALERTS = 3
    settings.INGEST_MAX_BODY_BYTES = 2000
    return settings


def _small_alert(**overrides):
    # Small enough that three fit in 2000 bytes.
    return {
        "id": g.alert_id(),
        "title": "Suspicious sign-in",
        "serviceSource": "azureAdIdentityProtection",
        **overrides,
    }


def test_it_answers_413_when_a_request_holds_more_alerts_than_the_limit(api, small_limits):
    body = [_small_alert() for _ in range(4)]
    assert len(json.dumps(body)) < 2000

    response = _post(api, body)

    assert response.status_code == 413
    assert "at most 3" in response.json()["detail"]
    assert _nothing_stored()


def test_it_counts_the_alerts_of_a_graph_page_against_the_limit(api, small_limits):
    response = _post(api, g.page(*(_small_alert() for _ in range(4))))

    assert response.status_code == 413
    assert not Alert.objects.exists()


def test_it_accepts_exactly_the_alert_limit(api, small_limits):
    response = _post(api, [_small_alert() for _ in range(3)])

    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 3


def test_it_answers_413_when_the_body_is_larger_than_the_limit(api, small_limits, django_capture_on_commit_callbacks):
    body = _small_alert(description="A" * 2100)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(api, body)

    assert response.status_code == 413
    assert "2000 bytes" in response.json()["detail"]
    assert _nothing_stored()
    assert callbacks == []


def test_it_accepts_a_body_of_exactly_the_size_limit(api, small_limits):
    body = _small_alert(description="")
    padding = 2000 - len(json.dumps(body).encode())
    body["description"] = "x" * padding
    raw = json.dumps(body).encode()
    assert len(raw) == 2000

    response = _post_raw(api, raw)

    assert response.status_code == 202
    assert len(Alert.objects.get().description) == padding


def test_it_answers_413_to_a_body_one_byte_over_the_size_limit(api, small_limits):
    body = _small_alert(description="")
    body["description"] = "x" * (2001 - len(json.dumps(body).encode()))
    raw = json.dumps(body).encode()
    assert len(raw) == 2001

    response = _post_raw(api, raw)

    assert response.status_code == 413
    assert not Alert.objects.exists()


# Deduplication through the API


def test_it_answers_updated_with_the_same_id_when_an_alert_is_sent_again(api):
    sent = g.alert(status="new")
    first = _post(api, sent).json()
    again = _post(api, {**sent, "status": "InProgress", "lastUpdateDateTime": g.at()}).json()

    assert again == {"accepted": [], "updated": first["accepted"], "rejected": []}
    alert = Alert.objects.get()
    assert (alert.status, alert.repeat_count) == ("inProgress", 1)


def test_it_stores_the_same_alert_sent_twice_in_one_request_once(api):
    sent = g.alert()
    response = _post(api, [sent, {**sent, "severity": "high"}])

    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 1
    alert = Alert.objects.get()
    assert (alert.repeat_count, alert.severity) == (1, "high")


def test_it_stores_the_same_id_from_two_service_sources_as_two_alerts(api):
    shared = g.alert_id()
    response = _post(
        api,
        [
            g.alert(id=shared, serviceSource="microsoftDefenderForEndpoint"),
            g.alert(id=shared, serviceSource="microsoftDefenderForIdentity"),
        ],
    )

    assert len(response.json()["accepted"]) == 2
    assert sorted(Alert.objects.filter(provider_alert_id=shared).values_list("service_source", flat=True)) == [
        "microsoftDefenderForEndpoint",
        "microsoftDefenderForIdentity",
    ]


def test_it_keeps_the_original_alert_json_as_its_payload(api):
    sent = g.alert(evidence=[g.device("ws1.corp.example")], additionalData={"customerTag": "tier-0"})
    _post(api, sent)

    alert = Alert.objects.get()
    assert alert.payload == sent
    assert alert.additional_data == {"customerTag": "tier-0"}
    assert alert.graph_id == sent["id"]


def test_it_stores_graph_fields_on_the_alert(api):
    sent = g.alert(
        title="Email messages containing malicious URL removed after delivery",
        serviceSource="microsoftDefenderForOffice365",
        detectionSource="microsoftDefenderForOffice365",
        category="InitialAccess",
        mitreTechniques=["T1566.001", "t1566.002"],
        threatFamilyName="Qakbot",
        actorDisplayName="Storm-0142",
        createdDateTime="2026-11-20T08:05:54.9906667Z",
        firstActivityDateTime="2026-11-20T07:58:02.0000000Z",
        lastActivityDateTime="2026-11-20T08:04:58.1233333Z",
    )
    _post(api, sent)

    alert = Alert.objects.get()
    assert alert.service_source == "microsoftDefenderForOffice365"
    assert alert.category == "InitialAccess"
    assert alert.mitre_techniques == ["T1566.001", "T1566.002"]
    assert (alert.threat_family_name, alert.actor_display_name) == ("Qakbot", "Storm-0142")
    assert alert.created_at == datetime(2026, 11, 20, 8, 5, 54, 990666, tzinfo=UTC)
    assert alert.first_activity == datetime(2026, 11, 20, 7, 58, 2, tzinfo=UTC)
    assert alert.last_activity == datetime(2026, 11, 20, 8, 4, 58, 123333, tzinfo=UTC)
    assert alert.alert_web_url == sent["alertWebUrl"]
    assert alert.tenant_id == g.TENANT_ID


# Correlation hand-off


def test_it_enqueues_correlation_once_after_commit_for_a_successful_ingest(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(api, [g.alert(evidence=[g.device("ws1.corp.example")]), g.alert()])

    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 2
    assert len(callbacks) == 1
    # Nothing has been correlated yet: the alerts wait in the database for the worker.
    assert list(Alert.objects.values_list("correlated_at", "incident")) == [(None, None), (None, None)]


def test_it_enqueues_nothing_when_every_item_is_rejected(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(api, [{"title": ""}, g.alert(severity="nope")])

    assert response.status_code == 202
    assert [r["index"] for r in response.json()["rejected"]] == [0, 1]
    assert callbacks == []
    assert _nothing_stored()
