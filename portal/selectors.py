from django.contrib.contenttypes.models import ContentType
from django.db import models

from portal.models import ActivityLogEntry, UserPreference
from portal.scoping import restrict_activity

__all__ = ("activity_for", "activity_log", "activity_seen_by", "preference_get")


def activity_for(target: models.Model | type[models.Model]):
    """The activity log of one object, or of every object of a model when given the class, newest first."""
    content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    entries = ActivityLogEntry.objects.filter(target_type=content_type)
    if isinstance(target, models.Model):
        entries = entries.filter(target_id=str(target.pk))
    return entries.select_related("target_type")


def activity_log():
    """
    The whole activity log, unordered: its readers order it (the API pages it by keyset). The target's type is read
    with each entry rather than once per entry.
    """
    return ActivityLogEntry.objects.select_related("target_type")


def activity_seen_by(user, target: models.Model | type[models.Model] | None = None):
    """
    The activity log as `user` may read it (every section's rule: portal.scoping.restrict_activity): of one object,
    of every object of a model, or all of it (`target` None), unordered for the whole log (its readers order it).
    """
    entries = activity_log() if target is None else activity_for(target)
    return restrict_activity(entries, user)


def preference_get(user, key: str, default=None):
    value = UserPreference.objects.filter(user=user, key=key).values_list("value", flat=True).first()
    return default if value is None else value
