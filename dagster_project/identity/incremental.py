"""Incremental daily linking: score only new and changed records, keep the rest.

Every run leaves state in the identity schema for the next one:

- `match_records`: the prepared matching input (the columns of `prepare_records`' output
  but the whole-data name counts, `state.NOT_STORED`), with its `fingerprint`, a hash of
  every column Splink reads (all but `prepare.NOT_FINGERPRINTED`). A record whose
  fingerprint differs from yesterday's is "changed".
- `scored_pairs`: every Splink pair within `STATE_MARGIN_BITS` of match weight below the
  threshold or above it (record_key_l < record_key_r, match_probability, match_weight),
  before the guards, which are cheap and re-applied every run to the current records.
- `match_components` and `match_edges`: the connected components of the accepted edges and
  those edges (record keys only): on an incremental day only the components that gained or
  lost a record or an edge are recomputed (`affected_records`, `clustering.cluster_records`).
- `match_state`: one row saying which model (sha256 of its JSON), threshold and
  fingerprint version produced the two tables (and which settings produced
  `deterministic`'s match_identifier_pairs).

`state.write_state` writes them all in one transaction.

A run is incremental when the model was reused, the state exists and was produced by the
same model and threshold, and new + changed + deleted records are at most
`incremental_max_share` of the previous records. It then scores the new and changed
records among themselves (Splink's `predict_within`) and against the unchanged ones
(`predict_between`), keeps yesterday's stored pairs between unchanged records and drops
every pair touching a changed or deleted record. Anything else is a full re-link (also on
request: `CDP_FULL_RELINK=1` or the asset's `full_relink` config; weekly by schedule).

Term frequencies shift as data grows: one more 'jansen' makes every 'jansen' pair a
little weaker. A kept pair that touches a person with a new or changed record is
re-scored (Splink `predict` over the registered stored pairs) with term-frequency tables
of today's full records, exactly as a full re-link scores it. A pair between two records
of persons that did not change keeps its stored score: those persons are pinned until
the next full re-link anyway (`kept_persons`), which re-scores every pair and applies
the drift (a day of 1% new records moves a weight by hundredths of a bit at 1M people).
What a full re-link could also find is a pair between unchanged records that was more
than `STATE_MARGIN_BITS` below the threshold when last scored and rose above it through
frequency drift alone; the weekly full re-link bounds that too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
from splink import DuckDBAPI, Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from dagster_project.identity.outputs import Warehouse
from dagster_project.identity.prepare import FINGERPRINT, INPUT_HASH
from dagster_project.identity.settings import IdentitySettings

logger = logging.getLogger(__name__)

STATE_RECORDS = "match_records"
STATE_PAIRS = "scored_pairs"
STATE_META = "match_state"
STATE_TABLES = (STATE_RECORDS, STATE_PAIRS, STATE_META)
# Clustering state (optional: without it an incremental day clusters everything):
# the connected components and the edges they were computed over.
STATE_COMPONENTS = "match_components"
STATE_EDGES = "match_edges"
# Bump when the fingerprint formula changes: the next run is then a full re-link.
FINGERPRINT_VERSION = 4
FULL_RELINK_ENV = "CDP_FULL_RELINK"
SCORED_COLUMNS = "record_key_l, record_key_r, match_probability, match_weight"
# Pairs this far (in match weight, bits) below the threshold are kept in the state too, so
# that term-frequency drift cannot lift an unstored pair over the threshold unseen.
STATE_MARGIN_BITS = 2.0


def state_threshold(threshold: float) -> float:
    """Lowest match probability stored in `scored_pairs`: `STATE_MARGIN_BITS` below `threshold`."""
    weight = math.log2(threshold / (1 - threshold)) if threshold < 1 else 60.0
    odds = 2 ** (weight - STATE_MARGIN_BITS)
    return odds / (1 + odds)


@dataclass
class LinkPlan:
    """What the Splink phase will do and why.

    Attributes:
        mode: 'incremental' or 'full'.
        reason: Why a full re-link was chosen (or 'few changes').
        new: Records absent from the previous state.
        changed: Records whose fingerprint changed.
        deleted: Previous records no longer present.
        previous: Records in the previous state.
    """

    mode: str = "full"
    reason: str = "no previous state"
    new: int = 0
    changed: int = 0
    deleted: int = 0
    previous: int = 0

    @property
    def incremental(self) -> bool:
        """Whether only the delta is scored."""
        return self.mode == "incremental"

    @property
    def share(self) -> float:
        """(new + changed + deleted) / previous records."""
        return (self.new + self.changed + self.deleted) / max(self.previous, 1)


def full_relink_from_env(environ: dict[str, str] | None = None) -> bool:
    """Whether CDP_FULL_RELINK asks for a full re-link ('1', 'true', 'yes')."""
    env = os.environ if environ is None else environ
    return env.get(FULL_RELINK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def model_hash(model_path: Path) -> str:
    """sha256 of the model JSON, or 'none' when there is no model file."""
    path = Path(model_path)
    if not path.is_file():
        return "none"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state_signature(model_digest: str, settings: IdentitySettings) -> str:
    """What must be equal for yesterday's pairs to be reusable today."""
    return json.dumps(
        {
            "model": model_digest,
            "threshold": settings.match_threshold,
            "fingerprint": FINGERPRINT_VERSION,
        },
        sort_keys=True,
    )


