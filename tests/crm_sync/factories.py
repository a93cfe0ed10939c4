"""Factories for the integration's configuration."""

from __future__ import annotations

import factory

from crm_sync.models import ExternalSystem

TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class ExternalSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalSystem

    name = factory.Sequence(lambda n: f"System {n}")
    slug = factory.Sequence(lambda n: f"system-{n}")
    kind = ExternalSystem.Kind.CRM
    base_url = "http://127.0.0.1:9"  # discard port: nothing listens; tests pass a simulator's URL
    signing_secret = TEST_SECRET
    format = ExternalSystem.Format.JSON
    connect_timeout = 1.0
    read_timeout = 2.0
