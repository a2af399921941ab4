"""Reminder emails: when each is due (time zones, daylight saving), sent once, never twice even with
two runs at once, retried after a failed send; the signed "turn off" link; the partner's settings page;
what the therapist sees. Expected times are worked out by hand from the calendar below.

Calendar (2026): Mon 23 Nov, Thu 26 Nov, Sun 29 Nov are plain GMT days in London (local = UTC).
London changes to BST (UTC+1) on Sun 29 Mar at 01:00 UTC and back on Sun 25 Oct at 01:00 UTC.
New York changes to EDT (UTC-4) on Sun 8 Mar and back to EST (UTC-5) on Sun 1 Nov.
"""

import io
import re
import smtplib
import threading
import time as clock
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail, signing
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends import locmem
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Partner, ReminderSend, User
from accounts.services import reminders_set, reminders_turn_off
from accounts.tokens import unsubscribe_token
from intimacy import reminders, services
from intimacy.alerts import alert_acknowledge
from intimacy.models import Alert, Assignment, Reflection
from intimacy.reminders import GRACE, reminders_due, reminders_run
from intimacy.services import consent_withdraw
from tests.accounts.test_emails import assert_no_clinical_content
from tests.config.test_deployment import production_settings
from tests.factories import AssignmentFactory, CoupleFactory, PartnerFactory, ReflectionFactory, SessionFactory

pytestmark = pytest.mark.django_db

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
EVERY_DAY = list(range(7))
SEVEN_PM = time(19, 0)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def on(partner: Partner, days=(MON, WED), at: time = SEVEN_PM) -> Partner:
    return reminders_set(partner=partner, on=True, weekdays=list(days), at=at)


def due_keys(now: datetime) -> list[str]:
    return sorted(d.key for d in reminders_due(now))


def run(when: str):
    with time_machine.travel(when, tick=False):
        return reminders_run()


def sent_to(outbox) -> list[str]:
    return sorted(m.to[0] for m in outbox)


# When is a reminder due? ----------------------------------------------------------------------------


def test_planned_day_is_due_from_the_chosen_time_for_two_hours(partner_a, assignment):
    on(partner_a, days=[MON])
    moment = utc("2026-11-23 19:00")  # Monday, GMT: 19:00 local
    planned = [f"planned:{partner_a.pk}:2026-11-23"]
    assert due_keys(moment - timedelta(seconds=1)) == []
    assert due_keys(moment) == planned
    assert due_keys(moment + GRACE - timedelta(seconds=1)) == planned
    assert due_keys(moment + GRACE) == []
    # Not a chosen day: nothing on Tuesday.
    assert due_keys(utc("2026-11-24 19:00")) == []


def test_a_late_time_is_still_due_after_local_midnight(partner_a, assignment):
    on(partner_a, days=[MON], at=time(23, 30))
    # 00:30 on Tuesday: Monday's 23:30 reminder is an hour old, inside its two hours.
    assert due_keys(utc("2026-11-24 00:30")) == [f"planned:{partner_a.pk}:2026-11-23"]
    assert due_keys(utc("2026-11-24 01:30")) == []


def test_london_across_the_spring_change(partner_a, assignment):
    on(partner_a, days=[SAT, SUN])
    key = f"planned:{partner_a.pk}:"
    # Saturday 28 March, GMT: 19:00 local is 19:00 UTC.
    assert due_keys(utc("2026-03-28 18:59:59")) == []
    assert key + "2026-03-28" in due_keys(utc("2026-03-28 19:00"))
    # Sunday 29 March, BST: 19:00 local is 18:00 UTC, an hour earlier in UTC.
    assert due_keys(utc("2026-03-29 17:59:59")) == []
    assert key + "2026-03-29" in due_keys(utc("2026-03-29 18:00"))
    assert due_keys(utc("2026-03-29 19:59:59")) != [] and due_keys(utc("2026-03-29 20:00")) == []


def test_london_across_the_autumn_change(partner_a, assignment):
    on(partner_a, days=[SAT, SUN])
    key = f"planned:{partner_a.pk}:"
    # Saturday 24 October, BST: 19:00 local is 18:00 UTC.
    assert due_keys(utc("2026-10-24 17:59:59")) == []
    assert key + "2026-10-24" in due_keys(utc("2026-10-24 18:00"))
    # Sunday 25 October, GMT again: 19:00 local is 19:00 UTC.
    assert due_keys(utc("2026-10-25 18:59:59")) == []
    assert key + "2026-10-25" in due_keys(utc("2026-10-25 19:00"))


def test_new_york_across_both_changes_and_the_utc_date_line(therapist, assignment):
    ny = CoupleFactory(therapist=therapist, label="Kim & Lou", time_zone="America/New_York")
    kim = PartnerFactory(couple=ny, slot=1, name="Kim", email="kim@example.org")
    PartnerFactory(couple=ny, slot=2, name="Lou", email="lou@example.org")
    AssignmentFactory(couple=ny)
    on(kim, days=[SAT, SUN])
    key = f"planned:{kim.pk}:"
    # Saturday 7 March, EST: 19:00 local is 00:00 UTC on the 8th; the key keeps the local date.
    assert due_keys(utc("2026-03-07 23:59:59")) == []
    assert due_keys(utc("2026-03-08 00:00")) == [key + "2026-03-07"]
    # Sunday 8 March, EDT: 19:00 local is 23:00 UTC (plus the Sunday check-in).
    assert due_keys(utc("2026-03-08 22:59:59")) == []
    assert key + "2026-03-08" in due_keys(utc("2026-03-08 23:00"))
    # Saturday 31 October, EDT: 23:00 UTC; Sunday 1 November, EST: 00:00 UTC on the 2nd.
    assert key + "2026-10-31" in due_keys(utc("2026-10-31 23:00"))
    assert due_keys(utc("2026-11-01 23:00")) == []
    assert key + "2026-11-01" in due_keys(utc("2026-11-02 00:00"))


