"""Compile an `AudienceSpec` to DuckDB SQL.

Every audience compiles to a chain of CTEs, all prefixed with the audience name so that the
blocks of several audiences can share one WITH clause::

    <name>__profiles    person_id, consent_ok        profile rule (+ the consent flag)
    <name>__e<i>        person_id[, category]        positive event condition i
    <name>__n<i>        person_id[, category]        negative event condition i
    <name>__candidates  person_id[, category], consent_ok   everyone matching the rule
    <name>__consented   person_id[, category]        ... with the required consent
    <name>__members     person_id[, category]        ... minus members of excluded audiences

Excluded audiences are compiled inline (their own `__members` block, at the same `as_of`), so
the SQL of an audience is self-contained and never reads a stale `audiences.*` table.

Time windows: `within_days: N` is the N calendar days ending on (and including) `as_of`,
i.e. `as_of - (N-1) days 00:00 <= occurred_at < as_of + 1 day 00:00`. Events after `as_of`
are ignored everywhere, so a rerun for a past `as_of` reproduces that day's audience.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime, timedelta

from dagster_project.audiences.spec import AudienceSpec, EventCondition

logger = logging.getLogger(__name__)

PROFILES_TABLE = "marts.customer_profiles"
EVENTS_TABLE = "marts.customer_events"
AS_OF_ENV = "CDP_AS_OF"


def resolve_as_of(as_of: date | str | None = None) -> date:
    """Return the reference date of a run.

    Args:
        as_of: Explicit date (or ISO string). When None, the `CDP_AS_OF` environment variable
            (ISO date) is used, else today's date.

    Returns:
        The reference date.

    Raises:
        ValueError: If the given value or `CDP_AS_OF` is not an ISO date.
    """
    source = "as_of"
    if as_of is None:
        as_of = os.environ.get(AS_OF_ENV) or None
        source = AS_OF_ENV
    if as_of is None:
        return date.today()
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(str(as_of).strip())
    except ValueError as exc:
        raise ValueError(f"{source}={as_of!r} is not an ISO date (YYYY-MM-DD)") from exc


def utc_now() -> datetime:
    """Current UTC time as a naive datetime (DuckDB TIMESTAMP semantics)."""
    return datetime.now(UTC).replace(tzinfo=None)


def quote_literal_sql(value: str) -> str:
    """Quote a string as a SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident_sql(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def date_literal_sql(value: date) -> str:
    """Render a date as a DuckDB DATE literal."""
    return f"DATE '{value.isoformat()}'"


def timestamp_literal_sql(value: date | datetime) -> str:
    """Render a date (midnight) or naive datetime as a DuckDB TIMESTAMP literal."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def table_sql(spec: AudienceSpec) -> str:
    """Quoted output table name of an audience, e.g. `audiences."cart_abandoners"`."""
    return f"audiences.{quote_ident_sql(spec.name)}"


def key_columns(spec: AudienceSpec) -> list[str]:
    """Grain of the audience: person_id, plus category for per-category audiences."""
    return ["person_id", "category"] if spec.per_category else ["person_id"]


def base_ctes_sql(as_of: date) -> list[str]:
    """CTEs shared by every audience block: run parameters and the events up to `as_of`."""
    end = timestamp_literal_sql(as_of + timedelta(days=1))
    return [
        f"params AS (SELECT {date_literal_sql(as_of)} AS as_of)",
        "events AS (\n"
        "  SELECT person_id, category, event_type, occurred_at\n"
        f"  FROM {EVENTS_TABLE}\n"
        f"  WHERE occurred_at < {end} AND person_id IS NOT NULL\n)",
    ]


def _by_category(spec: AudienceSpec, cond: EventCondition) -> bool:
    """Whether a condition is evaluated per person x category."""
    return spec.per_category and not cond.any_category


def _event_filter_sql(
    types: tuple[str, ...], cond: EventCondition, as_of: date, alias: str = ""
) -> str:
    """WHERE predicate selecting the events of `types` in the condition's window."""
    prefix = f"{alias}." if alias else ""
    in_list = ", ".join(quote_literal_sql(t) for t in types)
    parts = [f"{prefix}event_type IN ({in_list})"]
    if cond.within_days is not None:
        start = as_of - timedelta(days=cond.within_days - 1)
        parts.append(f"{prefix}occurred_at >= {timestamp_literal_sql(start)}")
    return " AND ".join(parts)


def event_condition_sql(spec: AudienceSpec, cond: EventCondition, as_of: date) -> str:
    """SELECT of the keys (person_id[, category]) that satisfy a positive condition."""
    keys = "person_id, category" if _by_category(spec, cond) else "person_id"
    where = _event_filter_sql(cond.types, cond, as_of)
    if _by_category(spec, cond):
        where += " AND category IS NOT NULL"
    return (
        f"SELECT {keys} FROM events WHERE {where}\n"
        f"  GROUP BY {keys} HAVING count(*) >= {int(cond.min_count)}"
    )


def no_event_condition_sql(spec: AudienceSpec, cond: EventCondition, as_of: date) -> str:
    """SELECT of the keys (person_id[, category]) that HAVE a matching event (to exclude)."""
    by_cat = _by_category(spec, cond)
    keys = "person_id, category" if by_cat else "person_id"
    cat_filter = " AND category IS NOT NULL" if by_cat else ""
    if cond.since_last is None:
        where = _event_filter_sql(cond.types, cond, as_of) + cat_filter
        return f"SELECT DISTINCT {keys} FROM events WHERE {where}"
    ref = _event_filter_sql(cond.since_last, EventCondition(types=cond.since_last), as_of)
    join = "e.person_id = r.person_id" + (" AND e.category = r.category" if by_cat else "")
    e_keys = "e.person_id, e.category" if by_cat else "e.person_id"
    return (
        f"SELECT DISTINCT {e_keys}\n"
        f"  FROM (SELECT {keys}, max(occurred_at) AS last_at FROM events\n"
        f"        WHERE {ref}{cat_filter} GROUP BY {keys}) AS r\n"
        f"  JOIN events AS e ON {join}\n"
        f"  WHERE {_event_filter_sql(cond.types, EventCondition(types=cond.types), as_of, 'e')}"
        " AND e.occurred_at >= r.last_at"
    )


def profile_filter_sql(spec: AudienceSpec) -> str:
    """SELECT of person_id and consent_ok for profiles matching the profile rule."""
    consent = spec.consent_column
    consent_sql = f"coalesce(pr.{consent}, false)" if consent else "true"
    where = f"coalesce(({spec.rule.profile}), false)" if spec.rule.profile else "true"
    return (
        f"SELECT pr.person_id, {consent_sql} AS consent_ok\n"
        f"  FROM {PROFILES_TABLE} AS pr CROSS JOIN params\n"
        f"  WHERE {where}"
    )


def audience_block_sql(spec: AudienceSpec, as_of: date) -> list[str]:
    """The CTEs of one audience (without the shared base CTEs or its exclusions' blocks)."""
    p = f"{spec.name}__"
    rule = spec.rule
    ctes = [f"{p}profiles AS (\n  {profile_filter_sql(spec)}\n)"]
    for i, cond in enumerate(rule.events):
        ctes.append(f"{p}e{i} AS (\n  {event_condition_sql(spec, cond, as_of)}\n)")
    for i, cond in enumerate(rule.no_events):
        ctes.append(f"{p}n{i} AS (\n  {no_event_condition_sql(spec, cond, as_of)}\n)")

    def match(cte: str, cond: EventCondition) -> str:
        on = "x.person_id = c.person_id"
        if _by_category(spec, cond):
            on += " AND x.category = c.category"
        return f"SELECT 1 FROM {cte} AS x WHERE {on}"

    where: list[str] = []
    if spec.per_category:
        base = next(i for i, c in enumerate(rule.events) if not c.any_category)
        source = (
            f"SELECT c.person_id, c.category, pf.consent_ok\n"
            f"  FROM {p}e{base} AS c JOIN {p}profiles AS pf ON pf.person_id = c.person_id"
        )
        skip = {base}
    else:
        source = f"SELECT c.person_id, c.consent_ok\n  FROM {p}profiles AS c"
        skip = set()
    for i, cond in enumerate(rule.events):
        if i not in skip:
            where.append(f"EXISTS ({match(f'{p}e{i}', cond)})")
    for i, cond in enumerate(rule.no_events):
        where.append(f"NOT EXISTS ({match(f'{p}n{i}', cond)})")
    where_sql = ("\n  WHERE " + "\n    AND ".join(where)) if where else ""
    ctes.append(f"{p}candidates AS (\n  {source}{where_sql}\n)")

    keys = ", ".join(key_columns(spec))
    ctes.append(f"{p}consented AS (\n  SELECT {keys} FROM {p}candidates WHERE consent_ok\n)")
    excl = "".join(
        f"\n    AND NOT EXISTS (SELECT 1 FROM {other.name}__members AS x"
        " WHERE x.person_id = c.person_id)"
        for other in spec.excluded
    )
    ctes.append(f"{p}members AS (\n  SELECT {keys} FROM {p}consented AS c WHERE true{excl}\n)")
    return ctes


def _with_exclusions(specs: list[AudienceSpec]) -> list[AudienceSpec]:
    """The given audiences plus everything they (transitively) exclude, dependencies first."""
    ordered: dict[str, AudienceSpec] = {}

    def visit(spec: AudienceSpec) -> None:
        if spec.name in ordered:
            return
        if len(spec.excluded) != len(spec.exclude):
            raise ValueError(
                f"audience {spec.name!r}: exclusions {list(spec.exclude)} are not resolved; "
                "load specs with load_audiences()/parse_audiences()"
            )
        for other in spec.excluded:
            visit(other)
        ordered[spec.name] = spec

    for spec in specs:
        visit(spec)
    return list(ordered.values())


def with_clause_sql(specs: list[AudienceSpec], as_of: date) -> str:
    """A WITH clause holding the member blocks of `specs` and of everything they exclude."""
    ctes = base_ctes_sql(as_of)
    for spec in _with_exclusions(specs):
        ctes.extend(audience_block_sql(spec, as_of))
    return "WITH " + ",\n".join(ctes)


def audience_sql(spec: AudienceSpec, as_of: date, computed_at: datetime | None = None) -> str:
    """Compile an audience to the SELECT that produces its table.

    Columns: person_id, [category], the carried fields, audience_name, computed_at.

    Args:
        spec: The audience.
        as_of: Reference date of the run.
        computed_at: Timestamp written to `computed_at` (default: now, UTC).

    Returns:
        A SELECT statement.
    """
    computed_at = computed_at or utc_now()
    keys = ", ".join(f"m.{k}" for k in key_columns(spec))
    fields = "".join(f", p.{quote_ident_sql(f)}" for f in spec.fields)
    sql = (
        f"{with_clause_sql([spec], as_of)}\n"
        f"SELECT {keys}{fields},\n"
        f"  {quote_literal_sql(spec.name)} AS audience_name,\n"
        f"  {timestamp_literal_sql(computed_at)} AS computed_at\n"
        f"FROM {spec.name}__members AS m\n"
        f"JOIN {PROFILES_TABLE} AS p ON p.person_id = m.person_id\n"
        f"ORDER BY {keys}"
    )
    logger.debug("compiled audience %s (as_of %s):\n%s", spec.name, as_of, sql)
    return sql


def members_sql(spec: AudienceSpec, as_of: date) -> str:
    """SELECT of the member keys (person_id[, category]) only."""
    return f"{with_clause_sql([spec], as_of)}\nSELECT * FROM {spec.name}__members"


def stage_counts_sql(spec: AudienceSpec, as_of: date) -> str:
    """SELECT of one row: size_before_consent, size_before_exclusions, size, persons.

    Sizes count rows of the audience grain (person x category for per-category audiences);
    `persons` counts distinct people among the members.
    """
    p = f"{spec.name}__"
    return (
        f"{with_clause_sql([spec], as_of)}\n"
        f"SELECT (SELECT count(*) FROM {p}candidates) AS size_before_consent,\n"
        f"  (SELECT count(*) FROM {p}consented) AS size_before_exclusions,\n"
        f"  (SELECT count(*) FROM {p}members) AS size,\n"
        f"  (SELECT count(DISTINCT person_id) FROM {p}members) AS persons"
    )


def overlaps_sql(
    spec: AudienceSpec,
    others: list[AudienceSpec] | None = None,
    tables: dict[str, str] | None = None,
    as_of: date | None = None,
    self_table: str | None = None,
) -> str:
    """SELECT of (audience, overlap): people of `spec` at `as_of` also in each other audience.

    `others` are compiled at the same `as_of`; `tables` maps a name to an existing table
    (e.g. the audience tables of the last run); `self_table`, when given, holds `spec`'s
    members (just built) instead of compiling them. All overlaps come from one statement.
    """
    others = [o for o in (others or []) if o.name != spec.name]
    tables = {n: t for n, t in (tables or {}).items() if n != spec.name}
    if as_of is None:
        raise ValueError("overlaps_sql needs as_of")
    # "_self" cannot clash with an audience's CTEs: audience names start with a letter.
    parts = [
        f"SELECT {quote_literal_sql(o.name)} AS audience, count(*) AS overlap\n"
        f'  FROM "_self" AS a JOIN (SELECT DISTINCT person_id FROM {o.name}__members) AS b'
        " ON a.person_id = b.person_id"
        for o in others
    ] + [
        f"SELECT {quote_literal_sql(name)} AS audience, count(*) AS overlap\n"
        f'  FROM "_self" AS a JOIN (SELECT DISTINCT person_id FROM {table}) AS b'
        " ON a.person_id = b.person_id"
        for name, table in tables.items()
    ]
    if not parts:
        parts = ["SELECT NULL::VARCHAR AS audience, 0::BIGINT AS overlap WHERE false"]
    compiled = others if self_table else [spec, *others]
    members = self_table or f"{spec.name}__members"
    return (
        f"{with_clause_sql(compiled, as_of)},\n"
        f'"_self" AS MATERIALIZED (SELECT DISTINCT person_id FROM {members})\n'
        + "\nUNION ALL\n".join(parts)
    )
