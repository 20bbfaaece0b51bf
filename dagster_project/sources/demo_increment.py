"""A "day 2" for the demo data: hold back ~1% of the person records, release them later.

`hold_back` removes a deterministic sample of person rows from the generated landing files
(chosen through the ground truth): every record of a few whole people (new customers) and
one record of a few people who keep their other records (an existing customer signing up
elsewhere). The rows go, byte for byte, into a store folder outside the landing folder.
`release` writes them back as extra files next to the originals (`customers_increment.csv`
beside `customers.csv`), which the source's path glob picks up, so the next run loads them
as new records. Orders, events and other dependent rows stay in place: their person record
is simply missing on day 1 (the dbt relationship tests warn, nothing fails).

`kept_id_share` measures the promise of persistent ids across such a day.

Examples:
    ```py
    inc = hold_back(Path("data/landing"), Path("data/ground_truth"), Path("data/increment"))
    ...  # run the daily job: day 1
    release(Path("data/landing"), Path("data/increment"))
    ...  # run the daily job again: day 2 with inc.records new person records
    ```
"""

from __future__ import annotations

import csv
import fnmatch
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.sources.config import SourceSpec, load_sources

logger = logging.getLogger(__name__)

HELD_BACK_LIST = "held_back.csv"
SUFFIX = "_increment"


@dataclass
class Increment:
    """What `hold_back` set aside.

    Attributes:
        records: Person records held back.
        new_people: True people all of whose records were held back.
        grown_people: True people who keep their other records and get one new record.
        total_records: Person records in the landing files before holding back.
        files: {landing-relative path of the original file: rows held back}.
    """

    records: int = 0
    new_people: int = 0
    grown_people: int = 0
    total_records: int = 0
    files: dict[str, int] = field(default_factory=dict)


def _person_specs(sources_config: Path | None) -> list[SourceSpec]:
    from dagster_project.settings import get_paths

    specs = load_sources(sources_config or get_paths().sources_config)
    return [s for s in specs if s.entity == "person" and s.format == "csv"]


def _choose(truth_csv: Path, sources: list[str], share: float, seed: int) -> set[tuple[str, str]]:
    """(source, source_record_id) to hold back: half in whole new people, half as extra records."""
    con = duckdb.connect()
    try:
        names = ", ".join(f"'{s}'" for s in sources)
        # bucket in [0, 1) per true person and a rank per record, both from md5: deterministic
        rows = con.execute(f"""
            with truth as (
                select source, source_record_id, person_id,
                       ('0x' || left(md5(person_id || '#{seed}'), 8))::bigint / 4294967296.0
                           as bucket,
                       row_number() over (partition by person_id
                           order by md5(source || source_record_id || '#{seed}')) as rank_in_person,
                       count(*) over (partition by person_id) as n_records
                from read_csv('{truth_csv}', all_varchar = true)
                where source in ({names})
            ),
            -- as many people with one new record as records of wholly new people
            grown as (
                select person_id from (
                    select person_id, row_number() over (order by bucket, person_id) as n
                    from truth
                    where bucket >= {share / 2} and n_records > 1 and rank_in_person = 1
                ) where n <= (select round(count(*) * {share / 2}) from truth)
            )
            select source, source_record_id from truth
            where bucket < {share / 2}
               or (rank_in_person = 1 and person_id in (select person_id from grown))
        """).fetchall()
    finally:
        con.close()
    return {(str(s), str(i)) for s, i in rows}


def hold_back(
    landing_dir: Path,
    truth_dir: Path,
    store_dir: Path,
    share: float = 0.01,
    seed: int = 1,
    sources_config: Path | None = None,
) -> Increment:
    """Move about `share` of the person records out of the landing files into `store_dir`.

    Args:
        landing_dir: Landing folder written by `cdp generate`.
        truth_dir: Its ground truth folder (ground_truth.csv).
        store_dir: Folder that receives the held-back rows (created; outside the landing).
        share: Target share of person records (half new people, half new records of
            people who keep their other records).
        seed: Changes the sample.
        sources_config: sources.yml (default: the configured one).

    Returns:
        Increment: Counts of what was held back.

    Raises:
        ValueError: When `store_dir` is inside `landing_dir`, or an increment file name
            would not match its source's glob.
    """
    landing_dir, store_dir = Path(landing_dir).resolve(), Path(store_dir).resolve()
    if store_dir.is_relative_to(landing_dir):
        raise ValueError("store_dir must be outside the landing folder")
    specs = _person_specs(sources_config)
    chosen = _choose(Path(truth_dir) / "ground_truth.csv", [s.name for s in specs], share, seed)
    inc = Increment()
    store_dir.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        ids = {rid for src, rid in chosen if src == spec.name}
        for path in sorted(landing_dir.glob(spec.path)):
            if path.stem.endswith(SUFFIX):
                continue
            rel = path.relative_to(landing_dir)
            if not fnmatch.fnmatch(_released_name(rel).as_posix(), spec.path):
                raise ValueError(f"{spec.name}: {_released_name(rel)} would not match {spec.path}")
            total, held = _split_file(path, store_dir / rel, spec, ids)
            inc.total_records += total
            inc.records += held
            inc.files[rel.as_posix()] = held
    with open(store_dir / HELD_BACK_LIST, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["source", "source_record_id"])
        writer.writerows(sorted(chosen))
    people = _count_people(
        Path(truth_dir) / "ground_truth.csv", store_dir / HELD_BACK_LIST, [s.name for s in specs]
    )
    inc.new_people, inc.grown_people = people
    logger.info(
        "demo increment: held back %d of %d person records (%d new people, %d grown)",
        inc.records,
        inc.total_records,
        inc.new_people,
        inc.grown_people,
    )
    return inc


