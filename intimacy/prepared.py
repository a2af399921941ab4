"""Queries whose SQL Django compiles once per process, then runs with each request's values (issue 16).

Django builds and compiles a query's SQL anew every time it runs. For Tend's privacy rules, which are
nested EXISTS conditions (`visible_to`, the reveal rule), building and compiling took about half the CPU
of a partner's home page, and a third of the couple page's: more than PostgreSQL took to run the SQL.

A `Prepared` query is still written as a Django queryset, by the same functions as everywhere else
(`Reflection.objects.visible_to` stays the one statement of who may read what). Django compiles it once,
per process and database, with a stand-in value in each *slot* (a couple's id, a partner's, a date); each
call then runs that SQL with its own values in those places. Nothing is kept but the SQL: no row, no
time, so no write can leave anything stale.

On PostgreSQL the SQL is also a server-side prepared statement (PREPARE once per kept connection, then
EXECUTE with the values): planning these queries took PostgreSQL longer than running them (0.3–1.6 ms
each against 0.1–0.6 ms). After five runs PostgreSQL plans such a statement once for all values (a
generic plan) when that plan costs no more than the per-value ones; it did for every one of Tend's,
measured at 4 and 104 weeks (docs/PERFORMANCE.md, "The fifth round").

The rules for a builder, checked where they can be:
- It takes only its slots (ints, dates or aware datetimes) and must not decide anything by their
  values: a branch on a value would be compiled once, for the stand-in. Whatever changes the query's
  shape (a role, "the caller holds the viewer's row") is a separate `Prepared`.
- It reads nothing else that changes: not the clock (a rule's "now" is a slot), not the database.
  Compiling builds it twice and refuses it if the two differ, which catches a clock read.
- Each slot must reach the SQL as a parameter, at least once. Compiling checks that every stand-in is
  among the parameters and none is written into the SQL's text; if not, it refuses to run.
- No `select_related`: the rows come back as the model's own instances (`QuerySet.raw`), with any
  annotation as an attribute. Related rows a page already holds are attached (`selectors.Known`).
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import RawQuerySet

# The stand-ins: far outside any real id or date here, and inside the columns' ranges (Django 5 drops an
# integer lookup outside its column's range from the SQL altogether, which compiling would then refuse).
_FIRST_INT = 1_987_654_301
_FIRST_DAY = date(2987, 6, 5)
_FIRST_TIME = datetime(2987, 6, 5, 4, 3, 2, tzinfo=UTC)
_KINDS = (int, date, datetime)

# Each compiled query's name for PostgreSQL's PREPARE, unique in the process.
_NAMES = itertools.count(1)


def _stand_in(kind: type, index: int):
    if kind is int:
        return _FIRST_INT + index
    if kind is datetime:
        return _FIRST_TIME + timedelta(seconds=index)
    if kind is date:
        return _FIRST_DAY + timedelta(days=index)
    raise ImproperlyConfigured(f"A prepared query's slot is an int, a date or a datetime, not {kind!r}")


@dataclass(frozen=True)
class _Compiled:
    model: type
    sql: str
    # The compiled parameters, with each slot's place holding the slot's name.
    params: tuple
    slots: frozenset
    # Each annotation's converters, as Django would apply them (an EXISTS is 0/1 on SQLite, a time a string).
    converters: tuple
    # Each selected column's, by position, for `rows`.
    column_converters: dict
    # On PostgreSQL, the query as a server-side prepared statement: PREPARE once per connection, then
    # EXECUTE with the values (`_statement`). Empty elsewhere.
    name: str = ""
    prepare: str = ""
    execute: str = ""


class PreparedRows(RawQuerySet):
    """`QuerySet.raw`'s rows, with the annotations converted as the queryset would have converted them."""

    converters: tuple = ()
    compiled: "_Compiled | None" = None

    def _clone(self):
        clone = super()._clone()
        clone.converters = self.converters
        clone.compiled = self.compiled
        return clone

    def iterator(self):
        connection = connections[self.db]
        if self.compiled is not None:
            _statement(connection, self.compiled)  # prepared on the connection that runs it
        for row in super().iterator():
            for name, functions, expression in self.converters:
                value = getattr(row, name)
                for function in functions:
                    value = function(value, expression, connection)
                setattr(row, name, value)
            yield row


