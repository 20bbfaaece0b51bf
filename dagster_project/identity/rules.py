"""Identity rules from `config/identity.yml`: never/always match, junk values, caps.

The file (path from `CDP_IDENTITY_CONFIG`, default `config/identity.yml`) holds:

- `never_match`: pairs of record keys (`<source>:<source_record_id>`, as in
  identity.person_map.record_key) that must never be one person;
- `always_match`: pairs that are always linked, whatever the guards and the model say;
- `junk_values`: per identifier kind (email, phone, account_id, first_name, last_name,
  postcode) placeholder `values` (exact, compared trimmed and lower-cased) and `patterns`
  (regular expressions in RE2 syntax, as DuckDB's `regexp_matches`; no backreferences)
  nulled in the matching input; they extend the built-in `DEFAULT_JUNK` unless
  `include_defaults: false`;
- `caps`: per identifier kind (email, phone, account_id), the number of distinct first names
  (our stand-in for distinct people) above which a shared value is non-identifying;
- `max_cluster_size`: the largest person allowed (see `IdentitySettings`).

The numbers (`caps`, `max_cluster_size`) are folded into `IdentitySettings.from_env`, where the
environment variables still win; the lists live in `IdentityRules`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from dagster_project.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

CONFIG_ENV = "CDP_IDENTITY_CONFIG"
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "identity.yml"  # as settings.get_paths()

# Identifier kind -> column of the prepared records it is read from.
JUNK_COLUMNS: dict[str, str] = {
    "email": "email",
    "phone": "phone",
    "account_id": "account_id",
    "first_name": "first_name_key",
    "last_name": "last_name_key",
    "postcode": "postcode",
}
CAP_KINDS = ("account_id", "email", "phone")
TOP_LEVEL_KEYS = {"never_match", "always_match", "junk_values", "caps", "max_cluster_size"}

_SAME_DIGIT_RUN = "(" + "|".join(f"{d}{{7}}" for d in range(10)) + ")$"
# Placeholders that survive standardisation in some sources (dbt nulls most of them already;
# this second line of defence also covers data that skipped dbt, e.g. `cdp evaluate`).
DEFAULT_JUNK: dict[str, dict[str, tuple[str, ...]]] = {
    "email": {
        "values": (
            "test@test.com",
            "test@test.nl",
            "a@a.nl",
            "a@a.com",
            "a@b.com",
            "x@x.com",
            "x@x.nl",
            "geen@geen.nl",
            "nvt@nvt.nl",
            "ingen@ingen.dk",
        ),
        "patterns": (
            r"^(no-?reply|no_reply|do-?not-?reply|nobody|noemail|none|unknown|test|info)@",
            r"@(example\.(com|net|nl|dk)|test\.(com|nl|dk)|mailinator\.com)$",
        ),
    },
    "phone": {
        "values": (),
        # all one digit at the end (0000000, +31600000000), counting sequences
        "patterns": (
            _SAME_DIGIT_RUN,
            r"(0123456789|1234567890|9876543210)$",
        ),
    },
    "account_id": {
        "values": ("0", "-1", "null", "none", "n/a", "unknown", "test", "guest", "anonymous"),
        "patterns": (r"^0+$",),
    },
    "first_name": {
        "values": (
            "test",
            "unknown",
            "onbekend",
            "ukendt",
            "n/a",
            "na",
            "nvt",
            "none",
            "null",
            "xxx",
            "mr",
            "mrs",
            "dhr",
            "mevr",
            "customer",
            "klant",
        ),
        "patterns": (),
    },
    "last_name": {
        "values": ("test", "unknown", "onbekend", "ukendt", "n/a", "none", "null", "xxx"),
        "patterns": (),
    },
    "postcode": {"values": ("0000AA", "9999ZZ", "0000"), "patterns": (r"^0+[A-Z]*$",)},
}


class RulesError(ValueError):
    """The rules file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class JunkList:
    """Placeholder values of one identifier kind: exact values and RE2 patterns."""

    values: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()

    def sql_reason(self, column: str) -> str:
        """SQL: 'value' or 'pattern <n>' when `column` is junk, else null."""
        whens = []
        if self.values:
            listed = ", ".join(_quote(v) for v in sorted(self.values))
            whens.append(f"when lower(trim({column})) in ({listed}) then 'value'")
        for i, pattern in enumerate(self.patterns):
            whens.append(f"when regexp_matches({column}, {_quote(pattern)}) then 'pattern {i}'")
        if not whens:
            return "null::varchar"
        return "case " + " ".join(whens) + " end"


