"""Explain a match: why two records are (or are not) one person, and what holds a person together.

Reads the identity tables (`person_map`, `person_links`, `blocked_links`), the prepared
matching records (`identity.match_records` when the run kept them, else prepared again from
`int_person_records_unioned` in memory) and scores pairs with the saved Splink model
(`linker.inference.score_pair`), whose per-comparison match weights form Splink's waterfall.
E-mail addresses and phone numbers are masked unless `masked=False`.

Examples:
    ```py
    settings = IdentitySettings.from_env()
    with open_warehouse(Path("data/cdp.duckdb")) as con:
        with explain_context(con, WAREHOUSE_ALIAS, model_path, settings) as ctx:
            pair = explain_pair(ctx, "webshop__customers:W1", "loyalty__members:L7")
    print(explain_report.format_pair(pair))
    ```
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from splink import DuckDBAPI, Linker

from dagster_project.audiences.mask import mask_email, mask_phone
from dagster_project.identity import splink_model
from dagster_project.identity.deterministic import IDENTIFIER_RULES
from dagster_project.identity.outputs import COOKIE_SOURCE
from dagster_project.identity.prepare import prepare_records
from dagster_project.identity.settings import IdentitySettings
from dagster_project.identity.training import scratch_cursors

WAREHOUSE_ALIAS = "wh"
# Fields shown for a record, when the input has them.
DISPLAY_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "street",
    "house_number",
    "postcode",
    "city",
)


class ExplainError(ValueError):
    """A request that cannot be answered (unknown record or person, no warehouse)."""


@dataclass(frozen=True)
class RecordView:
    """One person record as shown to the operator."""

    record_key: str
    person_id: str | None
    match_rule: str | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class Edge:
    """An accepted link (person_links) or a refused one (blocked_links, with a reason)."""

    record_key_l: str
    record_key_r: str
    rule: str
    match_probability: float | None = None
    match_weight: float | None = None
    reason: str | None = None

    def other(self, key: str) -> str:
        return self.record_key_r if key == self.record_key_l else self.record_key_l


@dataclass(frozen=True)
class WaterfallRow:
    """One bar of Splink's waterfall: a comparison's level and its match weight."""

    comparison: str
    level: str
    value_l: str
    value_r: str
    weight: float


@dataclass
class Score:
    """Splink's verdict on a pair with the saved model."""

    match_probability: float
    match_weight: float
    rows: list[WaterfallRow]
    record: dict[str, Any]  # score_pair's output row (masked): input for the waterfall chart


@dataclass
class PairExplanation:
    left: RecordView
    right: RecordView
    same_person: bool
    path: list[Edge]  # the direct link, or the chain of links through the person
    blocked: list[Edge]
    shared: list[tuple[str, str]]  # (identifier, masked value) both records carry
    score: Score | None
    threshold: float
    model: str | None


@dataclass
class PersonExplanation:
    person_id: str
    records: list[RecordView]
    edges: list[Edge]
    blocked: list[Edge]  # refused links touching the person's records
    blocked_other_person: dict[str, str | None]  # other record -> its person_id
    cookies: int
    scores: dict[tuple[str, str], Score] = field(default_factory=dict)
    model: str | None = None
    threshold: float = 0.9


@dataclass
class ExplainContext:
    """Cursors (default catalog: a scratch database), where the warehouse is, and the model."""

    cur: duckdb.DuckDBPyConnection
    splink_cur: duckdb.DuckDBPyConnection
    catalog: str
    settings: IdentitySettings
    model_path: Path | None
    masked: bool = True
    redact_personal: bool = False  # also names, birth dates, addresses (reports kept on disk)
    _linker: Linker | None = None
    _records_ready: bool = False

    def table(self, name: str) -> str:
        return f'"{self.catalog}"."{self.settings.schema}"."{name}"'

    def exists(self, name: str) -> bool:
        return bool(
            self.cur.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = ? and table_schema = ? and table_name = ?",
                [self.catalog, self.settings.schema, name],
            ).fetchall()[0][0]
        )

    def matching_records(self) -> str:
        """The prepared records: a view on the run's kept `match_records`, else prepared once."""
        if not self._records_ready:
            if self.exists("match_records"):
                self.cur.execute(  # a view: nothing is copied
                    "create or replace view explain_records as select * "
                    f"from {self.table('match_records')}"
                )
            else:  # state table not kept (older run): prepare the input the same way
                prepare_records(
                    self.cur,
                    self.table("int_person_records_unioned"),
                    "explain_records",
                    self.settings.max_name_block,
                )
            self._records_ready = True
        return "explain_records"

    def linker(self) -> Linker | None:
        """The saved model on the prepared records, or None without a model."""
        if self._linker is None and self.model_path and Path(self.model_path).is_file():
            db_api = DuckDBAPI(self.splink_cur)
            self._linker = splink_model.load_linker(
                db_api, self.matching_records(), Path(self.model_path)
            )
        return self._linker


