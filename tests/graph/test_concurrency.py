"""Optimistic concurrency on the Graph API: a change carries the ETag it was based on, and a stale one is refused."""

import pytest

from tests.factories import AlertFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("factory", "path"),
    [(IncidentFactory, "/v1.0/security/incidents/{}"), (AlertFactory, "/v1.0/security/alerts_v2/{}")],
    ids=["incident", "alert"],
)
def test_it_applies_a_change_based_on_the_current_etag_and_refuses_one_based_on_an_old_one(analyst_api, factory, path):
    row = factory()
    url = path.format(row.pk)
    etag = analyst_api.get(url)["ETag"]

    first = analyst_api.patch(url, {"status": "inProgress"}, format="json", headers={"If-Match": etag})
    stale = analyst_api.patch(url, {"assignedTo": "late"}, format="json", headers={"If-Match": etag})

    assert first.status_code == 200
    assert first["ETag"] != etag
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "PreconditionFailed"
    assert stale["ETag"] == first["ETag"]
    row.refresh_from_db()
    assert (row.status, row.assigned_to) == ("inProgress", "")