def plan_link(
    cur: duckdb.DuckDBPyConnection,
    wh: Warehouse,
    settings: IdentitySettings,
    signature: str,
    records_table: str = "records",
    *,
    force_full: bool = False,
    must_train: bool = False,
    delta_table: str = "delta_keys",
    input_delta_table: str = "input_delta_keys",
) -> LinkPlan:
    """Decide between a full and an incremental Splink phase; create the delta tables.

    `delta_table(record_key, change)` lists new, changed and deleted records (change is
    'new', 'changed' or 'deleted': whatever Splink reads changed). `input_delta_table
    (record_key)` lists the new and deleted records and those whose own input changed
    (`prepare.INPUT_HASH`): unlike `delta_table`, not a record whose derived columns moved
    only because other records arrived (see `kept_persons`). Both are empty for a full
    re-link.

    Args:
        cur: Cursor on the scratch catalog (holding `records_table`).
        wh: The warehouse location (holding the previous state, if any).
        settings: Supplies the threshold and `incremental_max_share`.
        signature: `state_signature` of this run.
        records_table: Today's prepared records, with their `prepare.FINGERPRINT`.
        force_full: A full re-link was asked for.
        must_train: The model will be (re)trained in this run.
        delta_table: Table to create.
        input_delta_table: Table to create.

    Returns:
        LinkPlan: The decision with its counts.
    """
    cur.execute(f"create or replace table {delta_table} (record_key varchar, change varchar)")
    cur.execute(f"create or replace table {input_delta_table} (record_key varchar)")
    plan = LinkPlan()
    if force_full:
        plan.reason = "full re-link requested"
        return plan
    if must_train:
        plan.reason = "model trained in this run"
        return plan
    if not all(wh.exists(cur, name) for name in STATE_TABLES):
        return plan
    previous_signature = cur.execute(
        f"select max(signature) from {wh.table(STATE_META)}"
    ).fetchall()[0][0]
    if previous_signature != signature:
        plan.reason = "model, threshold or fingerprint changed since the previous state"
        return plan
    # both deltas from one join: every pass over a million records counts on a daily run
    cur.execute(f"""
        create or replace table __record_changes as
        select coalesce(c.record_key, p.record_key) as record_key,
               case when p.record_key is null then 'new'
                    when c.record_key is null then 'deleted'
                    when c.{FINGERPRINT} <> p.{FINGERPRINT} then 'changed' end as change,
               c.{INPUT_HASH} is distinct from p.{INPUT_HASH} as input_changed
        from (select record_key, {FINGERPRINT}, {INPUT_HASH} from {records_table}) as c
        full outer join (
            select record_key, {FINGERPRINT}, {INPUT_HASH} from {wh.table(STATE_RECORDS)}
        ) as p using (record_key)
        where c.{FINGERPRINT} is distinct from p.{FINGERPRINT}
           or c.{INPUT_HASH} is distinct from p.{INPUT_HASH}
    """)
    cur.execute(
        f"insert into {delta_table} select record_key, change from __record_changes "
        "where change is not null"
    )
    cur.execute(
        f"insert into {input_delta_table} select record_key from __record_changes "
        "where input_changed"
    )
    cur.execute("drop table __record_changes")
    counts = dict(cur.execute(f"select change, count(*) from {delta_table} group by 1").fetchall())
    plan.new, plan.changed = counts.get("new", 0), counts.get("changed", 0)
    plan.deleted = counts.get("deleted", 0)
    plan.previous = cur.execute(f"select count(*) from {wh.table(STATE_RECORDS)}").fetchall()[0][0]
    max_share = settings.incremental_max_share
    if plan.share > max_share:
        plan.reason = f"{plan.share:.1%} of the records changed, above {max_share:.0%}"
        cur.execute(f"delete from {delta_table}")
        cur.execute(f"delete from {input_delta_table}")
        return plan
    plan.mode, plan.reason = "incremental", "few changes"
    return plan