@contextmanager
def open_warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection with the warehouse attached read-only as `wh`.

    Raises:
        ExplainError: When the file is missing or a run holds it for writing.
    """
    if not Path(path).is_file():
        raise ExplainError(f"no warehouse at {path}: run the daily job first (cdp run)")
    con = duckdb.connect()
    try:
        try:
            con.execute(f"attach '{path}' as {WAREHOUSE_ALIAS} (read_only)")
        except duckdb.IOException as err:
            raise ExplainError(
                f"cannot open {path} read-only (is a run writing it?): {err}"
            ) from err
        yield con
    finally:
        con.close()


@contextmanager
def explain_context(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    model_path: Path | None,
    settings: IdentitySettings,
    masked: bool = True,
    redact_personal: bool = False,
) -> Iterator[ExplainContext]:
    """Cursors on `con` for one explanation session (work tables in a scratch database)."""
    with scratch_cursors(con) as (_, (cur, splink_cur)):
        ctx = ExplainContext(
            cur, splink_cur, catalog, settings, model_path, masked, redact_personal
        )
        if not ctx.exists("person_map"):
            raise ExplainError(f"{ctx.table('person_map')} does not exist: run the daily job")
        yield ctx


_REDACTED_FIELDS = ("date_of_birth", "birth_year", "street", "house_number", "postcode", "city")


def _mask_value(column: str, value: Any, masked: bool, redact: bool = False) -> Any:
    """Mask e-mail- and phone-derived values (by column name) when `masked`; with `redact`
    also cut last names to an initial and blank birth dates and addresses (as audience samples)."""
    if not masked or value is None:
        return value
    base = column.removesuffix("_l").removesuffix("_r")
    if redact and base.startswith("last_name"):
        return f"{str(value)[:1]}."
    if redact and base.startswith(_REDACTED_FIELDS):
        return "***"
    if base == "email":
        return mask_email(str(value))
    if base == "phone":
        return mask_phone(str(value))
    if base.startswith(("email_", "phone_")):  # username letters/digits reveal the address
        return "***"
    return value


def load_records(ctx: ExplainContext, keys: Sequence[str]) -> dict[str, RecordView]:
    """The records `keys` with their person and displayed fields.

    Raises:
        ExplainError: For keys not in person_map (naming the known sources).
    """
    available = {
        r[0]
        for r in ctx.cur.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [ctx.catalog, ctx.settings.schema, "int_person_records_unioned"],
        ).fetchall()
    }
    shown = [f for f in DISPLAY_FIELDS if f in available]
    select = ", ".join(f"r.{f}" for f in shown)
    rows = ctx.cur.execute(
        f"""
        select m.record_key, m.person_id, m.match_rule{", " + select if select else ""}
        from {ctx.table("person_map")} as m
        left join {ctx.table("int_person_records_unioned")} as r using (record_key)
        where m.record_key in (select unnest(?::varchar[]))
        order by m.record_key
        """,
        [list(keys)],
    ).fetchall()
    found = {
        row[0]: RecordView(
            record_key=row[0],
            person_id=row[1],
            match_rule=row[2],
            fields={
                f: _mask_value(f, v, ctx.masked, ctx.redact_personal)
                for f, v in zip(shown, row[3:], strict=True)
            },
        )
        for row in rows
    }
    missing = [k for k in keys if k not in found]
    if missing:
        sources = [
            r[0]
            for r in ctx.cur.execute(
                f"select distinct source from {ctx.table('person_map')} order by 1"
            ).fetchall()
        ]
        raise ExplainError(
            f"unknown record {', '.join(missing)}: give <source>:<source record id>, "
            f"with source one of {', '.join(sources)}"
        )
    return found


def _edges(ctx: ExplainContext, table: str, keys: Sequence[str], both: bool) -> list[Edge]:
    """Rows of person_links / blocked_links with both (or either) ends in `keys`."""
    join = "and" if both else "or"
    has_reason = table == "blocked_links"
    cols = "null, null, reason" if has_reason else "match_probability, match_weight, null"
    rows = ctx.cur.execute(
        f"""
        select record_key_l, record_key_r, rule, {cols}
        from {ctx.table(table)}
        where record_key_l in (select unnest(?::varchar[]))
          {join} record_key_r in (select unnest(?::varchar[]))
        order by record_key_l, record_key_r, rule
        """,
        [list(keys), list(keys)],
    ).fetchall()
    return [Edge(*row) for row in rows]


def link_path(edges: Sequence[Edge], start: str, goal: str) -> list[Edge]:
    """The shortest chain of links from `start` to `goal` (empty when not connected)."""
    adjacent: dict[str, list[Edge]] = {}
    for edge in edges:
        adjacent.setdefault(edge.record_key_l, []).append(edge)
        adjacent.setdefault(edge.record_key_r, []).append(edge)
    came_from: dict[str, Edge | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for edge in adjacent.get(node, []):
            nxt = edge.other(node)
            if nxt not in came_from:
                came_from[nxt] = edge
                queue.append(nxt)
    if goal not in came_from or start == goal:
        return []
    path, node = [], goal
    while (edge := came_from[node]) is not None:
        path.append(edge)
        node = edge.other(node)
    return path[::-1]


def shared_identifiers(ctx: ExplainContext, left: str, right: str) -> list[tuple[str, str]]:
    """Identifiers of the deterministic rules that both prepared records hold equal."""
    records = ctx.matching_records()
    out = []
    for rule, column in IDENTIFIER_RULES:
        value = ctx.cur.execute(
            f"select l.{column} from {records} l join {records} r on l.{column} = r.{column} "
            "where l.record_key = ? and r.record_key = ?",
            [left, right],
        ).fetchall()
        if value:
            out.append(
                (rule, str(_mask_value(column, value[0][0], ctx.masked, ctx.redact_personal)))
            )
    return out


def score_pair(ctx: ExplainContext, left: str, right: str) -> Score | None:
    """Splink's match weight of the pair with the saved model, per comparison."""
    linker = ctx.linker()
    if linker is None:
        return None
    records = ctx.matching_records()
    tables = []
    for side, key in (("l", left), ("r", right)):
        name = f"explain_{side}"
        ctx.cur.execute(
            f"create or replace table {name} as select * from {records} where record_key = ?",
            [key],
        )
        tables.append(linker._db_api.table_to_splink_dataframe(name, name))
    scored = linker.inference.score_pair(tables[0], tables[1])
    try:
        record = scored.as_record_list()[0]
    finally:
        scored.drop_table_from_database_and_remove_from_cache()
    record = {k: _mask_value(k, v, ctx.masked, ctx.redact_personal) for k, v in record.items()}
    return Score(
        match_probability=float(record["match_probability"]),
        match_weight=float(record["match_weight"]),
        rows=waterfall_rows(linker, record),
        record=record,
    )


