"""The one merge rule (incidents.merge_rule), without a database: correlation and people both follow it."""

from types import SimpleNamespace

import pytest

from incidents.merge_rule import merge_conflict


def incident(assigned_to="", classification="unknown", determination="unknown"):
    return SimpleNamespace(assigned_to=assigned_to, classification=classification, determination=determination)


@pytest.mark.parametrize(
    ("incidents", "conflict"),
    [
        ([incident(), incident()], None),
        ([incident("alice"), incident(), incident("alice")], None),  # unset agrees with anything
        ([incident("alice"), incident("bob")], "assigned to different people"),
        ([incident(classification="truePositive"), incident(classification="falsePositive")], "classified differently"),
        ([incident(classification="truePositive"), incident()], None),
        (
            [incident(determination="malware"), incident(determination="phishing")],
            "given different determinations",
        ),
    ],
)
def test_incidents_merge_when_assignee_classification_and_determination_agree_or_are_unset(incidents, conflict):
    assert merge_conflict(incidents) == conflict