class _SlotName(str):
    """A slot's name in `_Compiled.params`: a type of its own, so no constant parameter can pass for one."""


class Prepared:
    """`build(**slots)` -> a queryset, compiled once per database; `prepared(**values)` runs it."""

    def __init__(self, build: Callable[..., QuerySet], **slots: type) -> None:
        for kind in slots.values():
            _stand_in(kind, 0)  # refuses a kind it cannot stand in for, at import time
        self._build = build
        self._slots = slots
        self._compiled: dict[str, _Compiled] = {}

    def __call__(self, using: str = DEFAULT_DB_ALIAS, **values) -> RawQuerySet:
        """The rows as the model's instances (the query must select its primary key)."""
        compiled, params = self._bind(using, values)
        sql = compiled.execute if _server_side(connections[using], compiled) else compiled.sql
        rows = PreparedRows(sql, model=compiled.model, params=params, using=using)
        rows.converters = compiled.converters
        rows.compiled = compiled
        return rows

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[tuple]:
        """The rows as tuples of the selected columns, converted as `values_list` would."""
        return self._fetch(using, values)[1]

    def dicts(self, using: str = DEFAULT_DB_ALIAS, *, converted: bool = True, **values) -> list[dict]:
        """The rows as dicts by column name, converted as `values` would (a group, which has no primary key).

        `converted=False`: each value as the database driver gives it, for a caller that needs nothing more
        of most columns (the counts and sums of integers are ints already) and converts the rest itself.
        Django's converters cost a few microseconds a row, and a two-year view's groups are ~150 rows."""
        names, rows = self._fetch(using, values, converted=converted)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _fetch(self, using: str, values: dict, *, converted: bool = True) -> tuple[list[str], list[tuple]]:
        compiled, params = self._bind(using, values)
        connection = connections[using]
        sql = _statement(connection, compiled)
        with connection.cursor() as cursor:
            cursor.execute(sql, tuple(connection.ops.adapt_unknown_value(p) for p in params))
            names = [column[0] for column in cursor.description]
            found = cursor.fetchall()
        if not converted:
            return names, found
        return names, [_converted(row, compiled.column_converters, connection) for row in found]

    def _bind(self, using: str, values: dict) -> tuple[_Compiled, tuple]:
        compiled = self._compiled.get(using) or self._compile(using)
        if values.keys() != compiled.slots:
            raise TypeError(f"a prepared query takes {sorted(compiled.slots)}, got {sorted(values)}")
        for name, value in values.items():
            # A wrong kind of value would still run, as whatever the driver makes of it.
            kind = self._slots[name]
            wrong_date = kind is date and isinstance(value, datetime)
            if not isinstance(value, kind) or isinstance(value, bool) or wrong_date:
                raise TypeError(f"slot {name!r} takes a {kind.__name__}, got {value!r}")
        return compiled, tuple(values[p] if isinstance(p, _SlotName) else p for p in compiled.params)

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        stand_ins = {name: _stand_in(kind, i) for i, (name, kind) in enumerate(self._slots.items())}
        queryset = self._build(**stand_ins)
        if queryset.query.select_related:
            raise ImproperlyConfigured("A prepared query can't select_related: attach what the page holds instead")
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        # Built again, it must come out the same: a builder that reads the clock itself (a rule's default
        # "now") would freeze the moment of the first call into every later one.
        if self._build(**stand_ins).query.get_compiler(using=using).as_sql() != (sql, params):
            raise ImproperlyConfigured("A prepared query's builder reads something besides its slots (the clock?)")
        # The stand-ins as the driver receives them (SQLite's dates and times are strings).
        adapted = {connection.ops.adapt_unknown_value(value): name for name, value in stand_ins.items()}
        # A RawSQL's own parameters reach the driver as given (each call's are adapted as they run).
        marked = _marked(params, {value: name for name, value in stand_ins.items()} | adapted)
        found = {p for p in marked if isinstance(p, _SlotName)}
        for value, name in adapted.items():
            if name not in found or str(value) in sql:
                raise ImproperlyConfigured(f"slot {name!r} does not reach the SQL as a parameter")
        compiled = _Compiled(
            model=queryset.model,
            sql=sql,
            params=marked,
            slots=frozenset(self._slots),
            converters=_annotation_converters(compiler),
            column_converters=compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]]),
            **_as_statement(connection, sql, len(params)),
        )
        self._compiled[using] = compiled
        return compiled


