"""The floor's work order (tests.production.floor) for the tests of config's history writes."""

from tests.production.floor.conftest import floor_plant, ops, released  # noqa: F401 - fixtures
