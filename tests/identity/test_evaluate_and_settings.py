"""Pairwise evaluation counts and environment-driven settings."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dagster_project.identity.evaluate import evaluate_person_map
from dagster_project.identity.settings import IdentitySettings


def test_pairwise_precision_recall_from_group_counts() -> None:
    con = duckdb.connect()
    # truth: A = {1,2,3}, B = {4,5} ; prediction: {1,2}, {3,4,5}, cookie row ignored
    con.register(
        "pm",
        pd.DataFrame(
            {
                "record_key": ["1", "2", "3", "4", "5", "cookie"],
                "person_id": ["p", "p", "q", "q", "q", "p"],
            }
        ),
    )
    con.register(
        "truth",
        pd.DataFrame(
            {
                "record_key": ["1", "2", "3", "4", "5"],
                "true_id": ["A", "A", "A", "B", "B"],
                "household_id": ["H", "H", "H", "H", "H"],
                "is_twin": [False, False, True, True, False],
            }
        ),
    )
    result = evaluate_person_map(con, "pm", "truth")
    # predicted pairs: 1 + 3 = 4 ; true pairs: 3 + 1 = 4 ; true positives: (1,2) + (4,5) = 2
    assert (result.predicted_pairs, result.true_pairs, result.true_positive_pairs) == (4, 4, 2)
    assert result.precision == result.recall == result.f1 == 0.5
    assert (result.predicted_clusters, result.true_clusters) == (2, 2)
    assert (result.impure_clusters, result.split_entities) == (1, 1)
    assert result.household_merges == 1 and result.twin_merges == 1
    assert result.records == 5


def test_perfect_clustering_scores_one() -> None:
    con = duckdb.connect()
    con.register("pm", pd.DataFrame({"record_key": ["1", "2", "3"], "person_id": ["p", "p", "q"]}))
    con.register("truth", pd.DataFrame({"record_key": ["1", "2", "3"], "true_id": ["A", "A", "B"]}))
    result = evaluate_person_map(con, "pm", "truth")
    assert result.precision == result.recall == 1.0
    assert result.household_merges is None


def test_settings_read_environment_only_when_asked() -> None:
    env = {"CDP_MATCH_THRESHOLD": "0.97", "CDP_MAX_CLUSTER_SIZE": "20", "CDP_EM_MAX_PAIRS": "none"}
    settings = IdentitySettings.from_env(env)
    assert settings.match_threshold == 0.97
    assert settings.max_cluster_size == 20
    assert settings.em_max_pairs is None
    assert IdentitySettings.from_env(env, match_threshold=0.5).match_threshold == 0.5
    assert IdentitySettings.from_env({}).match_threshold == IdentitySettings().match_threshold


@pytest.mark.parametrize("env", [{"CDP_MATCH_THRESHOLD": "1.5"}, {"CDP_MATCH_THRESHOLD": "high"}])
def test_invalid_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        IdentitySettings.from_env(env)
