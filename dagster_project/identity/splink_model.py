"""The Splink model's life cycle: training, reuse of the saved JSON, blocking counts, prediction.

The model is a JSON artefact. `load_or_train_linker` reuses it when the file exists and
still matches the comparisons and blocking rules declared here; otherwise (or with
`retrain=True`) it trains: u by random sampling, the prior from deterministic rules, then
m by expectation maximisation over three blocking sessions. `train_new_linker` and
`save_charts` serve `training.py`, which keeps trained models as versions with their charts.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from splink import DuckDBAPI, Linker, block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.exceptions import EMTrainingException
from splink.internals.splink_dataframe import SplinkDataFrame

from dagster_project.identity.comparisons import build_settings, prediction_blocking_rules
from dagster_project.identity.settings import IdentitySettings

logger = logging.getLogger(__name__)


def _model_signature(model: dict[str, Any]) -> str:
    """Comparison names, level conditions and blocking rules: what must match to reuse."""
    shape = {
        "comparisons": [
            [c["output_column_name"], [lvl["sql_condition"] for lvl in c["comparison_levels"]]]
            for c in model["comparisons"]
        ],
        "blocking": [
            b["blocking_rule"] if isinstance(b, dict) else b
            for b in model["blocking_rules_to_generate_predictions"]
        ],
    }
    return json.dumps(shape, sort_keys=True)


def load_or_train_linker(
    db_api: DuckDBAPI,
    records_table: str,
    model_path: Path,
    settings: IdentitySettings,
    retrain: bool = False,
) -> tuple[Linker, bool]:
    """Return a linker with a trained model, reusing `model_path` when possible.

    Args:
        db_api: Splink DuckDB API on the connection that holds `records_table`.
        records_table: Prepared person records (see `prepare`).
        model_path: JSON model file; written after training.
        settings: Identity settings.
        retrain: Train even when the file exists.

    Returns:
        tuple[Linker, bool]: The linker and whether it was trained in this call.
    """
    sdf = db_api.register(records_table)
    fresh = build_settings(settings)
    if model_path.is_file() and not retrain:
        saved = json.loads(model_path.read_text(encoding="utf-8"))
        wanted = fresh.create_settings_dict(db_api.sql_dialect.sql_dialect_str)
        if _model_signature(saved) == _model_signature(wanted):
            logger.info("splink: reusing trained model %s", model_path)
            return Linker(sdf, saved, log_level=None), False
        logger.warning("splink: model %s does not match the declared model; retraining", model_path)
    linker = Linker(sdf, fresh, log_level=None)
    train(linker, settings)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    linker.misc.save_model_to_json(str(model_path), overwrite=True)
    logger.info("splink: trained model saved to %s", model_path)
    return linker, True


def train(linker: Linker, settings: IdentitySettings) -> None:
    """Estimate the prior, u and m parameters.

    Args:
        linker: Linker with untrained settings.
        settings: Sampling sizes, seed and assumed deterministic recall.
    """
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [
            block_on("email"),
            block_on("phone"),
            block_on("first_name_key", "last_name_key", "date_of_birth"),
        ],
        recall=settings.deterministic_recall,
    )
    training.estimate_u_using_random_sampling(max_pairs=settings.u_max_pairs, seed=settings.seed)
    em_max = settings.em_max_pairs
    # each session leaves out the comparisons its rule blocks on; together they cover all.
    # (Not the capped block_name: Splink could not tell that it blocks on the names.)
    for rule in (
        block_on("first_name_canonical", "last_name_key"),
        block_on("date_of_birth", "postcode"),
        block_on("phone"),
    ):
        try:
            training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=em_max
            )
        except EMTrainingException as exc:
            # data without that field (e.g. no phone column): the other sessions cover the
            # comparisons this one would have estimated
            logger.warning(
                "splink: EM session skipped, its rule blocks no pairs: %s", exc.args[0][:80]
            )
    log_match_weights(linker)


def train_new_linker(db_api: DuckDBAPI, records_table: str, settings: IdentitySettings) -> Linker:
    """A linker on `records_table` with the declared (untrained) settings, then trained.

    Args:
        db_api: Splink DuckDB API on the connection that holds `records_table`.
        records_table: Prepared person records (see `prepare`).
        settings: Identity settings.

    Returns:
        Linker: The trained linker.
    """
    linker = Linker(db_api.register(records_table), build_settings(settings), log_level=None)
    train(linker, settings)
    return linker


def load_linker(db_api: DuckDBAPI, records_table: str, model_path: Path) -> Linker:
    """A linker on `records_table` with the saved model at `model_path`."""
    saved = json.loads(Path(model_path).read_text(encoding="utf-8"))
    return Linker(db_api.register(records_table), saved, log_level=None)


def model_matches_declared(model: dict[str, Any], settings: IdentitySettings) -> bool:
    """Whether a saved model has the comparisons and blocking rules declared in code."""
    wanted = build_settings(settings).create_settings_dict("duckdb")
    return _model_signature(model) == _model_signature(wanted)


def prior_probability(linker: Linker) -> float:
    """The model's probability that two random records match."""
    return float(linker._settings_obj._probability_two_random_records_match)


