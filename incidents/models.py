"""
The shared security model: device groups, entities, alerts, evidence, incidents and comments.

Field names follow Microsoft Graph `security.incident`, `security.alert` (alerts_v2) and `alertEvidence` in
snake_case. Enumerations are enforced by check constraints in the database, not only by Django validation, so no
writer (bulk ingestion, SQL, a future connector) can store a value the Graph API could not emit.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Length, Upper
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from incidents.choices import (
    AlertStatus,
    Classification,
    DetectionSource,
    Determination,
    DeviceRiskScore,
    EntityKind,
    EvidenceRemediationStatus,
    EvidenceVerdict,
    IncidentStatus,
    ServiceSource,
    Severity,
)
from portal.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA
from portal.scoping import ScopedQuerySet, data_scope, restrict

__all__ = (
    "COMMENT_MAX_LENGTH",
    "Alert",
    "Comment",
    "DeviceGroup",
    "Entity",
    "Evidence",
    "Incident",
    "IncidentEntity",
)

COMMENT_MAX_LENGTH = 30_000


def _one_of(field: str, choices: type[models.TextChoices], *, model: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=f"{model}_{field}_valid")


def _severity_rank() -> models.GeneratedField:
    """Severity as 0 (unknown) .. 4 (high), computed by PostgreSQL so that queues sort and filter it on an index."""
    return models.GeneratedField(
        expression=Case(
            *(When(severity=value, then=Value(rank)) for rank, value in enumerate(Severity.values)),
            default=Value(0),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )


# --- Scoped reads: every read of security data for a person is `Model.objects.restrict(user, action)` -----------

# What each action on alerts and incidents needs, in the person's data scope.
ACTION_PERMISSIONS = {"view": VIEW_SECURITY_DATA, "change": MANAGE_INCIDENTS}


class SecurityDataQuerySet(ScopedQuerySet):
    """Alerts and incidents: in scope when their devices' groups (`device_group_ids`) meet the person's."""

    action_permissions = ACTION_PERMISSIONS


class EntityQuerySet(ScopedQuerySet):
    def restrict(self, user, action: str = "view"):
        """
        A device when its device group is in scope; any other entity (user, address, file, ...) when it appears in
        an alert in scope, so that a name only out-of-scope alerts carry never reaches a scoped reader. The second
        test is an EXISTS over the entity's evidence (the (entity, alert) index) to its alerts' device groups.
        """
        scope = data_scope(user, ACTION_PERMISSIONS[action])
        if scope.all_data:
            return self
        if scope.is_empty:
            return self.none()
        seen_in_scope = restrict(
            Evidence.objects.filter(entity=OuterRef("pk")),
            user,
            permission=ACTION_PERMISSIONS[action],
            device_groups_field="alert__device_group_ids",
        )
        return self.devices_in_scope(user, action) | self.exclude(kind=EntityKind.DEVICE).filter(Exists(seen_in_scope))

    def devices_in_scope(self, user, action: str = "view"):
        """The devices whose own device group is in scope."""
        return restrict(
            self.filter(kind=EntityKind.DEVICE),
            user,
            permission=ACTION_PERMISSIONS[action],
            device_groups_field="device_group",
        )


class EvidenceQuerySet(ScopedQuerySet):
    def restrict(self, user, action: str = "view"):
        """
        The evidence of alerts in scope, except what names a device (as its entity, or as the device a process or
        file was seen on) of a device group out of scope: a scoped reader of an alert spanning two device groups sees
        what happened on their devices, never the others' names.
        """
        permission = ACTION_PERMISSIONS[action]
        if data_scope(user, permission).all_data:
            return self
        devices_in_scope = Entity.objects.devices_in_scope(user, action).values("pk")
        entity_shown = Q(entity__isnull=True) | ~Q(entity__kind=EntityKind.DEVICE) | Q(entity__in=devices_in_scope)
        device_shown = Q(device__isnull=True) | Q(device__in=devices_in_scope)
        of_alerts_in_scope = restrict(self, user, permission=permission, device_groups_field="alert__device_group_ids")
        return of_alerts_in_scope.filter(entity_shown & device_shown)


class CommentQuerySet(ScopedQuerySet):
    def restrict(self, user, action: str = "view"):
        """The comments on incidents or alerts in scope."""
        return self.filter(
            Q(incident__in=Incident.objects.restrict(user, action)) | Q(alert__in=Alert.objects.restrict(user, action))
        )


class DeviceGroup(models.Model):
    """The unit of data scoping: a role assignment covers all data or a set of device groups."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # Lower rank matches first when device-group rules (later) assign a device; also the display order.
    rank = models.PositiveIntegerField(default=0)
    # Devices whose name matches this shell-style pattern ("ws-lon-*") are put in the group when it is applied;
    # empty when membership is chosen by hand.
    device_name_pattern = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rank", "name"]
        # The catalogue's security-operations permissions live here so that a role assigned over some device
        # groups can be stored as django-guardian object permissions on them (portal.catalogue).
        permissions = [
            ("view_security_data", "View security data"),
            ("manage_incidents", "Manage alerts and incidents"),
            ("take_response_actions", "Take response actions"),
            ("approve_response_actions", "Approve response actions"),
        ]

    def __str__(self):
        return self.name


