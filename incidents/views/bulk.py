"""
What the incident queue's and the alert queue's bulk bars share: reading the selection, the actions both offer,
and refusing a request that makes no sense before anything changes. Applying the change is the services'
(`bulk_apply`); each queue adds its own actions and reports the outcome in its own page.
"""

from django.core.exceptions import ValidationError

from incidents.choices import Determination
from incidents.services.incidents import check_classification

__all__ = ("selected_ids", "shared_values")


def selected_ids(request, field: str) -> list[int]:
    """The ids ticked (`field` is "incident" or "alert"), once each, in the order sent."""
    ids = []
    for value in request.POST.getlist(field):
        value = value.strip()
        if not value.isdecimal():
            raise ValidationError(f"{value!r} is not an {field} id.")
        ids.append(int(value))
    if not ids:
        raise ValidationError(f"Select at least one {field} first.")
    return list(dict.fromkeys(ids))


def shared_values(request, action: str, plural: str) -> dict:
    """
    The values of an action both queues offer (assigning, classifying), as `incident_update` and `alert_update`
    take them; ValidationError for an action the queue does not know or a request that is the same mistake for
    every selected item.
    """
    if action == "assign_me":
        return {"assigned_to": request.user.get_username()}
    if action == "unassign":
        return {"assigned_to": ""}
    if action == "assign":
        name = request.POST.get("assigned_to", "").strip()
        if not name:
            raise ValidationError(f"Type the name to assign the {plural} to, or choose Assign to me.")
        return {"assigned_to": name}
    if action == "classify":
        classification = request.POST.get("classification", "")
        determination = request.POST.get("determination") or Determination.UNKNOWN
        if not classification:
            raise ValidationError("Choose a classification.")
        check_classification(classification, determination)
        return {"classification": classification, "determination": determination}
    raise ValidationError(f"Choose what to do with the selected {plural}.")