def test_two_time_zones_at_the_same_instant(therapist, partner_a, assignment):
    ny = CoupleFactory(therapist=therapist, label="Kim & Lou", time_zone="America/New_York")
    kim = PartnerFactory(couple=ny, slot=1, name="Kim", email="kim@example.org")
    AssignmentFactory(couple=ny)
    on(partner_a, days=[MON])
    on(kim, days=[MON])
    # 19:00 UTC on Monday is 19:00 in London and 14:00 in New York; 00:00 UTC Tuesday is 19:00 there.
    assert due_keys(utc("2026-11-23 19:00")) == [f"planned:{partner_a.pk}:2026-11-23"]
    assert due_keys(utc("2026-11-24 00:00")) == [f"planned:{kim.pk}:2026-11-23"]


def test_a_time_the_spring_change_skips_comes_an_hour_later_and_a_repeated_one_once(partner_a, assignment):
    on(partner_a, days=[SUN], at=time(1, 30))
    key = f"planned:{partner_a.pk}:"
    # 29 March: 01:30 does not exist in London (01:00 GMT jumps to 02:00 BST); it is sent at 02:30 BST.
    assert due_keys(utc("2026-03-29 01:29:59")) == []
    assert key + "2026-03-29" in due_keys(utc("2026-03-29 01:30"))
    # 25 October: 01:30 happens twice (BST, then GMT); the first one counts, and it is sent once.
    assert key + "2026-10-25" in due_keys(utc("2026-10-25 00:30"))
    assert run("2026-10-25 00:30:00+00:00").sent == 1
    assert run("2026-10-25 01:30:00+00:00").sent == 0


