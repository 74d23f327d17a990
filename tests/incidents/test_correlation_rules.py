"""
Correlation's decisions without a database (incidents.correlation_rules): which incidents may take an alert, and
whether it joins one, opens a new one or ties several together, with the reason its link records.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from incidents.correlation_rules import CorrelationKey, decide, is_candidate, key_list

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
DEVICE = CorrelationKey(1, "device", "ws1.corp.example", "ws1")
USER = CorrelationKey(2, "user", "alice@corp.example", "Alice Ward")
IP = CorrelationKey(3, "ip", "203.0.113.7", "203.0.113.7")


def incident(pk, *, created=0, status="active", assigned_to="", alerts=1, entities=1, last=0, groups=(1,)):
    return SimpleNamespace(
        pk=pk,
        created_at=T0 + timedelta(minutes=created),
        status=status,
        assigned_to=assigned_to,
        classification="unknown",
        determination="unknown",
        alerts_total=alerts,
        impacted_assets={"device": entities},
        first_activity=T0 + timedelta(hours=last),
        last_activity=T0 + timedelta(hours=last),
        device_group_ids=list(groups),
    )


def test_no_candidate_means_a_new_incident():
    assert decide([]) == (None, [], "")


def test_one_candidate_is_joined_with_the_keys_it_shares():
    only = incident(7)
    assert decide([(only, [DEVICE, USER])]) == (only, [], "shares device ws1.corp.example and user Alice Ward")


def test_several_candidates_merge_into_the_oldest_when_the_merge_rule_allows():
    oldest, newer = incident(3, created=0), incident(9, created=5)

    target, merged, reason = decide([(newer, [USER]), (oldest, [DEVICE])])

    assert (target, merged) == (oldest, [newer])
    assert reason == "shares device ws1.corp.example and user Alice Ward"


def test_candidates_assigned_to_different_people_do_not_merge_and_the_most_shared_wins():
    oldest, newer = incident(3, created=0, assigned_to="alice"), incident(9, created=5, assigned_to="bob")

    target, merged, reason = decide([(oldest, [DEVICE]), (newer, [DEVICE, USER])])

    assert (target, merged, reason) == (newer, [], "shares device ws1.corp.example and user Alice Ward")


def test_a_resolved_candidate_never_merges_and_an_open_one_is_preferred():
    resolved, open_one = incident(3, created=0, status="resolved"), incident(9, created=5)

    target, merged, _ = decide([(resolved, [DEVICE]), (open_one, [USER])])

    assert (target, merged) == (open_one, [])


def test_a_merge_over_the_caps_joins_one_instead(settings):
    settings.CORRELATION_MAX_ALERTS_PER_INCIDENT = 10
    oldest, newer = incident(3, created=0, alerts=6), incident(9, created=5, alerts=5)

    target, merged, _ = decide([(oldest, [DEVICE]), (newer, [DEVICE, USER])])

    assert (target, merged) == (newer, [])


def test_merging_only_within_one_device_group_when_the_setting_asks(settings):
    settings.CORRELATION_MERGE_SAME_DEVICE_GROUP_ONLY = True
    branch, servers = incident(3, created=0, groups=(1,)), incident(9, created=5, groups=(2,))

    _, merged, _ = decide([(branch, [USER]), (servers, [USER])])

    assert merged == []


@pytest.mark.parametrize(
    ("changes", "takes"),
    [
        ({}, True),
        ({"status": "redirected"}, False),
        ({"last": -30}, False),  # last active more than the 24-hour window before the alert
        ({"last": 30}, False),  # first active more than the window after it
        ({"alerts": 1000}, False),  # at the alert cap
        ({"entities": 1000}, False),  # at the entity cap
    ],
)
def test_which_incidents_may_take_an_alert(changes, takes):
    assert is_candidate(incident(1, **changes), T0) is takes


def test_a_long_key_list_names_four_and_counts_the_rest():
    keys = [CorrelationKey(n, "ip", f"198.51.100.{n}", f"198.51.100.{n}") for n in range(1, 7)]
    assert key_list(keys) == "IP 198.51.100.1, IP 198.51.100.2, IP 198.51.100.3 and IP 198.51.100.4 and 2 more"
    assert key_list([IP]) == "IP 203.0.113.7"