@dataclass(frozen=True)
class IdentityRules:
    """Parsed `config/identity.yml`.

    Attributes:
        never_match: Record-key pairs (sorted within the pair) kept apart.
        always_match: Record-key pairs (sorted within the pair) always linked.
        junk: Identifier kind -> placeholder values nulled before matching.
        caps: Identifier kind -> max distinct first names sharing a value.
        max_cluster_size: From the file, or None.
        source: Where the rules came from (file path or 'defaults').
    """

    never_match: tuple[tuple[str, str], ...] = ()
    always_match: tuple[tuple[str, str], ...] = ()
    junk: Mapping[str, JunkList] = field(default_factory=dict)
    caps: Mapping[str, int] = field(default_factory=dict)
    max_cluster_size: int | None = None
    source: str = "defaults"


def default_rules() -> IdentityRules:
    """Rules with only the built-in junk values."""
    return IdentityRules(junk=_junk_from({}, "defaults"))


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The rules file: `CDP_IDENTITY_CONFIG` or config/identity.yml."""
    env = os.environ if environ is None else environ
    raw = env.get(CONFIG_ENV, "").strip()
    return Path(raw).expanduser().resolve() if raw else DEFAULT_CONFIG


def load_rules(path: Path | None = None, environ: Mapping[str, str] | None = None) -> IdentityRules:
    """Read and validate the rules file.

    Args:
        path: File to read; `config_path(environ)` when None.
        environ: Mapping read instead of `os.environ` to find the file.

    Returns:
        IdentityRules: The rules; only the built-in defaults when the default file is absent.

    Raises:
        RulesError: When the file is unreadable or a key is invalid (file and key named);
            also when `CDP_IDENTITY_CONFIG` names a file that does not exist.
    """
    explicit = path is not None or bool(
        (os.environ if environ is None else environ).get(CONFIG_ENV)
    )
    path = path or config_path(environ)
    if not path.is_file():
        if explicit:
            raise RulesError(f"{path}: identity rules file not found")
        logger.info("identity rules: %s not found, built-in defaults only", path)
        return default_rules()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise RulesError(f"{path}: cannot read identity rules: {err}") from err
    return parse_rules(doc, str(path))


def parse_rules(doc: Any, source: str = "<rules>") -> IdentityRules:
    """Validate a parsed YAML document into `IdentityRules` (see the module docstring)."""
    if not isinstance(doc, dict):
        raise RulesError(f"{source}: expected a mapping at the top level")
    unknown = set(doc) - TOP_LEVEL_KEYS
    if unknown:
        raise RulesError(
            f"{source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(TOP_LEVEL_KEYS)}"
        )
    never = _pairs(doc.get("never_match"), source, "never_match")
    always = _pairs(doc.get("always_match"), source, "always_match")
    _check_pair_conflicts(never, always, source)
    caps_doc = doc.get("caps") or {}
    if not isinstance(caps_doc, dict):
        raise RulesError(f"{source}: caps: expected a mapping of identifier kind to a number")
    caps = {}
    for kind, value in caps_doc.items():
        if kind not in CAP_KINDS:
            raise RulesError(f"{source}: caps.{kind}: unknown identifier kind; allowed {CAP_KINDS}")
        caps[kind] = _positive_int(value, source, f"caps.{kind}")
    max_size = doc.get("max_cluster_size")
    if max_size is not None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0:
            raise RulesError(
                f"{source}: max_cluster_size: expected an integer >= 0 (0 disables), "
                f"got {max_size!r}"
            )
    return IdentityRules(
        never_match=never,
        always_match=always,
        junk=_junk_from(doc.get("junk_values") or {}, source),
        caps=caps,
        max_cluster_size=max_size,
        source=source,
    )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _positive_int(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RulesError(f"{source}: {key}: expected an integer >= 1, got {value!r}")
    return value


_KEY_RE = re.compile(r"^[a-z0-9_]+__[a-z0-9_]+:.+$")


def _pairs(value: Any, source: str, key: str) -> tuple[tuple[str, str], ...]:
    """Validate a list of record-key pairs; each pair sorted, duplicates dropped."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RulesError(f"{source}: {key}: expected a list of [record_key, record_key] pairs")
    out: list[tuple[str, str]] = []
    for i, pair in enumerate(value):
        where = f"{source}: {key}[{i}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise RulesError(f"{where}: expected two record keys, got {pair!r}")
        left, right = (str(p).strip() for p in pair)
        for k in (left, right):
            if not _KEY_RE.match(k):
                raise RulesError(
                    f"{where}: {k!r} is not a record key like 'webshop__customers:C001' "
                    "(<system>__<table>:<source_record_id>)"
                )
        if left == right:
            raise RulesError(f"{where}: a record cannot be paired with itself ({left!r})")
        sorted_pair = (min(left, right), max(left, right))
        if sorted_pair not in out:
            out.append(sorted_pair)
    return tuple(out)