class Entity(models.Model):
    """
    One row per real-world thing (device, user, mailbox, file, ...), unique on (kind, key).

    `key` is canonical (lowercase FQDN or device id, lowercase UPN or SID, sha256 else sha1/md5, normalised
    address), so the same thing seen by two sensors is one entity.
    """

    kind = models.CharField(max_length=32, choices=EntityKind.choices)
    key = models.CharField(max_length=512)
    display_name = models.CharField(max_length=512)
    # The latest known attributes from evidence (OS build, logged-on users, file path, ...).
    attributes = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # Devices only: their group (the scoping unit), platform, risk and isolation state.
    device_group = models.ForeignKey(
        DeviceGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    os_platform = models.CharField(max_length=64, blank=True)
    risk_score = models.CharField(max_length=16, choices=DeviceRiskScore.choices, blank=True)
    is_isolated = models.BooleanField(default=False)

    objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entities"
        ordering = ["kind", "display_name"]
        constraints = [
            # Ingestion upserts on this pair (INSERT ... ON CONFLICT (kind, key)); also serves entity search by key.
            models.UniqueConstraint(fields=["kind", "key"], name="entity_kind_key_unique"),
            _one_of("kind", EntityKind, model="entity"),
            models.CheckConstraint(condition=~Q(key=""), name="entity_key_not_empty"),
            models.CheckConstraint(
                condition=Q(risk_score="") | Q(risk_score__in=DeviceRiskScore.values), name="entity_risk_score_valid"
            ),
        ]
        indexes = [
            # Devices at risk / device list of a group, most recently seen first.
            models.Index(fields=["kind", "device_group", "-last_seen"], name="entity_kind_group_seen"),
            # Queue search by an entity's name as people type it ("ws-lon-002", "Alice Ward"), any case.
            models.Index(Upper("display_name"), name="entity_name_upper"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.display_name}"


class Incident(models.Model):
    display_name = models.CharField(max_length=400)
    # Once a person renames the incident, correlation stops renaming it (a later merge into it may, as Defender).
    display_name_is_custom = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    summary = models.TextField(blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.UNKNOWN)
    severity_rank = _severity_rank()
    # Set when a person chose the severity; the rollup (highest alert severity) then leaves it alone.
    severity_is_custom = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.ACTIVE)
    classification = models.CharField(max_length=32, choices=Classification.choices, default=Classification.UNKNOWN)
    determination = models.CharField(max_length=32, choices=Determination.choices, default=Determination.UNKNOWN)
    # Graph's assignedTo is free text: a user's UPN (here their username) or a group name; empty = unassigned.
    assigned_to = models.CharField(max_length=254, blank=True)
    custom_tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    system_tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    redirect_incident = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="redirected_from"
    )
    resolving_comment = models.TextField(blank=True)
    last_modified_by = models.CharField(max_length=254, blank=True)
    first_activity = models.DateTimeField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_update = models.DateTimeField(auto_now=True)

    # Rollups derived from the incident's alerts and kept true by the correlation and incident services.
    alerts_total = models.PositiveIntegerField(default=0)
    alerts_active = models.PositiveIntegerField(default=0)
    # {"device": 2, "user": 1, "mailbox": 0, ...}
    impacted_assets = models.JSONField(default=dict, blank=True)
    service_sources = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    detection_sources = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    categories = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    mitre_techniques = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    # The device groups of the incident's devices: the scoping relation (a scoped user sees the incident when
    # one of these is in their scope; an empty list means no device, visible only with all-data scope).
    device_group_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Set when alerts were attached but the full rollup has not run yet (it runs once per correlation batch, and
    # the sweep catches an incident whose worker died in between).
    rollups_stale = models.BooleanField(default=False)

    objects = SecurityDataQuerySet.as_manager()

    class Meta:
        ordering = ["-last_update", "-id"]
        constraints = [
            _one_of("severity", Severity, model="incident"),
            _one_of("status", IncidentStatus, model="incident"),
            _one_of("classification", Classification, model="incident"),
            _one_of("determination", Determination, model="incident"),
            # A redirected incident always says where it went, and only a redirected one does.
            models.CheckConstraint(
                condition=Q(status=IncidentStatus.REDIRECTED, redirect_incident__isnull=False)
                | (~Q(status=IncidentStatus.REDIRECTED) & Q(redirect_incident__isnull=True)),
                name="incident_redirect_consistent",
            ),
        ]
        indexes = [
            # Incident queue default view: status in (active, inProgress), newest update first.
            models.Index(fields=["status", "-last_update"], name="incident_status_updated"),
            # Incident queue sorted by severity, then newest update.
            models.Index(fields=["-severity_rank", "-last_update"], name="incident_severity_updated"),
            # "Assigned to me" / unassigned filters and the Home card.
            models.Index(fields=["assigned_to", "-last_update"], name="incident_assignee_updated"),
            # The queue's default view (open work, newest update first): read in order, no sort.
            models.Index(
                fields=["-last_update", "-id"],
                name="incident_open_updated",
                condition=Q(status__in=["active", "inProgress"]),
            ),
            # Every incident, newest update first: the API's default list and its keyset pages, read in order.
            models.Index(fields=["-last_update", "-id"], name="incident_updated"),
            # Time-range filters on last activity (1 day .. 6 months).
            models.Index(fields=["-last_activity"], name="incident_last_activity"),
            # Correlation candidates: open incidents with recent activity.
            models.Index(
                fields=["-last_activity"],
                name="incident_open_activity",
                condition=Q(status__in=[IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS]),
            ),
            # Data scoping: device_group_ids && ARRAY[user's groups].
            GinIndex(fields=["device_group_ids"], name="incident_device_groups"),
            # Tag filter: custom_tags @> ARRAY['tag'].
            GinIndex(fields=["custom_tags"], name="incident_custom_tags"),
            # The sweep: incidents whose rollups wait for a refresh.
            models.Index(fields=["id"], name="incident_rollups_stale", condition=Q(rollups_stale=True)),
        ]

    def __str__(self):
        return f"#{self.pk} {self.display_name}"


class Alert(models.Model):
    # Graph `id` as the source sent it; our primary key is the portal's own id.
    graph_id = models.CharField(max_length=256, blank=True)
    # Deduplication key with service_source; the Graph `id` stands in where the source sends no providerAlertId.
    provider_alert_id = models.CharField(max_length=256)
    # Indexed by alert_incident_activity (incident first): a second index would only slow every insert.
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    recommended_actions = models.TextField(blank=True)
    category = models.CharField(max_length=64, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.UNKNOWN)
    severity_rank = _severity_rank()
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.NEW)
    classification = models.CharField(max_length=32, choices=Classification.choices, default=Classification.UNKNOWN)
    determination = models.CharField(max_length=32, choices=Determination.choices, default=Determination.UNKNOWN)
    assigned_to = models.CharField(max_length=254, blank=True)
    service_source = models.CharField(max_length=64, choices=ServiceSource.choices, default=ServiceSource.UNKNOWN)
    detection_source = models.CharField(max_length=64, choices=DetectionSource.choices, default=DetectionSource.UNKNOWN)
    detector_id = models.CharField(max_length=256, blank=True)
    product_name = models.CharField(max_length=256, blank=True)
    actor_display_name = models.CharField(max_length=256, blank=True)
    threat_display_name = models.CharField(max_length=256, blank=True)
    threat_family_name = models.CharField(max_length=256, blank=True)
    mitre_techniques = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    system_tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    alert_web_url = models.URLField(max_length=2048, blank=True)
    tenant_id = models.CharField(max_length=64, blank=True)
    additional_data = models.JSONField(default=dict, blank=True)
    first_activity = models.DateTimeField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    # Graph createdDateTime / lastUpdateDateTime / resolvedDateTime: the source's times when it sent them.
    created_at = models.DateTimeField()
    last_update = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The original Graph alert JSON as last received.
    payload = models.JSONField(default=dict)
    # How many times the source re-sent this alert after the first (deduplicated, never duplicated).
    repeat_count = models.PositiveIntegerField(default=0)
    ingested_at = models.DateTimeField(auto_now_add=True)
    # Where the alert came in: "api:<username>", "seed_demo", a connector's name.
    ingested_via = models.CharField(max_length=150, blank=True)
    # The device groups of the alert's devices: the scoping relation, as on Incident.
    device_group_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # When and why the alert was attached to its incident ("shares device ws1.corp.example ..."); null until then.
    correlated_at = models.DateTimeField(null=True, blank=True)
    correlation_reason = models.TextField(blank=True)

    objects = SecurityDataQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("ingest_alert", "Can push alerts in through the ingest API")]
        constraints = [
            # Re-sending an alert updates it: ingestion upserts on this pair.
            models.UniqueConstraint(
                fields=["service_source", "provider_alert_id"], name="alert_source_provider_id_unique"
            ),
            models.CheckConstraint(condition=~Q(provider_alert_id=""), name="alert_provider_alert_id_not_empty"),
            _one_of("severity", Severity, model="alert"),
            _one_of("status", AlertStatus, model="alert"),
            _one_of("classification", Classification, model="alert"),
            _one_of("determination", Determination, model="alert"),
            _one_of("service_source", ServiceSource, model="alert"),
            _one_of("detection_source", DetectionSource, model="alert"),
        ]
        indexes = [
            # Alert queue default view: status in (new, inProgress) over the last 7 days, newest first.
            models.Index(fields=["status", "-created_at"], name="alert_status_created"),
            # Alert queue without a status filter, and time-range filters.
            models.Index(fields=["-created_at"], name="alert_created"),
            # The alert queue's default view (new and in progress, newest first): read in order, no sort.
            models.Index(
                fields=["-created_at", "-id"],
                name="alert_open_created",
                condition=Q(status__in=["new", "inProgress"]),
            ),
            # An incident's alerts in time order (incident page, rollups).
            models.Index(fields=["incident", "first_activity"], name="alert_incident_activity"),
            # The correlation sweep: alerts not yet attached to an incident.
            models.Index(fields=["ingested_at"], name="alert_uncorrelated", condition=Q(correlated_at__isnull=True)),
            # The incident queue's "alerts received in the last 24 hours".
            models.Index(fields=["-ingested_at"], name="alert_ingested"),
            # Data scoping: device_group_ids && ARRAY[user's groups].
            GinIndex(fields=["device_group_ids"], name="alert_device_groups"),
        ]

    def __str__(self):
        return self.title