def _as_statement(connection, sql: str, count: int) -> dict:
    """On PostgreSQL, `_Compiled`'s name, PREPARE and EXECUTE for `sql` with `count` parameters."""
    if connection.vendor != "postgresql":
        return {}
    name = f"tend_prepared_{next(_NAMES)}"
    arguments = f"({', '.join(['%s'] * count)})" if count else ""
    return {"name": name, "prepare": f"PREPARE {name} AS {_numbered(sql)}", "execute": f"EXECUTE {name}{arguments}"}


def _numbered(sql: str) -> str:
    """Django's SQL for the driver (`%s` for each parameter, `%%` for a percent sign) as PREPARE takes it:
    `$1`, `$2`, … and `%`."""
    numbers = itertools.count(1)
    return re.sub(r"%[s%]", lambda m: f"${next(numbers)}" if m.group() == "%s" else "%", sql)


def _server_side(connection, compiled: _Compiled) -> bool:
    """Whether `compiled` runs as a server-side prepared statement on `connection`: on PostgreSQL, when the
    connection is kept between requests (CONN_MAX_AGE not 0), so a statement is prepared once and executed
    thousands of times, and not behind a transaction-pooling PgBouncer (which Django's
    DISABLE_SERVER_SIDE_CURSORS marks), where the next statement may reach another server connection."""
    settings = connection.settings_dict
    return bool(compiled.execute) and settings["CONN_MAX_AGE"] != 0 and not settings.get("DISABLE_SERVER_SIDE_CURSORS")


def _statement(connection, compiled: _Compiled) -> str:
    """The SQL to run `compiled` on `connection`: if `_server_side`, EXECUTE of the statement prepared on
    this very connection (prepared first if it is new there: a reconnect starts with none)."""
    if not _server_side(connection, compiled):
        return compiled.sql
    connection.ensure_connection()
    raw = connection.connection
    known = getattr(connection, "_tend_prepared", None)
    if known is None or known[0] is not raw:
        known = connection._tend_prepared = (raw, set())
    if compiled.name not in known[1]:
        # On the driver's own cursor: once per connection, so not one of a page's queries (the pinned
        # query counts count a page as every request after the first makes it). A PREPARE outlives the
        # transaction it was sent in, rolled back or not.
        with connection.wrap_database_errors, raw.cursor() as cursor:
            cursor.execute(compiled.prepare)
        known[1].add(compiled.name)
    return compiled.execute


def _marked(params, stand_ins: dict) -> tuple:
    """`params` with each stand-in's place holding its slot's name."""
    return tuple(
        _SlotName(stand_ins[p]) if not isinstance(p, bool) and _hashable(p) and p in stand_ins else p for p in params
    )


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _annotation_converters(compiler) -> tuple:
    """(name, converters, expression) for each annotation the compiled query selects that needs converting."""
    names = list(compiler.annotation_col_map)
    expressions = [compiler.select[compiler.annotation_col_map[name]][0] for name in names]
    found = compiler.get_converters(expressions)
    return tuple((names[i], tuple(functions), expression) for i, (functions, expression) in found.items())


def _converted(row: tuple, converters: dict, connection) -> tuple:
    if not converters:
        return row
    row = list(row)
    for position, (functions, expression) in converters.items():
        for function in functions:
            row[position] = function(row[position], expression, connection)
    return tuple(row)
