"""factory_boy factories for the shared model; tests build what they need with these."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import Alert, DeviceGroup, Entity, Evidence, Incident
from resources.models import ResourceLink


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@corp.example")
    password = factory.django.Password("correct-horse-battery")


class DeviceGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceGroup

    name = factory.Sequence(lambda n: f"Group {n}")


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    kind = "device"
    key = factory.Sequence(lambda n: f"ws{n}.corp.example")
    display_name = factory.LazyAttribute(lambda entity: entity.key)
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    display_name = factory.Sequence(lambda n: f"Incident {n}")
    severity = "medium"


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    provider_alert_id = factory.Sequence(lambda n: f"da{n:012d}")
    graph_id = factory.LazyAttribute(lambda alert: alert.provider_alert_id)
    title = factory.Sequence(lambda n: f"Suspicious activity {n}")
    severity = "medium"
    service_source = "microsoftDefenderForEndpoint"
    detection_source = "microsoftDefenderForEndpoint"
    created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    last_update = factory.LazyFunction(timezone.now)


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    alert = factory.SubFactory(AlertFactory)
    entity = factory.SubFactory(EntityFactory)
    odata_type = "#microsoft.graph.security.deviceEvidence"


class ResourceLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResourceLink

    name = factory.Sequence(lambda n: f"Portal {n}")
    url = factory.Sequence(lambda n: f"https://portal{n}.example/")
    position = factory.Sequence(lambda n: 100 + n)
