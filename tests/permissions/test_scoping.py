"""
Data scope everywhere security data is read or written: a person whose role covers device group A sees and changes
only A's incidents, alerts and entities, in every page, search, list, count and write; everything else answers
404 as if it did not exist. Alerts and incidents without a device are for all-data scope only.
"""

import json

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Alert, Comment, Incident, IncidentEntity
from incidents.selectors import OutOfScope, entities_for, incidents_for
from incidents.services.incidents import alert_update, comment_add, incident_update
from incidents.services.merge import alert_move, incidents_merge
from permissions.grants import grants_sync
from portal.models import ActivityLogEntry
from tests.conftest import assign_role
from tests.factories import (
    DeviceGroupFactory,
    EntityFactory,
    EvidenceFactory,
    IncidentFactory,
    UserFactory,
)
from tests.stories import Story, story

pytestmark = pytest.mark.django_db


@pytest.fixture
def group_a():
    return DeviceGroupFactory(name="Group A")


@pytest.fixture
def group_b():
    return DeviceGroupFactory(name="Group B")


@pytest.fixture
def a(group_a):
    return story("ws-a", group_a, tags=["tag-a"])


@pytest.fixture
def b(group_b):
    return story("ws-b", group_b, tags=["secret-b"])


@pytest.fixture
def no_device():
    """An incident whose alert names no device: no device group at all."""
    return story("nodevice", None)


@pytest.fixture
def reader_a(group_a):
    user = UserFactory(username="reader-a")
    assign_role(user, "Security reader", device_groups=[group_a])
    return user


@pytest.fixture
def operator_a(group_a):
    user = UserFactory(username="operator-a")
    assign_role(user, "Security operator", device_groups=[group_a])
    return user


def signed_in(client, user):
    client.force_login(user)
    return client


def incident_ids(response) -> set[int]:
    return {incident.pk for incident in response.context["page"].object_list}


def alert_ids(response) -> set[int]:
    return {alert.pk for alert in response.context["rows"]}


def fresh(user):
    """The same person as a new request sees them: no scope or permission cached on the object."""
    return type(user).objects.get(pk=user.pk)


# --- Queues, counts and filter choices ------------------------------------------------------------------------


def test_the_incident_queue_lists_and_counts_only_the_incidents_of_the_readers_groups(
    client, reader_a, a, b, no_device
):
    response = signed_in(client, reader_a).get(reverse("incidents:queue"), {"f": "1"})

    assert response.status_code == 200
    assert incident_ids(response) == {a.incident.pk}
    assert response.context["page"].paginator.count == 1
    assert b"Incident on ws-b" not in response.content


def test_the_alert_queue_lists_and_counts_only_the_alerts_of_the_readers_groups(client, reader_a, a, b, no_device):
    response = signed_in(client, reader_a).get(reverse("incidents:alert_queue"), {"f": "1"})

    assert response.status_code == 200
    assert alert_ids(response) == {a.alert.pk}
    assert response.context["page"].paginator.count == 1
    assert b"Alert on ws-b" not in response.content


def test_the_timeline_counts_only_what_the_reader_may_see(client, reader_a, a, b, no_device):
    response = signed_in(client, reader_a).get(reverse("incidents:timeline"))

    timeline = response.context["timeline"]
    assert sum(slot["alerts"] for slot in timeline) == 1
    assert sum(slot["incidents"] for slot in timeline) == 1


def test_the_device_group_filters_offer_only_the_readers_groups(client, reader_a, a, b):
    signed_in(client, reader_a)

    incidents = client.get(reverse("incidents:queue"))
    alerts = client.get(reverse("incidents:alert_queue"))

    assert incidents.context["device_group_choices"] == [(a.group.pk, "Group A")]
    (device_groups,) = [check for check in alerts.context["checks"] if check["name"] == "device_group"]
    assert [option["label"] for option in device_groups["options"]] == ["Group A"]
    assert b"Group B" not in incidents.content
    assert b"Group B" not in alerts.content