def test_midweek_nudge_only_while_this_weeks_target_is_not_met(partner_a, partner_b, assignment):
    on(partner_a, days=[])  # no planned days: the nudge comes anyway
    thursday = utc("2026-11-26 19:00")
    midweek = f"midweek:{partner_a.pk}:2026-11-23"
    assert due_keys(thursday) == [midweek]  # target 2, none yet
    # Last week's sessions and a withdrawn one do not count for this week.
    SessionFactory(
        assignment=assignment, date=date(2026, 11, 22), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    SessionFactory(
        assignment=assignment,
        date=date(2026, 11, 24),
        giver=partner_a,
        receiver=partner_b,
        logged_by=partner_a,
        withdrawn_at=timezone.now(),
    )
    SessionFactory(
        assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_a
    )
    assert due_keys(thursday) == [midweek]  # one of two
    # A session paused or stopped early counts as done: no "missed" for stopping.
    paused = SessionFactory(
        assignment=assignment, date=date(2026, 11, 25), giver=partner_b, receiver=partner_a, logged_by=partner_b
    )
    ReflectionFactory(session=paused, partner=partner_a, role=Reflection.Role.RECEIVER, paused=True)
    assert due_keys(thursday) == []
    # Only on Thursday.
    assert due_keys(utc("2026-11-25 19:00")) == []


def test_reflection_nudge_a_day_after_the_other_partner_logged(partner_a, partner_b, assignment):
    on(partner_a, days=[])
    on(partner_b, days=[])
    logged_at = "2026-11-24 21:10:00+00:00"  # a Tuesday: no chosen-time reminder near it
    with time_machine.travel(logged_at, tick=False):
        session = SessionFactory(
            assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_a
        )
        ReflectionFactory(session=session, partner=partner_a, role=Reflection.Role.GIVER)
    day_later = utc("2026-11-25 21:10")
    nudge = [f"reflection:{partner_b.pk}:{session.pk}"]
    assert due_keys(day_later - timedelta(seconds=1)) == []
    assert due_keys(day_later) == nudge  # Sam only: Alex logged it and reflected
    assert due_keys(day_later + GRACE - timedelta(seconds=1)) == nudge
    assert due_keys(day_later + GRACE) == []
    # Once per session.
    assert run("2026-11-25 21:10:00+00:00").sent == 1
    assert run("2026-11-25 21:15:00+00:00").sent == 0
    assert ReminderSend.objects.get().key == nudge[0]


def test_no_reflection_nudge_once_reflected_or_for_the_logger(partner_a, partner_b, assignment):
    on(partner_a, days=[])
    on(partner_b, days=[])
    with time_machine.travel("2026-11-24 21:10:00+00:00", tick=False):
        # Logged by Alex, who has not reflected: no nudge for Alex, who logged it.
        session = SessionFactory(
            assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_a
        )
    ReflectionFactory(session=session, partner=partner_b, role=Reflection.Role.RECEIVER)
    assert due_keys(utc("2026-11-25 21:10")) == []


def test_no_reflection_nudge_for_an_account_of_a_back_rub_they_logged_too(partner_a, partner_b, assignment):
    """ "The duplicate trap" (issue 14): Alex and Sam each logged the same back rub. Neither is nudged
    to reflect on the other's account (their homes offer to make it one) until they say it was two."""
    from intimacy.services import session_pair_dismiss

    on(partner_a, days=[])
    on(partner_b, days=[])
    with time_machine.travel("2026-11-24 21:10:00+00:00", tick=False):
        accounts = []
        for logger, role in ((partner_a, Reflection.Role.GIVER), (partner_b, Reflection.Role.RECEIVER)):
            session = SessionFactory(
                assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=logger
            )
            ReflectionFactory(session=session, partner=logger, role=role)
            accounts.append(session)
    alexs, sams = accounts
    assert due_keys(utc("2026-11-25 21:10")) == []
    session_pair_dismiss(mine=sams, theirs=alexs, partner=partner_b)
    assert due_keys(utc("2026-11-25 21:10")) == sorted(
        [f"reflection:{partner_b.pk}:{alexs.pk}", f"reflection:{partner_a.pk}:{sams.pk}"]
    )


def test_no_reflection_nudge_once_declined(partner_a, partner_b, assignment):
    """ "I won't reflect on this one" (issue 14): the session no longer waits for Sam, nor nudges her."""
    from intimacy.services import reflection_decline

    on(partner_a, days=[])
    on(partner_b, days=[])
    with time_machine.travel("2026-11-24 21:10:00+00:00", tick=False):
        session = SessionFactory(
            assignment=assignment, date=date(2026, 11, 24), giver=partner_a, receiver=partner_b, logged_by=partner_a
        )
        ReflectionFactory(session=session, partner=partner_a, role=Reflection.Role.GIVER)
    assert due_keys(utc("2026-11-25 21:10")) == [f"reflection:{partner_b.pk}:{session.pk}"]
    reflection_decline(session=session, partner=partner_b)
    assert due_keys(utc("2026-11-25 21:10")) == []


def test_weekly_checkin_on_sunday_even_without_an_exercise(partner_a, couple):
    on(partner_a, days=[SUN])
    sunday = utc("2026-11-29 19:00")
    # No assignment: no planned reminder, but the check-in is due.
    assert due_keys(sunday) == [f"checkin:{partner_a.pk}:2026-11-23"]


def test_no_checkin_reminder_once_this_weeks_checkin_is_done(partner_a, couple):
    from intimacy.models import CheckIn

    on(partner_a, days=[])
    CheckIn.objects.create(
        couple=couple,
        partner=partner_a,
        week=date(2026, 11, 23),
        happiness=3,
        warm=3,
        rewarding=3,
        satisfied=3,
        total=12,
    )
    assert due_keys(utc("2026-11-29 19:00")) == []


@pytest.mark.parametrize(
    "change",
    ["reminders off", "couple paused", "couple closed", "consent withdrawn", "exercise paused", "exercise ended"],
)
def test_who_gets_no_reminders(partner_a, partner_b, assignment, change):
    on(partner_a, days=EVERY_DAY)
    with time_machine.travel("2026-11-24 21:10:00+00:00", tick=False):
        SessionFactory(
            assignment=assignment, date=date(2026, 11, 24), giver=partner_b, receiver=partner_a, logged_by=partner_b
        )
    couple = assignment.couple
    if change == "reminders off":
        reminders_set(partner=partner_a, on=False, weekdays=EVERY_DAY)
    elif change.startswith("couple"):
        couple.status = change.split()[1]
        couple.save()
    elif change == "consent withdrawn":
        consent_withdraw(partner=partner_a)
    else:
        assignment.status = Assignment.Status.PAUSED if change == "exercise paused" else Assignment.Status.ENDED
        assignment.save()
    thursday, sunday, day_later = utc("2026-11-26 19:00"), utc("2026-11-29 19:00"), utc("2026-11-25 21:10")
    keys = due_keys(thursday) + due_keys(sunday) + due_keys(day_later)
    if change.startswith("exercise"):
        # Only the weekly check-in, which does not depend on an exercise.
        assert keys == [f"checkin:{partner_a.pk}:2026-11-23"]
    else:
        assert keys == []


def test_a_partner_who_has_not_joined_gets_nothing(therapist):
    couple = CoupleFactory(therapist=therapist)
    pending = PartnerFactory(couple=couple, user=None, accepted_at=None, consent_accepted_at=None, consent_version="")
    AssignmentFactory(couple=couple)
    pending.reminders_on, pending.reminder_days = True, 127
    pending.save()
    assert due_keys(utc("2026-11-29 19:00")) == []


# Sending: once, never twice, retried -----------------------------------------------------------------


def test_sent_once_and_never_twice(partner_a, partner_b, assignment, mailoutbox):
    on(partner_a, days=[MON])
    on(partner_b, days=[MON])
    assert run("2026-11-23 19:00:00+00:00").sent == 2
    assert run("2026-11-23 19:05:00+00:00").sent == 0
    assert run("2026-11-23 20:55:00+00:00").sent == 0
    assert sent_to(mailoutbox) == [partner_a.email, partner_b.email]
    rows = ReminderSend.objects.all()
    assert {(r.kind, r.status, r.attempts) for r in rows} == {("planned", "sent", 1)}
    assert all(r.sent_at == utc("2026-11-23 19:00") for r in rows)


def test_reminders_due_together_come_as_one_email(partner_a, assignment, mailoutbox):
    # Thursday is a planned day and the target is not met: two reminders, one email.
    on(partner_a, days=[THU])
    assert run("2026-11-26 19:00:00+00:00").sent == 1
    assert len(mailoutbox) == 1
    assert sorted(ReminderSend.objects.values_list("kind", "status")) == [("midweek", "sent"), ("planned", "sent")]


def _urgent_alerts(couple, partner, count: int) -> None:
    """`count` open urgent alerts for one couple's therapist, one a week back from 23 November."""
    for weeks_ago in range(count):
        Alert.objects.create(
            couple=couple,
            kind=Alert.Kind.LOW_SAFE,
            partner=partner,
            week=date(2026, 11, 23) - timedelta(weeks=weeks_ago),
            urgent=True,
        )


def test_a_therapist_with_more_urgent_alerts_than_a_batch_gets_one_email(
    therapist, assignment, partner_a, partner_b, mailoutbox
):
    # Two rows more than a claim took at a time: one person's reminders used to straddle two claims.
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        _urgent_alerts(assignment.couple, partner_b, reminders.BATCH + 2)
    on(partner_a, days=[WED], at=time(12, 0))  # Alex's reminder is due in the same run
    assert run("2026-11-25 12:05:00+00:00").sent == 2
    assert sent_to(mailoutbox) == sorted([partner_a.email, therapist.email])
    statuses = list(ReminderSend.objects.values_list("status", flat=True))
    assert len(statuses) == reminders.BATCH + 3 and set(statuses) == {"sent"}


def test_a_second_claim_gets_nothing_while_the_first_holds_the_rows(partner_a, partner_b, assignment):
    on(partner_a, days=[MON])
    on(partner_b, days=[MON])
    now = utc("2026-11-23 19:00")
    with time_machine.travel(now, tick=False):
        reminders._record(reminders_due(now), now)
        first = reminders._claim(now)
        assert first is not None and reminders._claim(now) is None
        assert ReminderSend.objects.filter(claim=first.token).count() == 2
    # A run that died holding them: after the lease they are free again.
    later = now + reminders.LEASE
    with time_machine.travel(later, tick=False):
        assert reminders._claim(later) is not None


def test_a_claim_takes_whole_people_in_a_few_queries(partner_a, partner_b, assignment, django_assert_num_queries):
    on(partner_a, days=[MON, THU])
    on(partner_b, days=[MON])
    now = utc("2026-11-26 19:00")  # Thursday: Alex has two reminders (planned, midweek), Sam one (midweek)
    with time_machine.travel(now, tick=False):
        reminders._record(reminders_due(now), now)
        # PostgreSQL: lock the people (their user rows), lock their claimable rows, mark them; the
        # test's own transaction turns atomic() into a savepoint and its release (two more).
        # SQLite: find the people, mark their rows.
        with django_assert_num_queries(3 + 2 if POSTGRES else 2):
            claim = reminders._claim(now, limit=1)
    assert claim.last_recipient == partner_a.user_id
    assert ReminderSend.objects.filter(claim=claim.token).count() == 2
    # The run's next claim starts after Alex: Sam, then nobody.
    with time_machine.travel(now, tick=False):
        second = reminders._claim(now, after=claim.last_recipient, limit=1)
        assert second.last_recipient == partner_b.user_id
        assert list(ReminderSend.objects.filter(claim=second.token).values_list("kind", flat=True)) == ["midweek"]
        assert reminders._claim(now, after=second.last_recipient) is None


class FlakyBackend(locmem.EmailBackend):
    """The mail server refuses the next `failures` sends, then works."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("gone")
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.intimacy.test_reminders.FlakyBackend"
    FlakyBackend.failures = 0
    yield FlakyBackend
    FlakyBackend.failures = 0


def test_a_failed_send_is_retried_by_the_next_run(partner_a, assignment, mailoutbox, flaky):
    on(partner_a, days=[MON])
    flaky.failures = 1
    result = run("2026-11-23 19:00:00+00:00")
    assert (result.sent, result.failed) == (0, 1) and mailoutbox == []
    row = ReminderSend.objects.get()
    assert (row.status, row.attempts, row.claim) == ("pending", 1, None)  # kept, not lost, not retried at once
    result = run("2026-11-23 19:05:00+00:00")
    assert (result.sent, result.failed) == (1, 0)
    assert sent_to(mailoutbox) == [partner_a.email]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)


def test_gives_up_after_five_tries(partner_a, assignment, mailoutbox, flaky):
    on(partner_a, days=[MON])
    flaky.failures = 99
    for minute in range(0, 30, 5):
        run(f"2026-11-23 19:{minute:02d}:00+00:00")
    row = ReminderSend.objects.get()
    assert (row.status, row.attempts) == ("failed", reminders.MAX_ATTEMPTS)
    flaky.failures = 0
    assert run("2026-11-23 19:35:00+00:00").sent == 0 and mailoutbox == []


def test_turned_off_between_tries_is_not_sent(partner_a, assignment, mailoutbox, flaky):
    on(partner_a, days=[MON])
    flaky.failures = 1
    run("2026-11-23 19:00:00+00:00")
    reminders_set(partner=partner_a, on=False, weekdays=[MON])
    assert run("2026-11-23 19:05:00+00:00").sent == 0
    assert mailoutbox == [] and ReminderSend.objects.get().status == "cancelled"


def test_a_reminder_pending_for_half_a_day_is_no_longer_sent(partner_a, assignment, mailoutbox, flaky):
    on(partner_a, days=[MON])
    flaky.failures = 1
    run("2026-11-23 19:00:00+00:00")
    # Cron stopped until the next morning.
    assert run("2026-11-24 08:00:00+00:00").sent == 0
    assert mailoutbox == [] and ReminderSend.objects.get().status == "failed"


class RunKilled(BaseException):
    """The run's process dies (killed, the machine lost). Not an Exception, so no handler in the run
    sees it, and the run records nothing more: what a kill leaves behind (sending happens outside any
    transaction, so nothing is rolled back either)."""


class DyingBackend(locmem.EmailBackend):
    """Kills the run just before the mail server takes the next `before` messages, or just after it
    took the next `after` (accepted and on its way, but the run never learns)."""

    before = 0
    after = 0

    def send_messages(self, messages):
        if DyingBackend.before:
            DyingBackend.before -= 1
            raise RunKilled
        sent = super().send_messages(messages)
        if DyingBackend.after:
            DyingBackend.after -= 1
            raise RunKilled
        return sent


@pytest.fixture
def dying(settings):
    settings.EMAIL_BACKEND = "tests.intimacy.test_reminders.DyingBackend"
    DyingBackend.before = DyingBackend.after = 0
    yield DyingBackend
    DyingBackend.before = DyingBackend.after = 0


def killed(when: str) -> None:
    with pytest.raises(RunKilled):
        run(when)


def test_a_run_killed_after_the_mail_server_took_an_email_sends_that_one_once_more(
    partner_a, partner_b, assignment, mailoutbox, dying
):
    on(partner_a, days=[MON])
    on(partner_b, days=[MON])
    dying.after = 1
    killed("2026-11-23 19:00:00+00:00")
    (first,) = mailoutbox
    # The row of the email in flight says so; the other person's was claimed, never handed over.
    status = dict(ReminderSend.objects.values_list("recipient__email", "status"))
    other = partner_b.email if first.to == [partner_a.email] else partner_a.email
    assert status == {first.to[0]: "sending", other: "pending"}
    # Until the dead run's lease ends, nobody touches them.
    assert run("2026-11-23 19:14:59+00:00").sent == 0 and len(mailoutbox) == 1
    # Then the email that may have gone is sent once more, and the other one once.
    assert run("2026-11-23 19:15:00+00:00").sent == 2
    assert sent_to(mailoutbox) == sorted([first.to[0], first.to[0], other])
    rows = dict(ReminderSend.objects.values_list("recipient__email", "maybe_sent"))
    assert rows == {first.to[0]: True, other: False}
    assert set(ReminderSend.objects.values_list("status", flat=True)) == {"sent"}
    assert run("2026-11-23 19:30:00+00:00").sent == 0 and len(mailoutbox) == 3


def test_a_run_killed_before_the_mail_server_took_an_email_loses_nothing(partner_a, assignment, mailoutbox, dying):
    on(partner_a, days=[MON])
    dying.before = 1
    killed("2026-11-23 19:00:00+00:00")
    assert mailoutbox == [] and ReminderSend.objects.get().status == "sending"
    assert run("2026-11-23 19:15:00+00:00").sent == 1
    assert sent_to(mailoutbox) == [partner_a.email]


def test_an_email_whose_sending_was_cut_off_twice_is_given_up_never_sent_a_third_time(
    partner_a, assignment, mailoutbox, dying, caplog
):
    on(partner_a, days=[MON])
    dying.after = 2
    killed("2026-11-23 19:00:00+00:00")
    killed("2026-11-23 19:15:00+00:00")
    assert run("2026-11-23 19:30:00+00:00").sent == 0
    assert run("2026-11-23 19:45:00+00:00").sent == 0
    assert sent_to(mailoutbox) == [partner_a.email, partner_a.email]
    row = ReminderSend.objects.get()
    assert (row.status, row.maybe_sent, row.claim) == ("failed", True, None)
    # The operator learns which row, and nothing about whom.
    (record,) = [r for r in caplog.records if "given up" in r.getMessage()]
    assert str(row.pk) in record.getMessage() and partner_a.email not in record.getMessage()


@pytest.mark.parametrize("meanwhile", ["turned off", "taken by another run"])
def test_rows_that_stopped_being_the_runs_before_the_hand_over_are_not_sent(
    partner_a, assignment, mailoutbox, monkeypatch, meanwhile
):
    on(partner_a, days=[MON])
    row_state = {}

    def changes_meanwhile(user):
        # Between this run's claim and its hand-over: the person turns emails off, or the run
        # stalls past its lease and another run claims the rows.
        if meanwhile == "turned off":
            reminders_turn_off(user=user)
        else:
            ReminderSend.objects.update(claim=uuid.uuid4())
        row_state.update(ReminderSend.objects.values("status", "claim").get())
        return True

    monkeypatch.setattr(reminders, "still_wanted", changes_meanwhile)
    assert run("2026-11-23 19:00:00+00:00").sent == 0 and mailoutbox == []
    assert ReminderSend.objects.values("status", "claim").get() == row_state  # left as the other side wrote it


POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
ONLY_POSTGRES = pytest.mark.skipif(
    not POSTGRES,
    reason="Two runs at once need two connections that really overlap: SQLite serialises writers, so the "
    "concurrent claim (select_for_update with skip_locked) is tested on PostgreSQL (scripts/with-postgres).",
)


def _due_partners(therapist, count: int) -> list[Partner]:
    partners = []
    for n in range(count):
        couple = CoupleFactory(therapist=therapist, label=f"Couple {n}")
        AssignmentFactory(couple=couple)
        for slot in (1, 2):
            partners.append(on(PartnerFactory(couple=couple, slot=slot, email=f"p{n}-{slot}@example.org"), days=[MON]))
    return partners


def _in_threads(*targets):
    errors = []

    def wrap(target):
        def body():
            try:
                target()
            except BaseException as exc:  # reported in the test's own thread below
                errors.append(exc)
            finally:
                connection.close()

        return body

    threads = [threading.Thread(target=wrap(t), name=f"run-{i}") for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(therapist, monkeypatch):
    partners = _due_partners(therapist, 12)  # 24 partners, more than two batches each
    mail.outbox = []
    original = locmem.EmailBackend.send_messages

    def slow(self, messages):
        clock.sleep(0.02)  # a mail server takes a moment: the two runs overlap
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", slow)
    now = utc("2026-11-23 19:00")
    start = threading.Barrier(2)
    results = []

    def one_run():
        start.wait()
        results.append(reminders_run(now))

    _in_threads(one_run, one_run)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in partners)
    assert sum(r.sent for r in results) == len(partners)
    assert set(ReminderSend.objects.values_list("status", flat=True)) == {"sent"}
    assert ReminderSend.objects.count() == len(partners)


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_person_one_email(therapist, monkeypatch):
    partners = _due_partners(therapist, 6)  # 12 partners with one reminder each
    now = utc("2026-11-23 19:00")
    with time_machine.travel(now - timedelta(minutes=1), tick=False):
        # The therapist's rows alone are more than two claims' worth of rows used to be.
        _urgent_alerts(partners[0].couple, partners[0], 2 * reminders.BATCH + 5)
    mail.outbox = []
    original = locmem.EmailBackend.send_messages

    def slow(self, messages):
        clock.sleep(0.02)  # a mail server takes a moment: the two runs overlap
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", slow)
    start = threading.Barrier(2)
    results = []

    def one_run():
        start.wait()
        results.append(reminders_run(now))

    _in_threads(one_run, one_run)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([therapist.email, *(p.email for p in partners)])
    assert sum(r.sent for r in results) == len(partners) + 1
    assert set(ReminderSend.objects.values_list("status", flat=True)) == {"sent"}


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_a_run_starting_while_another_is_sending_leaves_its_rows_alone(therapist, monkeypatch):
    partners = _due_partners(therapist, 3)  # 6 partners: one batch
    mail.outbox = []
    original = locmem.EmailBackend.send_messages
    first_is_sending, second_is_done = threading.Event(), threading.Event()

    def held(self, messages):
        if threading.current_thread().name == "run-0" and not first_is_sending.is_set():
            first_is_sending.set()
            second_is_done.wait(10)  # the first run holds its claimed rows mid-send
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", held)
    now = utc("2026-11-23 19:00")
    results = {}

    def first():
        results["first"] = reminders_run(now)

    def second():
        first_is_sending.wait(10)
        results["second"] = reminders_run(now)
        second_is_done.set()

    _in_threads(first, second)
    assert (results["first"].sent, results["second"].sent) == (len(partners), 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in partners)


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_rows_a_claim_in_progress_has_locked_are_skipped_not_waited_for(therapist):
    partners = _due_partners(therapist, 3)  # 6 partners
    now = utc("2026-11-23 19:00")
    reminders._record(reminders_due(now), now)
    held = list(ReminderSend.objects.order_by("recipient_id", "pk").values_list("pk", flat=True)[:3])
    locked, release = threading.Event(), threading.Event()
    results = {}

    def other_run_claiming():
        # What another run's claim does, stopped between locking its rows and marking them.
        with transaction.atomic():
            list(ReminderSend.objects.select_for_update().filter(pk__in=held))
            locked.set()
            release.wait(10)

    def this_run():
        locked.wait(10)
        started = clock.monotonic()
        results["run"] = reminders_run(now)
        results["took"] = clock.monotonic() - started
        release.set()

    _in_threads(other_run_claiming, this_run)
    assert results["took"] < 5, "the run waited for the other run's locks instead of skipping them"
    assert results["run"].sent == len(partners) - len(held)
    held_to = set(ReminderSend.objects.filter(pk__in=held).values_list("recipient__email", flat=True))
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in partners if p.email not in held_to)
    assert set(ReminderSend.objects.filter(pk__in=held).values_list("status", flat=True)) == {"pending"}


@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_a_person_another_run_is_claiming_is_skipped_not_waited_for(therapist):
    partners = _due_partners(therapist, 3)  # 6 partners
    now = utc("2026-11-23 19:00")
    held = partners[2]
    locked, release = threading.Event(), threading.Event()
    results = {}

    def other_run_claiming():
        # What another run's claim does first, stopped there: it locks the person.
        with transaction.atomic():
            list(User.objects.select_for_update(no_key=True).filter(pk=held.user_id))
            locked.set()
            release.wait(10)

    def this_run():
        locked.wait(10)
        started = clock.monotonic()
        results["run"] = reminders_run(now)
        results["took"] = clock.monotonic() - started
        release.set()

    _in_threads(other_run_claiming, this_run)
    assert results["took"] < 5, "the run waited for the other run's claim instead of skipping the person"
    assert results["run"].sent == len(partners) - 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in partners if p != held)
    assert ReminderSend.objects.get(recipient_id=held.user_id).status == "pending"


# The email itself --------------------------------------------------------------------------------


def test_reminder_email_says_only_that_something_is_new(partner_a, partner_b, session, mailoutbox):
    on(partner_b, days=[THU])
    ReflectionFactory(
        session=session, partner=partner_b, role=Reflection.Role.RECEIVER, notes="sam-private-words-q1", connection=2
    )
    run("2026-11-26 19:00:00+00:00")
    (message,) = mailoutbox
    assert message.to == [partner_b.email]
    assert message.subject == "There is something new for you in Tend"
    assert "There is something new for you in Tend." in message.body
    assert f"{settings.TEND_SITE_URL}/\n" in message.body
    off = re.search(r"(http://\S+/reminders/off/\S+/)", message.body).group(1)
    assert message.extra_headers["List-Unsubscribe"] == f"<{off}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "sam-private-words-q1" not in message.body
    assert_no_clinical_content(mailoutbox)


def test_checkin_email_links_to_the_checkin(partner_a, couple, mailoutbox):
    on(partner_a, days=[])
    run("2026-11-29 19:00:00+00:00")
    (message,) = mailoutbox
    assert settings.TEND_SITE_URL + reverse("checkin") in message.body
    assert_no_clinical_content(mailoutbox)


@override_settings(TEND_SITE_URL="https://tend.example.org")
def test_links_use_the_site_url(partner_a, assignment, mailoutbox):
    on(partner_a, days=[MON])
    run("2026-11-23 19:00:00+00:00")
    (message,) = mailoutbox
    assert "https://tend.example.org/\n" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://tend.example.org/reminders/off/")


# The therapist's urgent-alert email ---------------------------------------------------------------


def _low_safe(assignment, partner_a, partner_b) -> Alert:
    return Alert.objects.create(
        couple=assignment.couple, kind=Alert.Kind.LOW_SAFE, partner=partner_b, week=date(2026, 11, 23), urgent=True
    )


def test_an_urgent_alert_emails_the_therapist_once_without_client_detail(
    therapist, assignment, partner_a, partner_b, mailoutbox
):
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        _low_safe(assignment, partner_a, partner_b)
        Alert.objects.create(couple=assignment.couple, kind=Alert.Kind.NO_SESSION, week=date(2026, 11, 23))
    assert run("2026-11-25 12:05:00+00:00").sent == 1
    assert run("2026-11-25 12:10:00+00:00").sent == 0
    (message,) = mailoutbox
    assert message.to == [therapist.email]
    assert message.subject == "A client in Tend needs your attention"
    # The couple's page, by id: the one place to act on it.
    assert "needs your attention" in message.body
    assert f"{settings.TEND_SITE_URL}/couples/{assignment.couple.pk}/\n" in message.body
    words = re.sub(r"http\S+", "", message.subject + message.body).lower()  # links are ids and signatures
    for detail in ("alex", "sam", "comfort", "low", "urgent", "safety"):
        assert detail not in words
    # An urgent alert cannot be switched off by one click: no unsubscribe header, no "turn off" link.
    assert "List-Unsubscribe" not in message.extra_headers
    assert "List-Unsubscribe-Post" not in message.extra_headers
    assert "/reminders/off/" not in message.body
    assert_no_clinical_content(mailoutbox)


def test_urgent_alerts_of_several_couples_in_one_email_link_to_the_caseload(
    therapist, assignment, partner_a, partner_b, mailoutbox
):
    other = CoupleFactory(therapist=therapist, label="Kim & Lee")
    other_partner = PartnerFactory(couple=other, slot=1, name="Kim", email="kim@example.org")
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        _low_safe(assignment, partner_a, partner_b)
        Alert.objects.create(
            couple=other, kind=Alert.Kind.SAFETY, partner=other_partner, week=date(2026, 11, 23), urgent=True
        )
    assert run("2026-11-25 12:05:00+00:00").sent == 1
    (message,) = mailoutbox
    assert f"{settings.TEND_SITE_URL}/\n" in message.body
    assert "/couples/" not in message.body
    assert "List-Unsubscribe" not in message.extra_headers


def test_urgent_emails_go_to_the_confirmed_alert_address(therapist, assignment, partner_a, partner_b, mailoutbox):
    therapist.alert_email = "on-call@example.org"
    therapist.save()
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        _low_safe(assignment, partner_a, partner_b)
    run("2026-11-25 12:05:00+00:00")
    assert sent_to(mailoutbox) == ["on-call@example.org"]


def test_urgent_emails_cannot_be_turned_off_while_the_therapist_has_active_couples(
    therapist, assignment, partner_a, partner_b, mailoutbox
):
    # Rule changed on purpose (issue 13): the old "alert_emails" switch no longer silences urgent
    # alerts while a couple is active; it only counts once the therapist has no active couple.
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        therapist.alert_emails = False
        therapist.save()
        _low_safe(assignment, partner_a, partner_b)
    assert run("2026-11-25 12:05:00+00:00").sent == 1


def test_no_alert_email_when_the_therapist_turned_them_off_with_no_active_couple_or_it_is_not_urgent(
    therapist, assignment, partner_a, partner_b, mailoutbox
):
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        Alert.objects.create(
            couple=assignment.couple, kind=Alert.Kind.AWAITING, partner=partner_b, week=date(2026, 11, 23)
        )
        therapist.alert_emails = False
        therapist.save()
        assignment.couple.status = assignment.couple.Status.PAUSED
        assignment.couple.save()
        _low_safe(assignment, partner_a, partner_b)
    assert run("2026-11-25 12:05:00+00:00").sent == 0 and mailoutbox == []


def test_a_second_safety_message_after_the_first_was_seen_emails_again(therapist, partner_a, couple, mailoutbox):
    with time_machine.travel("2026-11-25 12:00:00+00:00", tick=False):
        services.safety_message_send(partner=partner_a, feeling="pressured", message="")
    run("2026-11-25 12:05:00+00:00")
    with time_machine.travel("2026-11-25 13:00:00+00:00", tick=False):
        alert_acknowledge(alert=Alert.objects.get(), by=therapist, note="")
        services.safety_message_send(partner=partner_a, feeling="pressured", message="")
    run("2026-11-25 13:05:00+00:00")
    run("2026-11-25 13:10:00+00:00")
    assert sent_to(mailoutbox) == [therapist.email, therapist.email]
    assert_no_clinical_content(mailoutbox)


# The "turn off" link ----------------------------------------------------------------------------------


def test_turn_off_link_get_changes_nothing_and_post_turns_off(client, partner_a, assignment, mailoutbox):
    on(partner_a, days=[MON])
    url = reverse("reminders_off", args=[unsubscribe_token(partner_a.user)])
    response = client.get(url)
    assert response.status_code == 200 and "Turn off these reminders" in response.content.decode()
    partner_a.refresh_from_db()
    assert partner_a.reminders_on
    response = client.post(url)
    assert response.status_code == 200 and "these emails are off" in response.content.decode()
    partner_a.refresh_from_db()
    assert not partner_a.reminders_on
    assert run("2026-11-23 19:00:00+00:00").sent == 0


def test_one_click_unsubscribe_from_a_mail_provider_needs_no_csrf_token(partner_a, mailoutbox):
    on(partner_a)
    provider = Client(enforce_csrf_checks=True)
    url = reverse("reminders_off", args=[unsubscribe_token(partner_a.user)])
    response = provider.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    partner_a.refresh_from_db()
    assert not partner_a.reminders_on


def test_an_old_turn_off_link_does_not_silence_a_therapist_with_active_couples(client, therapist, couple):
    # Rule changed on purpose (issue 13): urgent emails carry no "turn off" link any more, and one
    # from an earlier email cannot switch them off while the therapist has an active couple.
    url = reverse("reminders_off", args=[unsubscribe_token(therapist)])
    page = client.get(url).content.decode()
    assert "cannot be turned off" in page and reverse("alert_settings") in page
    assert client.post(url).status_code == 200
    therapist.refresh_from_db()
    assert therapist.alert_emails


def test_an_old_turn_off_link_works_for_a_therapist_without_active_couples(client, therapist, couple):
    couple.status = couple.Status.CLOSED
    couple.save()
    assert client.post(reverse("reminders_off", args=[unsubscribe_token(therapist)])).status_code == 200
    therapist.refresh_from_db()
    assert not therapist.alert_emails


def test_turn_off_link_expires_after_sixty_days(client, partner_a):
    on(partner_a)
    with time_machine.travel("2026-11-23 19:00:00+00:00", tick=False):
        url = reverse("reminders_off", args=[unsubscribe_token(partner_a.user)])
    with time_machine.travel("2027-01-21 19:00:00+00:00", tick=False):  # 59 days later
        assert client.get(url).status_code == 200
    with time_machine.travel("2027-01-23 19:00:00+00:00", tick=False):  # 61 days later
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 400 and "This link no longer works" in response.content.decode()
    partner_a.refresh_from_db()
    assert partner_a.reminders_on


@pytest.mark.parametrize("forge", ["other person", "changed signature", "no signature", "another salt"])
def test_tampered_links_are_refused(client, partner_a, partner_b, forge):
    on(partner_a)
    on(partner_b)
    token = unsubscribe_token(partner_a.user)
    pk, stamp, signature = token.split(":")
    forged = {
        "other person": f"{partner_b.user.pk}:{stamp}:{signature}",
        "changed signature": f"{pk}:{stamp}:{'A' * len(signature)}",
        "no signature": pk,
        "another salt": signing.TimestampSigner().sign(pk),
    }[forge]
    response = client.post(reverse("reminders_off", args=[forged]))
    assert response.status_code == 400
    assert Partner.objects.filter(reminders_on=True).count() == 2


# The partner's Reminders page --------------------------------------------------------------------------


def test_reminders_page_access(client, client_for, partner_a, therapist):
    url = reverse("reminder_settings")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert client_for(therapist).get(url).status_code == 403
    assert client_for(partner_a).put(url).status_code == 405


def test_reminders_page_saves_days_and_time(client_for, partner_a):
    client = client_for(partner_a)
    response = client.get(reverse("reminder_settings"))
    html = response.content.decode()
    assert response.status_code == 200 and 'type="time"' in html and 'role="switch"' in html
    assert "Europe/London" in html
    response = client.post(reverse("reminder_settings"), {"on": "on", "days": ["0", "3"], "time": "07:45"})
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert (partner_a.reminders_on, partner_a.reminder_weekdays, partner_a.reminder_time) == (True, [0, 3], time(7, 45))
    # Turning them off keeps the days and time for next time.
    client.post(reverse("reminder_settings"), {"days": ["0", "3"], "time": "07:45"})
    partner_a.refresh_from_db()
    assert not partner_a.reminders_on and partner_a.reminder_weekdays == [0, 3]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"on": "on", "days": ["1", "4"], "time": "25:99"}, "25:99"),
        ({"on": "on", "days": ["1", "4"], "time": ""}, ""),
        ({"on": "on", "days": ["1", "9"], "time": "18:30"}, "18:30"),
    ],
)
def test_bad_input_keeps_what_was_typed(client_for, partner_a, data, field):
    response = client_for(partner_a).post(reverse("reminder_settings"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'value="{field}"' in html if field else 'name="time"' in html
    assert re.search(r'value="1"[^>]*checked', html)  # Tuesday still ticked
    assert "Everything you entered is still here" in html
    partner_a.refresh_from_db()
    assert not partner_a.reminders_on


def test_reminders_page_is_linked_from_home_and_your_data(client_for, partner_a, assignment):
    client = client_for(partner_a)
    url = reverse("reminder_settings")
    assert f'href="{url}"' in client.get(reverse("home")).content.decode()
    assert f'href="{url}"' in client.get(reverse("my_data")).content.decode()


# What the therapist sees --------------------------------------------------------------------------


def test_dashboard_shows_who_has_reminders_on_and_the_last_one_sent(
    client_for, therapist, partner_a, partner_b, assignment
):
    on(partner_a, days=[MON, THU])
    run("2026-11-23 19:00:00+00:00")
    html = client_for(therapist).get(reverse("couple_exercises", args=[assignment.couple_id])).content.decode()
    card = html[html.index('id="reminders"') :]
    card = card[: card.index("</div>")]
    assert "Alex</strong>: on, Mon, Thu at 19:00 their time · last sent 23 Nov 2026, 19:00" in card
    assert "Sam</strong>: off · none sent yet" in card


# The command and its setting ----------------------------------------------------------------------------


def test_command_prints_counts_only(partner_a, assignment):
    on(partner_a, days=[MON])
    out = io.StringIO()
    with time_machine.travel("2026-11-23 19:00:00+00:00", tick=False):
        call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "sent 1, notifications 0, failed 0, given up 0"


@override_settings(TEND_SITE_URL="")
def test_command_refuses_without_a_site_url():
    with pytest.raises(CommandError, match="TEND_SITE_URL"):
        call_command("send_reminders", stdout=io.StringIO())


def test_site_url_setting(monkeypatch):
    assert production_settings(monkeypatch)["TEND_SITE_URL"] == ""
    prod = production_settings(monkeypatch, TEND_SITE_URL="https://tend.example.org/")
    assert prod["TEND_SITE_URL"] == "https://tend.example.org"
    with pytest.raises(ImproperlyConfigured, match="TEND_SITE_URL"):
        production_settings(monkeypatch, TEND_SITE_URL="tend.example.org")
