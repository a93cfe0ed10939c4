import pytest

from tests.factories import CustomerFactory, ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    # Throttling state and caches must not leak between tests.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # LocMemCache keeps its data per process, not per settings change; each test's database starts over.
    from django.core.cache import cache

    cache.clear()
    settings.AXES_ENABLED = False
    # Real password hashing costs ~100 ms per user; tests create hundreds of personas.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sales(db):
    return UserFactory(username="sally", role="sales")


@pytest.fixture
def other_sales(db):
    return UserFactory(username="sam", role="sales")


@pytest.fixture
def planner(db):
    return UserFactory(username="pat", role="planner")


@pytest.fixture
def manager(db):
    return UserFactory(username="morgan", role="production_manager")


@pytest.fixture
def service_agent(db):
    return UserFactory(username="cass", role="customer_service")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role="admin")


@pytest.fixture
def outsider(db):
    """A logged-in user with no role at all."""
    return UserFactory(username="otto")


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def product(db):
    return ProductFactory()
