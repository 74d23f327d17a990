"""
`ingest_alerts` called directly: canonical entity keys, junk, evidence links, deduplication and updates, device
groups, and the correlation hand-off.
"""

from datetime import UTC, datetime

import pytest

from incidents.models import Alert, DeviceGroup, Entity, Evidence
from incidents.services.ingestion import IngestResult, ingest_alerts
from tests.factories import DeviceGroupFactory
from tests.incidents import graph_samples as g

pytestmark = pytest.mark.django_db
SOURCE = "connector:graph-poller"


def _ingest(*alerts) -> IngestResult:
    return ingest_alerts(list(alerts), source=SOURCE)


def _only(result: IngestResult) -> Alert:
    assert result.rejected == []
    [alert_id] = result.accepted + result.updated
    return Alert.objects.get(pk=alert_id)


def _entity_of(alert: Alert, odata_subtype: str) -> Entity | None:
    return alert.evidence.get(odata_type=g.NS + odata_subtype).entity


# The service itself


def test_it_stores_new_alerts_and_reports_their_ids_as_accepted():
    first, second = g.alert(), g.alert()
    result = _ingest(first, second)

    assert isinstance(result, IngestResult)
    assert result.updated == [] and result.rejected == []
    assert sorted(result.accepted) == sorted(Alert.objects.values_list("pk", flat=True))
    assert set(Alert.objects.values_list("provider_alert_id", flat=True)) == {first["id"], second["id"]}


def test_it_records_the_source_it_was_given_on_each_alert():
    _ingest(g.alert())
    ingest_alerts([g.alert()], source="seed_demo")

    assert sorted(Alert.objects.values_list("ingested_via", flat=True)) == [SOURCE, "seed_demo"]


