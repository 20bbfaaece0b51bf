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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb

from dagster_project.identity.guards import REASON_GROUP, REASON_SHARED, conflict_reason_sql
from dagster_project.identity.rules import hash_sql
from dagster_project.identity.settings import IdentitySettings

logger = logging.getLogger(__name__)

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


def identifiers_sql(records_table: str) -> str:
    """SQL: one row per record and strong identifier it carries.

    Args:
        records_table: Prepared records (record_key plus the identifier columns).

    Returns:
        str: SELECT producing record_key, rule, value, first_name (the canonical full
            first name, null for an initial or none).
    """
    # the full first name rides along, so that groups count names without a join
    name = "case when length(first_name_key) > 1 then coalesce(first_name_canonical, first_name_key) end"
    parts = [
        f"select record_key, '{rule}' as rule, {column} as value, {name} as first_name "
        f"from {records_table} where {column} is not null"
        for rule, column in IDENTIFIER_RULES
    ]
    return "\nunion all\n".join(parts)


def build_deterministic_links(
    con: duckdb.DuckDBPyConnection,
    records_table: str,
    settings: IdentitySettings,
    edges_table: str = "det_edges",
    blocked_table: str = "det_blocked",
    capped_table: str = "det_capped",
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

    Returns:
        DeterministicStats: Pair and value counts.
    """
    max_group = int(settings.max_identifier_group_size)
    caps = " ".join(f"when '{rule}' then {settings.cap(col)}" for rule, col in IDENTIFIER_RULES)
    kinds = " ".join(f"when '{rule}' then '{col}'" for rule, col in IDENTIFIER_RULES)
    con.execute(f"create or replace table __det_identifiers as {identifiers_sql(records_table)}")
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
        create or replace table __det_candidates as
        select l.record_key as record_key_l, r.record_key as record_key_r, g.rule, g.value,
               case when g.n_names > g.max_names then '{REASON_SHARED}' end as group_reason
        from __det_groups as g
        join __det_identifiers as l on l.rule = g.rule and l.value = g.value
        join __det_identifiers as r on r.rule = g.rule and r.value = g.value
        where g.n_records <= {max_group} and l.record_key < r.record_key
        union all
        select g.anchor, i.record_key, g.rule, g.value, '{REASON_GROUP}'
        from __det_groups as g
        join __det_identifiers as i on i.rule = g.rule and i.value = g.value
        where g.n_records > {max_group} and i.record_key <> g.anchor
    """)
    con.execute(f"""
        create or replace table __det_judged as
        select c.record_key_l, c.record_key_r, c.rule, c.value,
               coalesce(c.group_reason,
                        {conflict_reason_sql(settings, "l", "r")}) as reason
        from __det_candidates as c
        join {records_table} as l on l.record_key = c.record_key_l
        join {records_table} as r on r.record_key = c.record_key_r
    """)
    precedence = " ".join(f"when '{rule}' then {i}" for i, (rule, _) in enumerate(IDENTIFIER_RULES))
    con.execute(f"""
        create or replace table {edges_table} as
        select record_key_l, record_key_r,
               arg_min(rule, case rule {precedence} end) as rule,
               null::double as match_probability, null::double as match_weight
        from __det_judged
        where reason is null
        group by record_key_l, record_key_r
    """)
    con.execute(f"""
        create or replace table {blocked_table} as
        select j.record_key_l, j.record_key_r, j.rule, j.reason,
               {hash_sql("j.value")} as identifier_hash
        from __det_judged as j
        anti join {edges_table} as e using (record_key_l, record_key_r)
    """)
    con.execute(f"""
        create or replace table {capped_table} as
        select g.rule, case g.rule {kinds} end as identifier_kind,
               {hash_sql("g.value")} as identifier_hash, g.n_records, g.n_names,
               case when g.n_records > {max_group} then '{REASON_GROUP}' else '{REASON_SHARED}'
               end || ': ' || g.n_records || ' records, ' || g.n_names || ' first names (cap '
                   || g.max_names || ')' as reason,
               list(i.record_key order by i.record_key) as record_keys
        from __det_groups as g
        join __det_identifiers as i on i.rule = g.rule and i.value = g.value
        where g.n_names > g.max_names or g.n_records > {max_group}
        group by all
    """)
    candidate_pairs = con.execute(
        "select count(*) from (select distinct record_key_l, record_key_r from __det_judged)"
    ).fetchall()[0][0]
    accepted = con.execute(f"select count(*) from {edges_table}").fetchall()[0][0]
    blocked = con.execute(f"select count(*) from {blocked_table}").fetchall()[0][0]
    non_identifying = con.execute(f"select count(*) from {capped_table}").fetchall()[0][0]
    by_rule = con.execute(
        f"select rule, count(*) from {edges_table} group by rule order by rule"
    ).fetchall()
    by_reason = con.execute(
        f"select reason, count(*) from {blocked_table} group by reason order by reason"
    ).fetchall()
    for name in ("identifiers", "groups", "candidates", "judged"):
        con.execute(f"drop table if exists __det_{name}")
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
