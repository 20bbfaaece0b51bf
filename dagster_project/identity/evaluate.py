"""Pairwise precision / recall / F1 of a person map against ground truth, in DuckDB.

Pairs are never materialised: a cluster of n records holds n*(n-1)/2 pairs, so the true
positives are the pairs within each (predicted person, true person) group, summed over a
group-by. Works at millions of records.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    """Pairwise quality of a clustering.

    Attributes:
        records: Records present in both the person map and the truth.
        predicted_pairs: Record pairs placed in the same predicted person.
        true_pairs: Record pairs belonging to the same true person.
        true_positive_pairs: Pairs in the same predicted and the same true person.
        precision: true_positive_pairs / predicted_pairs (1.0 when nothing predicted).
        recall: true_positive_pairs / true_pairs (1.0 when nothing to find).
        f1: Harmonic mean of precision and recall.
        predicted_clusters: Distinct predicted persons.
        true_clusters: Distinct true persons.
        impure_clusters: Predicted persons holding records of more than one true person.
        split_entities: True persons spread over more than one predicted person.
        household_merges: Predicted persons holding two true persons of one household
            (None when the truth has no household_id column).
        twin_merges: Predicted persons holding two true persons flagged as twins
            (None when the truth has no is_twin column).
    """

    records: int
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float
    predicted_clusters: int
    true_clusters: int
    impure_clusters: int
    split_entities: int
    household_merges: int | None = None
    twin_merges: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for logging or metadata."""
        return asdict(self)


def evaluate_person_map(
    con: duckdb.DuckDBPyConnection,
    person_map: str = "identity.person_map",
    truth: str = "truth",
    predicted_id_column: str = "person_id",
    true_id_column: str = "true_id",
) -> Evaluation:
    """Compare a person map with a ground-truth table.

    Args:
        con: Connection holding both tables.
        person_map: Table or view with record_key and the predicted id column; rows whose
            record_key is not in the truth (e.g. cookies) are ignored.
        truth: Table with record_key, the true id column, and optionally household_id
            and is_twin.
        predicted_id_column: Column of `person_map` with the predicted entity.
        true_id_column: Column of `truth` with the true entity.

    Returns:
        Evaluation: Pair counts, precision, recall, F1 and cluster counts.
    """
    cur = con  # same connection, so tables or frames registered on it are visible
    try:
        truth_cols = {row[0] for row in cur.execute(f"describe {truth}").fetchall()}
        extra = [c for c in ("household_id", "is_twin") if c in truth_cols]
        extra_sql = "".join(f", t.{c}" for c in extra)
        cur.execute(f"""
            create or replace temp table __eval_joined as
            select p.record_key, p.{predicted_id_column} as pred, t.{true_id_column} as truth
                   {extra_sql}
            from {person_map} as p join {truth} as t using (record_key)
        """)
        pairs = "sum(n * (n - 1) // 2)"
        row = cur.execute(f"""
            select
                (select count(*) from __eval_joined),
                (select coalesce({pairs}, 0) from (select count(*) as n from __eval_joined group by pred)),
                (select coalesce({pairs}, 0) from (select count(*) as n from __eval_joined group by truth)),
                (select coalesce({pairs}, 0) from (
                    select count(*) as n from __eval_joined group by pred, truth)),
                (select count(distinct pred) from __eval_joined),
                (select count(distinct truth) from __eval_joined),
                (select count(*) from (select pred from __eval_joined group by pred
                                       having count(distinct truth) > 1)),
                (select count(*) from (select truth from __eval_joined group by truth
                                       having count(distinct pred) > 1))
        """).fetchall()[0]
        records, predicted, true, tp, n_pred, n_true, impure, split = (int(v) for v in row)
        household = _merges(cur, "household_id") if "household_id" in extra else None
        twins = _merges(cur, "is_twin", twin=True) if "is_twin" in extra else None
    finally:
        cur.execute("drop table if exists __eval_joined")
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result = Evaluation(
        records,
        predicted,
        true,
        tp,
        round(precision, 5),
        round(recall, 5),
        round(f1, 5),
        n_pred,
        n_true,
        impure,
        split,
        household,
        twins,
    )
    logger.info("evaluation: %s", result.as_dict())
    return result


def _merges(cur: duckdb.DuckDBPyConnection, column: str, twin: bool = False) -> int:
    """Predicted persons holding more than one true person of one household (or twin pair)."""
    cols = {row[0] for row in cur.execute("describe __eval_joined").fetchall()}
    group = "household_id" if "household_id" in cols else "true"
    where = "where is_twin" if twin else f"where {column} is not null"
    return int(
        cur.execute(f"""
        select count(*) from (
            select pred, {group} as grp from __eval_joined {where}
            group by pred, grp having count(distinct truth) > 1
        )
    """).fetchall()[0][0]
    )
