"""Reminder emails: what is due, recorded once, sent by exactly one run, retried when sending fails.

`send_reminders` (the management command, from cron every few minutes) calls `reminders_run`:

1. Work out what is due now (`reminders_due`), each reminder with a unique key built from ids and
   dates only ("planned:<partner>:<local date>", "reflection:<partner>:<session>", …), and insert
   the ones not recorded yet as pending `ReminderSend` rows. The unique key is what makes "never
   twice" hold: two runs that compute the same reminder insert one row (the insert ignores conflicts).
2. Claim the next few people who have pending rows, each with all of their pending rows, and send
   outside any transaction: one email a person, however many of their reminders are due. A claim
   writes the run's own token on the rows and pushes `next_attempt_at` forward (a lease), so no
   other run picks them up. On PostgreSQL the people's user rows are locked first with
   `select_for_update(skip_locked=True, no_key=True)`, so two runs at once take different people
   without waiting for each other and never split one person's rows; on SQLite, which has no row
   locks, the claim is one conditional UPDATE, which SQLite runs alone. Either way only the run
   whose token is on a row sends it. Each claim starts after the last person the run claimed, so a
   run looks at each person once.
3. Just before an email is handed to the mail server its rows become "sending"; after it, "sent".
   A send that fails (the mail server down or refusing) leaves the rows pending, to be tried again
   by the next run; after `MAX_ATTEMPTS` they are given up ("failed"). A run that dies in between
   (killed, the machine lost) leaves "sending" rows: once their lease ends, the next run cannot tell
   whether the mail server took the email, and sends it once more; should that run die mid-send
   too, the rows are given up. So a crash loses no email (unless runs die twice while sending the
   same one) and makes none arrive more than twice: a rare repeat of "something new in Tend" rather
   than a lost urgent-alert email. Rows claimed but not yet handed over when a run dies are simply
   sent later, once. (SMTP's own blind spot, the connection lost just after the mail server took a
   message and before it said so, looks like any failed send and is retried, as by any mail program.)

When is a reminder due? Each partner picks days and a time, read in the couple's time zone: the
reminder for a day is due from that day's chosen time, local, for `GRACE` (so a late or missed cron
run still sends it, and a day-old one is never sent). "19:00" is 19:00 local on both sides of a
daylight-saving change; a chosen time that a spring change skips is sent an hour later, and one that
an autumn change repeats is sent at its first occurrence, once.

- planned: a chosen day, while an exercise is active;
- midweek: Thursday at the chosen time, when an active exercise's target for this ISO week is not yet
  met (every logged session counts, a paused or stopped one too: no streaks, no "missed");
- reflection: 24 hours after the other partner logged a session that still awaits this partner's
  reflection, once per session, while its exercise is active (not the other partner's account of a
  back rub this partner logged too: selectors.paired_accounts);
- checkin: Sunday at the chosen time, for the weekly check-in (not when this week's is done).

All only for active couples and partners who joined, hold the current consent and turned reminders on.
Therapists get one more kind: "a client in Tend needs your attention" when an urgent alert is open
(`urgent_alert`, keyed by the alert; found here rather than hooked into the alert engine, whose
bulk insert returns no ids, and cheap: one indexed query a run). An urgent alert that the therapist
had marked as seen and that opens again is queued by `urgent_alert_reopened`.
Each kind is one function below, beside its constants; `reminders_due` runs them all (`KINDS`).

Notifications (issue 17): a partner who turned them on in a browser (accounts.PushSubscription) gets
each reminder as a notification too. Every reminder is recorded once per channel (`ReminderSend.channel`,
unique with the key), claimed with the person and sent by the same rules: once, retried when the push
service fails, "sending" and `_recover` alike. The notification says what the email's subject says,
and a tap opens the page the email links to (accounts/push.py). A push service's 404/410 removes that
browser's subscription; a person whose every browser is gone gets the email alone.

Several reminders for one person in one run make one email. Every email says only that there is
something new in Tend, links to Tend, and (partners' reminders) carries a signed, expiring link that
turns them off. A therapist's urgent email has no such link nor a one-click unsubscribe header; it
links to the couple's page by id and goes to the address the therapist chose (never nowhere while
they have an active couple).
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext

from accounts import push
from accounts.models import Couple, Partner, ReminderSend, User
from accounts.selectors import active_couples_of, alerts_wanted, push_subscriptions_of, push_users
from accounts.services import push_subscription_expired, push_subscription_used
from accounts.tokens import UNSUBSCRIBE_MAX_AGE, unsubscribe_token
from intimacy import holds, selectors
from intimacy.models import (
    Alert,
    Assignment,
    CheckIn,
    ExerciseShape,
    Reflection,
    ReflectionDecline,
    Session,
    SessionDispute,
)
from intimacy.weeks import week_start

logger = logging.getLogger(__name__)

Kind = ReminderSend.Kind
Status = ReminderSend.Status
Channel = ReminderSend.Channel

# A reminder is due from its moment for this long; after that it is no longer sent.
GRACE = timedelta(hours=2)


# What is due --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    recipient_id: int
    kind: str
    key: str
    due_at: datetime


class Moment(NamedTuple):
    """A partner's chosen time on one local day, in UTC."""

    partner: Partner
    day: date
    at: datetime


