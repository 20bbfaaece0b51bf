"""Declarative audience spec: load `config/audiences.yml`, validate it, order it.

The YAML holds a list of audiences; each one names a rule over the person profile
(`marts.customer_profiles`) and the event stream (`marts.customer_events`), the consent
channel it needs, and other audiences whose members it removes. Everything a typo can break
is checked here, before any SQL runs, and every error names the audience and the problem.

Grammar (see `config/audiences.yml` for the full commented version; rule details in
`rules.py`)::

    defaults:
      fields: [first_name, email]          # optional: carried columns when `fields` is omitted
    audiences:
      - name: cart_abandoners              # snake_case, becomes table audiences.<name>
        description: ...
        consent: email                     # email | sms | phone | ads | personalisation | none
        per_category: false                # true: one row per person x category
        exclude: [bought_last_7_days]      # members of these audiences are removed
        fields: [first_name, email]        # optional
        rule:                              # all parts must hold
          profile: "order_count >= 1"      # SQL boolean over profile columns (+ `as_of`)
          events:                          # each: at least min_count matching events
            - {type: add_to_cart, within_days: 14, min_count: 1}
          no_events:                       # each: no matching event
            - {type: purchase, since_last: add_to_cart}
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from dagster_project.audiences.contract import (
    CONSENT_COLUMNS,
    DEFAULT_FIELDS,
    EVENT_TYPES,
    PROFILE_COLUMNS,
    RESERVED_COLUMNS,
)
from dagster_project.audiences.expression import profile_expression_columns
from dagster_project.audiences.rules import EventCondition, Rule, parse_rule

__all__ = [
    "CONSENT_COLUMNS",
    "DEFAULT_CONFIG_PATH",
    "EVENT_TYPES",
    "PROFILE_COLUMNS",
    "AudienceConfig",
    "AudienceSpec",
    "AudienceSpecError",
    "EventCondition",
    "Rule",
    "load_audiences",
    "parse_audiences",
    "profile_expression_columns",
    "topological_order",
]

logger = logging.getLogger(__name__)

CONFIG_ENV = "CDP_AUDIENCES_CONFIG"
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "audiences.yml"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Tables of the audiences schema that are not audiences.
RESERVED_NAMES = {"audience_size_history", "membership_history"}
_AUDIENCE_KEYS = {"name", "description", "consent", "rule", "per_category", "exclude", "fields"}


class AudienceSpecError(ValueError):
    """Raised when the audience spec is invalid; the message names audience and problem."""


@dataclass(frozen=True)
class AudienceSpec:
    """One validated audience.

    Attributes:
        name: snake_case name; the table is `audiences.<name>`.
        description: Human description.
        consent: Required consent channel: email, sms, phone, ads, personalisation or none.
        rule: Membership rule.
        per_category: Membership is per person x category.
        exclude: Names of audiences whose members are removed.
        fields: Profile columns carried into the audience table.
        excluded: The resolved specs of `exclude` (same order), filled in by the loader.
    """

    name: str
    description: str
    consent: str
    rule: Rule
    per_category: bool = False
    exclude: tuple[str, ...] = ()
    fields: tuple[str, ...] = DEFAULT_FIELDS
    excluded: tuple[AudienceSpec, ...] = field(default=(), repr=False, compare=False)

    @property
    def table(self) -> str:
        """Fully qualified output table name."""
        return f"audiences.{self.name}"

    @property
    def consent_column(self) -> str | None:
        """Profile column that must be true for membership, or None."""
        return CONSENT_COLUMNS[self.consent]


@dataclass(frozen=True)
class AudienceConfig:
    """All audiences of a spec file, in build order (excluded audiences first)."""

    audiences: tuple[AudienceSpec, ...]

    @property
    def names(self) -> list[str]:
        """Audience names in build (topological) order."""
        return [a.name for a in self.audiences]

    def get(self, name: str) -> AudienceSpec:
        """Return the audience called `name`.

        Raises:
            KeyError: If there is no such audience.
        """
        for audience in self.audiences:
            if audience.name == name:
                return audience
        raise KeyError(f"unknown audience {name!r}; known: {', '.join(self.names)}")

    def __iter__(self) -> Iterator[AudienceSpec]:
        """Iterate over the audiences in build order."""
        return iter(self.audiences)

    def __len__(self) -> int:
        """Number of audiences."""
        return len(self.audiences)


def load_audiences(path: str | Path | None = None) -> AudienceConfig:
    """Load and validate an audience spec file.

    Args:
        path: YAML file; defaults to env `CDP_AUDIENCES_CONFIG`, else `config/audiences.yml`
            in the repository.

    Returns:
        The validated audiences in build order.

    Raises:
        AudienceSpecError: If the file is missing, not YAML or not a valid spec.
    """
    if path is None:
        path = os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AudienceSpecError(f"cannot read audience spec {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise AudienceSpecError(f"audience spec {path} is not valid YAML: {exc}") from exc
    config = parse_audiences(data)
    logger.info("loaded %d audiences from %s: %s", len(config), path, ", ".join(config.names))
    return config


def parse_audiences(data: Any) -> AudienceConfig:
    """Validate parsed YAML (a dict with `audiences`) into an `AudienceConfig`.

    All problems are collected and raised together.

    Raises:
        AudienceSpecError: Listing every problem, each prefixed with the audience name.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("audiences"), list):
        raise AudienceSpecError("audience spec must be a mapping with an 'audiences' list")
    unknown_top = set(data) - {"audiences", "defaults"}
    if unknown_top:
        raise AudienceSpecError(f"audience spec: unknown top-level keys {sorted(unknown_top)}")
    errors: list[str] = []
    default_fields = _parse_default_fields(data.get("defaults") or {}, errors)

    parsed: dict[str, AudienceSpec] = {}
    for index, raw in enumerate(data["audiences"]):
        label = raw.get("name") if isinstance(raw, Mapping) else None
        label = label if isinstance(label, str) else f"#{index + 1}"
        problems: list[str] = []
        spec = _parse_audience(raw, default_fields, problems)
        if spec is not None and spec.name in parsed:
            problems.append("duplicate audience name")
        errors.extend(f"audience {label!r}: {p}" for p in problems)
        if spec is not None and not problems:
            parsed[spec.name] = spec

    names = {a.get("name") for a in data["audiences"] if isinstance(a, Mapping)}
    for spec in parsed.values():
        for other in spec.exclude:
            if other == spec.name:
                errors.append(f"audience {spec.name!r}: excludes itself")
            elif other not in names:
                errors.append(f"audience {spec.name!r}: unknown exclusion {other!r}")
    if errors:
        raise AudienceSpecError("invalid audience spec:\n  " + "\n  ".join(errors))

    order = topological_order({name: list(spec.exclude) for name, spec in parsed.items()})
    resolved: dict[str, AudienceSpec] = {}
    for name in order:
        spec = parsed[name]
        excluded = tuple(resolved[other] for other in spec.exclude)
        resolved[name] = replace(spec, excluded=excluded)
    return AudienceConfig(audiences=tuple(resolved[name] for name in order))