def test_filtering_by_a_device_group_out_of_scope_is_an_invalid_value_that_names_nothing(client, reader_a, a, b):
    response = signed_in(client, reader_a).get(reverse("incidents:alert_queue"), {"device_group": str(b.group.pk)})

    assert response.status_code == 200
    assert alert_ids(response) == set()
    assert [error["label"] for error in response.context["filter_errors"]] == ["Device group"]
    assert b"Group B" not in response.content


@pytest.mark.parametrize("url_name", ["incidents:queue", "incidents:alert_queue"])
def test_a_scoped_queue_costs_the_same_queries_for_3_or_30_rows(client, reader_a, group_a, group_b, url_name):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(url_name), {"f": "1"}).status_code == 200
        return len(queries)

    for n in range(3):
        story(f"ws-a{n}", group_a)
        story(f"ws-b{n}", group_b)
    signed_in(client, reader_a).get(reverse(url_name))  # warm the session and content types
    few = count_queries()
    for n in range(3, 30):
        story(f"ws-a{n}", group_a)
        story(f"ws-b{n}", group_b)

    assert count_queries() == few


# --- Pages by id ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "pick"),
    [
        ("incidents:detail", lambda s: s.incident.pk),
        ("incidents:graph", lambda s: s.incident.pk),
        ("incidents:alert_detail", lambda s: s.alert.pk),
        ("incidents:entity", lambda s: s.device.pk),
        ("incidents:entity", lambda s: s.account.pk),
    ],
    ids=["incident", "graph", "alert", "device", "account"],
)
def test_pages_answer_404_by_id_outside_the_scope_and_for_data_without_a_device(
    client, reader_a, reader, a, b, no_device, url_name, pick
):
    signed_in(client, reader_a)
    assert client.get(reverse(url_name, args=[pick(a)])).status_code == 200
    assert client.get(reverse(url_name, args=[pick(b)])).status_code == 404
    assert client.get(reverse(url_name, args=[pick(no_device)])).status_code == 404

    # Over all data, the same reader role sees all three.
    signed_in(client, reader)
    for side in (a, b, no_device):
        assert client.get(reverse(url_name, args=[pick(side)])).status_code == 200


def test_an_incident_without_a_device_is_in_the_all_data_readers_queue_only(client, reader_a, reader, a, no_device):
    assert no_device.incident.pk not in incident_ids(
        signed_in(client, reader_a).get(reverse("incidents:queue"), {"f": "1"})
    )
    assert no_device.incident.pk in incident_ids(signed_in(client, reader).get(reverse("incidents:queue"), {"f": "1"}))
    assert no_device.alert.pk in alert_ids(signed_in(client, reader).get(reverse("incidents:alert_queue"), {"f": "1"}))


def test_a_user_entity_is_visible_through_an_alert_in_scope_and_its_page_lists_only_those(client, reader_a, a, b):
    # Alice appears in an A alert and in a B alert: A's reader sees her, with only A's alert and incident.
    alice = EntityFactory(kind="user", key="alice@corp.example")
    EvidenceFactory(alert=a.alert, entity=alice)
    EvidenceFactory(alert=b.alert, entity=alice)
    IncidentEntity.objects.create(incident=a.incident, entity=alice)
    IncidentEntity.objects.create(incident=b.incident, entity=alice)

    response = signed_in(client, reader_a).get(reverse("incidents:entity", args=[alice.pk]))

    assert response.status_code == 200
    assert [alert.pk for alert in response.context["alerts"]] == [a.alert.pk]
    assert [incident.pk for incident in response.context["incidents"]] == [a.incident.pk]
    assert response.context["incident_count"] == 1
    assert b"Alert on ws-b" not in response.content
    assert set(entities_for(fresh(reader_a)).values_list("pk", flat=True)) == {a.device.pk, a.account.pk, alice.pk}