def probability_to_weight(probability: float) -> float:
    """Match weight (log2 Bayes factor) of a probability."""
    return math.log2(probability / (1 - probability))


def save_charts(linker: Linker, out_dir: Path) -> dict[str, Path]:
    """Write Splink's own model charts as self-contained HTML files into `out_dir`.

    The match-weight histogram covers every pair the prediction blocking rules generate
    (one extra predict, which is why charts are drawn at training time only); the
    unlinkables chart scores every record against itself.

    Args:
        linker: A trained linker on the prepared records.
        out_dir: Folder to create.

    Returns:
        dict: {chart name: file}.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
        "unlinkables": linker.evaluation.unlinkables_chart(),
    }
    predictions = linker.inference.predict(warning_mode="never")
    try:
        charts["match_weights_histogram"] = linker.visualisations.match_weights_histogram(
            predictions
        )
    finally:
        predictions.drop_table_from_database_and_remove_from_cache()
    files = {}
    for name, chart in charts.items():
        path = out_dir / f"{name}.html"
        chart.save(str(path), inline=True)  # inline: viewable without internet access
        files[name] = path
    return files


def level_weights(linker: Linker) -> dict[str, dict[str, float]]:
    """Match weight (log2 Bayes factor) of every non-null level, by comparison.

    Args:
        linker: A trained linker.

    Returns:
        dict: {comparison: {level label: weight}}.
    """
    out: dict[str, dict[str, float]] = {}
    for comparison in linker._settings_obj.comparisons:
        levels = {}
        for level in comparison._comparison_levels_excluding_null:
            bf = level._bayes_factor
            levels[level.label_for_charts] = math.log2(bf) if bf and bf > 0 else float("-inf")
        out[comparison.output_column_name] = levels
    return out


def log_match_weights(linker: Linker) -> None:
    """Log the level weights and warn when different first names do not count against."""
    weights = level_weights(linker)
    for name, levels in weights.items():
        logger.info("splink weights %s: %s", name, {k: round(v, 2) for k, v in levels.items()})
    else_weight = weights["first_name"]["All other comparisons"]
    if else_weight >= 0:
        logger.warning(
            "splink: different first names weigh %.2f (>= 0): check training", else_weight
        )


def count_comparisons(db_api: DuckDBAPI, records_table: str, settings: IdentitySettings) -> int:
    """Count (or estimate) the pairs the prediction blocking rules generate.

    Args:
        db_api: Splink DuckDB API holding `records_table`.
        records_table: Prepared records.
        settings: Supplies the sample proportion and the cap.

    Returns:
        int: Cumulative comparisons across all rules.

    Raises:
        ValueError: When the count exceeds `settings.max_comparisons`.
    """
    sdf = db_api.register(records_table, table_name=f"{records_table}_blocking_analysis")
    counts = count_comparisons_from_blocking_rules(
        sdf,
        blocking_rules=prediction_blocking_rules(),
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        record_sample_proportion=settings.blocking_sample_proportion,
    )
    for row in counts:
        logger.info(
            "blocking %s: %d marginal, %d cumulative comparisons",
            row["blocking_rule"],
            row["marginal_comparison_count"],
            row["cumulative_comparison_count"],
        )
    total = int(counts[-1]["cumulative_comparison_count"]) if counts else 0
    if total > settings.max_comparisons:
        raise ValueError(
            f"blocking rules generate {total:,} comparisons, above the cap of "
            f"{settings.max_comparisons:,} (CDP_MAX_COMPARISONS)"
        )
    return total


def predict_links(linker: Linker, threshold: float) -> SplinkDataFrame:
    """Score blocked pairs and keep those at or above `threshold`.

    Args:
        linker: A trained linker.
        threshold: Minimum match probability.

    Returns:
        SplinkDataFrame: record_key_l, record_key_r, match_probability, match_weight, ...
    """
    return linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