@dataclass(frozen=True)
class Facts:
    """What every kind of reminder reads, computed once a run."""

    now: datetime
    # Partners who may get reminders, by id.
    partners: dict[int, Partner]
    # Their chosen-time moments due now.
    moments: list[Moment]
    # The active exercises of the couples with a moment, by couple id.
    active: dict[int, list[dict]]

    def on(self, weekday: int) -> list[Moment]:
        return [m for m in self.moments if m.day.weekday() == weekday]

    def exercises(self, m: Moment) -> list[dict]:
        """The active exercises of the moment's couple, whether or not they run on its day."""
        return self.active.get(m.partner.couple_id, [])

    def running(self, m: Moment) -> list[dict]:
        """The exercises that run on the moment's day."""
        return [a for a in self.exercises(m) if _running(a, m.day)]


def moment(day: date, at: time, tz) -> datetime:
    """`at` o'clock on `day` where the couple lives, in UTC (a skipped time falls an hour later)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _moments(partner: Partner, now: datetime) -> list[Moment]:
    """The local days whose chosen-time moment is due at `now`: at most yesterday's and today's."""
    tz = partner.couple.tz
    today = timezone.localtime(now, tz).date()
    found = []
    for day in (today - timedelta(days=1), today):
        at = moment(day, partner.reminder_time, tz)
        if at <= now < at + GRACE:
            found.append(Moment(partner, day, at))
    return found


def _running(assignment: dict, day: date) -> bool:
    return assignment["starts_on"] <= day and (assignment["ends_on"] is None or assignment["ends_on"] >= day)


def _eligible_partners():
    """Partners who may get reminders: joined, current consent, reminders on, in an active couple."""
    return Partner.objects.filter(
        reminders_on=True,
        user__isnull=False,
        user__is_active=True,
        accepted_at__isnull=False,
        consent_accepted_at__isnull=False,
        consent_version=settings.TEND_CONSENT_VERSION,
        couple__status=Couple.Status.ACTIVE,
    ).select_related("couple")


def _facts(now: datetime) -> Facts:
    """The inputs every kind shares: one query for the eligible partners and, only if one of them has
    a moment now, one for their couples' active exercises."""
    partners = list(_eligible_partners())
    moments = [m for p in partners for m in _moments(p, now)]
    active: dict[int, list[dict]] = defaultdict(list)
    if couple_ids := {m.partner.couple_id for m in moments}:
        # A couple whose touch exercises are paused gets no touch reminder (check-ins, and talk and
        # together exercises, still go on).
        for a in (
            Assignment.objects.filter(couple_id__in=couple_ids, status=Assignment.Status.ACTIVE)
            .exclude(Q(exercise__shape=ExerciseShape.TOUCH) & holds.held(now=now))
            .values("pk", "couple_id", "target_per_week", "starts_on", "ends_on")
        ):
            active[a["couple_id"]].append(a)
    return Facts(now=now, partners={p.pk: p for p in partners}, moments=moments, active=dict(active))