def test_a_device_in_another_group_is_hidden_even_when_an_alert_in_scope_names_it(client, reader_a, a, b):
    # One alert on two devices (A and B): the alert is A's reader's, the B device is not.
    EvidenceFactory(alert=a.alert, entity=b.device)
    IncidentEntity.objects.create(incident=a.incident, entity=b.device)
    signed_in(client, reader_a)

    alert_page = client.get(reverse("incidents:alert_detail", args=[a.alert.pk]))
    assets = client.get(reverse("incidents:detail", args=[a.incident.pk]), {"tab": "assets"})
    graph = client.get(reverse("incidents:graph", args=[a.incident.pk])).json()

    assert client.get(reverse("incidents:entity", args=[b.device.pk])).status_code == 404
    assert b.device.pk not in alert_page.context["visible_entities"]
    assert f'href="/entities/{b.device.pk}/"' not in alert_page.content.decode()
    assert b"ws-b.corp.example" not in assets.content
    assert {entity["id"] for entity in graph["entities"]} == {a.device.pk, a.account.pk}


def test_an_incident_in_scope_shows_only_its_alerts_in_scope(client, reader_a, a, b):
    # An incident spanning both groups: visible to A's reader, with only its A alert, entities and evidence.
    Alert.objects.filter(pk=b.alert.pk).update(incident=a.incident)
    Incident.objects.filter(pk=a.incident.pk).update(device_group_ids=[a.group.pk, b.group.pk])
    signed_in(client, reader_a)

    alerts_tab = client.get(reverse("incidents:detail", args=[a.incident.pk]), {"tab": "alerts"})
    evidence_tab = client.get(reverse("incidents:detail", args=[a.incident.pk]), {"tab": "evidence"})
    graph = client.get(reverse("incidents:graph", args=[a.incident.pk])).json()

    assert [alert.pk for alert in alerts_tab.context["alerts"]] == [a.alert.pk]
    assert {row.alert_id for row in evidence_tab.context["evidence"]} == {a.alert.pk}
    assert [alert["id"] for alert in graph["alerts"]] == [a.alert.pk]
    assert {entity["id"] for entity in graph["entities"]} == {a.device.pk, a.account.pk}
    assert b"Alert on ws-b" not in alerts_tab.content + evidence_tab.content


def test_an_alert_in_scope_names_its_incident_only_when_the_incident_is_in_scope_too(client, reader_a, a, b):
    # The A alert sits in B's incident (its device moved groups since): the incident's name stays hidden.
    Alert.objects.filter(pk=a.alert.pk).update(incident=b.incident)
    signed_in(client, reader_a)

    page = client.get(reverse("incidents:alert_detail", args=[a.alert.pk]))
    queue = client.get(reverse("incidents:alert_queue"), {"f": "1"})
    entity = client.get(reverse("incidents:entity", args=[a.device.pk]))

    for response in (page, queue, entity):
        assert response.status_code == 200
        assert b"Incident on ws-b" not in response.content
        assert f'href="/incidents/{b.incident.pk}/"' not in response.content.decode()
    assert f"#{b.incident.pk}" in queue.content.decode()


# --- Search and suggestions -----------------------------------------------------------------------------------


def test_the_incident_search_resolves_only_entities_in_scope(client, reader_a, a, b):
    # An A incident named after B's device: searching the B device's name finds it by name, as if the device did
    # not exist, rather than resolving the device (which would say that it exists).
    named = IncidentFactory(display_name="Scan from ws-b.corp.example", device_group_ids=[a.group.pk])
    signed_in(client, reader_a)

    by_b_device = client.get(reverse("incidents:queue"), {"f": "1", "q": "ws-b.corp.example"})
    by_b_account = client.get(reverse("incidents:queue"), {"f": "1", "q": "ws-b-user@corp.example"})
    by_a_account = client.get(reverse("incidents:queue"), {"f": "1", "q": "ws-a-user@corp.example"})

    assert incident_ids(by_b_device) == {named.pk}
    assert incident_ids(by_b_account) == set()
    assert incident_ids(by_a_account) == {a.incident.pk}


def test_searches_by_id_or_title_find_nothing_out_of_scope(client, reader_a, a, b):
    signed_in(client, reader_a)

    assert incident_ids(client.get(reverse("incidents:queue"), {"f": "1", "q": str(b.incident.pk)})) == set()
    assert alert_ids(client.get(reverse("incidents:alert_queue"), {"f": "1", "q": "Alert on ws-b"})) == set()
    assert alert_ids(client.get(reverse("incidents:alert_queue"), {"f": "1", "q": str(b.alert.pk)})) == set()


