"""The chaining guard: a cluster never holds two records that contradict each other."""

from __future__ import annotations

import duckdb
import pandas as pd

from dagster_project.identity.clustering import REASON_OVERSIZE, cluster_records
from dagster_project.identity.constrained import (
    REASON_AMBIGUOUS,
    REASON_CONFLICT,
    constrained_clusters,
)
from dagster_project.identity.prepare import prepare_records
from dagster_project.identity.settings import IdentitySettings

from .helpers import groups, rec, write_records

NONE: frozenset[str] = frozenset()


def dob(value: str) -> frozenset[str]:
    return frozenset({f"dob={value}"})


INCOMPATIBLE = {
    frozenset(p)
    for p in [
        ("jan", "marie"),
        ("sophie", "sara"),
        ("s", "marie"),
        ("s", "jan"),
        ("j", "marie"),
        ("j", "sophie"),
        ("j", "sara"),
    ]
}


def test_nameless_record_on_family_mailbox_does_not_merge_the_couple() -> None:
    nodes = [
        ("jan1", "jan", NONE),
        ("jan2", "jan", NONE),
        ("marie1", "marie", NONE),
        ("newsletter", None, NONE),
    ]
    edges = [
        ("jan1", "jan2", "same_phone", None),
        ("jan1", "newsletter", "same_email", None),
        ("marie1", "newsletter", "same_email", None),
    ]
    labels, refused = constrained_clusters(nodes, edges, INCOMPATIBLE)
    assert groups(labels) == {
        frozenset({"jan1", "jan2"}),
        frozenset({"marie1"}),
        frozenset({"newsletter"}),
    }
    assert {reason for _, reason in refused} == {REASON_AMBIGUOUS}


def test_initial_only_contact_between_twins_stays_alone() -> None:
    nodes = [
        ("sophie", "sophie", dob("2001-05-04")),
        ("sara", "sara", dob("2001-05-04")),
        ("contact", "s", NONE),
    ]
    edges = [("contact", "sophie", "same_phone", None), ("contact", "sara", "same_phone", None)]
    labels, _ = constrained_clusters(nodes, edges, INCOMPATIBLE)
    assert len(groups(labels)) == 3


def test_weak_record_joins_when_only_one_person_fits() -> None:
    nodes = [
        ("sophie1", "sophie", NONE),
        ("sophie2", "sophie", NONE),
        ("contact", "s", NONE),
        ("jan", "jan", NONE),
    ]
    edges = [
        ("sophie1", "sophie2", "same_email", None),
        ("contact", "sophie1", "same_phone", None),
        ("contact", "jan", "same_phone", None),
    ]
    labels, refused = constrained_clusters(nodes, edges, INCOMPATIBLE)
    assert frozenset({"sophie1", "sophie2", "contact"}) in groups(labels)
    assert [reason for _, reason in refused] == [REASON_CONFLICT]


def test_splink_chain_across_birth_dates_is_cut_at_the_weakest_edge() -> None:
    nodes = [("a", "jan", dob("1960-01-01")), ("b", "jan", NONE), ("c", "jan", dob("1990-01-01"))]
    edges = [("a", "b", "splink", 0.99), ("b", "c", "splink", 0.95)]
    labels, refused = constrained_clusters(nodes, edges, INCOMPATIBLE)
    assert groups(labels) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert refused == [(("b", "c", "splink", 0.95), REASON_CONFLICT)]


def test_anchor_is_the_smallest_record_key() -> None:
    nodes = [("z", "emma", NONE), ("m", "emma", NONE), ("b", "emma", NONE)]
    edges = [("z", "m", "same_email", None), ("m", "b", "splink", 0.97)]
    labels, _ = constrained_clusters(nodes, edges, set())
    assert set(labels.values()) == {"b"}


def test_two_mobile_numbers_split_father_and_son_linked_through_the_address() -> None:
    sr = frozenset({"mobile=+31611111111"})
    jr = frozenset({"mobile=+31622222222"})
    nodes = [("sr", "jan", sr), ("jr", "jan", jr), ("loyalty", "jan", NONE)]
    edges = [("loyalty", "sr", "splink", 0.99), ("jr", "loyalty", "splink", 0.97)]
    labels, refused = constrained_clusters(nodes, edges, set())
    assert groups(labels) == {frozenset({"sr", "loyalty"}), frozenset({"jr"})}
    assert refused == [(("jr", "loyalty", "splink", 0.97), REASON_CONFLICT)]


def test_giant_chain_is_cut_back_to_strong_edges_then_broken_up() -> None:
    con = duckdb.connect()
    write_records(con, [rec(f"ws:{i}", fn="emma", ln="visser") for i in range(8)])
    prepare_records(con, "identity.int_person_records_unioned", "records")
    keys = [rec(f"ws:{i}")["record_key"] for i in range(8)]
    edges = [(a, b, "splink", 0.95) for a, b in zip(keys, keys[1:], strict=False)]
    edges += [(keys[0], keys[1], "same_email", None), (keys[2], keys[3], "same_phone", None)]
    frame = pd.DataFrame(
        edges, columns=["record_key_l", "record_key_r", "rule", "match_probability"]
    )
    con.register("edges_df", frame)
    con.execute("create table edges as select * from edges_df")
    settings = IdentitySettings(max_cluster_size=5, oversize_match_threshold=0.999)
    stats = cluster_records(con, con.cursor(), "records", "edges", settings, "clusters", "refused")
    sizes = sorted(
        n for (n,) in con.execute("select count(*) from clusters group by cluster_id").fetchall()
    )
    assert sizes == [1, 1, 1, 1, 2, 2]  # only the deterministic pairs survive
    assert stats.troubled_components == 1
    reasons = {r for (r,) in con.execute("select distinct reason from refused").fetchall()}
    assert reasons == {REASON_OVERSIZE}
