"""Contradiction guards: SQL for "these two records cannot be the same person".

A shared e-mail or phone is strong evidence, not proof: households share a landline and a
family mailbox, twins share address, surname, birth date and often a phone. Two records
contradict each other when both carry a first name and the names are incompatible, or when
both carry a date of birth and the dates differ. The same rules guard deterministic links,
Splink links and the records that end up together in one cluster (where two different
mobile numbers count as a contradiction too, see `clustering`).
"""

from __future__ import annotations

from dagster_project.identity.settings import IdentitySettings

# Reasons written to identity.blocked_links.
REASON_NAME = "first_name_conflict"
REASON_DOB = "date_of_birth_conflict"
REASON_SHARED = "identifier_shared_by_many_names"
REASON_GROUP = "identifier_group_too_large"


def first_names_compatible_sql(
    settings: IdentitySettings, left: str = "l", right: str = "r"
) -> str:
    """SQL: true when the first names of `left` and `right` may belong to the same person.

    Compatible when either name is missing, the keys or the nickname-resolved canonical
    names are equal, one is an initial of the other (of its key or canonical name), or the
    keys are a typo apart: Jaro-Winkler similarity >= `first_name_jw_threshold`, unless
    both are established names of similar frequency ('johanna' vs 'johannes', 'daniel' vs
    'daniela' are two names; 'johanes' is a rare variant of 'johannes').

    Args:
        settings: Supplies the similarity threshold and the typo-frequency rule.
        left: Alias of the left relation (first_name_key, first_name_canonical,
            first_name_freq: records carrying that first name).
        right: Alias of the right relation.

    Returns:
        str: A boolean SQL expression.
    """
    lk, rk = f"{left}.first_name_key", f"{right}.first_name_key"
    lc, rc = f"{left}.first_name_canonical", f"{right}.first_name_canonical"
    lf, rf = f"{left}.first_name_freq", f"{right}.first_name_freq"
    variant = (
        f"least({lf}, {rf}) < {int(settings.name_established_count)} "
        f"or least({lf}, {rf}) <= {float(settings.name_variant_ratio)} * greatest({lf}, {rf})"
    )
    return f"""(
        {lk} is null or {rk} is null
        or {lk} = {rk}
        or {lc} = {rc}
        or (length({lk}) = 1 and (starts_with({rk}, {lk}) or starts_with({rc}, {lk})))
        or (length({rk}) = 1 and (starts_with({lk}, {rk}) or starts_with({lc}, {rk})))
        or (length({lk}) > 1 and length({rk}) > 1
            and jaro_winkler_similarity({lk}, {rk}) >= {float(settings.first_name_jw_threshold)}
            and ({variant}))
    )"""


def dates_of_birth_compatible_sql(left: str = "l", right: str = "r") -> str:
    """SQL: true when the dates of birth of `left` and `right` do not contradict each other.

    Args:
        left: Alias of the left relation (columns date_of_birth, birth_year).
        right: Alias of the right relation.

    Returns:
        str: A boolean SQL expression.
    """
    lo, ro = f"{left}.date_of_birth", f"{right}.date_of_birth"
    # birth_year is the year of the date, or the only thing a year-only source knows
    ly, ry = f"{left}.birth_year", f"{right}.birth_year"
    return (
        f"(({lo} is null or {ro} is null or {lo} = {ro}) "
        f"and ({ly} is null or {ry} is null or {ly} = {ry}))"
    )


def conflict_reason_sql(settings: IdentitySettings, left: str = "l", right: str = "r") -> str:
    """SQL: the reason two records contradict each other, or null when they do not.

    Args:
        settings: Supplies the first-name rules.
        left: Alias of the left relation.
        right: Alias of the right relation.

    Returns:
        str: A VARCHAR SQL expression.
    """
    return f"""case
        when not {first_names_compatible_sql(settings, left, right)} then '{REASON_NAME}'
        when not {dates_of_birth_compatible_sql(left, right)} then '{REASON_DOB}'
    end"""
