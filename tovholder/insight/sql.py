"""Small portable SQL functions the figures need (PostgreSQL and SQLite)."""

from __future__ import annotations

from django.db.models import DateField, Func, IntegerField


class DaysBetween(Func):
    """Whole days from the first date to the second (negative when the second is earlier)."""

    output_field = IntegerField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        (a, a_params), (b, b_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"(({b})::date - ({a})::date)", [*b_params, *a_params]

    def as_sqlite(self, compiler, connection, **extra):
        (a, a_params), (b, b_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"CAST(julianday({b}) - julianday({a}) AS INTEGER)", [*b_params, *a_params]


class PlusDays(Func):
    """A date plus a number of days (an expression)."""

    output_field = DateField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        (d, d_params), (n, n_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"(({d})::date + ({n})::integer)", [*d_params, *n_params]

    def as_sqlite(self, compiler, connection, **extra):
        (d, d_params), (n, n_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"date({d}, '+' || ({n}) || ' days')", [*d_params, *n_params]
