"""The fixed cast: one couple (partner_a, partner_b) of `therapist`, an outsider from another couple
of `other_therapist`, and a staff member. Built with factory_boy.

`module_db` is for modules whose many cases read one world: see its docstring."""

import pytest
from django.apps import apps
from django.core.cache import caches
from django.db import connection, transaction
from django.urls import reverse

from accounts.models import User
from intimacy import trend_parts
from intimacy.builtin import BUILTIN_EXERCISES, seed_builtin_exercises
from intimacy.models import Exercise, Program, ProgramStage, Reflection
from intimacy.programs_builtin import BUILTIN_PROGRAMS, seed_builtin_programs
from tests.factories import (
    PASSWORD,
    AssignmentFactory,
    CoupleFactory,
    PartnerFactory,
    ReflectionFactory,
    SessionFactory,
    UserFactory,
)

BUILTIN_KEYS = [spec["builtin_key"] for spec in BUILTIN_EXERCISES]
BUILTIN_PROGRAM_KEYS = [spec["builtin_key"] for spec in BUILTIN_PROGRAMS]


def _seed_builtin_programs() -> None:
    if Program.objects.filter(builtin_key__in=BUILTIN_PROGRAM_KEYS).count() < len(BUILTIN_PROGRAM_KEYS):
        seed_builtin_programs(Program, ProgramStage, Exercise)


@pytest.fixture(autouse=True)
def _clean_shared_state(db):
    # Transactional and live-server tests flush the database, seeded rows included (every other test
    # rolls back, so the rows are either as seeded or gone); the database cache is not flushed, so
    # allauth's rate limits (and kept drafts) would leak between tests without this.
    if Exercise.objects.filter(builtin_key__in=BUILTIN_KEYS).count() < len(BUILTIN_KEYS):
        seed_builtin_exercises(Exercise)
    _seed_builtin_programs()
    for alias in ("default", "drafts"):
        caches[alias].clear()
    yield
    # The therapist's trend parts are derived from sessions, reflections and disputes and kept exact by
    # every write (intimacy/trend_parts.py): after any test, whatever it wrote, each must equal its rebuild.
    differing = trend_parts.differences()
    assert differing == [], f"trend parts out of step with the sessions of couple(s) {differing}"


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """One transaction around a whole module, for a world built once and read by many cases.

    A module-scoped fixture builds its world inside `with module_db.unblock():`. Each test still runs
    in its own transaction (a savepoint inside this one) and rolls back what it changed; after the
    module's last test this transaction rolls back too, so nothing of the world reaches another module
    (Django's TestCase.setUpTestData works the same way). Tests of such a module take the world's
    objects as copies (`copy.copy` or `copy.deepcopy`), so one test's changes to them do not reach the next.
    Transactional and live-server tests flush the database: they do not belong in such a module.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # like TestCase's own: a durable block inside a test stays allowed
        outer.__enter__()
        # A transactional test in an earlier module may have flushed the seeded exercise away.
        seed_builtin_exercises(Exercise)
        _seed_builtin_programs()
    try:
        yield django_db_blocker
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _tend_rows() -> dict[str, list[tuple]]:
    # Plain SQL, every column in primary-key order: the same rows the ORM would give, without
    # compiling a queryset per model each time (the access table does this hundreds of times).
    rows = {}
    with connection.cursor() as cursor:
        for app in ("accounts", "intimacy"):
            for model in apps.get_app_config(app).get_models():
                table, pk = (connection.ops.quote_name(n) for n in (model._meta.db_table, model._meta.pk.column))
                cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # noqa: S608 - names from the models
                rows[model._meta.label] = cursor.fetchall()
    return rows


@pytest.fixture
def tend_rows():
    """`tend_rows()`: every row of Tend's own tables (accounts and intimacy; auditlog's trail aside),
    to compare before and after something that must change nothing."""
    return _tend_rows


@pytest.fixture
def therapist():
    return UserFactory(email="therapist@example.org", name="Dr Lee")


@pytest.fixture
def other_therapist():
    return UserFactory(email="other-therapist@example.org")


@pytest.fixture
def staff():
    return UserFactory(email="staff@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def couple(therapist):
    return CoupleFactory(therapist=therapist, label="Alex & Sam")


@pytest.fixture
def partner_a(couple):
    return PartnerFactory(couple=couple, slot=1, name="Alex", email="alex@example.org")


@pytest.fixture
def partner_b(couple):
    return PartnerFactory(couple=couple, slot=2, name="Sam", email="sam@example.org")


@pytest.fixture
def other_couple(other_therapist):
    return CoupleFactory(therapist=other_therapist, label="Casey & Drew")


@pytest.fixture
def outsider(other_couple):
    """A partner of another couple, of another therapist."""
    PartnerFactory(couple=other_couple, slot=2, name="Drew", email="drew@example.org")
    return PartnerFactory(couple=other_couple, slot=1, name="Casey", email="casey@example.org")


@pytest.fixture
def assignment(couple, partner_a, partner_b):
    return AssignmentFactory(couple=couple)


@pytest.fixture
def session(assignment, partner_a, partner_b):
    """A session partner_a logged as giver, with their shared reflection; partner_b hasn't reflected."""
    s = SessionFactory(assignment=assignment, giver=partner_a, receiver=partner_b, logged_by=partner_a)
    ReflectionFactory(session=s, partner=partner_a, role=Reflection.Role.GIVER, notes="A-shared-words")
    return s


@pytest.fixture
def client_for(client):
    """Sign the test client in as someone: `client_for(partner_a)` or `client_for(therapist)`.

    `reauthenticated=True` also types the password again, as Tend asks before a couple's record is
    exported or deleted (accounts/reauthentication.py); it counts for five minutes.
    """

    def sign_in(who, *, reauthenticated: bool = False):
        user = who if isinstance(who, User) else who.user
        client.force_login(user)
        if reauthenticated:
            response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
            assert response.status_code == 302, "the password was not accepted"
        return client

    return sign_in


@pytest.fixture
def migration():
    """`migration("intimacy", "text_limits")`: the migration of that app whose name ends so (found by
    name: migrations are renumbered when branches merge)."""
    from django.db.migrations.loader import MigrationLoader

    def find(app_label: str, name_ends: str):
        loader = MigrationLoader(None, ignore_no_migrations=True)
        (found,) = [
            m for (app, name), m in loader.disk_migrations.items() if app == app_label and name.endswith(name_ends)
        ]
        return found

    return find
