"""The orders incidents and alerts page in over the API (portal.api.pagination.KeysetPagination)."""

from portal.api.pagination import KeysetPagination

__all__ = ("AlertPagination", "IncidentPagination")


class IncidentPagination(KeysetPagination):
    orderings = {
        "-last_update": ("-last_update", "-id"),
        "last_update": ("last_update", "id"),
        "-created_at": ("-created_at", "-id"),
        "created_at": ("created_at", "id"),
        # The severity the caller sees (the viewset annotates it: incidents.selectors.with_seen_severity).
        "-severity": ("-seen_severity_rank", "-last_update", "-id"),
        "severity": ("seen_severity_rank", "-last_update", "-id"),
    }
    default_ordering = "-last_update"


class AlertPagination(KeysetPagination):
    orderings = {
        "-created_at": ("-created_at", "-id"),
        "created_at": ("created_at", "id"),
        "-last_update": ("-last_update", "-id"),
        "last_update": ("last_update", "id"),
        "-severity": ("-severity_rank", "-created_at", "-id"),
        "severity": ("severity_rank", "-created_at", "-id"),
    }
    default_ordering = "-created_at"
