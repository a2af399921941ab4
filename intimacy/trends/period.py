"""The period a trends view covers: read from the request's query, cut into week or month buckets."""

import functools
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib.humanize.templatetags.humanize import apnumber
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from intimacy.weeks import week_start

WEEK_CHOICES = (4, 12, 26, 52, 104)
DEFAULT_WEEKS = 12
# Longer periods are shown month by month, so tables and charts stay short enough to read and print.
WEEKLY_UP_TO_WEEKS = 26
# A custom period may reach this far back; longer ones get the default with a notice.
MAX_CUSTOM_YEARS = 5
MAX_CUSTOM_DAYS = MAX_CUSTOM_YEARS * 366
# No couple did homework in Tend before this; earlier dates are typing mistakes.
EARLIEST = date(2020, 1, 1)


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date
    label: str


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    weeks: int | None = None  # set for "last N weeks", None for custom dates
    notice: str = ""
    today: date | None = None  # the couple's today when the period was read

    @property
    def runs_to_today(self) -> bool:
        return self.today is None or self.end >= self.today

    @property
    def monthly(self) -> bool:
        return (week_start(self.end) - week_start(self.start)).days // 7 + 1 > WEEKLY_UP_TO_WEEKS

    @property
    def query(self) -> str:
        """The period as a query string, to carry it from one view to the next."""
        if self.weeks:
            return urlencode({"weeks": self.weeks})
        return urlencode({"from": self.start.isoformat(), "to": self.end.isoformat()})

    def buckets(self) -> list[Bucket]:
        """The months (for a long period) or ISO weeks that hold the period, oldest first."""
        return list(_buckets(self.start, self.end, self.monthly, get_language()))


@functools.lru_cache(maxsize=512)
def _buckets(start: date, end: date, monthly: bool, language: str | None) -> tuple[Bucket, ...]:
    """`Period.buckets`, kept per process: every couple's page of a period asks for the same ones, and
    writing their labels (a date_format each) was ~0.4 ms of a two-year overview (issue 16, "Fast"). By
    the language too, which the labels' month names are written in; a Bucket is frozen, so shared."""
    return tuple(_month_buckets(start, end) if monthly else _week_buckets(start, end))


def _month_buckets(start: date, end: date) -> list[Bucket]:
    buckets, first = [], start.replace(day=1)
    while first <= end:
        following = (first + timedelta(days=32)).replace(day=1)
        buckets.append(Bucket(first, following - timedelta(days=1), date_format(first, "M Y")))
        first = following
    return buckets


def _week_buckets(start: date, end: date) -> list[Bucket]:
    # The first bucket is the whole ISO week holding `start`, even when the period starts mid-week.
    monday, buckets = week_start(start), []
    while monday <= end:
        buckets.append(Bucket(monday, monday + timedelta(days=6), date_format(monday, "j M")))
        monday += timedelta(days=7)
    return buckets


def period_from(params, today: date) -> Period:
    """The period a request asks for: `?weeks=N` or `?from=YYYY-MM-DD&to=YYYY-MM-DD`.

    Anything else gets the default (the last DEFAULT_WEEKS weeks) and a short notice; never an error.
    """
    if "from" in params or "to" in params:
        return _custom_period(params, today)
    if "weeks" in params:
        return _weeks_period(params["weeks"], today)
    return _last_weeks(DEFAULT_WEEKS, today)


def _last_weeks(weeks: int, today: date, notice: str = "") -> Period:
    period = Period(week_start(today) - timedelta(weeks=weeks - 1), today, weeks, notice, today)
    if period.monthly:
        # Shown month by month, it starts on the first of the month its first week starts in, as a short
        # period starts on a Monday: every row is a whole month (but this one so far), never a first month
        # of a few days that reads as a dip. It also lets the therapist's trends read whole months only
        # (aggregation._groups_from_parts).
        return replace(period, start=period.start.replace(day=1))
    return period


def _default_because(today: date, notice: str, **values) -> Period:
    """The default period, with `notice` (a sentence that ends in "the last %(weeks)s weeks") saying why."""
    return _last_weeks(DEFAULT_WEEKS, today, notice % {"weeks": DEFAULT_WEEKS, **values})


def _weeks_period(weeks: str, today: date) -> Period:
    try:
        n = int(weeks)
    except ValueError:
        n = 0
    if n not in WEEK_CHOICES:
        choices = get_text_list([str(w) for w in WEEK_CHOICES], _("or"))
        return _default_because(
            today, _("Choose %(choices)s weeks; this shows the last %(weeks)s weeks."), choices=choices
        )
    return _last_weeks(n, today)


def _custom_period(params, today: date) -> Period:
    try:
        start, end = date.fromisoformat(params.get("from", "")), date.fromisoformat(params.get("to", ""))
    except ValueError:
        return _default_because(today, _("Those dates weren't recognised, so this shows the last %(weeks)s weeks."))
    if start > end:
        return _default_because(
            today, _("The start date was after the end date, so this shows the last %(weeks)s weeks.")
        )
    if start > today or start < EARLIEST:
        return _default_because(today, _("That period holds no sessions yet, so this shows the last %(weeks)s weeks."))
    # Nothing can have happened after today; stopping there also keeps date arithmetic in range.
    end = min(end, today)
    if (end - start).days > MAX_CUSTOM_DAYS:
        return _default_because(
            today,
            _("That period is longer than %(years)s years, so this shows the last %(weeks)s weeks."),
            years=apnumber(MAX_CUSTOM_YEARS),
        )
    return Period(start, end, today=today)