def waterfall_rows(linker: Linker, record: dict[str, Any]) -> list[WaterfallRow]:
    """Splink's waterfall data of one scored pair, as rows (prior, comparisons, final)."""
    # Splink's own waterfall data builder, so the text table and the chart agree
    from splink.internals.waterfall_chart import records_to_waterfall_data

    rows = []
    for bar in records_to_waterfall_data([record], linker._settings_obj, False):
        weight = bar["log2_bayes_factor"]
        if bar["term_frequency_adjustment"] and not weight:
            continue  # no term-frequency adjustment on this level
        rows.append(
            WaterfallRow(
                comparison=bar["column_name"],
                level=bar["label_for_charts"],
                value_l=bar["value_l"],
                value_r=bar["value_r"],
                weight=float(weight) if weight is not None else math.nan,
            )
        )
    return rows


def explain_pair(ctx: ExplainContext, left: str, right: str) -> PairExplanation:
    """Why `left` and `right` (record keys '<source>:<id>') are, or are not, one person."""
    if left == right:
        raise ExplainError("give two different records")
    views = load_records(ctx, [left, right])
    same = views[left].person_id == views[right].person_id
    path: list[Edge] = []
    if same:
        members = [
            r[0]
            for r in ctx.cur.execute(
                f"select record_key from {ctx.table('person_map')} where person_id = ?",
                [views[left].person_id],
            ).fetchall()
        ]
        path = link_path(_edges(ctx, "person_links", members, both=True), left, right)
    blocked = [
        e
        for e in _edges(ctx, "blocked_links", [left, right], both=True)
        if {e.record_key_l, e.record_key_r} == {left, right}
    ]
    return PairExplanation(
        left=views[left],
        right=views[right],
        same_person=same,
        path=path,
        blocked=blocked,
        shared=shared_identifiers(ctx, left, right),
        score=score_pair(ctx, left, right),
        threshold=ctx.settings.match_threshold,
        model=_model_name(ctx),
    )