class IncidentEntity(models.Model):
    """
    The entities of an incident's alerts, one row per (incident, entity), kept by correlation, merge and move.

    Correlation finds candidate incidents and noisy entities through it (a handful of rows per entity, instead of
    every evidence row the entity ever had), and the rollups count impacted assets from it.
    """

    # Both directions are indexed by the two composite indexes below; single-column ones would only slow inserts.
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="entity_links", db_index=False)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="incident_links", db_index=False)

    class Meta:
        constraints = [
            # Also serves "the entities of one incident" (rollups, Assets tab).
            models.UniqueConstraint(fields=["incident", "entity"], name="incidententity_unique"),
        ]
        indexes = [
            # Correlation: the incidents an entity belongs to (candidates, noisy-entity counts).
            models.Index(fields=["entity", "incident"], name="incidententity_entity"),
        ]

    def __str__(self):
        return f"{self.entity_id} in incident {self.incident_id}"


class Evidence(models.Model):
    """An entity as it appears in one alert, with the roles and verdict the alert gave it."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evidence")
    # Null only for evidence that names no identifiable thing; its original object is still kept in `payload`.
    # Indexed by evidence_entity_alert (entity first).
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence", db_index=False
    )
    # "#microsoft.graph.security.deviceEvidence", or any other type as the source sent it.
    odata_type = models.CharField(max_length=200)
    roles = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    detailed_roles = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    verdict = models.CharField(max_length=32, choices=EvidenceVerdict.choices, default=EvidenceVerdict.UNKNOWN)
    remediation_status = models.CharField(
        max_length=32, choices=EvidenceRemediationStatus.choices, default=EvidenceRemediationStatus.NONE
    )
    remediation_status_details = models.TextField(blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    # Links that process, file and registry evidence carry: the device they were on, the image file of a process,
    # its parent process. Read only from the evidence row, never searched by: not indexed, so that each evidence
    # insert maintains three indexes fewer (entities are never deleted, so PROTECT never has to look them up).
    device = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    image_file = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    parent_process = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The original evidence object as received.
    payload = models.JSONField(default=dict)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["alert", "id"]
        constraints = [
            # One row per entity per alert; a re-sent alert merges its roles into the same row.
            models.UniqueConstraint(
                fields=["alert", "entity"], name="evidence_alert_entity_unique", condition=Q(entity__isnull=False)
            ),
            _one_of("verdict", EvidenceVerdict, model="evidence"),
            _one_of("remediation_status", EvidenceRemediationStatus, model="evidence"),
        ]
        indexes = [
            # Entity page: every alert an entity appears in (entity_id, alert_id) without touching the heap.
            models.Index(fields=["entity", "alert"], name="evidence_entity_alert"),
        ]

    def __str__(self):
        return f"{self.odata_type.rsplit('.', 1)[-1]} in alert {self.alert_id}"


class Comment(models.Model):
    """A comment on an incident or on an alert (exactly one of them), at most 30,000 characters as in Defender."""

    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as written at the time, so the comment still says who wrote it after the account is gone.
    author_name = models.CharField(max_length=254)
    text = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=False, alert__isnull=True) | Q(incident__isnull=True, alert__isnull=False),
                name="comment_on_incident_or_alert",
            ),
            models.CheckConstraint(
                condition=Q(GreaterThan(Length("text"), 0)) & Q(LessThanOrEqual(Length("text"), COMMENT_MAX_LENGTH)),
                name="comment_text_length",
            ),
        ]
        indexes = [
            # Activity tab: an incident's comments, newest first. (Alert comments use the alert FK's index.)
            models.Index(fields=["incident", "-created_at"], name="comment_incident_recent"),
        ]

    def __str__(self):
        return f"Comment by {self.author_name} at {self.created_at:%Y-%m-%d %H:%M}"