def test_the_tag_type_ahead_offers_only_tags_of_incidents_in_scope(client, reader_a, a, b):
    response = signed_in(client, reader_a).get(reverse("incidents:tags"))

    assert response.context["known_tags"] == ["tag-a"]
    assert b"secret-b" not in response.content


def test_similar_incidents_are_only_incidents_in_scope(client, reader_a, a, b):
    # All three share an account; B's incident is similar too, but not for A's reader.
    shared = EntityFactory(kind="user", key="shared@corp.example")
    other_a = story("ws-a2", a.group)
    for side in (a, b, other_a):
        EvidenceFactory(alert=side.alert, entity=shared)
        IncidentEntity.objects.create(incident=side.incident, entity=shared)

    response = signed_in(client, reader_a).get(reverse("incidents:detail", args=[a.incident.pk]), {"tab": "summary"})

    assert [incident.pk for incident in response.context["similar"]] == [other_a.incident.pk]


# --- Writes ---------------------------------------------------------------------------------------------------


def test_bulk_actions_change_incidents_in_scope_and_report_the_others_as_not_found(client, operator_a, a, b):
    response = signed_in(client, operator_a).post(
        reverse("incidents:bulk"), {"action": "assign_me", "incident": [a.incident.pk, b.incident.pk]}, follow=True
    )

    assert response.status_code == 200
    assert Incident.objects.get(pk=a.incident.pk).assigned_to == "operator-a"
    assert Incident.objects.get(pk=b.incident.pk).assigned_to == ""
    assert f"#{b.incident.pk}: not found" in response.content.decode()
    assert not ActivityLogEntry.objects.filter(target_id=str(b.incident.pk)).exists()


def test_alert_bulk_actions_change_alerts_in_scope_and_refuse_the_others(client, operator_a, a, b):
    response = signed_in(client, operator_a).post(
        reverse("incidents:alert_bulk"), {"action": "assign_me", "alert": [a.alert.pk, b.alert.pk]}, follow=True
    )

    assert response.status_code == 200
    assert Alert.objects.get(pk=a.alert.pk).assigned_to == "operator-a"
    assert Alert.objects.get(pk=b.alert.pk).assigned_to == ""
    assert f"Alert {b.alert.pk} was not changed: No such alert, or not one you may change." in response.content.decode()


@pytest.mark.parametrize(
    ("url_name", "pick", "data"),
    [
        ("incidents:manage", lambda s: s.incident.pk, {"assigned_to": "operator-a"}),
        ("incidents:comment", lambda s: s.incident.pk, {"text": "Looked at it."}),
        (
            "incidents:alert_manage",
            lambda s: s.alert.pk,
            {"status": "inProgress", "assigned_to": "", "classification": "unknown", "determination": "unknown"},
        ),
        ("incidents:alert_comment", lambda s: s.alert.pk, {"text": "Looked at it."}),
        ("incidents:alert_move", lambda s: s.alert.pk, {"destination": "new", "reason": "Its own story."}),
    ],
    ids=["incident-manage", "incident-comment", "alert-manage", "alert-comment", "alert-move"],
)
def test_writes_to_an_object_out_of_scope_answer_404_and_change_nothing(client, operator_a, a, b, url_name, pick, data):
    before_incidents = list(Incident.objects.order_by("pk").values())
    before_alerts = list(Alert.objects.order_by("pk").values())

    response = signed_in(client, operator_a).post(reverse(url_name, args=[pick(b)]), data)

    assert response.status_code == 404
    assert list(Incident.objects.order_by("pk").values()) == before_incidents
    assert list(Alert.objects.order_by("pk").values()) == before_alerts
    assert not Comment.objects.exists()
    assert not ActivityLogEntry.objects.exists()


