"""Rule part of the audience spec: the dataclasses and the parser of `rule:` blocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagster_project.audiences.contract import EVENT_TYPES, PROFILE_COLUMNS, PROFILE_PARAMETERS
from dagster_project.audiences.expression import profile_expression_columns

MAX_WINDOW_DAYS = 3660
_RULE_KEYS = {"profile", "events", "no_events"}
_EVENT_KEYS = {"type", "within_days", "min_count", "any_category"}
_NO_EVENT_KEYS = {"type", "within_days", "since_last", "any_category"}


@dataclass(frozen=True)
class EventCondition:
    """One condition over `marts.customer_events`.

    Attributes:
        types: Event types that count (any of them).
        within_days: Window: the N calendar days ending on (and including) `as_of`.
            None means all history up to `as_of`.
        min_count: Minimum number of matching events (positive conditions only).
        since_last: For `no_events` only: event types whose most recent occurrence (up to
            `as_of`) starts the window, e.g. "no purchase since the last add_to_cart".
        any_category: In a per-category audience, evaluate this condition per person across
            all categories instead of within the row's category.
    """

    types: tuple[str, ...]
    within_days: int | None = None
    min_count: int = 1
    since_last: tuple[str, ...] | None = None
    any_category: bool = False


@dataclass(frozen=True)
class Rule:
    """The membership rule; all parts must hold.

    Attributes:
        profile: SQL boolean over profile columns and `as_of`, or None.
        events: Conditions that must each be met by at least `min_count` events.
        no_events: Conditions that must each be met by no event at all.
    """

    profile: str | None = None
    events: tuple[EventCondition, ...] = ()
    no_events: tuple[EventCondition, ...] = ()


def parse_rule(raw: Any, per_category: bool, problems: list[str]) -> Rule:
    """Validate a `rule` mapping."""
    if not isinstance(raw, Mapping):
        problems.append("rule is required (a mapping with profile / events / no_events)")
        return Rule()
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        problems.append(f"rule: unknown keys {sorted(unknown)} (allowed: {sorted(_RULE_KEYS)})")
    profile = raw.get("profile")
    if profile is not None:
        if not isinstance(profile, str) or not profile.strip():
            problems.append("rule.profile must be a non-empty SQL boolean expression")
            profile = None
        else:
            profile = profile.strip()
            try:
                columns = profile_expression_columns(profile)
            except ValueError as exc:
                problems.append(f"rule.profile {profile!r} {exc}")
            else:
                unknown_cols = sorted(columns - set(PROFILE_COLUMNS) - set(PROFILE_PARAMETERS))
                if unknown_cols:
                    problems.append(
                        f"rule.profile references unknown columns {unknown_cols} "
                        "(not customer_profiles columns)"
                    )
    events = _parse_conditions(raw.get("events"), "events", _EVENT_KEYS, problems)
    no_events = _parse_conditions(raw.get("no_events"), "no_events", _NO_EVENT_KEYS, problems)
    if profile is None and not events and not no_events:
        problems.append("rule is empty (use profile: 'true' to select everyone)")
    positive_types = {t for c in events for t in c.types}
    for cond in no_events:
        if cond.since_last and not set(cond.since_last) <= positive_types:
            problems.append(
                f"rule.no_events: since_last {list(cond.since_last)} must be event types "
                "required by rule.events (otherwise there is no 'last' event)"
            )
    if per_category:
        if not any(not c.any_category for c in events):
            problems.append(
                "per_category audiences need at least one rule.events condition without "
                "any_category (it defines the categories)"
            )
    elif any(c.any_category for c in (*events, *no_events)):
        problems.append("any_category is only meaningful with per_category: true")
    return Rule(profile=profile, events=events, no_events=no_events)


def _parse_conditions(
    raw: Any, key: str, allowed: set[str], problems: list[str]
) -> tuple[EventCondition, ...]:
    """Validate an `events` or `no_events` list."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"rule.{key} must be a list")
        return ()
    conditions: list[EventCondition] = []
    for i, item in enumerate(raw):
        where = f"rule.{key}[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where} must be a mapping")
            continue
        unknown = set(item) - allowed
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
        types = _parse_types(item.get("type"), f"{where}.type", problems)
        within = item.get("within_days")
        if within is not None and (
            isinstance(within, bool)
            or not isinstance(within, int)
            or not 1 <= within <= MAX_WINDOW_DAYS
        ):
            problems.append(
                f"{where}: bad window within_days={within!r} "
                f"(expected a whole number of days 1..{MAX_WINDOW_DAYS})"
            )
        min_count = item.get("min_count", 1)
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            problems.append(f"{where}: min_count must be a whole number >= 1, got {min_count!r}")
        since_last = None
        if item.get("since_last") is not None:
            since_last = _parse_types(item["since_last"], f"{where}.since_last", problems)
            if within is not None:
                problems.append(f"{where}: bad window: use either within_days or since_last")
        any_category = item.get("any_category", False)
        if not isinstance(any_category, bool):
            problems.append(f"{where}: any_category must be true or false")
        conditions.append(
            EventCondition(
                types=types,
                within_days=within,
                min_count=min_count,
                since_last=since_last,
                any_category=bool(any_category),
            )
        )
    return tuple(conditions)


def _parse_types(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    """Validate an event type or list of event types."""
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        problems.append(f"{where} must be an event type or a non-empty list of them")
        return ()
    for value in values:
        if value not in EVENT_TYPES:
            problems.append(
                f"{where}: unknown event type {value!r} (expected one of {', '.join(EVENT_TYPES)})"
            )
    return tuple(dict.fromkeys(values))