def _check_pair_conflicts(
    never: tuple[tuple[str, str], ...], always: tuple[tuple[str, str], ...], source: str
) -> None:
    """Refuse a never-match pair that always-match pairs join (directly or through others)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in always:
        parent[find(a)] = find(b)
    for a, b in never:
        if find(a) == find(b):
            raise RulesError(
                f"{source}: never_match pair [{a}, {b}] is joined by always_match pairs; "
                "remove one of the rules"
            )


def _junk_from(doc: Any, source: str) -> dict[str, JunkList]:
    """Merge the file's junk_values into the defaults (unless include_defaults: false)."""
    if not isinstance(doc, dict):
        raise RulesError(f"{source}: junk_values: expected a mapping of identifier kind to lists")
    doc = dict(doc)
    include = doc.pop("include_defaults", True)
    if not isinstance(include, bool):
        raise RulesError(f"{source}: junk_values.include_defaults: expected true or false")
    out: dict[str, JunkList] = {}
    for kind in JUNK_COLUMNS:
        base = DEFAULT_JUNK.get(kind, {}) if include else {}
        values = {v.lower() for v in base.get("values", ())}
        patterns = list(base.get("patterns", ()))
        entry = doc.pop(kind, None) or {}
        if not isinstance(entry, dict) or set(entry) - {"values", "patterns"}:
            raise RulesError(
                f"{source}: junk_values.{kind}: expected a mapping with 'values' and/or 'patterns'"
            )
        for sub in ("values", "patterns"):
            items = entry.get(sub) or []
            if not isinstance(items, list) or not all(isinstance(x, str | int) for x in items):
                raise RulesError(f"{source}: junk_values.{kind}.{sub}: expected a list of strings")
        values |= {str(v).strip().lower() for v in entry.get("values") or []}
        for i, pattern in enumerate(entry.get("patterns") or []):
            _check_pattern(str(pattern), source, f"junk_values.{kind}.patterns[{i}]")
            patterns.append(str(pattern))
        out[kind] = JunkList(frozenset(values), tuple(dict.fromkeys(patterns)))
    if doc:
        raise RulesError(
            f"{source}: junk_values: unknown identifier kind(s) {sorted(doc)}; "
            f"allowed: {sorted(JUNK_COLUMNS)} and include_defaults"
        )
    return out


def _check_pattern(pattern: str, source: str, key: str) -> None:
    """Compile `pattern` with DuckDB's RE2 (the engine that applies it)."""
    try:
        with duckdb.connect() as con:
            con.execute("select regexp_matches('', ?)", [pattern]).fetchall()
    except duckdb.Error as err:
        raise RulesError(f"{source}: {key}: invalid regular expression {pattern!r}: {err}") from err


def hash_sql(expr: str) -> str:
    """SQL: the first 16 hex digits of sha256 of the trimmed, lower-cased value (audit-safe)."""
    return f"left(sha256(lower(trim(cast({expr} as varchar)))), 16)"


def null_junk_values(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    junk: Mapping[str, JunkList],
    audit_table: str = "junk_audit",
) -> int:
    """Null junk identifier values in `table` in place and record them in `audit_table`.

    Args:
        cur: Cursor holding `table` (columns of `JUNK_COLUMNS`; first_name_canonical is
            nulled with first_name_key).
        table: Records table to clean.
        junk: Identifier kind -> placeholder values.
        audit_table: Table to create: identifier_kind, identifier_hash, reason, n_records,
            record_keys (one row per junk value; the value itself is only hashed).

    Returns:
        int: Values nulled (record x identifier).
    """
    parts = []
    for kind, column in JUNK_COLUMNS.items():
        entry = junk.get(kind)
        if entry is None or (not entry.values and not entry.patterns):
            continue
        parts.append(
            f"select record_key, '{kind}' as identifier_kind, {column} as value, "
            f"{entry.sql_reason(column)} as reason from {table} where {column} is not null"
        )
    if not parts:
        cur.execute(
            f"create or replace table {audit_table} (identifier_kind varchar, "
            "identifier_hash varchar, reason varchar, n_records bigint, record_keys varchar[])"
        )
        return 0
    cur.execute(f"""
        create or replace table __junk_hits as
        select * from ({" union all ".join(parts)}) where reason is not null
    """)
    cur.execute(f"""
        create or replace table {audit_table} as
        select identifier_kind, {hash_sql("value")} as identifier_hash,
               'junk ' || min(reason) as reason, count(*) as n_records,
               list(record_key order by record_key) as record_keys
        from __junk_hits group by identifier_kind, value
    """)
    for kind, column in JUNK_COLUMNS.items():
        extra = ", first_name_canonical = null" if kind == "first_name" else ""
        cur.execute(f"""
            update {table} set {column} = null{extra}
            where record_key in (
                select record_key from __junk_hits where identifier_kind = '{kind}')
        """)
    nulled = cur.execute("select count(*) from __junk_hits").fetchall()[0][0]
    by_kind = cur.execute(
        "select identifier_kind, count(*) from __junk_hits group by 1 order by 1"
    ).fetchall()
    cur.execute("drop table if exists __junk_hits")
    logger.info("identity rules: %d junk identifier values nulled %s", nulled, dict(by_kind))
    return int(nulled)