def test_a_merge_with_an_incident_out_of_scope_is_refused_and_changes_nothing(client, operator_a, a, b):
    response = signed_in(client, operator_a).post(
        reverse("incidents:merge"),
        {"incident": [a.incident.pk, b.incident.pk], "reason": "Same attacker."},
        follow=True,
    )

    assert response.status_code == 200
    assert "Select two to five incidents you may change to merge them." in response.content.decode()
    assert set(Incident.objects.values_list("status", flat=True)) == {"active"}
    assert Alert.objects.get(pk=b.alert.pk).incident_id == b.incident.pk


def test_moving_an_alert_to_an_incident_out_of_scope_is_refused_like_a_missing_one(client, operator_a, a, b):
    response = signed_in(client, operator_a).post(
        reverse("incidents:alert_move", args=[a.alert.pk]),
        {"destination": "existing", "incident": str(b.incident.pk), "reason": "Same story."},
    )

    assert response.status_code == 422
    assert f"There is no incident {b.incident.pk} that you may change." in response.content.decode()
    assert Alert.objects.get(pk=a.alert.pk).incident_id == a.incident.pk
    move_choices = response.context["move"]["choices"]
    assert b.incident.pk not in [incident.pk for incident in move_choices]


# --- Scope per permission, groups, and changes that take effect at once -----------------------------------------


def test_a_reader_over_all_data_and_operator_over_a_sees_everything_but_changes_only_a(client, a, b, group_a):
    person = UserFactory(username="mixed")
    assign_role(person, "Security reader")
    assign_role(person, "Security operator", device_groups=[group_a])
    signed_in(client, person)

    for side in (a, b):
        assert client.get(reverse("incidents:detail", args=[side.incident.pk])).status_code == 200
        assert client.get(reverse("incidents:alert_detail", args=[side.alert.pk])).status_code == 200
    a_page = client.get(reverse("incidents:detail", args=[a.incident.pk]))
    b_page = client.get(reverse("incidents:detail", args=[b.incident.pk]))
    b_alert = client.get(reverse("incidents:alert_detail", args=[b.alert.pk]))
    assert a_page.context["can_change"] is True
    assert b_page.context["can_change"] is False
    assert b_alert.context["can_change"] is False

    assert client.post(reverse("incidents:manage", args=[a.incident.pk]), {"assigned_to": "x"}).status_code == 302
    assert client.post(reverse("incidents:manage", args=[b.incident.pk]), {"assigned_to": "x"}).status_code == 404
    assert Incident.objects.get(pk=a.incident.pk).assigned_to == "x"
    assert Incident.objects.get(pk=b.incident.pk).assigned_to == ""


def test_the_comment_form_is_offered_only_on_incidents_the_person_may_change(client, a, b, group_a):
    person = UserFactory(username="mixed")
    assign_role(person, "Security reader")
    assign_role(person, "Security operator", device_groups=[group_a])
    signed_in(client, person)

    def comment_form_on(side, **headers) -> bool:
        response = client.get(reverse("incidents:detail", args=[side.incident.pk]), {"tab": "activity"}, **headers)
        assert response.status_code == 200
        return f'action="{reverse("incidents:comment", args=[side.incident.pk])}"' in response.content.decode()

    tab_only = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "incident-tab"}
    assert comment_form_on(a) and comment_form_on(a, **tab_only)
    assert not comment_form_on(b) and not comment_form_on(b, **tab_only)


def test_a_role_assigned_to_a_group_gives_its_members_that_scope(client, a, b, group_a):
    soc = Group.objects.create(name="SOC team A")
    assign_role(soc, "Security reader", device_groups=[group_a])
    member = UserFactory(username="member")
    member.groups.add(soc)
    signed_in(client, member)

    assert client.get(reverse("incidents:detail", args=[a.incident.pk])).status_code == 200
    assert client.get(reverse("incidents:detail", args=[b.incident.pk])).status_code == 404
    assert incident_ids(client.get(reverse("incidents:queue"), {"f": "1"})) == {a.incident.pk}