def explain_person(ctx: ExplainContext, person_id: str, score: bool = False) -> PersonExplanation:
    """The records of `person_id`, the links between them and refused links touching them.

    Args:
        ctx: The session.
        person_id: A person_id of identity.person_map.
        score: Also score every Splink link with the saved model (for waterfalls).

    Raises:
        ExplainError: When no record has that person_id.
    """
    rows = ctx.cur.execute(
        f"select record_key, source from {ctx.table('person_map')} where person_id = ? "
        "order by record_key",
        [person_id],
    ).fetchall()
    if not rows:
        raise ExplainError(f"unknown person_id {person_id}")
    keys = [k for k, source in rows if source != COOKIE_SOURCE]
    views = load_records(ctx, keys)
    edges = _edges(ctx, "person_links", keys, both=True)
    blocked = _edges(ctx, "blocked_links", keys, both=False)
    members = set(keys)
    others = sorted(
        {k for e in blocked for k in (e.record_key_l, e.record_key_r) if k not in members}
    )
    others_person = dict(
        ctx.cur.execute(
            f"select record_key, person_id from {ctx.table('person_map')} "
            "where record_key in (select unnest(?::varchar[]))",
            [others],
        ).fetchall()
    )
    explanation = PersonExplanation(
        person_id=person_id,
        records=[views[k] for k in keys],
        edges=edges,
        blocked=blocked,
        blocked_other_person={k: others_person.get(k) for k in others},
        cookies=len(rows) - len(keys),
        model=_model_name(ctx),
        threshold=ctx.settings.match_threshold,
    )
    if score:
        for edge in edges:
            if edge.rule == "splink":
                scored = score_pair(ctx, edge.record_key_l, edge.record_key_r)
                if scored is not None:
                    explanation.scores[(edge.record_key_l, edge.record_key_r)] = scored
    return explanation


def _model_name(ctx: ExplainContext) -> str | None:
    if ctx.model_path and Path(ctx.model_path).is_file():
        return Path(ctx.model_path).name
    return None


def waterfall_html(ctx: ExplainContext, scores: Sequence[Score], path: Path) -> Path:
    """Write Splink's waterfall chart of the scored pairs to `path` (self-contained HTML)."""
    linker = ctx.linker()
    if linker is None or not scores:
        raise ExplainError("no Splink score to draw (no model, or no Splink-scored pair)")
    obj = linker._settings_obj
    # score_pair computed the columns the chart needs; the check reads these two flags
    keep = obj._retain_matching_columns, obj._retain_intermediate_calculation_columns
    obj._retain_matching_columns = obj._retain_intermediate_calculation_columns = True
    try:
        chart = linker.visualisations.waterfall_chart([s.record for s in scores])
    finally:
        obj._retain_matching_columns, obj._retain_intermediate_calculation_columns = keep
    path.parent.mkdir(parents=True, exist_ok=True)
    chart.save(str(path), inline=True)
    return path
