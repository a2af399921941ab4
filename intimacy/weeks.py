"""Tend's one week: ISO, Monday first, read in the couple's time zone (`Couple.today()`)."""

from datetime import date, timedelta


def week_start(day: date) -> date:
    """Monday of the ISO week that holds `day`."""
    return day - timedelta(days=day.weekday())