def topological_order(dependencies: Mapping[str, Iterable[str]]) -> list[str]:
    """Order names so each comes after the names it depends on (stable by input order).

    Args:
        dependencies: name -> names it depends on (here: audiences it excludes).

    Returns:
        Names, dependencies first.

    Raises:
        AudienceSpecError: On a cycle (the message shows it) or an unknown dependency.
    """
    order: list[str] = []
    state: dict[str, str] = {}  # "visiting" | "done"

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name) :] + [name]
            raise AudienceSpecError(f"audience {name!r}: exclusion cycle {' -> '.join(cycle)}")
        if name not in dependencies:
            raise AudienceSpecError(f"audience {path[-1]!r}: unknown exclusion {name!r}")
        state[name] = "visiting"
        for dep in dependencies[name]:
            visit(dep, path + [name])
        state[name] = "done"
        order.append(name)

    for name in dependencies:
        visit(name, [])
    return order


def _parse_default_fields(defaults: Any, errors: list[str]) -> tuple[str, ...]:
    """Validate the optional `defaults` block and return the default carried fields."""
    if not isinstance(defaults, Mapping) or set(defaults) - {"fields"}:
        errors.append("defaults: only 'fields' is supported")
        return DEFAULT_FIELDS
    if "fields" not in defaults:
        return DEFAULT_FIELDS
    problems: list[str] = []
    fields = _parse_fields(defaults["fields"], problems)
    errors.extend(f"defaults: {p}" for p in problems)
    return fields if not problems else DEFAULT_FIELDS


def _parse_fields(raw: Any, problems: list[str]) -> tuple[str, ...]:
    """Validate a `fields` list against the profile columns."""
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        problems.append("fields must be a list of profile column names")
        return ()
    for name in raw:
        if name in RESERVED_COLUMNS:
            problems.append(f"field {name!r} is always present; do not list it")
        elif name not in PROFILE_COLUMNS:
            problems.append(f"unknown field {name!r} (not a customer_profiles column)")
    if len(set(raw)) != len(raw):
        problems.append("fields contains duplicates")
    return tuple(raw)


def _parse_audience(
    raw: Any, default_fields: tuple[str, ...], problems: list[str]
) -> AudienceSpec | None:
    """Validate one audience mapping; append problems and return the spec (or None)."""
    if not isinstance(raw, Mapping):
        problems.append("must be a mapping")
        return None
    unknown = set(raw) - _AUDIENCE_KEYS
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)} (allowed: {sorted(_AUDIENCE_KEYS)})")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append("name must be snake_case (a-z, 0-9, _; starting with a letter)")
        return None
    if name in RESERVED_NAMES:
        problems.append(f"name {name!r} is reserved (a table of the audiences schema)")
        return None
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append("description is required")
    consent = raw.get("consent")
    if consent not in CONSENT_COLUMNS:
        problems.append(
            f"unknown consent channel {consent!r} (expected one of {', '.join(CONSENT_COLUMNS)})"
        )
    per_category = raw.get("per_category", False)
    if not isinstance(per_category, bool):
        problems.append("per_category must be true or false")
    exclude = raw.get("exclude") or []
    if isinstance(exclude, str):
        exclude = [exclude]
    if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
        problems.append("exclude must be a list of audience names")
        exclude = []
    fields = _parse_fields(raw["fields"], problems) if "fields" in raw else default_fields
    rule = parse_rule(raw.get("rule"), bool(per_category), problems)
    if problems:
        return None
    return AudienceSpec(
        name=name,
        description=description.strip(),
        consent=consent,
        rule=rule,
        per_category=per_category,
        exclude=tuple(dict.fromkeys(exclude)),
        fields=fields,
    )
