"""Tunables of identity resolution, each with the reason for its default.

`IdentitySettings.from_env()` layers: the defaults below, then the numbers of the rules file
(`config/identity.yml`: `caps`, `max_cluster_size`), then environment variables, then keyword
overrides. Nothing is read at import time, so tests can build settings directly.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

# Environment variable for each overridable field.
ENV_VARS: dict[str, str] = {
    "match_threshold": "CDP_MATCH_THRESHOLD",
    "first_name_jw_threshold": "CDP_FIRST_NAME_JW_THRESHOLD",
    "name_variant_ratio": "CDP_NAME_VARIANT_RATIO",
    "name_established_count": "CDP_NAME_ESTABLISHED_COUNT",
    "max_names_per_identifier": "CDP_MAX_NAMES_PER_IDENTIFIER",
    "max_identifier_group_size": "CDP_MAX_IDENTIFIER_GROUP_SIZE",
    "max_cluster_size": "CDP_MAX_CLUSTER_SIZE",
    "oversize_match_threshold": "CDP_OVERSIZE_MATCH_THRESHOLD",
    "max_comparisons": "CDP_MAX_COMPARISONS",
    "max_name_block": "CDP_MAX_NAME_BLOCK",
    "blocking_sample_proportion": "CDP_BLOCKING_SAMPLE_PROPORTION",
    "u_max_pairs": "CDP_U_MAX_PAIRS",
    "deterministic_recall": "CDP_DETERMINISTIC_RECALL",
    "em_max_pairs": "CDP_EM_MAX_PAIRS",
    "seed": "CDP_SPLINK_SEED",
    "incremental_max_share": "CDP_INCREMENTAL_MAX_SHARE",
    "schema": "CDP_IDENTITY_SCHEMA",
}


@dataclass(frozen=True)
class IdentitySettings:
    """Knobs of the identity-resolution run.

    Attributes:
        match_threshold: Splink match probability at or above which a pair is linked.
            0.9 keeps pairwise precision >= 0.99 on the demo data; lower trades
            precision for recall.
        first_name_jw_threshold: Jaro-Winkler similarity at or above which two first
            names count as the same name with a typo (0.88 is Splink's own "close
            match" level in NameComparison).
        name_variant_ratio: Two similar first names are a typo apart only when the rarer is
            at most this share of the commoner ('johanes' vs 'johannes'); similar names of
            similar frequency are two names ('johanna' vs 'johannes').
        name_established_count: Below this many records a first name is too rare to judge
            by frequency, so similarity alone decides (small data, rare names).
        max_names_per_identifier: An e-mail, phone or account shared by records with
            more than this many distinct first names identifies nobody (office
            switchboard, shared info@ box), so it never links deterministically.
            A household rarely has more than 5 members. Distinct first names stand in for
            distinct people: birth dates are missing too often to count (name, birth date).
        identifier_caps: Per identifier kind (account_id, email, phone) a cap replacing
            `max_names_per_identifier` (from `caps` in the rules file; setting
            CDP_MAX_NAMES_PER_IDENTIFIER clears them, so the variable still wins).
        max_identifier_group_size: Records sharing one identifier value above which
            pairs are not even enumerated (protects against a placeholder value such
            as '+31000000000' making millions of pairs).
        max_cluster_size: Clusters larger than this are re-clustered with only the
            strongest edges, and broken up into singletons if still too large
            (0 disables). Nobody has 50 records across four systems.
        oversize_match_threshold: Splink probability an edge needs to survive inside
            an oversized cluster.
        max_comparisons: Refuse to predict when blocking rules would generate more
            pairs than this (protects a 1M-record run from a bad rule).
        max_name_block: A name (first + last, or a name-derived key) held by more records
            than this is not used alone as a blocking key: it is too common for a
            name-only match at any scale, and its blocks grow quadratically.
        blocking_sample_proportion: Share of records each side of the blocking join
            used to estimate comparison counts (1.0 = exact; Splink scales a sample).
        u_max_pairs: Random pairs used to estimate u probabilities.
        deterministic_recall: Assumed recall of the deterministic rules (email, phone,
            name + birth date) when estimating the prior probability that two records
            match. On the demo data their true recall is ~0.4; 0.7 gives a more cautious
            prior, and the threshold was tuned with it (only their ratio matters).
        em_max_pairs: Cap on pairs per EM training session (None: all blocked pairs).
        seed: Seed for Splink's random sampling, so training is reproducible.
        incremental_max_share: A daily run scores only new and changed records when they
            (plus deleted ones) are at most this share of the previous run's records; above
            it a full re-link is as cheap and resets term-frequency drift (see
            `incremental`).
        schema: Schema that holds the input and output tables.
    """

    match_threshold: float = 0.9
    first_name_jw_threshold: float = 0.88
    name_variant_ratio: float = 0.2
    name_established_count: int = 5
    max_names_per_identifier: int = 5
    identifier_caps: dict[str, int] = field(default_factory=dict)
    max_identifier_group_size: int = 50
    max_cluster_size: int = 50
    oversize_match_threshold: float = 0.999
    max_comparisons: int = 50_000_000
    max_name_block: int = 30
    blocking_sample_proportion: float = 1.0
    u_max_pairs: float = 5e6
    deterministic_recall: float = 0.7
    em_max_pairs: float | None = 5e6
    seed: int = 42
    incremental_max_share: float = 0.2
    schema: str = "identity"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> IdentitySettings:
        """Build settings from defaults, the rules file, environment variables and overrides.

        Args:
            environ: Mapping to read instead of `os.environ` (for tests); also locates the
                rules file (CDP_IDENTITY_CONFIG, default config/identity.yml).
            **overrides: Field values that win over defaults, file and environment.

        Returns:
            IdentitySettings: The validated settings.

        Examples:
            ```py
            settings = IdentitySettings.from_env(match_threshold=0.95)
            ```
        """
        from dagster_project.identity.rules import load_rules  # rules imports nothing from here

        env = os.environ if environ is None else environ
        rules = load_rules(environ=env)
        values: dict[str, object] = {}
        if rules.max_cluster_size is not None:
            values["max_cluster_size"] = rules.max_cluster_size
        if rules.caps:
            values["identifier_caps"] = dict(rules.caps)
        if (env.get(ENV_VARS["max_names_per_identifier"]) or "").strip():
            values["identifier_caps"] = {}
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        for field_name, var in ENV_VARS.items():
            raw = env.get(var)
            if raw is None or raw.strip() == "":
                continue
            values[field_name] = _parse(raw.strip(), str(types[field_name]), var)
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ValueError when a value is outside its meaningful range."""
        for name in ("match_threshold", "first_name_jw_threshold", "oversize_match_threshold"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if not 0 < self.blocking_sample_proportion <= 1:
            raise ValueError("blocking_sample_proportion must be in (0, 1]")
        if not 0 <= self.incremental_max_share <= 1:
            raise ValueError("incremental_max_share must be in [0, 1]")
        if not 0 < self.deterministic_recall <= 1:
            raise ValueError("deterministic_recall must be in (0, 1]")
        if self.max_names_per_identifier < 1 or self.max_identifier_group_size < 2:
            raise ValueError("identifier guards must be positive")
        if any(int(cap) < 1 for cap in self.identifier_caps.values()):
            raise ValueError(f"identifier_caps must be >= 1, got {self.identifier_caps}")
        if not self.schema.isidentifier():
            raise ValueError(f"schema must be a plain identifier, got {self.schema!r}")

    def cap(self, kind: str) -> int:
        """Most distinct first names a shared `kind` value (email, phone, account_id) may have."""
        return int(self.identifier_caps.get(kind, self.max_names_per_identifier))


def _parse(raw: str, type_name: str, var: str) -> object:
    """Convert one environment string to the field's type."""
    try:
        if "None" in type_name and raw.lower() in {"none", "null", ""}:
            return None
        if type_name.startswith("int"):
            return int(float(raw))
        if type_name.startswith("float"):
            return float(raw)
    except ValueError as err:
        raise ValueError(f"{var}={raw!r} is not a valid {type_name}") from err
    return raw