def test_changing_an_assignment_takes_effect_on_the_next_request(client, reader_a, a, b, group_b):
    signed_in(client, reader_a)
    assert client.get(reverse("incidents:detail", args=[b.incident.pk])).status_code == 404

    assignment = reader_a.role_assignments.get()
    assignment.device_groups.set([group_b])
    grants_sync(user_ids=[reader_a.pk])

    assert client.get(reverse("incidents:detail", args=[b.incident.pk])).status_code == 200
    assert client.get(reverse("incidents:detail", args=[a.incident.pk])).status_code == 404


# --- Scope re-checked inside the write's transaction ------------------------------------------------------------


WRITES = {
    "incident_update": lambda actor, s: incident_update(incident_id=s.incident.pk, actor=actor, assigned_to="late"),
    "alert_update": lambda actor, s: alert_update(alert_id=s.alert.pk, actor=actor, assigned_to="late"),
    "comment_add": lambda actor, s: comment_add(actor=actor, text="Late.", incident_id=s.incident.pk),
    "alert_comment_add": lambda actor, s: comment_add(actor=actor, text="Late.", alert_id=s.alert.pk),
    "alert_move": lambda actor, s: alert_move(alert_id=s.alert.pk, actor=actor, reason="Late."),
}


def _unchanged(side: Story) -> None:
    incident = Incident.objects.get(pk=side.incident.pk)
    alert = Alert.objects.get(pk=side.alert.pk)
    assert (incident.assigned_to, incident.status) == ("", "active")
    assert (alert.assigned_to, alert.incident_id) == ("", side.incident.pk)
    assert not Comment.objects.exists()
    assert not ActivityLogEntry.objects.exists()


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_whose_actor_lost_the_scope_since_the_page_loaded_is_refused(operator_a, a, group_b, write):
    # The page was loaded while A was in scope...
    page_user = fresh(operator_a)
    assert incidents_for(page_user, action="change").filter(pk=a.incident.pk).exists()
    # ...then the assignment moved to group B before the write ran.
    assignment = operator_a.role_assignments.get()
    assignment.device_groups.set([group_b])
    grants_sync(user_ids=[operator_a.pk])

    with pytest.raises(OutOfScope):
        WRITES[write](fresh(operator_a), a)

    _unchanged(a)


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_to_an_object_that_left_the_scope_since_the_page_loaded_is_refused(operator_a, a, group_b, write):
    # The view found the incident and alert in scope (and cached the actor's scope for the request)...
    actor = fresh(operator_a)
    assert incidents_for(actor, action="change").filter(pk=a.incident.pk).exists()
    # ...then their device moved to group B, and the write re-reads them through the scope inside its transaction.
    Incident.objects.filter(pk=a.incident.pk).update(device_group_ids=[group_b.pk])
    Alert.objects.filter(pk=a.alert.pk).update(device_group_ids=[group_b.pk])

    with pytest.raises(OutOfScope):
        WRITES[write](actor, a)

    _unchanged(a)


def test_a_merge_refuses_an_incident_that_left_the_scope(operator_a, a, group_a, group_b):
    other = story("ws-a2", group_a)
    actor = fresh(operator_a)
    assert incidents_for(actor, action="change").filter(pk=other.incident.pk).exists()
    Incident.objects.filter(pk=other.incident.pk).update(device_group_ids=[group_b.pk])

    with pytest.raises(OutOfScope):
        incidents_merge(target_id=a.incident.pk, source_ids=[other.incident.pk], actor=actor, reason="Same.")

    assert set(Incident.objects.values_list("status", flat=True)) == {"active"}
    assert Alert.objects.get(pk=other.alert.pk).incident_id == other.incident.pk


def test_moving_into_an_incident_that_left_the_scope_is_refused(operator_a, a, group_a, group_b):
    target = story("ws-a2", group_a)
    actor = fresh(operator_a)
    Incident.objects.filter(pk=target.incident.pk).update(device_group_ids=[group_b.pk])

    with pytest.raises(OutOfScope):
        alert_move(alert_id=a.alert.pk, actor=actor, reason="Same.", incident_id=target.incident.pk)

    assert Alert.objects.get(pk=a.alert.pk).incident_id == a.incident.pk


