"""The guard's greedy clustering: never one cluster for two records that contradict each other.

`constrained_clusters` re-clusters one troubled component (see `clustering`): pinned persons
and always-match pairs first, then edges strongest first, never uniting groups that contradict
each other (two first names that cannot be one person, two birth dates, two mobile numbers, a
never-match pair); a record without a usable first name joins only when every group it links
to is compatible with the others. Hand-written union-find: SQL connected components cannot
honour cannot-link constraints, and only the troubled components (0.2-0.3% of them on the demo
data) ever get here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from dagster_project.identity.deterministic import IDENTIFIER_RULES

REASON_CONFLICT = "cluster_conflict"
REASON_AMBIGUOUS = "ambiguous_weak_record"
ALWAYS_MATCH = "always_match"

# Node: (record_key, first_name_key or None, facts). A fact is 'kind=value' for something a
# person has only one of (date of birth, mobile number): two values of a kind contradict.
Node = tuple[str, str | None, frozenset[str]]
# Edge: (record_key_l, record_key_r, rule, match_probability or None)
Edge = tuple[str, str, str, float | None]


class UnionFind:
    """Disjoint sets of keys; the smallest key of a set is its root (so results are stable)."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self.parent: dict[str, str] = {key: key for key in keys}

    def find(self, key: str) -> str:
        """Root of `key`'s set (a key seen for the first time is a set of its own)."""
        parent = self.parent
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(self, a: str, b: str) -> tuple[str, str]:
        """Join the sets of `a` and `b`; return (root, absorbed root), equal if already one."""
        root, absorbed = sorted((self.find(a), self.find(b)))
        self.parent[absorbed] = root
        return root, absorbed


def _edge_strength(edge: Edge) -> tuple[float, str, str]:
    """Sort key: always_match < account < email < phone < Splink by falling probability."""
    ranks = {rule: i for i, (rule, _) in enumerate(IDENTIFIER_RULES)} | {ALWAYS_MATCH: -1}
    rank = ranks.get(edge[2], len(ranks) + 1 - (edge[3] or 0.0))
    return (rank, edge[0], edge[1])


def constrained_clusters(
    nodes: list[Node],
    edges: list[Edge],
    incompatible_names: set[frozenset[str]],
    pins: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[tuple[Edge, str]]]:
    """Greedy clustering that never puts two contradicting records in one cluster.

    Args:
        nodes: Records with their first-name key and single-valued facts.
        edges: Accepted edges among these records.
        incompatible_names: Pairs of first-name keys that cannot be the same person.
        pins: {record_key: group}: records of one group are united first, whatever the
            guard says (a person that did not change on an incremental day, see
            `kept_persons`); others join a group only when compatible with all of it.

    Returns:
        tuple: ({record_key: anchor record_key}, [(refused edge, reason)]).
    """
    sets = UnionFind(key for key, _, _ in nodes)
    find = sets.find
    names = {key: ({fn} if fn else set()) for key, fn, _ in nodes}
    facts = {key: set(node_facts) for key, _, node_facts in nodes}
    weak = {key for key, fn, _ in nodes if not fn or len(fn) <= 1}
    # An initial is a "weak" name but still contradicts other names, e.g. 'p' vs 'sophia'.

    def compatible(a: str, b: str) -> bool:
        if any(
            x != y and x.split("=", 1)[0] == y.split("=", 1)[0] for x in facts[a] for y in facts[b]
        ):
            return False
        return not any(frozenset((x, y)) in incompatible_names for x in names[a] for y in names[b])

    def union(a: str, b: str) -> None:
        root, absorbed = sets.union(a, b)
        names[root] |= names.pop(absorbed)
        facts[root] |= facts.pop(absorbed)

    refused: list[tuple[Edge, str]] = []
    pinned: dict[str, str] = {}
    for key, group in (pins or {}).items():
        if key in sets.parent:
            first = pinned.setdefault(group, key)
            if find(first) != find(key):
                union(find(first), find(key))
    for edge in edges:  # always-match pairs override every guard
        if edge[2] == ALWAYS_MATCH and find(edge[0]) != find(edge[1]):
            union(find(edge[0]), find(edge[1]))
    edges = [e for e in edges if e[2] != ALWAYS_MATCH]
    # a weak record already united with others (pinned, always-match) is part of a group
    group_sizes = Counter(find(key) for key in sets.parent)
    weak = {key for key in weak if group_sizes[find(key)] == 1}
    strong_edges = sorted(
        (e for e in edges if e[0] not in weak and e[1] not in weak), key=_edge_strength
    )
    weak_edges = sorted((e for e in edges if e[0] in weak or e[1] in weak), key=_edge_strength)
    for edge in strong_edges:
        a, b = find(edge[0]), find(edge[1])
        if a == b:
            continue
        if compatible(a, b):
            union(a, b)
        else:
            refused.append((edge, REASON_CONFLICT))
    # A weak record linking to groups that contradict each other cannot be placed.
    reach: dict[str, set[str]] = defaultdict(set)
    for l_key, r_key, _, _ in weak_edges:
        for w, other in ((l_key, r_key), (r_key, l_key)):
            if w in weak and other not in weak and compatible(w, find(other)):
                reach[w].add(find(other))
    ambiguous = {
        w
        for w, groups in reach.items()
        if any(not compatible(x, y) for x in groups for y in groups if x < y)
    }
    for edge in weak_edges:
        if edge[0] in ambiguous or edge[1] in ambiguous:
            refused.append((edge, REASON_AMBIGUOUS))
            continue
        a, b = find(edge[0]), find(edge[1])
        if a == b:
            continue
        if compatible(a, b):
            union(a, b)
        else:
            refused.append((edge, REASON_CONFLICT))
    return {key: find(key) for key in sets.parent}, refused
