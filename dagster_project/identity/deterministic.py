"""Deterministic links on shared strong identifiers (account, e-mail, phone), guarded.

All work is SQL on DuckDB, so it scales to millions of records:

1. One row per (record, identifier) for account_id, email and phone.
2. Per identifier value: the number of records and of distinct full first names. A value
   held by more than its kind's cap of names (`IdentitySettings.cap`: `caps` in
   config/identity.yml, else `max_names_per_identifier`) is non-identifying (switchboard,
   shared info@ box); a value held by more than `max_identifier_group_size` records is not
   even expanded into pairs. Such values are listed (hashed) in the capped table.
3. Candidate pairs are records sharing a value; a pair is accepted when at least one of
   its identifiers is identifying and the two records do not contradict each other
   (see `guards`). Refused candidates go to the blocked table with the reason.
4. Every candidate pair is kept with its group and verdict (`STATE_PAIRS`). On an
   incremental day only the groups of identifier values that a new, changed or deleted
   record holds (today or yesterday) are judged again; the others keep yesterday's pairs.
   Their records and settings are unchanged, so the verdicts are too, except where the
   typo rule for first names reads a whole-data name frequency that drifted: that waits
   for the weekly full re-link, like the scores of unchanged pairs (`incremental`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

import duckdb

from dagster_project.identity.guards import REASON_GROUP, REASON_SHARED, conflict_reason_sql
from dagster_project.identity.rules import hash_sql
from dagster_project.identity.settings import IdentitySettings

logger = logging.getLogger(__name__)

# Yesterday's judged pairs, kept in the identity schema for an incremental day (see
# `build_deterministic_links`); bump the version when the columns or verdicts change.
STATE_PAIRS = "match_identifier_pairs"
STATE_VERSION = 1
STATE_COLUMNS = (
    "record_key_l, record_key_r, rule, value_hash, identifier_hash, group_reason, n_records, "
    "n_names, max_names, reason"
)

# (rule name, column) in order of precedence: a pair linked by several rules keeps the first.
IDENTIFIER_RULES: tuple[tuple[str, str], ...] = (
    ("same_account", "account_id"),
    ("same_email", "email"),
    ("same_phone", "phone"),
)


@dataclass(frozen=True)
class DeterministicStats:
    """Counts from one deterministic pass.

    Attributes:
        candidate_pairs: Distinct record pairs sharing at least one identifier.
        accepted_links: Distinct pairs accepted as links.
        blocked_rows: Rows written to the blocked table (one per refused pair and rule).
        non_identifying_values: Identifier values refused as shared by too many names
            or too many records.
    """

    candidate_pairs: int
    accepted_links: int
    blocked_rows: int
    non_identifying_values: int


def identifiers_sql(records_table: str, touched: str | None = None) -> str:
    """SQL: one row per record and strong identifier it carries.

    Args:
        records_table: Prepared records (record_key plus the identifier columns).
        touched: A table of (rule, value_hash): only values whose `hash` is listed for
            their rule; every value when None.

    Returns:
        str: SELECT producing record_key, rule, value, first_name (the canonical full
            first name, null for an initial or none).
    """
    # the full first name rides along, so that groups count names without a join
    name = "case when length(first_name_key) > 1 then coalesce(first_name_canonical, first_name_key) end"
    parts = []
    for rule, column in IDENTIFIER_RULES:
        only = ""
        if touched is not None:
            only = f"and hash({column}) in (select value_hash from {touched} where rule = '{rule}')"
        parts.append(
            f"select record_key, '{rule}' as rule, {column} as value, {name} as first_name "
            f"from {records_table} where {column} is not null {only}"
        )
    return "\nunion all\n".join(parts)


def state_signature(settings: IdentitySettings) -> str:
    """What must be equal for yesterday's judged pairs (`STATE_PAIRS`) to be reused today."""
    # value_hash is DuckDB's hash(): a new DuckDB may hash differently
    return json.dumps(
        {"version": STATE_VERSION, "duckdb": duckdb.__version__, "settings": asdict(settings)},
        sort_keys=True,
        default=str,
    )