def test_the_system_reaches_every_object_whatever_its_groups(a, b, no_device):
    for side in (a, b, no_device):
        moved = alert_move(alert_id=side.alert.pk, actor=None, reason="Correlation.")
        assert moved.incident_id not in (None, side.incident.pk)


# --- The Django admin -----------------------------------------------------------------------------------------


@pytest.fixture
def staff_admin_a(group_a):
    user = UserFactory(username="staff-a", is_staff=True)
    assign_role(user, "Security administrator", device_groups=[group_a])
    return user


@pytest.mark.parametrize(
    ("model", "pick"),
    [
        ("incident", lambda s: s.incident.pk),
        ("alert", lambda s: s.alert.pk),
        ("entity", lambda s: s.device.pk),
    ],
)
def test_the_admin_lists_only_rows_in_scope_and_answers_404_for_the_others(
    client, staff_admin_a, a, b, no_device, model, pick
):
    signed_in(client, staff_admin_a)

    changelist = client.get(reverse(f"admin:incidents_{model}_changelist"))
    inside = client.get(reverse(f"admin:incidents_{model}_change", args=[pick(a)]))
    outside = client.get(reverse(f"admin:incidents_{model}_change", args=[pick(b)]))
    without_device = client.get(reverse(f"admin:incidents_{model}_change", args=[pick(no_device)]))

    assert changelist.status_code == 200
    assert {row.pk for row in changelist.context["cl"].result_list} == (
        {a.device.pk, a.account.pk} if model == "entity" else {pick(a)}
    )
    assert inside.status_code == 200
    assert outside.status_code == 404
    assert without_device.status_code == 404


def test_the_admin_lists_only_comments_in_scope(client, staff_admin_a, a, b):
    mine = Comment.objects.create(incident=a.incident, author_name="x", text="On A.")
    Comment.objects.create(incident=b.incident, author_name="x", text="On B.")
    on_alert = Comment.objects.create(alert=a.alert, author_name="x", text="On A's alert.")
    Comment.objects.create(alert=b.alert, author_name="x", text="On B's alert.")

    changelist = signed_in(client, staff_admin_a).get(reverse("admin:incidents_comment_changelist"))

    assert {row.pk for row in changelist.context["cl"].result_list} == {mine.pk, on_alert.pk}


def test_the_admin_offers_only_incidents_in_scope_for_an_alerts_incident(client, staff_admin_a, a, b):
    response = signed_in(client, staff_admin_a).get(reverse("admin:incidents_alert_change", args=[a.alert.pk]))

    field = response.context["adminform"].form.fields["incident"]
    assert set(field.queryset.values_list("pk", flat=True)) == {a.incident.pk}


def test_the_admin_alert_page_leaves_out_evidence_on_a_device_outside_the_scope(client, staff_admin_a, a, b):
    EvidenceFactory(alert=a.alert, entity=b.device)
    client = signed_in(client, staff_admin_a)
    url = reverse("admin:incidents_alert_change", args=[a.alert.pk])

    page = client.get(url)

    assert page.status_code == 200
    assert a.device.key in page.content.decode()
    assert b.device.key not in page.content.decode()
    formset = page.context["inline_admin_formsets"][0].formset
    assert {form.instance.entity_id for form in formset.forms} == {a.device.pk, a.account.pk}


# --- The API that exists now ----------------------------------------------------------------------------------


def test_only_the_holder_of_the_ingest_permission_pushes_alerts_whatever_their_scope(client, operator_a, group_a):
    pusher = UserFactory(username="pusher")
    assign_role(pusher, "Security administrator", device_groups=[group_a])
    alert = {
        "id": "da-scope-1",
        "title": "Pushed",
        "serviceSource": "microsoftDefenderForEndpoint",
        "createdDateTime": "2026-11-20T08:05:54Z",
    }
    body = json.dumps(alert)

    refused = signed_in(client, operator_a).post(reverse("incidents-api:ingest-alerts"), body, "application/json")
    accepted = signed_in(client, pusher).post(reverse("incidents-api:ingest-alerts"), body, "application/json")

    assert refused.status_code == 403
    assert accepted.status_code == 202
    assert Alert.objects.filter(provider_alert_id="da-scope-1").count() == 1