def score_incremental(
    cur: duckdb.DuckDBPyConnection,
    db_api: DuckDBAPI,
    linker: Linker,
    wh: Warehouse,
    records_table: str,
    threshold: float,
    delta_table: str = "delta_keys",
    output_table: str = "splink_state_pairs",
    unkept_table: str | None = None,
    carried_min: float = 0.0,
) -> tuple[int, int]:
    """Score new/changed records against each other and the unchanged ones; re-score old pairs.

    Creates `output_table(record_key_l, record_key_r, match_probability, match_weight,
    carried)` with record_key_l < record_key_r, like a full `predict` at `threshold`, plus
    whether the pair's stored score was kept (`carried_pairs_sql`).

    Args:
        cur: Cursor on the scratch catalog.
        db_api: The Splink API the linker runs on (a second cursor on the same catalog).
        linker: Linker over all of today's `records_table` with the reused model.
        wh: The warehouse location (previous `scored_pairs`).
        records_table: Today's prepared records.
        threshold: Minimum match probability (`state_threshold` of the match threshold).
        delta_table: From `plan_link`.
        output_table: Table to create.
        unkept_table: Today's records outside the persons that did not change
            (`kept_persons.kept_records`' unkept table): a stored pair with no end in it
            nor in the delta keeps its stored score (the kept persons' clustering is pinned
            until the full re-link, which re-scores it); None re-scores every pair.
        carried_min: Carried pairs below this probability are left out of `output_table`
            (they stay in the state: see `write_state`'s `pairs_in_place`). With
            `unkept_table`, the table `uncarried_keys` is created for it.

    Returns:
        tuple[int, int]: (stored pairs in `output_table`: carried ones at or above
            `carried_min` and re-scored ones at or above `threshold`; pairs found through
            new/changed records, at or above `threshold`).
    """
    cur.execute(f"""
        create or replace table inc_delta_records as
        select r.* from {records_table} as r semi join {delta_table} as d using (record_key)
    """)
    uncarried = None
    if unkept_table is not None:
        uncarried = uncarried_keys(cur, unkept_table, delta_table)
    carried = carried_pairs_sql(uncarried, "p")
    # most stored pairs are carried and below the match threshold: those stay in the state
    # (`write_state` replaces only the others), so they are not copied here
    wanted = f"not carried or p.match_probability >= {float(carried_min)!r}"
    cur.execute(f"""
        create or replace table inc_stored_pairs as
        select * from (
            select p.*, {carried} as carried from {wh.table(STATE_PAIRS)} as p
            where not exists (select 1 from {delta_table} as d where d.record_key = p.record_key_l)
              and not exists (select 1 from {delta_table} as d where d.record_key = p.record_key_r)
        ) as p where {wanted}
    """)
    # Splink's blocked-pairs shape: the kept pairs are scored as if blocking had found them
    cur.execute("""
        create or replace table inc_kept_pairs as
        select '0' as match_key, record_key_l as join_key_l, record_key_r as join_key_r
        from inc_stored_pairs where not carried
    """)
    cur.execute(
        f"create or replace table {output_table} as select {SCORED_COLUMNS}, carried "
        "from inc_stored_pairs where carried"
    )
    for column in linker._settings_obj._term_frequency_columns:
        # today's term frequencies, as a full predict computes them (predict_within and
        # predict_between read only registered tables)
        linker.table_management.compute_tf_table(column.unquote().name)
    within, between = _predict_delta(db_api, linker, records_table, threshold)
    kept_frame = _rescore_pairs(db_api, linker, "inc_kept_pairs", threshold)
    cur.execute(
        f"insert into {output_table} select {SCORED_COLUMNS}, false from {kept_frame.physical_name}"
    )
    kept_frame.drop_table_from_database_and_remove_from_cache()
    kept = cur.execute(f"select count(*) from {output_table}").fetchall()[0][0]
    # between the delta and all records: a pair of two delta records (or a record with
    # itself) is within's, so it is left out there
    in_delta = f"in (select record_key from {delta_table})"
    for frame, where in (
        (within, "true"),
        (between, f"not (record_key_l {in_delta} and record_key_r {in_delta})"),
    ):
        # predict_between has no left < right order: put each pair the way predict does
        cur.execute(f"""
            insert into {output_table}
            select least(record_key_l, record_key_r), greatest(record_key_l, record_key_r),
                   match_probability, match_weight, false
            from {frame.physical_name} where {where}
        """)
        frame.drop_table_from_database_and_remove_from_cache()
    total = cur.execute(f"select count(*) from {output_table}").fetchall()[0][0]
    for name in ("inc_delta_records", "inc_kept_pairs", "inc_stored_pairs"):
        cur.execute(f"drop table if exists {name}")
    return int(kept), int(total - kept)