def test_it_does_nothing_for_an_empty_list(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = _ingest()

    assert (result.accepted, result.updated, result.rejected) == ([], [], [])
    assert callbacks == []
    assert not Alert.objects.exists()


def test_it_enqueues_correlation_once_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = _ingest(g.alert(), g.alert(), {"title": "no id"})

    assert len(result.accepted) == 2
    assert len(callbacks) == 1
    assert Alert.objects.filter(correlated_at__isnull=True, incident__isnull=True).count() == 2


def test_it_enqueues_nothing_when_every_alert_is_rejected(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = _ingest({"title": "no id"}, g.alert(status="closed"))

    assert result.accepted == []
    assert [r["index"] for r in result.rejected] == [0, 1]
    assert callbacks == []


# Devices


def test_it_keys_a_device_by_its_lowercase_fqdn():
    alert = _only(_ingest(g.alert(evidence=[g.device("WS-FIN-042.Corp.Example")])))

    entity = _entity_of(alert, "deviceEvidence")
    assert (entity.kind, entity.key) == ("device", "ws-fin-042.corp.example")
    assert entity.display_name == "ws-fin-042"
    assert entity.os_platform == "Windows11"
    assert entity.risk_score == "high"
    assert entity.attributes["mdeDeviceId"] == g.device_id("WS-FIN-042.Corp.Example")


def test_it_keys_a_device_without_a_dns_name_by_its_mde_device_id():
    mde_id = "73E7E2DE709DFF64EF64B1D0C30E67FAB63279DB"
    alert = _only(_ingest(g.alert(evidence=[g.device(None, mdeDeviceId=mde_id, deviceDnsName="")])))

    assert _entity_of(alert, "deviceEvidence").key == mde_id.lower()


def test_it_makes_one_entity_of_a_device_two_alerts_spell_differently():
    first = _only(_ingest(g.alert(evidence=[g.device("WS-FIN-042.corp.example", osPlatform="Windows10")])))
    second = _only(_ingest(g.alert(evidence=[g.device("ws-fin-042.CORP.EXAMPLE", osPlatform="Windows11")])))

    entity = Entity.objects.get(kind="device")
    assert entity.key == "ws-fin-042.corp.example"
    assert _entity_of(first, "deviceEvidence") == entity == _entity_of(second, "deviceEvidence")
    assert entity.os_platform == "Windows11"
    assert Evidence.objects.filter(entity=entity).count() == 2


def test_it_widens_an_entitys_first_and_last_seen_to_the_activity_of_its_alerts():
    ws = g.device("ws1.corp.example")
    _ingest(
        g.alert(
            evidence=[ws],
            firstActivityDateTime="2026-11-20T08:00:00Z",
            lastActivityDateTime="2026-11-20T09:00:00Z",
        )
    )
    _ingest(
        g.alert(
            evidence=[ws],
            firstActivityDateTime="2026-11-19T22:00:00Z",
            lastActivityDateTime="2026-11-20T08:30:00Z",
        )
    )

    entity = Entity.objects.get(kind="device")
    assert entity.first_seen == datetime(2026, 11, 19, 22, tzinfo=UTC)
    assert entity.last_seen == datetime(2026, 11, 20, 9, tzinfo=UTC)


def test_it_updates_a_known_entity_only_with_what_is_new_and_keeps_last_seen_to_the_minute():
    def seen(at: str, risk: str) -> dict:
        return g.alert(
            evidence=[g.device("ws1.corp.example", riskScore=risk)], firstActivityDateTime=at, lastActivityDateTime=at
        )

    _ingest(seen("2026-11-20T09:00:00Z", "low"))
    entity = Entity.objects.get(kind="device")

    # Thirty seconds later, nothing else new: the row is left as it is.
    _ingest(seen("2026-11-20T09:00:30Z", "low"))
    entity.refresh_from_db()
    assert entity.last_seen == datetime(2026, 11, 20, 9, tzinfo=UTC)

    # Two minutes later with a new risk score: both change, and the alert still links to the same entity.
    (alert,) = _ingest(seen("2026-11-20T09:02:00Z", "high")).accepted
    entity.refresh_from_db()
    assert entity.risk_score == "high"
    assert entity.last_seen == datetime(2026, 11, 20, 9, 2, tzinfo=UTC)
    assert Evidence.objects.get(alert_id=alert).entity_id == entity.pk
    assert Entity.objects.filter(kind="device").count() == 1


# Users, mailboxes, files


def test_it_keys_a_user_by_the_lowercase_upn():
    alert = _only(_ingest(g.alert(evidence=[g.user("Alice.Smith@Corp.Example")])))

    entity = _entity_of(alert, "userEvidence")
    assert (entity.kind, entity.key) == ("user", "alice.smith@corp.example")
    assert entity.display_name == "Alice Smith"


@pytest.mark.parametrize("upn", [None, "", "N/A", "unknown"])
def test_it_keys_a_user_without_a_real_upn_by_the_sid(upn):
    sid = "S-1-5-21-1004336348-1177238915-682003330-512"
    alert = _only(_ingest(g.alert(evidence=[g.user(upn, userSid=sid)])))

    assert _entity_of(alert, "userEvidence").key == sid.lower()


def test_it_keys_a_mailbox_by_its_lowercase_primary_address():
    alert = _only(_ingest(g.alert(evidence=[g.mailbox("Bob.Jones@Corp.Example")])))

    entity = _entity_of(alert, "mailboxEvidence")
    assert (entity.kind, entity.key) == ("mailbox", "bob.jones@corp.example")


def test_it_keys_a_file_by_its_lowercase_sha256():
    sha256 = g.sha256_of("payload.dll").upper()
    alert = _only(_ingest(g.alert(evidence=[g.file(sha256=sha256, name="payload.dll", md5="A" * 32)])))

    entity = _entity_of(alert, "fileEvidence")
    assert (entity.kind, entity.key, entity.display_name) == ("file", sha256.lower(), "payload.dll")


def test_it_keys_a_file_without_sha256_by_its_sha1():
    sha1 = g.sha1_of("payload.dll").upper()
    alert = _only(_ingest(g.alert(evidence=[g.file(sha256=None, name="payload.dll", sha1=sha1, md5="b" * 32)])))

    assert _entity_of(alert, "fileEvidence").key == sha1.lower()


def test_it_keys_a_file_with_only_an_md5_by_it():
    details = {"sha1": "", "md5": "D41D8CD98F00B204E9800998ECF8427E"}
    alert = _only(_ingest(g.alert(evidence=[g.file(sha256=None, name="empty.txt", **details)])))

    assert _entity_of(alert, "fileEvidence").key == "d41d8cd98f00b204e9800998ecf8427e"


def test_it_ignores_a_hash_of_the_wrong_length():
    sha1 = g.sha1_of("payload.dll")
    alert = _only(_ingest(g.alert(evidence=[g.file(sha256="abc123", name="payload.dll", sha1=sha1)])))

    assert _entity_of(alert, "fileEvidence").key == sha1


# IPs, URLs, cloud apps, registry, mail


@pytest.mark.parametrize(
    ("sent", "key"),
    [
        ("198.51.100.24", "198.51.100.24"),
        (" 198.51.100.24 ", "198.51.100.24"),
        ("::ffff:198.51.100.24", "198.51.100.24"),
        ("::FFFF:C633:6418", "198.51.100.24"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ],
)
def test_it_normalises_ip_addresses(sent, key):
    alert = _only(_ingest(g.alert(evidence=[g.ip(sent)])))

    assert _entity_of(alert, "ipEvidence").key == key


def test_it_makes_one_entity_of_an_ipv4_address_and_its_ipv4_mapped_ipv6_form():
    _ingest(g.alert(evidence=[g.ip("203.0.113.9")]))
    _ingest(g.alert(evidence=[g.ip("::ffff:203.0.113.9")]))

    assert list(Entity.objects.values_list("kind", "key")) == [("ip", "203.0.113.9")]


@pytest.mark.parametrize(
    ("sent", "key"),
    [
        (
            "HTTPS://Login.Contoso-Payments.Example/Verify?Session=AbC",
            "https://login.contoso-payments.example/Verify?Session=AbC",
        ),
        ("https://EVIL.example:443/a", "https://evil.example/a"),
        ("http://evil.example:8080/a", "http://evil.example:8080/a"),
        ("evil.example", "http://evil.example/"),
    ],
)
def test_it_lowercases_the_url_host_and_keeps_the_path(sent, key):
    alert = _only(_ingest(g.alert(evidence=[g.url(sent)])))

    assert _entity_of(alert, "urlEvidence").key == key


def test_it_keeps_brackets_around_an_ipv6_url_host():
    alert = _only(_ingest(g.alert(evidence=[g.url("http://[2001:DB8::1]:8080/beacon")])))

    assert _entity_of(alert, "urlEvidence").key == "http://[2001:db8::1]:8080/beacon"


def test_it_keys_a_cloud_application_by_its_app_id():
    alert = _only(_ingest(g.alert(evidence=[g.cloud_app(20893, "Microsoft Exchange Online")])))

    entity = _entity_of(alert, "cloudApplicationEvidence")
    assert (entity.kind, entity.key, entity.display_name) == ("cloudApplication", "20893", "Microsoft Exchange Online")


def test_it_keys_registry_keys_and_values_by_their_lowercase_paths():
    alert = _only(
        _ingest(
            g.alert(
                evidence=[
                    g.registry_key("Software\\Classes\\ms-settings\\Shell\\Open\\command", "HKEY_CURRENT_USER"),
                    g.registry_value("DelegateExecute", "", key="Software\\Classes\\ms-settings\\Shell\\Open\\command"),
                ]
            )
        )
    )

    key = _entity_of(alert, "registryKeyEvidence")
    value = _entity_of(alert, "registryValueEvidence")
    assert key.key == "hkey_current_user\\software\\classes\\ms-settings\\shell\\open\\command"
    assert key.display_name == "HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\Shell\\Open\\command"
    assert value.key == "hkey_local_machine\\software\\classes\\ms-settings\\shell\\open\\command\\delegateexecute"


def test_it_keys_an_analyzed_message_by_its_network_message_id_and_a_cluster_by_its_urn():
    message = g.analyzed_message("0B6E3C1A-52F0-4D39-8C1B-08DCF1A2B3C4")
    cluster = g.mail_cluster(urn="urn:MailClusterEntity:7B2E0F")
    alert = _only(_ingest(g.alert(serviceSource="microsoftDefenderForOffice365", evidence=[message, cluster])))

    message_entity = _entity_of(alert, "analyzedMessageEvidence")
    assert message_entity.key == "0b6e3c1a-52f0-4d39-8c1b-08dcf1a2b3c4"
    assert message_entity.display_name == message["subject"]
    assert _entity_of(alert, "mailClusterEvidence").key == "urn:mailclusterentity:7b2e0f"


# Junk

JUNK = ["", "   ", "-", "N/A", "null", "NULL", "unknown", "None"]


@pytest.mark.parametrize("value", JUNK)
def test_it_never_makes_an_entity_of_a_junk_value(value):
    evidence = [
        g.device(value, deviceDnsName=value, mdeDeviceId=value, azureAdDeviceId=value),
        g.user(value, userSid=value, azureAdUserId=value, accountName=value),
        g.mailbox(value, upn=value),
        g.file(sha256=value, name=value, sha1=value, filePath=value),
        g.ip(value),
        g.url(value),
        g.cloud_app(value, value),
        g.registry_key(value),
        g.analyzed_message(subject="x", networkMessageId=value, internetMessageId=value),
        g.mail_cluster(value, value, urn=value),
    ]
    alert = _only(_ingest(g.alert(evidence=evidence)))

    assert not Entity.objects.exists()
    assert alert.evidence.count() == len(evidence)
    assert not alert.evidence.filter(entity__isnull=False).exists()
    assert {row.payload["@odata.type"] for row in alert.evidence.all()} == {item["@odata.type"] for item in evidence}


@pytest.mark.parametrize(
    "address",
    ["0.0.0.0", "::", "127.0.0.1", "127.10.20.30", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:0.0.0.0"],  # noqa: S104
)
def test_it_never_makes_an_entity_of_an_unspecified_or_loopback_ip(address):
    alert = _only(_ingest(g.alert(evidence=[g.ip(address)])))

    assert not Entity.objects.exists()
    assert alert.evidence.get().entity is None
    assert alert.evidence.get().payload["ipAddress"] == address


@pytest.mark.parametrize("zero_id", ["00000000-0000-0000-0000-000000000000", "0" * 40])
def test_it_never_makes_a_device_of_an_all_zero_device_id(zero_id):
    alert = _only(_ingest(g.alert(evidence=[g.device(None, mdeDeviceId=zero_id, azureAdDeviceId=zero_id)])))

    assert not Entity.objects.exists()
    assert alert.evidence.get().entity is None


def test_it_falls_back_from_a_junk_device_name_to_the_device_id():
    mde_id = g.device_id("db-07")
    alert = _only(_ingest(g.alert(evidence=[g.device("N/A", mdeDeviceId=mde_id)])))

    assert _entity_of(alert, "deviceEvidence").key == mde_id


# Evidence links


def test_it_links_process_evidence_to_its_device_image_file_and_parent_process():
    ws = g.device("WS-FIN-042.corp.example")
    parent = g.process(
        5872,
        ws["mdeDeviceId"],
        g.EXPLORER_SHA256,
        image_name="explorer.exe",
        created="2026-11-20T07:58:02.1100000Z",
        parent_pid=4,
    )
    child = g.process(4242, ws["mdeDeviceId"], g.POWERSHELL_SHA256, parent_pid=5872)
    alert = _only(_ingest(g.alert(evidence=[parent, child, ws])))

    device = Entity.objects.get(kind="device")
    rows = {row.payload["processId"]: row for row in alert.evidence.filter(odata_type=g.NS + "processEvidence")}
    assert rows[4242].device == device
    assert rows[4242].image_file == Entity.objects.get(kind="file", key=g.POWERSHELL_SHA256)
    assert rows[4242].parent_process == rows[5872].entity
    assert rows[4242].entity.kind == "process"
    assert rows[4242].entity.attributes["commandLine"] == child["processCommandLine"]
    assert rows[5872].device == device
    assert rows[5872].image_file.key == g.EXPLORER_SHA256


def test_it_reads_an_image_file_wrapped_in_file_details_as_the_same_file():
    ws = g.device("WS-FIN-042.corp.example")
    wrapped = g.process(4242, ws["mdeDeviceId"], g.POWERSHELL_SHA256, parentProcessImageFile=None)
    wrapped["imageFile"] = {"fileDetails": wrapped["imageFile"]}
    graph_shaped = g.process(4343, ws["mdeDeviceId"], g.POWERSHELL_SHA256, parentProcessImageFile=None)

    alert = _only(_ingest(g.alert(evidence=[wrapped, graph_shaped, ws])))

    rows = {row.payload["processId"]: row for row in alert.evidence.filter(odata_type=g.NS + "processEvidence")}
    powershell = Entity.objects.get(kind="file", key=g.POWERSHELL_SHA256)
    assert rows[4242].image_file == rows[4343].image_file == powershell


@pytest.mark.parametrize("one_request", [False, True])
def test_it_keeps_a_process_name_when_another_alert_knows_the_process_only_by_its_id(one_request):
    ws = g.device("WS-FIN-042.corp.example")
    started = "2026-11-20T07:58:02.1100000Z"
    named = g.process(5872, ws["mdeDeviceId"], g.EXPLORER_SHA256, image_name="explorer.exe", created=started)
    # The child names its parent by id and start time only: no parentProcessImageFile.
    child = g.process(4242, ws["mdeDeviceId"], parent_pid=5872, parent_created=started, parentProcessImageFile=None)
    if one_request:
        _ingest(g.alert(evidence=[ws, named]), g.alert(evidence=[ws, child]))
    else:
        _ingest(g.alert(evidence=[ws, named]))
        _ingest(g.alert(evidence=[ws, child]))

    parent = Entity.objects.get(kind="process", key__contains=":5872:")
    assert parent.display_name == "explorer.exe (5872)"
    assert Entity.objects.filter(kind="process").count() == 2


def test_it_links_each_process_to_the_device_with_its_mde_device_id():
    finance, hr = g.device("ws-fin-042.corp.example"), g.device("ws-hr-007.corp.example")
    on_hr = g.process(1312, hr["mdeDeviceId"].upper())
    alert = _only(_ingest(g.alert(evidence=[finance, on_hr, hr])))

    assert alert.evidence.get(odata_type=g.NS + "processEvidence").device.key == "ws-hr-007.corp.example"


def test_it_leaves_the_device_link_empty_when_no_device_evidence_has_that_id():
    ws = g.device("ws1.corp.example")
    elsewhere = g.process(1312, g.device_id("ws2.corp.example"))
    alert = _only(_ingest(g.alert(evidence=[ws, elsewhere])))

    row = alert.evidence.get(odata_type=g.NS + "processEvidence")
    assert row.device is None
    assert row.entity is not None
    assert row.image_file.key == g.POWERSHELL_SHA256


def test_it_links_registry_value_evidence_to_its_device():
    ws = g.device("ws1.corp.example")
    alert = _only(_ingest(g.alert(evidence=[g.registry_value(device_id=ws["mdeDeviceId"]), ws])))

    assert alert.evidence.get(odata_type=g.NS + "registryValueEvidence").device.key == "ws1.corp.example"


def test_it_merges_two_evidence_items_naming_the_same_entity_into_one_row_with_both_roles():
    alert = _only(
        _ingest(
            g.alert(
                evidence=[
                    g.user("alice@corp.example", roles=["compromised"]),
                    g.user("ALICE@corp.example", roles=["attacker"], detailedRoles=["Logged on user"]),
                ]
            )
        )
    )

    row = alert.evidence.get()
    assert sorted(row.roles) == ["attacker", "compromised"]
    assert row.detailed_roles == ["Logged on user"]


# Deduplication and updates


def test_it_uses_the_graph_id_as_the_dedup_key_when_there_is_no_provider_alert_id():
    body = g.alert(providerAlertId=None)
    alert = _only(_ingest(body))

    assert (alert.provider_alert_id, alert.graph_id) == (body["id"], body["id"])
    again = _ingest({**body, "status": "resolved"})
    assert again.updated == [alert.pk]
    assert Alert.objects.count() == 1


def test_it_keeps_the_graph_id_beside_a_different_provider_alert_id():
    body = g.alert(
        id="fa4b1c9e3d-52f0-4d39-8c1b-d3c5c8f9a6a1",
        providerAlertId="4c9a1e2b-7f0d-4e31-9a6b-2d8e0c1f3b57",
        serviceSource="microsoftDefenderForOffice365",
    )
    alert = _only(_ingest(body))

    assert alert.graph_id == "fa4b1c9e3d-52f0-4d39-8c1b-d3c5c8f9a6a1"
    assert alert.provider_alert_id == "4c9a1e2b-7f0d-4e31-9a6b-2d8e0c1f3b57"


def test_it_updates_a_resent_alert_and_counts_the_repeat_instead_of_duplicating_it():
    body = g.alert(
        status="new",
        severity="medium",
        firstActivityDateTime="2026-11-20T08:00:00Z",
        lastActivityDateTime="2026-11-20T08:10:00Z",
        evidence=[g.device("ws1.corp.example")],
    )
    first = _only(_ingest(body))
    result = _ingest(
        {
            **body,
            "status": "InProgress",
            "severity": "high",
            "assignedTo": "secops@corp.example",
            "lastActivityDateTime": "2026-11-20T09:45:00Z",
            "evidence": [g.device("ws1.corp.example"), g.user("alice@corp.example")],
        }
    )

    assert (result.accepted, result.updated) == ([], [first.pk])
    alert = Alert.objects.get()
    assert alert.pk == first.pk
    assert (alert.status, alert.severity, alert.assigned_to) == ("inProgress", "high", "secops@corp.example")
    assert alert.last_activity == datetime(2026, 11, 20, 9, 45, tzinfo=UTC)
    assert alert.first_activity == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert alert.repeat_count == 1
    assert sorted(alert.evidence.values_list("entity__kind", flat=True)) == ["device", "user"]


def test_it_counts_every_repeat():
    body = g.alert()
    for _ in range(4):
        _ingest(body)

    assert Alert.objects.get().repeat_count == 3


def test_it_keeps_evidence_a_resend_no_longer_lists():
    ws, alice = g.device("ws1.corp.example"), g.user("alice@corp.example")
    body = g.alert(evidence=[ws, alice])
    _ingest(body)
    _ingest({**body, "evidence": [g.ip("198.51.100.24")]})

    alert = Alert.objects.get()
    assert sorted(alert.evidence.values_list("entity__kind", flat=True)) == ["device", "ip", "user"]


def test_it_does_not_duplicate_evidence_without_an_entity_on_a_resend():
    body = g.alert(evidence=[g.kubernetes_pod(), g.device("aks-node-3.corp.example")])
    _ingest(body)
    _ingest(body)

    alert = Alert.objects.get()
    assert alert.evidence.count() == 2
    assert alert.evidence.filter(entity__isnull=True).get().payload["name"] == "payments-api-7f9c6d5b8-x2k4q"


def test_it_does_not_move_last_activity_back_on_a_resend():
    body = g.alert(firstActivityDateTime="2026-11-20T08:00:00Z", lastActivityDateTime="2026-11-20T10:00:00Z")
    _ingest(body)
    _ingest({**body, "lastActivityDateTime": "2026-11-20T09:00:00Z"})

    assert Alert.objects.get().last_activity == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_it_does_not_overwrite_a_classification_with_unknown():
    body = g.alert(classification="truePositive", determination="malware")
    _ingest(body)
    _ingest({**body, "classification": "unknown", "determination": "unknown", "status": "inProgress"})
    _ingest({k: v for k, v in body.items() if k not in ("classification", "determination")})

    alert = Alert.objects.get()
    assert (alert.classification, alert.determination) == ("truePositive", "malware")
    assert alert.repeat_count == 2


def test_it_replaces_a_classification_with_a_real_new_one():
    body = g.alert(classification="truePositive", determination="malware")
    _ingest(body)
    _ingest({**body, "classification": "FalsePositive", "determination": "notMalicious"})

    alert = Alert.objects.get()
    assert (alert.classification, alert.determination) == ("falsePositive", "clean")


def test_it_sets_and_clears_the_resolved_time_with_the_status():
    body = g.alert(status="new", lastUpdateDateTime="2026-11-20T08:00:00Z")
    _ingest(body)
    _ingest({**body, "status": "Resolved", "resolvedDateTime": "2026-11-20T11:00:00Z"})
    assert Alert.objects.get().resolved_at == datetime(2026, 11, 20, 11, tzinfo=UTC)

    _ingest({**body, "status": "inProgress"})
    alert = Alert.objects.get()
    assert (alert.status, alert.resolved_at) == ("inProgress", None)


def test_it_stores_the_same_alert_twice_in_one_call_as_one_alert_with_one_repeat():
    body = g.alert(status="new")
    result = _ingest(body, {**body, "status": "inProgress"})

    assert len(result.accepted) == 1 and result.updated == []
    alert = Alert.objects.get()
    assert (alert.repeat_count, alert.status) == (1, "inProgress")


def test_it_counts_both_copies_when_an_existing_alert_comes_twice_in_one_call():
    body = g.alert()
    _ingest(body)
    result = _ingest(body, body)

    assert len(result.updated) == 1
    assert Alert.objects.get().repeat_count == 2


def test_it_stores_the_same_id_from_two_service_sources_as_two_alerts():
    shared = g.alert_id()
    result = _ingest(
        g.alert(id=shared, serviceSource="microsoftDefenderForEndpoint"),
        g.alert(id=shared, serviceSource="MicrosoftDefenderForCloudApps"),
    )
    _ingest(g.alert(id=shared, serviceSource="microsoftDefenderForEndpoint", status="resolved"))

    assert len(result.accepted) == 2
    alerts = dict(Alert.objects.values_list("service_source", "status"))
    assert alerts == {"microsoftDefenderForEndpoint": "resolved", "microsoftDefenderForCloudApps": "new"}
    assert Alert.objects.get(service_source="microsoftDefenderForEndpoint").repeat_count == 1


def test_a_rejected_resend_leaves_the_stored_alert_untouched():
    body = g.alert(status="new", evidence=[g.device("ws1.corp.example")])
    alert = _only(_ingest(body))
    result = _ingest({**body, "status": "inProgress", "evidence": [g.user("bob@corp.example", verdict="evil")]})

    assert result.accepted == result.updated == []
    assert result.rejected == [
        {"index": 0, "errors": {"evidence[0].verdict": result.rejected[0]["errors"]["evidence[0].verdict"]}}
    ]
    alert.refresh_from_db()
    assert (alert.status, alert.repeat_count) == ("new", 0)
    assert not Entity.objects.filter(kind="user").exists()


def test_it_rejects_a_bad_item_without_holding_back_the_good_ones():
    good = g.alert(evidence=[g.device("ws1.corp.example")])
    bad = g.alert(evidence=[g.device("ws2.corp.example"), g.ip("198.51.100.7", roles="source")])
    result = _ingest(bad, good)

    assert [r["index"] for r in result.rejected] == [0]
    assert result.rejected[0]["errors"] == {"evidence[1].roles": "must be a list of strings"}
    assert list(Alert.objects.values_list("provider_alert_id", flat=True)) == [good["id"]]
    assert list(Entity.objects.values_list("key", flat=True)) == ["ws1.corp.example"]


def test_it_reads_a_date_time_without_an_offset_as_utc():
    alert = _only(_ingest(g.alert(createdDateTime="2026-11-20T08:05:54", lastActivityDateTime="2026-11-20T08:04")))

    assert alert.created_at == datetime(2026, 11, 20, 8, 5, 54, tzinfo=UTC)


def test_it_rejects_an_alert_nested_too_deeply_to_store_and_keeps_the_others():
    deep: dict = {"leaf": True}
    for _ in range(950):
        deep = {"a": deep}
    good = g.alert()
    result = _ingest(g.alert(additionalData=deep), good)

    assert [r["index"] for r in result.rejected] == [0]
    assert list(Alert.objects.values_list("provider_alert_id", flat=True)) == [good["id"]]


# Device groups


def test_it_puts_a_device_in_the_device_group_named_by_rbac_group_name_creating_it():
    alert = _only(
        _ingest(g.alert(evidence=[g.device("ws-fin-042.corp.example", rbacGroupName="Finance workstations")]))
    )

    group = DeviceGroup.objects.get(name="Finance workstations")
    assert Entity.objects.get(kind="device").device_group == group
    assert alert.device_group_ids == [group.pk]


def test_it_reuses_an_existing_device_group_of_that_name():
    existing = DeviceGroupFactory(name="Tier 0 servers", rank=1)
    alert = _only(_ingest(g.alert(evidence=[g.device("dc01.corp.example", rbacGroupName="Tier 0 servers")])))

    assert DeviceGroup.objects.filter(name="Tier 0 servers").count() == 1
    assert alert.device_group_ids == [existing.pk]
    assert Entity.objects.get(kind="device").device_group == existing


def test_it_collects_the_groups_of_every_device_of_an_alert():
    alert = _only(
        _ingest(
            g.alert(
                evidence=[
                    g.device("ws-fin-042.corp.example", rbacGroupName="Finance workstations"),
                    g.device("dc01.corp.example", rbacGroupName="Tier 0 servers"),
                    g.device("kiosk-3.corp.example"),
                ]
            )
        )
    )

    groups = DeviceGroup.objects.filter(name__in=["Finance workstations", "Tier 0 servers"])
    assert alert.device_group_ids == sorted(groups.values_list("pk", flat=True))


def test_an_alert_without_a_grouped_device_has_no_device_groups():
    alert = _only(_ingest(g.alert(evidence=[g.device("kiosk-3.corp.example"), g.user("alice@corp.example")])))

    assert alert.device_group_ids == []
    assert not DeviceGroup.objects.exists()


def test_a_device_keeps_its_group_when_a_later_alert_does_not_name_one():
    _ingest(g.alert(evidence=[g.device("ws-fin-042.corp.example", rbacGroupName="Finance workstations")]))
    later = _only(_ingest(g.alert(evidence=[g.device("WS-FIN-042.corp.example", rbacGroupName=None)])))

    group = DeviceGroup.objects.get(name="Finance workstations")
    assert Entity.objects.get(kind="device").device_group == group
    assert later.device_group_ids == [group.pk]


def test_a_resent_alert_keeps_its_device_groups():
    body = g.alert(evidence=[g.device("ws-fin-042.corp.example", rbacGroupName="Finance workstations")])
    _ingest(body)
    _ingest({**body, "evidence": [g.user("alice@corp.example")]})

    assert Alert.objects.get().device_group_ids == [DeviceGroup.objects.get(name="Finance workstations").pk]


def test_a_device_keeps_the_group_it_was_moved_to_when_the_source_names_another():
    _ingest(g.alert(evidence=[g.device("ws-fin-042.corp.example", rbacGroupName="Finance workstations")]))
    chosen = DeviceGroupFactory(name="Executives")
    Entity.objects.filter(kind="device").update(device_group=chosen)  # an admin moved it in Permissions & roles

    later = _only(
        _ingest(g.alert(evidence=[g.device("ws-fin-042.corp.example", rbacGroupName="Finance workstations")]))
    )

    assert Entity.objects.get(kind="device").device_group == chosen
    assert later.device_group_ids == [chosen.pk]


def test_a_new_device_without_a_named_group_joins_the_first_group_whose_pattern_matches_by_rank():
    DeviceGroupFactory(name="All workstations", device_name_pattern="ws-*", rank=5)
    london = DeviceGroupFactory(name="London", device_name_pattern="WS-LON-*", rank=1)
    named = DeviceGroupFactory(name="Finance workstations")

    alert = _only(
        _ingest(
            g.alert(
                evidence=[
                    g.device("ws-lon-007.corp.example"),
                    g.device("ws-lon-008.corp.example", rbacGroupName="Finance workstations"),
                    g.device("kiosk-3.corp.example"),
                ]
            )
        )
    )

    devices = dict(Entity.objects.filter(kind="device").values_list("key", "device_group_id"))
    assert devices == {
        "ws-lon-007.corp.example": london.pk,
        "ws-lon-008.corp.example": named.pk,  # the source's group comes first
        "kiosk-3.corp.example": None,
    }
    assert alert.device_group_ids == sorted([london.pk, named.pk])
