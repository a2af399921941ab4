"""What a couple's homework shows over a period, for the therapist's dashboard, the appointment view,
the printable summary and the partners' progress page.

- `period`: the period a request asks for (`?weeks=N` or `?from=&to=`) and its week or month buckets.
- `aggregation`: the database reads, grouped by bucket, as a `Scope` allows (selectors: no writes).
- `charts`: the aggregates as Chart.js-ready data, markers and the printable summary's table.

The names below are the package's public surface.
"""

from intimacy.trends.aggregation import (
    NOTHING_LEFT_OUT,
    LeftOut,
    Row,
    Scope,
    Trends,
    couple_trends,
    sessions_both_reflected,
    target_for,
)
from intimacy.trends.charts import couple_charts, drawn, markers, summary_rows
from intimacy.trends.period import DEFAULT_WEEKS, WEEK_CHOICES, WEEKLY_UP_TO_WEEKS, Bucket, Period, period_from

__all__ = [
    "DEFAULT_WEEKS",
    "WEEKLY_UP_TO_WEEKS",
    "WEEK_CHOICES",
    "NOTHING_LEFT_OUT",
    "Bucket",
    "LeftOut",
    "Period",
    "Row",
    "Scope",
    "Trends",
    "couple_charts",
    "couple_trends",
    "drawn",
    "markers",
    "period_from",
    "sessions_both_reflected",
    "summary_rows",
    "target_for",
]