def apply_pair_rules(
    cur: duckdb.DuckDBPyConnection,
    rules: IdentityRules,
    records_table: str = "records",
    edges_table: str = "all_edges",
    judged_tables: tuple[str, ...] = ("det_blocked", "splink_judged"),
    output_table: str = "rule_pairs",
) -> tuple[int, int]:
    """Drop never-match edges and add always-match edges (rule 'always_match', probability 1).

    Args:
        cur: Cursor holding the tables.
        rules: The never/always pairs.
        records_table: Prepared records (pairs naming absent records are ignored).
        edges_table: Accepted edges (record_key_l < record_key_r), changed in place.
        judged_tables: Tables with record_key_l, record_key_r, reason: what the guards said
            about a pair, for the audit.
        output_table: Table to create: kind, record_key_l, record_key_r, present,
            prior_rule (the edge before the rule), prior_reason (a guard's refusal).

    Returns:
        tuple: (never-match edges removed, always-match edges added).
    """
    rows = [("never_match", a, b) for a, b in rules.never_match]
    rows += [("always_match", a, b) for a, b in rules.always_match]
    cur.execute(
        "create or replace table __rule_pairs_in "
        "(kind varchar, record_key_l varchar, record_key_r varchar)"
    )
    if rows:
        cur.executemany("insert into __rule_pairs_in values (?, ?, ?)", rows)
    judged = (
        " union all ".join(
            f"select record_key_l, record_key_r, reason from {t} where reason is not null"
            for t in judged_tables
        )
        or "select null::varchar, null::varchar, null::varchar where false"
    )
    cur.execute(f"""
        create or replace table {output_table} as
        select p.kind, p.record_key_l, p.record_key_r,
               l.record_key is not null and r.record_key is not null as present,
               (select min(e.rule) from {edges_table} as e
                where least(e.record_key_l, e.record_key_r) = p.record_key_l
                  and greatest(e.record_key_l, e.record_key_r) = p.record_key_r) as prior_rule,
               (select string_agg(distinct j.reason, ', ' order by j.reason) from ({judged}) as j
                where least(j.record_key_l, j.record_key_r) = p.record_key_l
                  and greatest(j.record_key_l, j.record_key_r) = p.record_key_r) as prior_reason
        from __rule_pairs_in as p
        left join {records_table} as l on l.record_key = p.record_key_l
        left join {records_table} as r on r.record_key = p.record_key_r
    """)
    cur.execute("drop table if exists __rule_pairs_in")
    removed = cur.execute(
        f"select count(*) from {output_table} where kind = 'never_match' and prior_rule is not null"
    ).fetchall()[0][0]
    cur.execute(f"""
        delete from {edges_table} as e using {output_table} as p
        where least(e.record_key_l, e.record_key_r) = p.record_key_l
          and greatest(e.record_key_l, e.record_key_r) = p.record_key_r
    """)
    cur.execute(f"""
        insert into {edges_table} (record_key_l, record_key_r, rule, match_probability,
                                   match_weight)
        select record_key_l, record_key_r, 'always_match', 1.0, null
        from {output_table} where kind = 'always_match' and present
    """)
    added, absent = cur.execute(f"""
        select count(*) filter (where kind = 'always_match' and present),
               count(*) filter (where not present)
        from {output_table}
    """).fetchall()[0]
    if absent:
        logger.warning("identity rules: %d rule pairs name records not in the input", absent)
    logger.info(
        "identity rules: %d never-match edges removed, %d always-match edges added",
        removed,
        added,
    )
    return int(removed), int(added)