def uncarried_keys(
    cur: duckdb.DuckDBPyConnection,
    unkept_table: str,
    delta_table: str,
    output_table: str = "uncarried_keys",
) -> str:
    """Create `output_table(record_key)`: records whose stored pairs are not carried.

    They are today's records outside the kept persons and the delta (new, changed,
    deleted): a few percent of the records, so testing pairs against them is cheap.
    """
    cur.execute(f"""
        create or replace table {output_table} as
        select record_key from {unkept_table} union select record_key from {delta_table}
    """)
    return output_table


def carried_pairs_sql(uncarried: str | None, alias: str) -> str:
    """SQL: whether stored pair `alias` keeps its score: no end in `uncarried_keys`."""
    if uncarried is None:
        return "false"
    keys = f"(select record_key from {uncarried})"
    return f"({alias}.record_key_l not in {keys} and {alias}.record_key_r not in {keys})"


def _predict_delta(
    db_api: DuckDBAPI, linker: Linker, records_table: str, threshold: float
) -> tuple[SplinkDataFrame, SplinkDataFrame]:
    """Splink's incremental primitives: inc_delta_records within, and against all records.

    All records rather than only the unchanged ones: a copy of a million rows costs more
    than the few delta-delta pairs scored twice (the caller drops them from between).
    """
    delta = db_api.register("inc_delta_records", table_name="inc_delta_records")
    everyone = db_api.register(records_table)  # a fresh name for the linker's own input
    inference = linker.inference
    return (
        inference.predict_within(
            delta, threshold_match_probability=threshold, warning_mode="never"
        ),
        inference.predict_between(
            delta, everyone, threshold_match_probability=threshold, warning_mode="never"
        ),
    )


def _rescore_pairs(
    db_api: DuckDBAPI, linker: Linker, pairs_table: str, threshold: float
) -> SplinkDataFrame:
    """Score exactly the pairs in `pairs_table` (match_key, join_key_l, join_key_r)."""
    pairs = db_api.register(pairs_table, table_name=pairs_table)
    linker.table_management.register_blocked_pairs_for_predict(pairs)
    return linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")


def affected_records(
    cur: duckdb.DuckDBPyConnection,
    wh: Warehouse,
    edges_table: str,
    delta_table: str = "delta_keys",
    output_table: str = "cluster_affected",
    extra_table: str | None = None,
) -> tuple[str, str] | None:
    """Records whose connected component may differ from the previous run's.

    They are the new, changed and deleted records and both ends of every accepted edge
    (after rules, before the clustering guard) added or removed since the previous run:
    a component without such a record has exactly the edges it had, so it is unchanged.
    Every record without a previous component is one of them: the state keeps one
    component row per record of yesterday (checked by counts; should they differ, None).

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location (previous `match_components` and `match_edges`).
        edges_table: Today's accepted edges (record_key_l, record_key_r, ...).
        delta_table: From `plan_link` (an incremental plan).
        output_table: Table to create: record_key.
        extra_table: More records (record_key) whose components must be redone, e.g.
            those whose input changed (persons no longer pinned, see `kept_persons`).

    Returns:
        tuple[str, str] | None: (previous components table, `output_table`) for
            `clustering.cluster_records`, or None when the state lacks them (or holds
            them for other records than `match_records`).
    """
    if not all(wh.exists(cur, name) for name in (STATE_COMPONENTS, STATE_EDGES)):
        return None
    # yesterday's records are the delta's comparison base (match_records): with a
    # component row for each of them, a record without one is new, hence in the delta
    components, states = wh.table(STATE_COMPONENTS), wh.table(STATE_RECORDS)
    counts = cur.execute(
        f"select (select count(*) from {components}), (select count(*) from {states})"
    ).fetchall()[0]
    if counts[0] != counts[1]:
        logger.warning(
            "identity: %d stored component rows for %d stored records: all components redone",
            *counts,
        )
        return None
    previous = wh.table(STATE_EDGES)
    extra_table = extra_table or "(select null::varchar as record_key where false)"
    # added and removed edges from one full outer join (half the cost of two EXCEPTs)
    cur.execute(f"""
        create or replace table {output_table} as
        with changed as (
            select coalesce(e.record_key_l, p.record_key_l) as record_key_l,
                   coalesce(e.record_key_r, p.record_key_r) as record_key_r
            from {edges_table} as e
            full outer join {previous} as p
                on e.record_key_l = p.record_key_l and e.record_key_r = p.record_key_r
            where e.record_key_l is null or p.record_key_l is null
        )
        select record_key from {delta_table}
        union select record_key from {extra_table}
        union select record_key_l from changed union select record_key_r from changed
    """)
    return components, output_table
