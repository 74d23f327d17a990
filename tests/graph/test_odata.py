"""OData query options on the Graph lists: $filter, $orderby, $top, $skip, $count, $expand and @odata.nextLink."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from incidents.models import Incident
from tests.factories import AlertFactory, IncidentFactory

pytestmark = pytest.mark.django_db

INCIDENTS = "/v1.0/security/incidents"
ALERTS = "/v1.0/security/alerts_v2"


@pytest.fixture
def api(admin_api):
    return admin_api


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [int(item["id"]) for item in response.json()["value"]]


def error(response) -> str:
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "BadRequest"
    return body["message"]


def incident_at(moment: str, **fields) -> Incident:
    incident = IncidentFactory(**fields)
    Incident.objects.filter(pk=incident.pk).update(created_at=moment, last_update=moment)
    return incident


# --- $filter ------------------------------------------------------------------------------------------------------


@pytest.fixture
def incidents():
    return {
        "phish": incident_at(
            "2026-11-20T08:05:54.990666Z",
            display_name="Phishing campaign against Finance",
            severity="high",
            status="active",
            classification="truePositive",
            determination="phishing",
            assigned_to="alice@corp.example",
            custom_tags=["Finance", "VIP"],
        ),
        "clean": incident_at(
            "2026-11-21T10:00:00Z",
            display_name="Port scan from a test host",
            severity="low",
            status="resolved",
            classification="falsePositive",
            determination="clean",
            custom_tags=["PenTest"],
        ),
        "waiting": incident_at(
            "2026-11-22T12:30:00Z",
            display_name="PowerShell on a server",
            severity="medium",
            status="awaitingAction",
        ),
    }


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("status eq 'active'", {"phish"}),
        ("status ne 'active'", {"clean", "waiting"}),
        ("status in ('active', 'resolved')", {"phish", "clean"}),
        ("severity eq 'high' or severity eq 'low'", {"phish", "clean"}),
        ("severity eq 'high' and status eq 'resolved'", set()),
        ("not (status eq 'resolved')", {"phish", "waiting"}),
        ("createdDateTime ge 2026-11-20T08:05:54.9906667Z", {"phish", "clean", "waiting"}),
        ("createdDateTime gt 2026-11-20T08:05:54.9906660Z", {"clean", "waiting"}),
        ("createdDateTime lt 2026-11-21T10:00:00Z", {"phish"}),
        ("createdDateTime le 2026-11-21T10:00:00Z", {"phish", "clean"}),
        ("lastUpdateDateTime ge 2026-11-22", {"waiting"}),
        ("createdDateTime ge 2026-11-21T11:00:00+01:00", {"clean", "waiting"}),
        # An offset PostgreSQL would refuse (beyond ±15:59) is valid ISO 8601: compared in UTC (2026-11-20T09:01Z).
        ("createdDateTime ge 2026-11-21T09:00:00+23:59", {"clean", "waiting"}),
        ("createdDateTime lt 9999-12-31T23:59:59.9999999Z", {"phish", "clean", "waiting"}),
        ("assignedTo eq 'alice@corp.example'", {"phish"}),
        ("assignedTo eq null", {"clean", "waiting"}),
        ("assignedTo ne null", {"phish"}),
        ("determination eq 'notMalicious'", {"clean"}),
        ("determination eq 'clean'", {"clean"}),
        ("classification eq 'truePositive'", {"phish"}),
        ("status eq 'unknownFutureValue'", {"waiting"}),
        ("customTags/any(t: t eq 'VIP')", {"phish"}),
        ("customTags/any(t: t eq 'PenTest' or t eq 'VIP')", {"phish", "clean"}),
        ("customTags/any(t: t in ('PenTest', 'Nope'))", {"clean"}),
        ("customTags/any()", {"phish", "clean"}),
        ("customTags/all(t: t eq 'PenTest')", {"clean", "waiting"}),
        ("startswith(displayName, 'phishing')", {"phish"}),
        ("contains(displayName, 'powershell')", {"waiting"}),
        ("endswith(displayName, 'HOST')", {"clean"}),
        ("contains(displayName, 'scan') eq false", {"phish", "waiting"}),
    ],
)
def test_it_filters_incidents_with_odata_expressions(api, incidents, expression, expected):
    response = api.get(INCIDENTS, {"$filter": expression})

    assert set(ids(response)) == {incidents[name].pk for name in expected}


def test_it_filters_incidents_by_id_given_as_graph_text_or_as_a_number(api, incidents):
    clean, phish = incidents["clean"].pk, incidents["phish"].pk

    assert ids(api.get(INCIDENTS, {"$filter": f"id eq '{clean}'"})) == [clean]
    assert ids(api.get(INCIDENTS, {"$filter": f"id in ({phish}, '{clean}')"})) == [clean, phish]


def test_it_reads_a_quote_doubled_inside_a_string_as_one_quote(api):
    obrien = IncidentFactory(assigned_to="O'Brien", display_name="Phishing of O'Brien")
    IncidentFactory(assigned_to="OBrien")

    assert ids(api.get(INCIDENTS, {"$filter": "assignedTo eq 'O''Brien'"})) == [obrien.pk]
    assert ids(api.get(INCIDENTS, {"$filter": "contains(displayName, 'of O''B')"})) == [obrien.pk]


def test_it_filters_alerts_by_their_own_properties(api):
    incident = IncidentFactory()
    in_incident = AlertFactory(incident=incident, title="Mimikatz", category="CredentialAccess", severity="high")
    loose = AlertFactory(
        incident=None,
        title="Mail forwarding rule",
        category="Exfiltration",
        service_source="microsoftDefenderForOffice365",
        detection_source="microsoftDefenderForOffice365",
    )

    assert ids(api.get(ALERTS, {"$filter": f"incidentId eq '{incident.pk}'"})) == [in_incident.pk]
    assert ids(api.get(ALERTS, {"$filter": "incidentId eq null"})) == [loose.pk]
    assert ids(api.get(ALERTS, {"$filter": "serviceSource eq 'microsoftDefenderForOffice365'"})) == [loose.pk]
    assert ids(api.get(ALERTS, {"$filter": "detectionSource eq 'microsoftDefenderForEndpoint'"})) == [in_incident.pk]
    assert ids(api.get(ALERTS, {"$filter": "category eq 'CredentialAccess' and severity eq 'high'"})) == [
        in_incident.pk
    ]
    assert ids(api.get(ALERTS, {"$filter": "startswith(title, 'mail')"})) == [loose.pk]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("owner eq 'alice'", "owner is not a property you can filter incidents by; use one of: assignedTo,"),
        ("status eq 'open'", "'open' is not a value of status; use one of: active, inProgress, resolved,"),
        ("status gt 'active'", "status cannot be compared with gt; use eq, in, ne."),
        ("createdDateTime ge '2026-11-20'", "Compare createdDateTime with an ISO 8601 date and time"),
        ("createdDateTime ge 2026-02-30T00:00:00Z", "2026-02-30T00:00:00Z is not a valid date and time."),
        ("createdDateTime eq null", "createdDateTime is never null."),
        ("id eq 'abc'", "Compare id with an id, such as id eq '42'."),
        ("id eq 99999999999999999999", "Compare id with an id"),
        ("assignedTo eq 3", "Compare assignedTo with a string in single quotes."),
        ("customTags eq 'VIP'", "Filter customTags with customTags/any(t: t eq 'value')."),
        ("customTags/any(t: t ne 'VIP')", "Inside customTags/any(), compare the tag with eq or in, joined with or."),
        ("status/any(s: s eq 'x')", "status is not a collection"),
        ("tolower(displayName) eq 'x'", "Put a property on the left of each comparison"),
        ("length(displayName) gt 3", "Put a property on the left"),
        ("year(createdDateTime)", "The function year() is not supported in $filter; use contains, endswith"),
        ("startswith(severity, 'h')", "startswith() applies to text properties; severity is not one."),
        ("severity eq classification", "That is not a value of severity"),
        ("'high' eq severity", "Put a property on the left of each comparison"),
        ("severity", "The $filter must be a condition, such as status eq 'active'."),
        ("severity eq 'high' and severity", "and and or join conditions"),
        ("id add 1 eq 2", "Put a property on the left"),
        ("status eq 'active' and ", "The $filter cannot be read from position 19: ' and'."),
        ("(status eq 'active'", "The $filter ends before its expression is complete."),
        ("status eq 'active", 'The $filter cannot be read from position 11: "\'active".'),
        ("status eq ^", "The $filter cannot be read from position 11: '^'."),
        ("status eq 'a' xx", "The $filter cannot be read from position 14: ' xx'."),
        ("unknownfunction(displayName)", "The $filter is not valid: Unknown function: 'unknownfunction'."),
        ("incident/status eq 'active'", "Put a property on the left of each comparison"),
        ("displayName eq 'a\u0000b'", "The $filter contains a NUL character."),
        ("createdDateTime ge 0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z is not a date and time the $filter can read"),
        ("createdDateTime ge 2026-13-01", "2026-13-01 is not a date and time the $filter can read"),
        ("createdDateTime ge 2026-11-20T24:00:00Z", "2026-11-20T24:00:00Z is not a date and time the $filter can"),
        ("createdDateTime lt 9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-14:00 is out of range"),
        ("id in ()", "The $filter cannot be read from position 8: ')'."),
        ("not(status eq 'resolved')", "Write not with a space before its parenthesis: not (status eq 'resolved')."),
        ("assignedTo eq 'O'Brien'", 'The $filter cannot be read from position 18: "Brien\'".'),
        ("customTags/any(t: x eq 'VIP')", "Inside customTags/any(), compare the tag with eq or in"),
        ("customTags/any(t: customTags/any(t: t eq 'VIP'))", "Inside customTags/any(), compare the tag with eq or in"),
        ("customTags/any(t: t eq 'VIP' and t eq 'x')", "Inside customTags/any(), compare the tag with eq or in"),
    ],
)
def test_it_answers_a_filter_it_cannot_apply_with_a_graph_error_saying_what_is_wrong(
    api, incidents, expression, message
):
    response = api.get(INCIDENTS, {"$filter": expression})

    assert error(response).startswith(message)


@pytest.mark.parametrize(
    "expression",
    ["not (" * 150 + "status eq 'active'" + ")" * 150, " or ".join(f"id eq {n}" for n in range(1, 150))],
)
def test_it_refuses_a_filter_nested_deeper_than_it_translates(api, expression):
    message = "The $filter nests more than 100 conditions; give lists of values with in (...)."
    assert error(api.get(INCIDENTS, {"$filter": expression})) == message


def test_it_takes_a_filter_nested_as_deep_as_it_translates(api):
    incident = IncidentFactory()

    assert ids(api.get(INCIDENTS, {"$filter": " or ".join(f"id eq {n}" for n in range(incident.pk, incident.pk + 40))}))


def test_it_refuses_an_overlong_filter(api):
    long = " or ".join(["status eq 'active'"] * 300)

    assert error(api.get(INCIDENTS, {"$filter": long})) == "The $filter is longer than 4000 characters."


# --- $orderby -----------------------------------------------------------------------------------------------------


def test_it_orders_by_the_properties_asked_for_severity_by_rank(api, incidents):
    by_severity = ids(api.get(INCIDENTS, {"$orderby": "severity desc"}))
    by_created = ids(api.get(INCIDENTS, {"$orderby": "createdDateTime"}))
    by_status_then_name = ids(api.get(INCIDENTS, {"$orderby": "status asc, displayName desc"}))

    assert by_severity == [incidents[n].pk for n in ("phish", "waiting", "clean")]
    assert by_created == [incidents[n].pk for n in ("phish", "clean", "waiting")]
    assert by_status_then_name == [incidents[n].pk for n in ("phish", "waiting", "clean")]


def test_it_breaks_ties_by_id_in_the_direction_of_the_first_key(api):
    same = [IncidentFactory(severity="high") for _ in range(3)]

    assert ids(api.get(INCIDENTS, {"$orderby": "severity desc"})) == [i.pk for i in reversed(same)]
    assert ids(api.get(INCIDENTS, {"$orderby": "severity asc"})) == [i.pk for i in same]


@pytest.mark.parametrize(
    ("orderby", "message"),
    [
        ("customTags", "Incidents cannot be sorted by customTags; use one of: assignedTo,"),
        ("priority desc", "Incidents cannot be sorted by priority;"),
        ("severity sideways", "'severity sideways' in $orderby is not a property name followed by asc or desc."),
        ("severity, severity desc", "severity is given more than once in $orderby."),
        ("a,b,c,d,e,f", "$orderby takes at most 5 properties."),
    ],
)
def test_it_refuses_an_ordering_it_cannot_apply(api, orderby, message):
    assert error(api.get(INCIDENTS, {"$orderby": orderby})).startswith(message)


# --- Paging -------------------------------------------------------------------------------------------------------


def test_it_pages_with_top_and_links_the_next_page_with_the_same_query(api):
    made = [IncidentFactory(severity="high") for _ in range(5)]
    IncidentFactory(severity="low")

    first = api.get(INCIDENTS, {"$filter": "severity eq 'high'", "$top": "2", "$count": "true"})

    assert ids(first) == [i.pk for i in reversed(made)][:2]
    body = first.json()
    assert body["@odata.count"] == 5
    link = urlsplit(body["@odata.nextLink"])
    assert (link.scheme, link.netloc, link.path) == ("http", "testserver", INCIDENTS)
    query = parse_qs(link.query)
    assert query["$filter"] == ["severity eq 'high'"]
    assert query["$top"] == ["2"]
    assert query["$count"] == ["true"]
    assert "$skiptoken" in query


def test_following_next_links_reads_every_row_once_even_when_rows_arrive_meanwhile(api):
    made = [IncidentFactory() for _ in range(7)]
    seen, url, params = [], INCIDENTS, {"$top": "3", "$orderby": "id desc"}
    while url:
        response = api.get(url, params)
        seen += ids(response)
        url, params = response.json().get("@odata.nextLink"), None
        if len(seen) == 3:
            IncidentFactory()  # a newer incident sorts before the pages already read: it never shifts them

    assert seen == [i.pk for i in reversed(made)]


def test_it_skips_rows_up_to_graphs_limit_of_500(api):
    made = [IncidentFactory() for _ in range(4)]

    assert ids(api.get(INCIDENTS, {"$skip": "1", "$top": "2"})) == [i.pk for i in reversed(made)][1:3]
    assert ids(api.get(INCIDENTS, {"$skip": "500"})) == []
    assert error(api.get(INCIDENTS, {"$skip": "501"})) == "The value of $skip must be a whole number from 0 to 500."


def test_it_answers_50_rows_by_default_and_up_to_1000_on_request(api):
    Incident.objects.bulk_create([Incident(display_name=f"Incident {n}") for n in range(1001)])

    default = api.get(INCIDENTS)
    most = api.get(INCIDENTS, {"$top": "1000"})

    assert len(default.json()["value"]) == 50
    assert "@odata.nextLink" in default.json()
    assert len(most.json()["value"]) == 1000
    assert error(api.get(INCIDENTS, {"$top": "1001"})) == "The value of $top must be a whole number from 0 to 1000."


def test_it_answers_no_next_link_on_the_last_page_and_counts_with_top_zero(api):
    IncidentFactory()
    IncidentFactory()

    last = api.get(INCIDENTS, {"$top": "2"}).json()
    counted = api.get(INCIDENTS, {"$top": "0", "$count": "true"}).json()

    assert "@odata.nextLink" not in last
    assert (counted["value"], counted["@odata.count"]) == ([], 2)


def test_it_refuses_a_skiptoken_from_another_query_or_made_up(api):
    for _ in range(3):
        IncidentFactory()
    link = api.get(INCIDENTS, {"$top": "1"}).json()["@odata.nextLink"]
    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]

    other_order = api.get(INCIDENTS, {"$top": "1", "$orderby": "severity", "$skiptoken": token})
    made_up = api.get(INCIDENTS, {"$skiptoken": "not-a-token"})

    message = "The $skiptoken does not belong to this query; start again from the first page."
    assert error(other_order) == message
    assert error(made_up) == message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"$select": "id"}, "The query option $select is not supported for incidents; supported: $count, $expand,"),
        ({"$search": "x"}, "The query option $search is not supported for incidents;"),
        ({"$top": "-1"}, "The value of $top must be a whole number from 0 to 1000."),
        ({"$top": "ten"}, "The value of $top must be a whole number from 0 to 1000."),
        ({"$count": "yes"}, "The value of $count must be true or false."),
        ({"$expand": "evidence"}, "$expand=evidence is not supported for incidents; it can expand alerts."),
        ({"$expand": "alerts($top=1)"}, "Options inside $expand (alerts($top=1)) are not supported; expand alerts"),
        ({"$expand": ""}, "$expand names what to expand: alerts."),
        ({"$expand": "alerts,"}, "$expand names what to expand: alerts."),
        ({"$top": "1e3"}, "The value of $top must be a whole number from 0 to 1000."),
        ({"$skip": "abc"}, "The value of $skip must be a whole number from 0 to 500."),
        ({"$orderby": "severity desc,id,severity"}, "severity is given more than once in $orderby."),
    ],
)
def test_it_refuses_a_query_option_it_does_not_support(api, params, message):
    assert error(api.get(INCIDENTS, params)).startswith(message)


def test_it_takes_option_values_as_graph_clients_spell_them(api):
    made = [IncidentFactory(severity="high") for _ in range(2)]

    response = api.get(INCIDENTS, {"$orderby": "severity desc,id", "$count": "TRUE", "$top": " 1 "})

    assert ids(response) == [made[0].pk]
    assert response.json()["@odata.count"] == 2


def _skiptoken(document: str) -> str:
    return base64.urlsafe_b64encode(document.encode()).decode()


def test_it_refuses_a_forged_skiptoken_it_cannot_read_or_compare(api):
    IncidentFactory()
    nested = _skiptoken("[" * 5000 + "]" * 5000)
    out_of_range = _skiptoken('{"o": "lastUpdateDateTime desc,id desc", "v": ["9999-12-31T23:59:59-23:59", 1]}')

    assert error(api.get(INCIDENTS, {"$skiptoken": nested})) == (
        "The $skiptoken does not belong to this query; start again from the first page."
    )
    assert error(api.get(INCIDENTS, {"$skiptoken": out_of_range})).startswith(
        "A date and time of the $skiptoken is out of range"
    )


def test_it_compares_a_skiptoken_time_in_utc_whatever_its_offset(api):
    earlier, later = incident_at("2026-11-20T08:00:00Z"), incident_at("2026-11-20T10:00:00Z")
    # 2026-11-21T09:00:00+23:00 is 2026-11-20T10:00Z: the page after the later incident holds the earlier one.
    token = _skiptoken(f'{{"o": "lastUpdateDateTime desc,id desc", "v": ["2026-11-21T09:00:00+23:00", {later.pk}]}}')

    assert ids(api.get(INCIDENTS, {"$skiptoken": token})) == [earlier.pk]


def test_it_refuses_an_option_given_twice_and_options_alerts_do_not_take(api):
    assert error(api.get(f"{INCIDENTS}?$top=1&$top=2")) == "The query option $top is given more than once."
    assert error(api.get(ALERTS, {"$expand": "evidence"})).startswith("The query option $expand is not supported")


def test_it_takes_only_expand_on_one_incident_and_no_option_on_a_change(api):
    incident = IncidentFactory()

    on_read = api.get(f"{INCIDENTS}/{incident.pk}", {"$filter": "status eq 'active'"})
    on_change = api.patch(f"{INCIDENTS}/{incident.pk}?$expand=alerts", {"status": "inProgress"}, format="json")

    assert error(on_read).startswith("The query option $filter is not supported for one of the incidents")
    assert error(on_change).startswith("The query option $expand is not supported for changes to incidents")
    incident.refresh_from_db()
    assert incident.status == "active"


def test_it_leaves_query_parameters_that_are_not_odata_options_alone(api):
    incident = IncidentFactory()

    assert ids(api.get(INCIDENTS, {"api-version": "2026-01-01"})) == [incident.pk]