def build_deterministic_links(
    con: duckdb.DuckDBPyConnection,
    records_table: str,
    settings: IdentitySettings,
    edges_table: str = "det_edges",
    blocked_table: str = "det_blocked",
    capped_table: str = "det_capped",
    judged_table: str = "det_judged",
    previous: tuple[str, str, str] | None = None,
) -> DeterministicStats:
    """Create the accepted deterministic edges and the audit of refused candidates.

    Args:
        con: Connection or cursor holding `records_table`.
        records_table: Records with record_key, account_id, email, phone,
            first_name_key, first_name_canonical, date_of_birth.
        settings: Guard thresholds.
        edges_table: Table to create: record_key_l < record_key_r, rule,
            match_probability (null), match_weight (null); one row per pair.
        blocked_table: Table to create: record_key_l, record_key_r, rule, reason,
            identifier_hash (of the shared value).
        capped_table: Table to create: rule, identifier_kind, identifier_hash, n_records,
            n_names, reason, record_keys; one row per non-identifying value.
        judged_table: Table to create: every candidate pair per rule with its identifier
            group and the verdict (`STATE_COLUMNS`): the next run's `STATE_PAIRS`. With
            `previous`, also `<judged_table>_touched` (rule, value_hash: the groups judged
            again) and `<judged_table>_new` (their pairs), to update the state in place.
        previous: On an incremental day, (yesterday's `STATE_PAIRS`, yesterday's prepared
            records, the keys of new, changed and deleted records): only the identifier
            values a new, changed or deleted record holds (today or yesterday) are judged
            again; every other group keeps yesterday's pairs and verdicts. None judges all.

    Returns:
        DeterministicStats: Pair and value counts.
    """
    identifiers = identifiers_sql(records_table)
    if previous is not None:
        stored, previous_records, delta = previous
        con.execute(f"""
            create or replace table __det_touched as
            select distinct rule, hash(value) as value_hash from (
                {identifiers_sql(f"(select * from {records_table} semi join {delta} using (record_key))")}
                union all
                {identifiers_sql(f"(select * from {previous_records} semi join {delta} using (record_key))")}
            )
        """)
        identifiers = identifiers_sql(records_table, touched="__det_touched")
    con.execute(f"create or replace table __det_identifiers as {identifiers}")
    _judge_groups(con, records_table, settings)
    if previous is None:
        con.execute(f"create or replace table {judged_table} as select * from __det_judged")
    else:
        con.execute(f"""
            create or replace table {judged_table} as
            select {STATE_COLUMNS} from {stored} as s
            anti join __det_touched as t using (rule, value_hash)
            union all
            select {STATE_COLUMNS} from __det_judged
        """)
        con.execute(f"alter table __det_touched rename to {judged_table}_touched")
        con.execute(f"alter table __det_judged rename to {judged_table}_new")
    stats = _edges_and_audit(con, settings, judged_table, edges_table, blocked_table, capped_table)
    for name in ("identifiers", "groups", "judged", "touched"):
        con.execute(f"drop table if exists __det_{name}")
    return stats


def _judge_groups(
    con: duckdb.DuckDBPyConnection, records_table: str, settings: IdentitySettings
) -> None:
    """Create __det_judged (`STATE_COLUMNS`) from the groups of __det_identifiers."""
    max_group = int(settings.max_identifier_group_size)
    caps = " ".join(f"when '{rule}' then {settings.cap(col)}" for rule, col in IDENTIFIER_RULES)
    con.execute(f"""
        create or replace table __det_groups as
        select rule, value, sum(n) as n_records, count(first_name) as n_names,
               min(anchor) as anchor, any_value(case rule {caps} end) as max_names
        from (  -- two plain aggregates: a distinct count per group is several times slower
            select rule, value, first_name, count(*) as n, min(record_key) as anchor
            from __det_identifiers group by all
        )
        group by rule, value
        having sum(n) > 1
    """)
    # Pairs within expandable groups; oversized groups only as a star around their anchor,
    # so the audit shows them without a quadratic blow-up.
    con.execute(f"""
        create or replace table __det_judged as
        with candidates as (
            select l.record_key as record_key_l, r.record_key as record_key_r, g.*,
                   case when g.n_names > g.max_names then '{REASON_SHARED}' end as group_reason
            from __det_groups as g
            join __det_identifiers as l on l.rule = g.rule and l.value = g.value
            join __det_identifiers as r on r.rule = g.rule and r.value = g.value
            where g.n_records <= {max_group} and l.record_key < r.record_key
            union all
            select g.anchor, i.record_key, g.*, '{REASON_GROUP}'
            from __det_groups as g
            join __det_identifiers as i on i.rule = g.rule and i.value = g.value
            where g.n_records > {max_group} and i.record_key <> g.anchor
        ),
        judged as (
            select c.*, coalesce(c.group_reason, {conflict_reason_sql(settings, "l", "r")})
                as reason
            from candidates as c
            join {records_table} as l on l.record_key = c.record_key_l
            join {records_table} as r on r.record_key = c.record_key_r
        )
        select record_key_l, record_key_r, rule, hash(value) as value_hash,
               case when reason is not null then {hash_sql("value")} end as identifier_hash,
               group_reason, n_records, n_names, max_names, reason
        from judged
    """)


