"""Matching input: the person records with the derived columns the rules and the model read.

Three things happen on top of dbt's standardisation, all in SQL:

1. Blanks become null, keys are lower-cased (harmless if dbt already did it); placeholder
   identifiers (`rules.DEFAULT_JUNK` plus config/identity.yml) become null and are listed.
2. Swapped names are put back. One-field names such as "Jansen Kees" arrive with the
   surname as first name. A record is swapped when its first name is used far more often
   as a surname across all records, and its surname far more often as a first name. This
   needs the whole data set, which is why it is done here and not in a dbt row model.
3. E-mail derived columns: usernames are mostly built from the name ('teun.scholten79',
   'jdebruin', 'gerritgroen'), so they reveal the name a newsletter record lacks.

Each record also gets two hashes for the daily run (`incremental`): `INPUT_HASH` of its own
input and `FINGERPRINT` of everything Splink reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import duckdb

from dagster_project.identity.rules import JunkList, null_junk_values

logger = logging.getLogger(__name__)

# Surname particles stripped to get the core surname ('van der meer' -> 'meer').
PARTICLES = (
    "van",
    "von",
    "de",
    "der",
    "den",
    "het",
    "ter",
    "ten",
    "te",
    "in",
    "op",
    "el",
    "la",
    "le",
    "da",
    "du",
    "del",
)
# Mobile numbers in E.164: NL 06-numbers, DK mobile ranges of the national numbering plan.
MOBILE_REGEX = r"^\+316|^\+45(2[0-9]|3[01]|4[0-2]|5[0-3]|6[01]|71|81|9[1-3])"
# A name must be this many times more frequent in the other role to count as swapped.
SWAP_RATIO = 3
# Hash of a record's own (trimmed, standardised) input, before anything derived from the
# whole data set (swapped names, capped blocking keys): tells a record that changed from one
# whose derived columns moved because other records arrived (see `kept_persons`).
INPUT_HASH = "input_hash"
# Hash of every column Splink reads, i.e. all but `NOT_FINGERPRINTED`: a record whose
# fingerprint differs from yesterday's is scored again (see `incremental`).
FINGERPRINT = "fingerprint"
# Whole-data counts that Splink never reads (the guards read them and run every day anyway);
# fingerprinting them would mark every 'jan' as changed when one new 'jan' arrives. The input
# hash is compared on its own (`incremental.plan_link`).
NOT_FINGERPRINTED = frozenset({"record_key", "first_name_freq", INPUT_HASH, FINGERPRINT})
INPUT_COLUMNS = (
    "account_id", "first_name_key", "first_name_canonical", "last_name_key", "date_of_birth",
    "birth_year", "email", "phone", "street", "house_number", "postcode", "city", "country",
)  # fmt: skip


def _txt(col: str) -> str:
    return f"nullif(trim(cast({col} as varchar)), '')"


def prepare_records(
    cur: duckdb.DuckDBPyConnection,
    source_table: str,
    table: str = "records",
    max_name_block: int = 30,
    junk: Mapping[str, JunkList] | None = None,
) -> int:
    """Create `table` from the unioned person records, ready for matching.

    Args:
        cur: Cursor whose current catalog receives the table.
        source_table: Fully qualified `int_person_records_unioned`.
        table: Name of the table to create.
        max_name_block: Name values held by more records than this get no blocking key
            (block_* columns): such names are too common for a name-only match, and their
            blocks grow quadratically with the data.
        junk: Placeholder values per identifier kind, nulled before anything is derived
            and listed in the table `junk_audit` (see `rules.null_junk_values`); none when
            None.

    Returns:
        int: Number of records.

    Raises:
        ValueError: When record_key is not unique.
    """
    # birth_year (sources that only know the year) is newer than the other columns: inputs
    # written before it count as having none.
    has_year = "birth_year" in {r[0] for r in cur.execute(f"describe {source_table}").fetchall()}
    birth_year = "try_cast(birth_year as integer)" if has_year else "null::integer"
    cur.execute(f"""
        create or replace table __prep_base as
        select *, hash({", ".join(INPUT_COLUMNS)}) as {INPUT_HASH} from (
        select
            record_key, source, source_record_id,
            {_txt("account_id")} as account_id,
            lower({_txt("first_name_key")}) as first_name_key,
            lower({_txt("first_name_canonical")}) as first_name_canonical,
            lower({_txt("last_name_key")}) as last_name_key,
            cast(date_of_birth as date) as date_of_birth,
            coalesce(year(cast(date_of_birth as date)), {birth_year}) as birth_year,
            lower({_txt("email")}) as email,
            {_txt("phone")} as phone,
            lower({_txt("street")}) as street,
            lower(replace({_txt("house_number")}, ' ', '')) as house_number,
            upper(replace({_txt("postcode")}, ' ', '')) as postcode,
            lower({_txt("city")}) as city,
            upper({_txt("country")}) as country
        from {source_table}
        )
    """)
    n, dupes = cur.execute(
        "select count(*), count(*) - count(distinct record_key) from __prep_base"
    ).fetchall()[0]
    if dupes:
        raise ValueError(f"{source_table} has {dupes} duplicate record_key values")
    null_junk_values(cur, "__prep_base", junk or {}, "junk_audit")
    swapped = _repair_swapped_names(cur) + _repair_leading_particle(cur)
    cur.execute(
        "create or replace view __prep_named as "
        f"select *, split_part(email, '@', 1) as email_user from ({_named_sql('__prep_base')})"
    )
    capped = _capped_blocking_keys(cur, "__prep_base", max_name_block)
    prepared = f"""
        select
            * exclude (email_user),
            nullif(regexp_replace(email_user, '[^a-z]+', '', 'g'), '') as email_letters,
            nullif(regexp_replace(email_user, '[^0-9]+', '', 'g'), '') as email_digits,
            regexp_matches(phone, '{MOBILE_REGEX}') as phone_is_mobile,
            count(*) over (partition by first_name_key) as first_name_freq,
            {capped}
        from __prep_named
    """
    # the fingerprint in the same pass: a second pass over every record costs more
    columns = [r[0] for r in cur.execute(f"describe {prepared}").fetchall()]
    cur.execute(f"""
        create or replace table {table} as
        select *, {fingerprint_sql(columns)} as {FINGERPRINT} from ({prepared})
    """)
    cur.execute("drop view if exists __prep_named")
    for name in ("common", "base"):
        cur.execute(f"drop table if exists __prep_{name}")
    logger.info(
        "prepare: %d person records from %s, %d with first and last name swapped back",
        n,
        source_table,
        swapped,
    )
    return int(n)


def fingerprint_sql(columns: list[str]) -> str:
    """SQL: the `FINGERPRINT` of a record with `columns` (those in `NOT_FINGERPRINTED` skipped)."""
    packed = ", ".join(f'"{c}" := "{c}"' for c in sorted(set(columns) - NOT_FINGERPRINTED))
    # DuckDB's 64-bit hash: 3x faster than md5 over JSON at 1M rows. Should an upgrade change
    # it, every record looks changed once, which means one full re-link, never a wrong one.
    return f"hash(struct_pack({packed}))"


def _named_sql(source: str) -> str:
    """SQL: `source` with the derived name columns (and first_name_canonical filled in)."""
    particles = "|".join(PARTICLES)
    return f"""
        with named as (
            select *,
                replace(last_name_key, ' ', '') as last_name_flat,
                -- regexes only where they can match: most of the cost of this pass
                case when contains(last_name_key, ' ') then replace(
                    regexp_replace(last_name_key, '^(({particles}) )+', ''), ' ', '')
                    else last_name_key end as last_name_core,
                replace(first_name_key, ' ', '') as first_flat
            from {source}
        )
        select
            * exclude (first_flat, first_name_canonical),
            coalesce(first_name_canonical, first_name_key) as first_name_canonical,
            case when length(first_flat) > 1 and last_name_flat is not null
                 then first_flat || last_name_flat end as full_name_flat,
            case when length(first_flat) > 1 and last_name_core is not null
                 then first_flat || last_name_core end as full_name_core,
            case when first_flat is not null and last_name_flat is not null
                 then left(first_flat, 1) || last_name_flat end as initial_surname_flat
        from named
    """


def _capped_blocking_keys(cur: duckdb.DuckDBPyConnection, base: str, cap: int) -> str:
    """SQL select list of the block_* copies of name keys, null where over `cap` records hold them.

    Creates `__prep_common` (the values over the cap) from `base` first, so the records
    table is written once: a second pass over every record costs more than the counts.
    """
    keys = {
        "block_name": "first_name_canonical || ' ' || last_name_key",
        "block_full_name_flat": "full_name_flat",
        "block_full_name_core": "full_name_core",
        "block_initial_surname": "initial_surname_flat",
    }
    # the keys derive from the three name columns alone: counted over their distinct
    # combinations (a tenth of the records), with four aggregates rather than four window
    # partitions over every record, this costs a fifth of counting every record's keys
    combos = (
        f"(select first_name_key, first_name_canonical, last_name_key, count(*) as n_records "
        f"from {base} group by all)"
    )
    counts = " union all ".join(
        f"select '{name}' as block, v from (select {expr} as v, n_records from __prep_combos) "
        f"where v is not null group by v having sum(n_records) > {int(cap)}"
        for name, expr in keys.items()
    )
    cur.execute(f"create or replace table __prep_combos as {_named_sql(combos)}")
    cur.execute(f"create or replace table __prep_common as {counts}")
    cur.execute("drop table __prep_combos")
    return ",\n".join(
        f"case when {expr} in (select v from __prep_common where block = '{name}') then null "
        f"else {expr} end as {name}"
        for name, expr in keys.items()
    )


def _repair_leading_particle(cur: duckdb.DuckDBPyConnection) -> int:
    """'de' / 'jong mats' (from "de Jong Mats") becomes 'mats' / 'de jong'."""
    particles = ", ".join(f"'{p}'" for p in PARTICLES)
    cur.execute(f"""
        create or replace table __prep_particle as
        select record_key,
               regexp_extract(last_name_key, '([a-z]+)$') as first_name,
               first_name_key || ' ' || regexp_replace(last_name_key, ' [a-z]+$', '') as last_name
        from __prep_base
        where first_name_key in ({particles}) and last_name_key like '% %'
    """)
    cur.execute("""
        update __prep_base as b set
            first_name_key = p.first_name, last_name_key = p.last_name,
            first_name_canonical = p.first_name
        from __prep_particle as p where p.record_key = b.record_key
    """)
    fixed = cur.execute("select count(*) from __prep_particle").fetchall()[0][0]
    cur.execute("drop table if exists __prep_particle")
    return int(fixed)


def _repair_swapped_names(cur: duckdb.DuckDBPyConnection) -> int:
    """Swap first and last name where each is clearly used in the other role elsewhere."""
    cur.execute("""
        create or replace table __prep_roles as
        select name, sum(as_first) as as_first, sum(as_last) as as_last from (
            select first_name_key as name, 1 as as_first, 0 as as_last from __prep_base
            where length(first_name_key) > 1
            union all
            select last_name_key, 0, 1 from __prep_base where last_name_key is not null
        ) group by name
    """)
    cur.execute(f"""
        create or replace table __prep_swap as
        select b.record_key from __prep_base as b
        join __prep_roles as f on f.name = b.first_name_key
        join __prep_roles as l on l.name = b.last_name_key
        where f.as_last >= {SWAP_RATIO} * f.as_first and f.as_last >= 2
          and l.as_first >= {SWAP_RATIO} * l.as_last and l.as_first >= 2
    """)
    # canonical name of the new first name: the most common one seen for it elsewhere
    cur.execute("""
        create or replace table __prep_canon as
        select first_name_key, arg_max(first_name_canonical, n) as canonical from (
            select first_name_key, first_name_canonical, count(*) as n from __prep_base
            where first_name_canonical is not null group by all
        ) group by first_name_key
    """)
    cur.execute("""
        update __prep_base as b set
            first_name_key = b.last_name_key,
            last_name_key = b.first_name_key,
            first_name_canonical = coalesce(
                (select c.canonical from __prep_canon as c where c.first_name_key = b.last_name_key),
                b.last_name_key)
        where b.record_key in (select record_key from __prep_swap)
    """)
    swapped = cur.execute("select count(*) from __prep_swap").fetchall()[0][0]
    for name in ("roles", "swap", "canon"):
        cur.execute(f"drop table if exists __prep_{name}")
    return int(swapped)
