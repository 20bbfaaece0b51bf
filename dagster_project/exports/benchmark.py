"""Benchmark of file activation: a full export of a large audience vs a delta day (`make bench-exports`).

Builds a synthetic profile table (default 1M people), consent and a 500k-member audience in a
temporary DuckDB, then times (median of --runs) a full Google Customer Match export (normalised,
SHA-256 hashed CSV with manifest, state replaced) and a delta day in which 1% of the members
changed (40% leave, 40% join, 20% change e-mail), and prints wall and CPU times and ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from dagster_project.exports.config import parse_destinations
from dagster_project.exports.deliver import deliver_destination
from dagster_project.exports.state import CONTACT_HASH_COLUMNS
from dagster_project.warehouse import table_columns


def build_data(con: duckdb.DuckDBPyConnection, people: int, members: int) -> None:
    """Profiles with the ads consent flag (95%), the ledger behind it, audience `bench` of `members`."""
    con.execute("create schema marts; create schema audiences")
    con.execute(
        f"""create table marts.customer_profiles as
        select 'P' || lpad(cast(i as varchar), 8, '0') as person_id,
               'First' || (i % 5000) as first_name, 'Last' || (i % 20000) as last_name,
               case when i % 3 = 0 then 'user.' || i || '@gmail.com' else 'u' || i || '@provider.nl' end
                   as email,
               '+316' || lpad(cast(i as varchar), 8, '0') as phone,
               'City' || (i % 300) as city, 'NL' as country,
               cast(1000 + i % 9000 as varchar) || ' AB' as postcode,
               (hash(i) % 20) <> 0 as has_ads_consent  -- as dbt derives it from the ledger
        from range({people}) t(i)"""
    )
    con.execute("alter table marts.customer_profiles add column contact_hash bigint")
    refresh_contact_hash(con)
    con.execute(
        """create table marts.consent_current as
        select person_id, 'ads' as channel, has_ads_consent as is_granted
        from marts.customer_profiles"""
    )
    con.execute(
        f"create table audiences.bench as select person_id from marts.customer_profiles "
        f"where cast(substr(person_id, 2) as int) < {members}"
    )


def contact_hash_sql(columns: set[str]) -> str:
    """dbt's duckdb__row_hash over the contact_hash columns a profile table has."""
    covered = ", ".join(sorted(CONTACT_HASH_COLUMNS & columns))
    return f"cast(hash({covered}) >> 1 as bigint)"


def refresh_contact_hash(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild customer_profiles with contact_hash as dbt does (a new table; untimed)."""
    expr = contact_hash_sql(table_columns(con, "marts", "customer_profiles"))
    con.execute(
        "create or replace table marts.customer_profiles as select * replace ("
        f"{expr} as contact_hash) from marts.customer_profiles"
    )


def change_members(con: duckdb.DuckDBPyConnection, day: int, members: int, share: float) -> int:
    """Change `share` of the members: 40% leave, 40% join, 20% get a new e-mail address."""
    n = int(members * share)
    leave, join, edit = int(n * 0.4), int(n * 0.4), n - 2 * int(n * 0.4)
    con.execute(
        f"""delete from audiences.bench where person_id in (
            select person_id from audiences.bench order by hash(person_id || '{day}') limit {leave})"""
    )
    con.execute(
        f"""insert into audiences.bench select person_id from marts.customer_profiles
        where person_id not in (select person_id from audiences.bench)
        order by hash(person_id || 'j{day}') limit {join}"""
    )
    con.execute(
        f"""update marts.customer_profiles set email = 'new{day}.' || email where person_id in (
            select person_id from audiences.bench order by hash(person_id || 'e{day}') limit {edit})"""
    )
    refresh_contact_hash(con)
    return n


def run(
    people: int, members: int, runs: int, share: float, fmt: str, platform: str
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cdp-bench-exports-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        t0 = time.perf_counter()
        build_data(con, people, members)
        print(
            f"built {people:,} profiles and a {members:,}-member audience in {time.perf_counter() - t0:.1f}s"
        )
        dest = parse_destinations(
            {
                "destinations": [
                    {
                        "name": "bench", "kind": "file", "audiences": ["bench"], "consent": "ads",
                        "fields": ["email", "phone", "first_name", "last_name", "country", "postcode"],
                        "options": {"format": fmt, "platform": platform, "outbox": str(Path(tmp) / "out")},
                    }
                ]
            }
        )[0]  # fmt: skip
        full_times, delta_times, full_cpu, delta_cpu = [], [], [], []
        for i in range(runs):
            con.execute("checkpoint")  # as between two daily runs
            t, c = time.perf_counter(), time.process_time()
            result = deliver_destination(con, dest, run_id=f"full{i}", full=True)
            full_times.append(time.perf_counter() - t)
            full_cpu.append(time.process_time() - c)
            assert result.status == "success", result.detail
            rows = result.totals()["rows_sent"]
        print(f"full export: {rows:,} rows, runs {', '.join(f'{x:.2f}s' for x in full_times)}")
        for i in range(runs):
            changed = change_members(con, i, members, share)
            # a day passes: dbt rebuilt the marts in its own process and every writer closed
            con.execute("checkpoint")
            t, c = time.perf_counter(), time.process_time()
            result = deliver_destination(con, dest, run_id=f"delta{i}")
            delta_times.append(time.perf_counter() - t)
            delta_cpu.append(time.process_time() - c)
            assert result.status == "success", result.detail
            tot = result.totals()
        print(
            f"delta day: {changed:,} members changed -> entered {tot['entered']:,}, updated "
            f"{tot['updated']:,}, exited {tot['exited']:,}, {tot['rows_sent']:,} rows in files; runs "
            + ", ".join(f"{x:.2f}s" for x in delta_times)
        )
        con.close()
    full, delta = statistics.median(full_times), statistics.median(delta_times)
    fcpu, dcpu = statistics.median(full_cpu), statistics.median(delta_cpu)
    # CPU seconds (all DuckDB threads) depend less on what else the machine runs than wall
    # does, but on a busy machine both vary: the load average is printed alongside
    print(
        f"median full export {full:.2f}s wall / {fcpu:.2f}s CPU; median delta {delta:.2f}s wall / "
        f"{dcpu:.2f}s CPU; delta/full = {delta / full:.1%} wall, {dcpu / fcpu:.1%} CPU "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    return {"full_seconds": full, "delta_seconds": delta, "full_cpu": fcpu, "delta_cpu": dcpu}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=int, default=1_000_000)
    p.add_argument("--members", type=int, default=500_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--changed", type=float, default=0.01, help="share of members changed per delta day"
    )
    p.add_argument("--format", default="csv", choices=("csv", "parquet"))
    p.add_argument("--platform", default="google", choices=("google", "meta", "plain"))
    a = p.parse_args(argv)
    run(a.people, a.members, a.runs, a.changed, a.format, a.platform)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