# The kinds ----------------------------------------------------------------------------------------


def planned(facts: Facts) -> list[Due]:
    """A chosen day, while an exercise is active."""
    return [
        Due(m.partner.user_id, Kind.PLANNED, f"planned:{m.partner.pk}:{m.day.isoformat()}", m.at)
        for m in facts.moments
        if facts.running(m) and m.day.weekday() in m.partner.reminder_weekdays
    ]


MIDWEEK_WEEKDAY = 3  # Thursday


def midweek(facts: Facts) -> list[Due]:
    """Thursday at the chosen time, when an active exercise's target for this ISO week is not yet met."""
    moments = facts.on(MIDWEEK_WEEKDAY)
    done = _sessions_by_week({a["pk"] for m in moments for a in facts.exercises(m)}, [m.day for m in moments])
    due = []
    for m in moments:
        monday = week_start(m.day)
        if any(done[(a["pk"], monday)] < a["target_per_week"] for a in facts.running(m)):
            due.append(Due(m.partner.user_id, Kind.MIDWEEK, f"midweek:{m.partner.pk}:{monday.isoformat()}", m.at))
    return due


def _sessions_by_week(assignment_ids: set[int], days: list[date]) -> dict[tuple[int, date], int]:
    """Sessions logged per (exercise, Monday), over the ISO weeks of `days`."""
    done: dict[tuple[int, date], int] = defaultdict(int)
    if not assignment_ids:
        return done
    for assignment_id, day, n in (
        Session.objects.filter(
            assignment_id__in=assignment_ids,
            withdrawn_at__isnull=True,
            date__gte=week_start(min(days)),
            date__lte=week_start(max(days)) + timedelta(days=6),
        )
        .values("assignment_id", "date")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("assignment_id", "date", "n")
    ):
        done[(assignment_id, week_start(day))] += n
    return done


CHECKIN_WEEKDAY = 6  # Sunday


def checkin(facts: Facts) -> list[Due]:
    """Sunday at the chosen time, unless this week's check-in is done."""
    moments = facts.on(CHECKIN_WEEKDAY)
    done = _checked_in({(m.partner.pk, week_start(m.day)) for m in moments})
    return [
        Due(m.partner.user_id, Kind.CHECKIN, f"checkin:{m.partner.pk}:{week_start(m.day).isoformat()}", m.at)
        for m in moments
        if (m.partner.pk, week_start(m.day)) not in done
    ]


