"""
POST /api/ingest/alerts fed generated Graph alerts_v2 payloads, each sent next to a known-good alert.

A generated alert is a realistic one (graph_samples) with evidence of several kinds: a device, a process on it with
its image and parent image files, and up to two of file, user, ip, url, mailbox, registry, cloud application,
message, mail cluster, an unknown type. Then, half the time, every name and id in one of its evidence objects is
made too long at once, and one to three values at any depth (two in three among the fields that make entities) are
replaced by extreme ones: text very long, empty, with NUL or other control characters, unicode beyond the BMP,
dates out of range or with offsets PostgreSQL refuses; numbers huge, negative or fractional; lists where objects
are expected, objects where text is. Changing a few values of a good alert, rather than generating every field at
random, keeps most alerts valid enough to reach the database, which is where long values used to fail.

Whatever the payload, the answer is 202 (the body is valid JSON within the limits, so refusing the whole request
would be wrong too), every id it names is stored, and the good alert is stored with all its evidence.
Generation is derandomized and bounded, so a run is repeatable and takes seconds.
"""

import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from incidents.models import Alert, Evidence
from tests.api_clients import bearer_for
from tests.incidents import graph_samples as g

pytestmark = pytest.mark.django_db
URL = "/api/ingest/alerts"
DEVICE_NAME = "ws-fin-042.corp.example"
DEVICE_ID = g.device_id(DEVICE_NAME)

# Evidence of each kind, on the one device where it can be (so process and registry evidence link to it by id).
EVIDENCE_KINDS = {
    "device": lambda: g.device(DEVICE_NAME),
    "process": lambda: g.process(4242, DEVICE_ID),
    "file": lambda: g.file(mdeDeviceId=DEVICE_ID),
    "file without hashes": lambda: g.file(sha256=None, sha1=None),
    "user": lambda: g.user("alice@corp.example"),
    "ip": lambda: g.ip("198.51.100.24"),
    "url": lambda: g.url("https://contoso-payments.example/invoice/0412"),
    "mailbox": lambda: g.mailbox("alice@corp.example"),
    "registry key": lambda: g.registry_key(),
    "registry value": lambda: g.registry_value(device_id=DEVICE_ID),
    "cloud application": lambda: g.cloud_app(11161, "Office 365"),
    "analyzed message": lambda: g.analyzed_message(),
    "mail cluster": lambda: g.mail_cluster(urn=None),
    "unknown type": lambda: g.kubernetes_pod(),
}

# The evidence fields that become entity keys, names, platforms, groups and links: two in three replacements are
# made in these, the others anywhere in the alert.
ENTITY_FIELDS = frozenset(
    {
        *("deviceDnsName", "mdeDeviceId", "azureAdDeviceId", "osPlatform", "riskScore", "rbacGroupName"),
        *("processId", "parentProcessId", "processCreationDateTime", "parentProcessCreationDateTime"),
        *("imageFile", "parentProcessImageFile", "fileDetails", "fileName", "filePath", "fileSize"),
        *("sha256", "sha1", "md5", "userAccount", "userPrincipalName", "userSid", "azureAdUserId", "accountName"),
        *("domainName", "displayName", "ipAddress", "url", "primaryAddress", "upn", "registryHive", "registryKey"),
        *("registryValueName", "appId", "networkMessageId", "internetMessageId", "subject", "clusterBy"),
        *("clusterByValue", "urn"),
    }
)

