"""Two ratings, not one (issue 13): "How comfortable did you feel?" and "How safe did you feel?".

Shyness and danger must not look the same: each is its own required question, 0–10, held by the
database like every rating; old answers, which meant both, migrate to both.
"""

import pytest
from django.db import IntegrityError, transaction
from django.db.migrations import RunPython
from django.db.migrations.loader import MigrationLoader

from intimacy import trend_parts
from intimacy.forms import ReflectionForm
from intimacy.models import Reflection
from tests.factories import ReflectionFactory

pytestmark = pytest.mark.django_db

BOTH = {"connection": "6", "comfort": "7", "safe": "8", "visibility": "shared"}


class TestTheForm:
    def test_asks_two_questions_in_tends_words(self):
        form = ReflectionForm()
        assert form.fields["comfort"].label == "How comfortable did you feel?"
        assert form.fields["safe"].label == "How safe did you feel?"

    @pytest.mark.parametrize("missing", ["comfort", "safe"])
    def test_both_are_required(self, missing):
        data = {k: v for k, v in BOTH.items() if k != missing}
        form = ReflectionForm(data)
        assert not form.is_valid()
        assert list(form.errors) == [missing]

    def test_both_reach_the_answers(self):
        form = ReflectionForm(BOTH)
        assert form.is_valid(), form.errors
        assert (form.answers()["comfort"], form.answers()["safe"]) == (7, 8)

    @pytest.mark.parametrize("value", ["-1", "11"])
    def test_safe_is_0_to_10(self, value):
        assert not ReflectionForm(BOTH | {"safe": value}).is_valid()


def test_the_database_holds_safe_to_its_range(session, partner_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReflectionFactory(session=session, partner=partner_b, role="receiver", safe=11)


def test_the_migration_copies_each_comfort_into_safe(session, partner_a, partner_b, migration):
    """Existing answers migrate to both: each reflection's old rating becomes its "safe" too."""
    giver = session.reflections.get(partner=partner_a)
    giver.comfort, giver.safe = 2, 10
    giver.save()
    receiver = ReflectionFactory(session=session, partner=partner_b, role="receiver", comfort=9, safe=0)
    found = migration("intimacy", "reflection_safe_rating")
    (copy,) = [op for op in found.operations if isinstance(op, RunPython)]
    # The models as the migration sees them (plain managers), not today's audited ones.
    state = MigrationLoader(None).project_state((found.app_label, found.name))
    copy.code(state.apps, None)
    assert Reflection.objects.get(pk=giver.pk).safe == 2
    assert Reflection.objects.get(pk=receiver.pk).safe == 9
    assert Reflection.objects.get(pk=giver.pk).comfort == 2  # and comfort keeps its answer
    # The migration wrote without signals, as migrations do; on a real database it ran before the trend
    # parts' own migration, which builds them from what it left.
    trend_parts.rebuild()