def _released_name(rel: Path) -> Path:
    return rel.with_name(f"{rel.stem}{SUFFIX}{rel.suffix}")


def _split_file(path: Path, stored: Path, spec: SourceSpec, ids: set[str]) -> tuple[int, int]:
    """Rewrite `path` without the rows whose record id is in `ids`; those go to `stored`."""
    delimiter = str(spec.options.get("delimiter", ","))
    encoding = str(spec.options.get("encoding", "utf-8"))
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return 0, 0
    header = next(csv.reader([lines[0].decode(encoding, "replace")], delimiter=delimiter))
    column = header.index(spec.columns["record_id"])
    kept, held = [lines[0]], [lines[0]]
    # the generator writes one row per line (no quoted line breaks), so lines are rows
    for line in lines[1:]:
        text = line.decode(encoding, "replace")
        if column == 0 and '"' not in text:
            record_id = text.split(delimiter, 1)[0]
        else:
            fields = next(csv.reader([text], delimiter=delimiter), [])
            record_id = fields[column] if len(fields) > column else ""
        (held if record_id.strip() in ids else kept).append(line)
    path.write_bytes(b"\n".join(kept) + b"\n")
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"\n".join(held) + b"\n")
    return len(lines) - 1, len(held) - 1


def _count_people(truth_csv: Path, held_csv: Path, sources: list[str]) -> tuple[int, int]:
    """(people with every person record held back, people with some held back)."""
    names = ", ".join(f"'{s}'" for s in sources)
    con = duckdb.connect()
    try:
        new, grown = con.execute(f"""
            with t as (
                select t.person_id, count(*) as n, count(h.source) as held
                from read_csv('{truth_csv}', all_varchar = true) as t
                left join read_csv('{held_csv}', all_varchar = true) as h
                    using (source, source_record_id)
                where t.source in ({names})
                group by 1 having count(h.source) > 0
            )
            select count(*) filter (where held = n), count(*) filter (where held < n) from t
        """).fetchall()[0]
    finally:
        con.close()
    return int(new), int(grown)


def release(landing_dir: Path, store_dir: Path) -> list[Path]:
    """Write the held-back rows into the landing folder as `<name>_increment<ext>` files.

    Args:
        landing_dir: The landing folder.
        store_dir: Folder filled by `hold_back`.

    Returns:
        list[Path]: The files written.
    """
    landing_dir, store_dir = Path(landing_dir), Path(store_dir)
    written = []
    for stored in sorted(store_dir.rglob("*")):
        if not stored.is_file() or stored.name == HELD_BACK_LIST:
            continue
        target = landing_dir / _released_name(stored.relative_to(store_dir))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored, target)
        written.append(target)
    return written


def kept_id_share(con: duckdb.DuckDBPyConnection, before: str, after: str) -> tuple[int, int]:
    """Persons whose records did not change, and how many of them kept their person_id.

    A person of `before` counts as unchanged when all its records are still there and no
    new record joined it: in `after` its records form one person holding no other
    record, or they were split or merged with another unchanged person (which breaks the
    promise and counts against it). A person that gained a new record is left out.

    Args:
        con: Connection holding both tables.
        before: Table with record_key, person_id of the earlier run (person records only).
        after: The same for the later run.

    Returns:
        tuple[int, int]: (unchanged persons, of which kept the id on every record).
    """
    unchanged, kept = con.execute(f"""
        with new_records as (
            select a.record_key, a.person_id from {after} as a
            anti join {before} as b using (record_key)
        ),
        grown as (  -- persons before whose records now share a person with a new record
            select distinct b.person_id from {before} as b
            join {after} as a using (record_key)
            semi join new_records as n on n.person_id = a.person_id
        ),
        per_person as (
            select b.person_id,
                   bool_and(a.person_id is not distinct from b.person_id) as all_kept,
                   count(a.record_key) = count(*) as all_present
            from {before} as b left join {after} as a using (record_key)
            group by b.person_id
        )
        select count(*), count(*) filter (where all_kept)
        from per_person as p
        where all_present and p.person_id not in (select person_id from grown)
    """).fetchall()[0]
    return int(unchanged), int(kept)
