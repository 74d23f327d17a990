"""Writes to the More resources directory. Each one is audited and keeps positions dense."""

from django.db import connection, transaction
from django.db.models import F, Max

from portal.services import activity_record, changes_between, snapshot
from resources.models import ResourceLink

__all__ = (
    "resource_link_create",
    "resource_link_delete",
    "resource_link_move",
    "resource_link_set_hidden",
    "resource_link_update",
)

AUDITED_FIELDS = ("name", "url", "description", "position", "is_hidden")


def _lock_directory() -> None:
    """
    Serialise the writers that number positions (two concurrent adds must not take the same position; an empty
    table has no rows to lock). Readers are not blocked.
    """
    with connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{ResourceLink._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')


@transaction.atomic
def resource_link_create(*, actor, name: str, url: str, description: str = "") -> ResourceLink:
    _lock_directory()
    last = ResourceLink.objects.aggregate(last=Max("position"))["last"]
    link = ResourceLink(name=name, url=url, description=description, position=0 if last is None else last + 1)
    link.full_clean()
    link.save()
    activity_record(
        actor=actor,
        action="resources.resourcelink.created",
        target=link,
        changes=changes_between({}, snapshot(link, AUDITED_FIELDS)),
    )
    return link


@transaction.atomic
def resource_link_update(*, actor, link: ResourceLink, **values) -> ResourceLink:
    link = ResourceLink.objects.select_for_update().get(pk=link.pk)
    before = snapshot(link, AUDITED_FIELDS)
    for field, value in values.items():
        if field not in ("name", "url", "description"):
            raise ValueError(f"{field} cannot be changed here")
        setattr(link, field, value)
    link.full_clean()
    changes = changes_between(before, snapshot(link, AUDITED_FIELDS))
    if changes:
        link.save(update_fields=[*changes, "updated_at"])
        activity_record(actor=actor, action="resources.resourcelink.updated", target=link, changes=changes)
    return link


@transaction.atomic
def resource_link_set_hidden(*, actor, link: ResourceLink, hidden: bool) -> ResourceLink:
    link = ResourceLink.objects.select_for_update().get(pk=link.pk)
    if link.is_hidden != hidden:
        before = snapshot(link, AUDITED_FIELDS)
        link.is_hidden = hidden
        link.save(update_fields=["is_hidden", "updated_at"])
        activity_record(
            actor=actor,
            action="resources.resourcelink.hidden" if hidden else "resources.resourcelink.shown",
            target=link,
            changes=changes_between(before, snapshot(link, AUDITED_FIELDS)),
        )
    return link


@transaction.atomic
def resource_link_move(*, actor, link: ResourceLink, offset: int) -> ResourceLink:
    """Move a link up (offset < 0) or down (offset > 0) the list, swapping places with its neighbours."""
    _lock_directory()
    links = list(ResourceLink.objects.select_for_update().order_by("position", "id"))
    index = next(i for i, candidate in enumerate(links) if candidate.pk == link.pk)
    target = max(0, min(len(links) - 1, index + offset))
    if target == index:
        return links[index]
    moved = links.pop(index)
    links.insert(target, moved)
    before = moved.position
    for position, candidate in enumerate(links):
        if candidate.position != position:
            candidate.position = position
            ResourceLink.objects.filter(pk=candidate.pk).update(position=position)
    activity_record(
        actor=actor,
        action="resources.resourcelink.moved",
        target=moved,
        changes={"position": {"before": before, "after": moved.position}},
    )
    return moved


@transaction.atomic
def resource_link_delete(*, actor, link: ResourceLink) -> None:
    _lock_directory()
    link = ResourceLink.objects.select_for_update().get(pk=link.pk)
    activity_record(
        actor=actor,
        action="resources.resourcelink.deleted",
        target=link,
        changes=changes_between(snapshot(link, AUDITED_FIELDS), {}),
    )
    position = link.position
    link.delete()
    ResourceLink.objects.filter(position__gt=position).update(position=F("position") - 1)