def _edges_and_audit(
    con: duckdb.DuckDBPyConnection,
    settings: IdentitySettings,
    judged: str,
    edges_table: str,
    blocked_table: str,
    capped_table: str,
) -> DeterministicStats:
    """Create the edges, the blocked pairs and the capped values from the judged pairs."""
    max_group = int(settings.max_identifier_group_size)
    kinds = " ".join(f"when '{rule}' then '{col}'" for rule, col in IDENTIFIER_RULES)
    precedence = " ".join(f"when '{rule}' then {i}" for i, (rule, _) in enumerate(IDENTIFIER_RULES))
    con.execute(f"""
        create or replace table {edges_table} as
        select record_key_l, record_key_r,
               arg_min(rule, case rule {precedence} end) as rule,
               null::double as match_probability, null::double as match_weight
        from {judged}
        where reason is null
        group by record_key_l, record_key_r
    """)
    con.execute(f"""
        create or replace table {blocked_table} as
        select j.record_key_l, j.record_key_r, j.rule, j.reason, j.identifier_hash
        from {judged} as j
        anti join {edges_table} as e using (record_key_l, record_key_r)
        where j.reason is not null
    """)
    # a capped group's pairs hold all its records: every pair, or the star around its anchor
    con.execute(f"""
        create or replace table {capped_table} as
        select rule, case rule {kinds} end as identifier_kind, identifier_hash, n_records,
               n_names,
               case when n_records > {max_group} then '{REASON_GROUP}' else '{REASON_SHARED}'
               end || ': ' || n_records || ' records, ' || n_names || ' first names (cap '
                   || max_names || ')' as reason,
               list(distinct record_key order by record_key) as record_keys
        from (
            select rule, value_hash, identifier_hash, n_records, n_names, max_names,
                   unnest([record_key_l, record_key_r]) as record_key
            from {judged} where group_reason is not null
        )
        group by rule, value_hash, identifier_hash, n_records, n_names, max_names
    """)
    accepted = con.execute(f"select count(*) from {edges_table}").fetchall()[0][0]
    # every judged pair is an edge or, refused by all its rules, blocked
    candidate_pairs = (
        accepted
        + con.execute(
            f"select count(*) from (select distinct record_key_l, record_key_r from {blocked_table})"
        ).fetchall()[0][0]
    )
    blocked = con.execute(f"select count(*) from {blocked_table}").fetchall()[0][0]
    non_identifying = con.execute(f"select count(*) from {capped_table}").fetchall()[0][0]
    by_rule = con.execute(
        f"select rule, count(*) from {edges_table} group by rule order by rule"
    ).fetchall()
    by_reason = con.execute(
        f"select reason, count(*) from {blocked_table} group by reason order by reason"
    ).fetchall()
    stats = DeterministicStats(candidate_pairs, accepted, blocked, non_identifying)
    logger.info(
        "deterministic: %d candidate pairs, %d accepted (%s), %d blocked rows (%s), "
        "%d non-identifying values",
        candidate_pairs,
        accepted,
        dict(by_rule),
        blocked,
        dict(by_reason),
        non_identifying,
    )
    return stats
