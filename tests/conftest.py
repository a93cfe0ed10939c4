import pytest

from tests.factories import CustomerFactory, ProductFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _session_cache():
    """Module- and session-scoped fixtures (the demo) run before any test's own settings: they get a fresh
    in-memory cache too, never the developer's file or Redis cache, whose cached permission sets (keyed by
    user id) belong to another run's users with the same ids."""
    from django.test.utils import override_settings

    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        yield


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
    yield
    # Nor may they leak out: a module-scoped fixture (the demo) runs before the next test's setup, and a
    # cached permission of a rolled-back user would apply to the next user given the same id.
    cache.clear()
    # A request in Chinese leaves its language active in the thread: the next test starts in English.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


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