def _checked_in(partner_weeks: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """Of (partner, Monday) pairs, those whose weekly check-in is done."""
    if not partner_weeks:
        return set()
    partner_ids = {p for p, _ in partner_weeks}
    weeks = {w for _, w in partner_weeks}
    done = CheckIn.objects.filter(partner_id__in=partner_ids, week__in=weeks).values_list("partner_id", "week")
    return set(done) & partner_weeks


REFLECTION_AFTER = timedelta(hours=24)


def reflection(facts: Facts) -> list[Due]:
    """A day after the other partner logged a session that awaits this partner's reflection."""
    if not facts.partners:
        return []
    ids = list(facts.partners)
    logged = list(
        Session.objects.filter(
            created_at__gt=facts.now - REFLECTION_AFTER - GRACE,
            created_at__lte=facts.now - REFLECTION_AFTER,
            withdrawn_at__isnull=True,
            assignment__status=Assignment.Status.ACTIVE,
            assignment__couple__status=Couple.Status.ACTIVE,
        )
        .exclude(Q(assignment__exercise__shape=ExerciseShape.TOUCH) & holds.held("assignment__couple", now=facts.now))
        .filter(Q(giver_id__in=ids) | Q(receiver_id__in=ids))
        .values("pk", "giver_id", "receiver_id", "logged_by_id", "created_at")
    )
    session_ids = [s["pk"] for s in logged]
    reflected = set(Reflection.objects.filter(session_id__in=session_ids).values_list("session_id", "partner_id"))
    # A session the partner said did not happen, or was not agreed, or that they said they won't reflect
    # on, no longer waits for them (one query for both).
    disputed = SessionDispute.objects.filter(session_id__in=session_ids).values_list("session_id", "partner_id")
    declined = ReflectionDecline.objects.filter(session_id__in=session_ids).values_list("session_id", "partner_id")
    reflected |= set(disputed.union(declined))
    # Nor the other partner's account of a back rub they logged too: their home offers to make it one
    # (selectors.awaiting_my_reflection), so no reminder asks them to reflect on it.
    if session_ids:
        reflected |= selectors.paired_accounts(session_ids)
    return [
        Due(
            facts.partners[partner_id].user_id,
            Kind.REFLECTION,
            f"reflection:{partner_id}:{s['pk']}",
            s["created_at"] + REFLECTION_AFTER,
        )
        for s in logged
        for partner_id in (s["giver_id"], s["receiver_id"])
        if partner_id in facts.partners and partner_id != s["logged_by_id"] and (s["pk"], partner_id) not in reflected
    ]


# Urgent alerts raised this recently are emailed (an older one was there before this was deployed).
URGENT_LOOKBACK = timedelta(days=2)


def urgent_alert(facts: Facts) -> list[Due]:
    """For the therapist, an open urgent alert. Due from when a run first finds it, so one raised
    while cron was stopped is still sent once cron runs again."""
    return [
        Due(therapist_id, Kind.URGENT_ALERT, f"urgent_alert:{alert_pk}", facts.now)
        for alert_pk, therapist_id in Alert.objects.filter(
            urgent=True,
            acknowledged_at__isnull=True,
            raised_at__gt=facts.now - URGENT_LOOKBACK,
            raised_at__lte=facts.now,
            couple__therapist__is_active=True,
        )
        .filter(Q(couple__therapist__alert_emails=True) | Exists(active_couples_of(OuterRef("couple__therapist_id"))))
        .order_by()
        .values_list("pk", "couple__therapist_id")
    ]


# The engine runs these in turn; a new kind is one function here and one name in this list.
KINDS = [planned, midweek, checkin, reflection, urgent_alert]


def reminders_due(now: datetime) -> list[Due]:
    """Every reminder due at `now` (recorded or not), by each function of `KINDS` in turn.

    A handful of queries whatever the numbers: the eligible partners and, if any has a chosen-time
    moment now, their couples' active exercises; then this week's sessions (only on a Thursday
    moment); check-ins (only on a Sunday moment); sessions logged a day ago and their reflections;
    open urgent alerts."""
    facts = _facts(now)
    return [due for kind in KINDS for due in kind(facts)]


def _record(dues: list[Due], now: datetime) -> None:
    """Store each due reminder as pending, once per channel: a key already stored (by this run, an
    earlier one or one running now) is left as it is. An email for each; a notification as well for
    those who turned notifications on in a browser (one query more, only when something is due and
    push is set up), so one turned on within a reminder's two hours still gets it."""
    if not dues:
        return
    pushed = push_users({d.recipient_id for d in dues}) if push.enabled() else set()
    ReminderSend.objects.bulk_create(
        [
            ReminderSend(
                recipient_id=d.recipient_id,
                kind=d.kind,
                key=d.key,
                channel=channel,
                due_at=d.due_at,
                next_attempt_at=now,
            )
            for d in dues
            for channel in ((Channel.EMAIL, Channel.PUSH) if d.recipient_id in pushed else (Channel.EMAIL,))
        ],
        ignore_conflicts=True,
    )


def urgent_alert_reopened(alert) -> None:
    """Queue the therapist's email for an urgent alert that opens again after being marked as seen
    (a second message through the safety line in the same week): its first email was already sent."""
    therapist = alert.couple.therapist
    if not alerts_wanted(therapist):
        return
    now = timezone.now()
    _record(
        [Due(therapist.pk, Kind.URGENT_ALERT, f"urgent_alert:{alert.pk}:{uuid.uuid4().hex}", now)],
        now,
    )


# Claiming and sending ---------------------------------------------------------------------------


# Tries before a reminder is given up; a pending one older than STALE_AFTER is given up too.
MAX_ATTEMPTS = 5
STALE_AFTER = timedelta(hours=12)
# People claimed at a time (each with all their claimable rows), and how long a claim keeps other
# runs away (far longer than sending a batch takes with EMAIL_TIMEOUT per message).
BATCH = 10
LEASE = timedelta(minutes=15)
# A failed send waits this long: the next cron run tries again, this one does not.
RETRY_AFTER = timedelta(minutes=1)


class Claim(NamedTuple):
    token: uuid.UUID
    # The highest recipient id this claim looked at: the next claim of the run starts after it.
    last_recipient: int


def _claim(now: datetime, after: int = 0, limit: int | None = None) -> Claim | None:
    """Claim, for this run, every claimable row of the next `limit` people (by id, after `after`) who
    have any; None when nobody is left. A person is claimed whole, so their reminders make one email.

    PostgreSQL, three queries: lock the people's user rows (`FOR NO KEY UPDATE SKIP LOCKED`: the
    person is the unit of a claim, so two runs never split one person's rows, and neither waits for
    the other; NO KEY leaves inserts that point at the user alone), lock their claimable rows
    (`SKIP LOCKED`, so a row some other statement holds is skipped, not waited for), mark those.
    SQLite, two: find the people, then one conditional UPDATE over their rows, which SQLite runs
    alone. Either way the marking repeats the conditions, so a row is claimed only while still free.
    """
    token = uuid.uuid4()
    claimable = ReminderSend.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
    fields = {"claim": token, "next_attempt_at": timezone.now() + LEASE, "attempts": F("attempts") + 1}
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            people = list(
                User.objects.filter(pk__gt=after, pk__in=claimable.values("recipient_id"))
                .order_by("pk")
                .select_for_update(skip_locked=True, no_key=True)
                .values_list("pk", flat=True)[: limit or BATCH]
            )
            rows = claimable.filter(recipient_id__in=people).select_for_update(skip_locked=True)
            claimable.filter(pk__in=list(rows.values_list("pk", flat=True))).update(**fields)
    else:
        people = list(
            claimable.filter(recipient_id__gt=after)
            .order_by("recipient_id")
            .values_list("recipient_id", flat=True)
            .distinct()[: limit or BATCH]
        )
        claimable.filter(recipient_id__in=people).update(**fields)
    return Claim(token, people[-1]) if people else None


def site_url(path: str = "/") -> str:
    return settings.TEND_SITE_URL.rstrip("/") + path


def unsubscribe_url(user: User) -> str:
    return site_url(reverse("reminders_off", args=[unsubscribe_token(user)]))


def still_wanted(user: User) -> bool:
    """Whether this person still wants these emails (they may have turned them off since)."""
    if not user.is_active:
        return False
    if user.role == User.Role.THERAPIST:
        return alerts_wanted(user)
    partner = getattr(user, "partner", None)
    # The same conditions as `_eligible_partners`, read from the rows already loaded with the batch.
    return bool(
        partner
        and partner.reminders_on
        and partner.has_accepted
        and partner.has_current_consent
        and partner.couple.status == Couple.Status.ACTIVE
    )


def urgent_alert_email(user: User, couple_ids: set[int]) -> EmailMessage:
    """A therapist's email for urgent alerts: a neutral subject, a link to the couple's page (by id;
    to the caseload when several couples need attention), and no "turn off" link or one-click
    unsubscribe header, so a mail provider's button cannot silence it. They choose where it goes under
    "Urgent emails" (accounts: alert_settings), never nowhere while they have an active couple."""
    one = len(couple_ids) == 1
    url = site_url(reverse("couple_detail", args=[next(iter(couple_ids))]) if one else "/")
    return EmailMessage(
        subject=gettext("A client in Tend needs your attention"),
        body=render_to_string(
            "intimacy/email/urgent_alert.txt", {"url": url, "settings_url": site_url(reverse("alert_settings"))}
        ),
        to=[user.alert_address],
        headers={"Auto-Submitted": "auto-generated"},
    )


def reminder_path(kinds: set[str]) -> str:
    """Where a partner's reminder leads (the email's link, a notification's tap): the check-in when
    that is all it is about, else the home page, which shows what is new."""
    return reverse("checkin") if kinds == {Kind.CHECKIN} else "/"


def reminder_email(user: User, kinds: set[str], couple_ids: set[int] = frozenset()) -> EmailMessage:
    """The one email for this person's reminders: that something is new, a link, and the way out."""
    if Kind.URGENT_ALERT in kinds:
        return urgent_alert_email(user, couple_ids)
    off = unsubscribe_url(user)
    url = site_url(reminder_path(kinds))
    days = UNSUBSCRIBE_MAX_AGE.days
    return EmailMessage(
        subject=gettext("There is something new for you in Tend"),
        body=render_to_string("intimacy/email/reminder.txt", {"url": url, "off_url": off, "days": days}),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{off}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def _alert_couples(rows: list[ReminderSend]) -> set[int]:
    """The couples of the urgent alerts among these rows (keys "urgent_alert:<alert id>[:…]"): one
    query, none when there is no urgent alert among them."""
    alert_ids = [int(r.key.split(":")[1]) for r in rows if r.kind == Kind.URGENT_ALERT]
    if not alert_ids:
        return set()
    return set(Alert.objects.filter(pk__in=alert_ids).values_list("couple_id", flat=True))


@dataclass
class RunResult:
    # Emails sent, and notifications (one a person, whatever the number of their browsers).
    sent: int = 0
    pushed: int = 0
    failed: int = 0
    given_up: int = 0


def _send_claimed(token: uuid.UUID, result: RunResult) -> None:
    """Send the rows this run claimed, one email per person (and one notification to each of their
    browsers, for those who turned notifications on), and record on the rows how it went: one query
    for the rows and their people, then two a person and channel ("sending", then how it went)."""
    rows = list(ReminderSend.objects.filter(claim=token).select_related("recipient__partner__couple"))
    groups: dict[tuple[int, str], list[ReminderSend]] = defaultdict(list)
    for row in rows:
        groups[(row.recipient_id, row.channel)].append(row)
    for (_, channel), group in groups.items():
        _send_group(token, channel, group, result)


class PushFailed(Exception):
    """No browser of the person got the notification, and some may later: tried again next run."""


def _send_group(token: uuid.UUID, channel: str, group: list[ReminderSend], result: RunResult) -> None:
    """One person's claimed rows of one channel: sent together as one email or one notification."""
    user = group[0].recipient
    mine = ReminderSend.objects.filter(pk__in=[r.pk for r in group], claim=token)
    if not still_wanted(user):
        mine.update(status=Status.CANCELLED, claim=None)
        return
    # Written before the hand-over, with a fresh lease: if this run dies before recording how it
    # went, a later run knows the email may have gone (`_recover`). Nothing written: the rows
    # are no longer this run's (turned off meanwhile, or taken by another run after a stall
    # longer than the lease), so this run sends nothing.
    if not mine.filter(status=Status.PENDING).update(status=Status.SENDING, next_attempt_at=timezone.now() + LEASE):
        return
    kinds = {r.kind for r in group}
    try:
        if channel == Channel.PUSH:
            delivered = _push(user, kinds)
        else:
            reminder_email(user, kinds, _alert_couples(group)).send()
            delivered = True
    except Exception as exc:  # any failure to send (SMTP, DNS, a timeout) is retried, never lost
        _send_failed(mine, group, channel, exc, result)
    else:
        if delivered:
            mine.update(status=Status.SENT, sent_at=timezone.now(), claim=None)
            result.sent += channel == Channel.EMAIL
            result.pushed += channel == Channel.PUSH
        else:  # no browser left to notify (turned off, or expired): the email still went
            mine.update(status=Status.CANCELLED, claim=None)


def _send_failed(mine, group: list[ReminderSend], channel: str, exc: Exception, result: RunResult) -> None:
    attempts = max(r.attempts for r in group)
    give_up = attempts >= MAX_ATTEMPTS
    # No address, endpoint or content in the log: ids, the attempt and the kind of error.
    logger.warning(
        "Reminder %s for rows %s failed (attempt %s of %s): %s",
        channel,
        [r.pk for r in group],
        attempts,
        MAX_ATTEMPTS,
        type(exc).__name__,
    )
    mine.update(
        status=Status.FAILED if give_up else Status.PENDING,
        claim=None,
        next_attempt_at=timezone.now() + RETRY_AFTER,
    )
    result.failed += 1
    result.given_up += give_up


def _push(user: User, kinds: set[str]) -> bool:
    """The notification to each browser where this person turned them on. True if one push service
    took it; False if none is left (turned off, or every one expired: removed here); PushFailed if
    none took it and one may later (tried again by the next run, like a failed email)."""
    subscriptions = push_subscriptions_of(user.pk) if push.enabled() else []
    delivered = failed = False
    for subscription in subscriptions:
        outcome = push.send(subscription, reminder_path(kinds))
        if outcome is push.Outcome.GONE:
            push_subscription_expired(subscription=subscription)
        elif outcome is push.Outcome.SENT:
            push_subscription_used(subscription=subscription, at=timezone.now())
            delivered = True
        else:
            failed = True
    if failed and not delivered:
        raise PushFailed
    return delivered


def _recover(now: datetime) -> None:
    """Rows a run was handing to the mail server when it died, now past its lease: nobody will record
    how it went, and the email may have gone. Sent once more (a rare repeat beats a lost email); if
    that run dies mid-send too, given up, so no email goes a third time. Two queries, three when
    one is given up."""
    stuck = ReminderSend.objects.filter(status=Status.SENDING, next_attempt_at__lte=now)
    twice = list(stuck.filter(maybe_sent=True).values_list("pk", flat=True))
    if twice and stuck.filter(pk__in=twice).update(status=Status.FAILED, claim=None):
        # Ids only: the rows say whom and which kind to whoever needs to know.
        logger.error("Reminder rows %s were cut off while sending twice: given up, not sent again", twice)
    if again := stuck.filter(maybe_sent=False).update(status=Status.PENDING, maybe_sent=True, claim=None):
        logger.warning("%s reminder rows were cut off while sending (maybe sent): sending them once more", again)


def reminders_run(now: datetime | None = None) -> RunResult:
    """One run of `send_reminders`: record what is due, then send every pending reminder this run
    can claim. Safe to run often, and two at once: see the module's docstring."""
    if not settings.TEND_SITE_URL:
        raise ValueError("TEND_SITE_URL is not set")
    now = now or timezone.now()
    _record(reminders_due(now), now)
    _recover(now)
    # Long-pending ones (cron stopped, the mail server away for hours) are no longer news.
    ReminderSend.objects.filter(status=Status.PENDING, due_at__lt=now - STALE_AFTER).update(status=Status.FAILED)
    result = RunResult()
    # Each claim takes the next people by id, so a run looks at each person once and ends.
    after = 0
    while (claim := _claim(now, after)) is not None:
        _send_claimed(claim.token, result)
        after = claim.last_recipient
    return result


# What the therapist sees ---------------------------------------------------------------------------


@dataclass
class ReminderRow:
    partner: Partner
    on: bool
    days: list[str]
    at: time
    last_sent: datetime | None


def reminder_overview(partners: list[Partner]) -> list[ReminderRow]:
    """Per partner: reminders on or off, their days and time, and when the last one went out.
    One query (none if no partner has joined yet)."""
    user_ids = [p.user_id for p in partners if p.user_id]
    last = {}
    if user_ids:
        last = dict(
            ReminderSend.objects.filter(recipient_id__in=user_ids, status=Status.SENT)
            .values("recipient_id")
            .annotate(last=Max("sent_at"))
            .order_by()
            .values_list("recipient_id", "last")
        )
    return [
        ReminderRow(
            partner=p,
            on=p.reminders_on and p.user_id is not None,
            days=[str(WEEKDAYS_ABBR[d]) for d in p.reminder_weekdays],
            at=p.reminder_time,
            last_sent=last.get(p.user_id),
        )
        for p in partners
    ]