# Text as JSON can carry it: any code point but lone surrogates, which no JSON text encodes.
characters = st.characters(exclude_categories=("Cs",))
long_text = st.builds(
    lambda start, character, length: start + character * length,
    st.sampled_from(["", "C:\\Windows\\", "https://phish.example/?q=", "ws-", "S-1-5-21-", "2026-11-20T08:00:00"]),
    characters,
    # Around the columns' limits (64, 100, 256, 512), mostly beyond the longest.
    st.sampled_from([65, 101, 257, 513, 600, 1000, 3000]),
)
special_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\x01\x07\x1b\x7f",
        "\t\n\r",
        "unknown",
        "0",
        "null",
        " High ",
        "İ" * 300,  # lowercases to two code points each
        "😀" * 600,
        "\u202e\u200b\ufeff",
        "10000-01-01T00:00:00Z",
        "2026-11-20T08:00:00+20:00",
        "2026-11-20T08:00:00+23:59:59.999999",
        "2026-11-20T08:00:00+99:00",
        "0001-01-01T00:00:00+23:59",
        "2026-11-20T08:03:41.123456789012Z",
        "2026-02-30T00:00:00Z",
        "::ffff:0.0.0.0",
        "http://[::1",
        "HTTPS://Evil.Example:99999/",
    ]
)
extreme_text = st.one_of(long_text, long_text, long_text, long_text, special_text, st.text(characters, max_size=30))
extreme_number = st.one_of(
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**300, 1.5, -0.0, 1e308, 4242.0]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
odd = st.recursive(
    st.one_of(st.none(), extreme_text, extreme_number),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
nested_too_deep = st.integers(min_value=30, max_value=40).map(lambda depth: json.loads("[" * depth + "]" * depth))


def _places(value, path=()):
    """Every place in a JSON document below its root, as a path of keys and indexes."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*path, key)
        yield from _places(child, (*path, key))


def _at(document, path):
    for key in path:
        document = document[key]
    return document


def _replacement_for(current, draw):
    """An extreme value of the current value's kind, mostly; sometimes any shape at all, rarely one too deep."""
    if isinstance(current, str):
        alike = extreme_text
    elif isinstance(current, int | float) and not isinstance(current, bool):
        alike = extreme_number
    else:
        alike = odd
    roll = draw(st.integers(min_value=0, max_value=19))
    return draw(nested_too_deep if roll == 0 else odd if roll < 4 else alike)


def _lengthen(value, tail: str) -> None:
    """Every entity field's text in `value`, at any depth, made longer by `tail`."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in list(children):
        if isinstance(child, str) and key in ENTITY_FIELDS:
            value[key] = child + tail
        else:
            _lengthen(child, tail)


@st.composite
def generated_alerts(draw) -> dict:
    others = sorted(kind for kind in EVIDENCE_KINDS if kind not in ("device", "process"))
    kinds = ["device", "process", *draw(st.lists(st.sampled_from(others), max_size=2, unique=True))]
    # The device first, as Defender sends it: the process and the others on that device link to it by its id.
    alert = g.alert(id="generated", evidence=[EVIDENCE_KINDS[kind]() for kind in kinds])
    if draw(st.booleans()):
        # One evidence object (or a file or account inside one) with all its names and ids too long at once.
        objects = [place for place in _places(alert) if place[0] == "evidence" and len(place) > 1]
        objects = [place for place in objects if isinstance(_at(alert, place), dict)]
        path = draw(st.sampled_from(objects))
        _lengthen(_at(alert, path), draw(characters) * draw(st.sampled_from([65, 101, 257, 513, 1000])))
        event(f"lengthened {'.'.join(str(key) for key in path if not isinstance(key, int)) or 'an evidence item'}")
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        places = list(_places(alert))
        entity_places = [place for place in places if place[0] == "evidence" and place[-1] in ENTITY_FIELDS]
        path = draw(st.sampled_from(entity_places if entity_places and draw(st.integers(0, 2)) else places))
        *parents, last = path
        container = _at(alert, parents)
        container[last] = _replacement_for(container[last], draw)
        event(f"replaced {'.'.join(str(key) for key in path if not isinstance(key, int))}")
    return alert


@pytest.fixture
def api(admin_user) -> APIClient:
    return bearer_for(admin_user)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    # One client for every example: the examples share the test's transaction, and the token stays valid in it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(generated=generated_alerts())
def test_any_generated_alert_is_stored_or_rejected_by_index_and_never_costs_the_good_one(api, generated):
    # A fresh id in every example (the examples share one database), unless the id is what was replaced.
    fresh_id = g.alert_id()
    tested = {**generated, **{name: fresh_id for name in ("id", "providerAlertId") if generated[name] == "generated"}}
    good = g.alert(evidence=g.every_core_evidence())

    response = api.post(URL, data=json.dumps([tested, good], allow_nan=False), content_type="application/json")

    assert response.status_code == 202, response.content[:500]
    answer = response.json()
    ids = answer["accepted"] + answer["updated"]
    assert Alert.objects.filter(pk__in=ids).count() == len(ids) == 2 - len(answer["rejected"])
    good_alert = Alert.objects.get(provider_alert_id=good["id"])
    assert good_alert.pk in ids
    assert good_alert.evidence.count() == len(good["evidence"])
    for rejection in answer["rejected"]:
        assert rejection["index"] == 0
        assert rejection["errors"]
        assert all(isinstance(message, str) and message for message in rejection["errors"].values())
    event("rejected" if answer["rejected"] else "stored")
    new_ids = [alert_id for alert_id in answer["accepted"] if alert_id != good_alert.pk]
    if new_ids:
        # Nothing half-stored: a new alert keeps its evidence (one row per entity, so perhaps fewer rows). A replaced
        # id can repeat an earlier example's: that alert is updated, and keeps the evidence it had.
        sent = tested.get("evidence") or []
        kept = Evidence.objects.filter(alert_id__in=new_ids).count()
        assert (1 <= kept <= len(sent)) if sent else kept == 0
