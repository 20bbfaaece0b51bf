"""The Splink model definition: comparisons and blocking rules, declared once.

Conventions section 6: library comparisons by name where they fit; custom comparisons
where the data needs them, each with the reason in its docstring.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from dagster_project.identity.settings import IdentitySettings


def first_name_comparison(jw_threshold: float) -> cl.CustomComparison:
    """First-name comparison: key exact (term-frequency adjusted), nickname, typo, initial.

    One comparison rather than separate key and canonical comparisons, because equal keys
    imply equal canonical names: two comparisons would count the same evidence twice.
    The 'else' level (different names) gets a negative weight, which makes "same surname,
    different first name" evidence against a match.

    Args:
        jw_threshold: Lowest Jaro-Winkler similarity still counted as a typo.

    Returns:
        cl.CustomComparison: The comparison.
    """
    key, canonical = "first_name_key", "first_name_canonical"
    initial = (
        "(length(first_name_key_l) = 1 and starts_with(first_name_key_r, first_name_key_l)) or "
        "(length(first_name_key_r) = 1 and starts_with(first_name_key_l, first_name_key_r))"
    )
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel(key),
            cll.ExactMatchLevel(key).configure(tf_adjustment_column=key),
            cll.ExactMatchLevel(canonical).configure(label_for_charts="Same canonical (nickname)"),
            cll.JaroWinklerLevel(key, 0.92),
            cll.JaroWinklerLevel(key, jw_threshold),
            cll.CustomLevel(initial, label_for_charts="One is the initial of the other"),
            cll.ElseLevel(),
        ],
    )


def date_of_birth_comparison() -> cl.CustomComparison:
    """Date of birth, falling back to the birth year when a record only has the year.

    Splink's `DateOfBirthComparison` levels (exact, one typo, within a month, a year, ten
    years) when both records carry a full date; then same birth year and birth years one apart
    when one of them only knows the year (sources with `birth_year` instead of a date: the
    year is compared as a year, never turned into a date). Missing when either has no year.

    Returns:
        cl.CustomComparison: The comparison.
    """
    # Reuse Splink's own date levels (without its null and else levels) rather than copy them.
    date_levels = cl.DateOfBirthComparison(
        "date_of_birth", input_is_string=False
    ).create_comparison_levels()[1:-1]
    year_only = "(date_of_birth_l is null or date_of_birth_r is null)"
    return cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.CustomLevel("birth_year_l is null or birth_year_r is null").configure(
                is_null_level=True, label_for_charts="Birth year missing"
            ),
            *date_levels,
            cll.CustomLevel(
                f"birth_year_l = birth_year_r and {year_only}",
                label_for_charts="Same birth year (only a year known)",
            ),
            cll.CustomLevel(
                f"abs(birth_year_l - birth_year_r) <= 1 and {year_only}",
                label_for_charts="Birth years 1 apart (only a year known)",
            ),
            cll.ElseLevel(),
        ],
    )


def email_comparison() -> cl.CustomComparison:
    """E-mail: exact (term-frequency adjusted), same numbered username elsewhere, else.

    `cl.EmailComparison` without its username and Jaro-Winkler levels for name-like
    usernames: most usernames are built from the name and birth year ('jan.jansen@',
    'julia90@'), so namesakes share them across domains and the similarity re-measures the
    name. A username ending in a three-digit number ('kaaskop873@', 'milanc511@') at
    another domain is still personal evidence.

    Returns:
        cl.CustomComparison: The comparison.
    """
    numbered = (
        "regexp_matches(email_l, '[^0-9][0-9]{3}@') and "
        "regexp_extract(email_l, '^[^@]+') = regexp_extract(email_r, '^[^@]+')"
    )
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email").configure(tf_adjustment_column="email"),
            cll.CustomLevel(numbered, label_for_charts="Same username ending in 3 digits"),
            cll.ElseLevel(),
        ],
    )


def email_name_comparison() -> cl.CustomComparison:
    """What an e-mail username reveals about a record that lacks a surname.

    Levels never repeat evidence another comparison already counts: a nameless record whose
    username spells the other's full name ('gerritgroen@'); a record without surname whose
    username starts or ends with the other's surname ('teun.scholten79@', 'jdebruin@',
    'devos.aaltje@': the first name is compared by the first-name comparison). A first name
    plus birth year ('julia1989@') is left out: shared by too many namesakes to help.
    Both levels are term-frequency adjusted on the other's name,
    so a username ending in 'nielsen' proves far less than one ending in 'oosterhuis'.

    Returns:
        cl.CustomComparison: The comparison.
    """

    def either(template: str) -> str:
        return " or ".join(
            "(" + template.format(x=x, y=y) + ")" for x, y in (("l", "r"), ("r", "l"))
        )

    full = either(
        "first_name_key_{x} is null and last_name_key_{x} is null and "
        "email_letters_{x} in (full_name_flat_{y}, full_name_core_{y})"
    )
    surname = either(
        "last_name_key_{x} is null and length(last_name_core_{y}) >= 4 and "
        "(ends_with(email_letters_{x}, last_name_flat_{y}) "
        "or ends_with(email_letters_{x}, last_name_core_{y}) "
        "or starts_with(email_letters_{x}, last_name_flat_{y}))"
    )
    applicable = either("email_letters_{x} is not null and length(first_name_key_{y}) > 1")
    return cl.CustomComparison(
        output_column_name="email_name",
        comparison_levels=[
            cll.CustomLevel(f"not ({applicable})").configure(is_null_level=True),
            cll.CustomLevel(
                full, label_for_charts="Nameless record's username spells the other's full name"
            ).configure(
                tf_adjustment_column="full_name_flat", disable_tf_exact_match_detection=True
            ),
            cll.CustomLevel(
                surname, label_for_charts="Username ends in the other's surname"
            ).configure(
                tf_adjustment_column="last_name_key", disable_tf_exact_match_detection=True
            ),
            cll.ElseLevel(),
        ],
    )


def phone_comparison() -> cl.CustomComparison:
    """Phone: exact (term-frequency adjusted), two different mobile numbers, else.

    Two different mobiles speak against a match (a person carries one), while a landline
    against a mobile says little: that is why 'different' is split in two.

    Returns:
        cl.CustomComparison: The comparison.
    """
    return cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone").configure(tf_adjustment_column="phone"),
            cll.CustomLevel(
                "phone_is_mobile_l and phone_is_mobile_r",
                label_for_charts="Two different mobile numbers",
            ),
            cll.ElseLevel(),
        ],
    )


def last_name_comparison() -> cl.CustomComparison:
    """Surname: exact (term-frequency adjusted), same core without particles, typos, else.

    Returns:
        cl.CustomComparison: The comparison.
    """
    key = "last_name_key"
    return cl.CustomComparison(
        output_column_name="last_name",
        comparison_levels=[
            cll.NullLevel(key),
            cll.ExactMatchLevel(key).configure(tf_adjustment_column=key),
            cll.ExactMatchLevel("last_name_core").configure(
                label_for_charts="Same surname without particles"
            ),
            cll.JaroWinklerLevel(key, 0.92),
            cll.JaroWinklerLevel(key, 0.88),
            cll.ElseLevel(),
        ],
    )


def comparisons(settings: IdentitySettings) -> list[Any]:
    """All comparisons of the model, declared once.

    Args:
        settings: Supplies the first-name typo threshold.

    Returns:
        list: Splink comparison creators.
    """
    postcode_area = cll.ExactMatchLevel("substr(postcode, 1, 4)").configure(
        label_for_charts="Same postcode area (NL digits / DK code)"
    )
    return [
        first_name_comparison(settings.first_name_jw_threshold),
        last_name_comparison(),
        date_of_birth_comparison(),
        email_comparison(),
        email_name_comparison(),
        phone_comparison(),
        cl.CustomComparison(
            output_column_name="postcode",
            comparison_levels=[
                cll.NullLevel("postcode"),
                cll.ExactMatchLevel("postcode").configure(tf_adjustment_column="postcode"),
                postcode_area,
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="address",
            comparison_levels=[
                cll.NullLevel("house_number"),
                cll.And(cll.ExactMatchLevel("house_number"), cll.ExactMatchLevel("street")),
                cll.ExactMatchLevel("house_number"),
                cll.ElseLevel(),
            ],
        ),
        cl.ExactMatch("city").configure(term_frequency_adjustments=True),
    ]


def prediction_blocking_rules() -> list[BlockingRuleCreator | str]:
    """Blocking rules for prediction: each is an equi-join on selective columns.

    Name keys are the capped block_* columns from `prepare`: a name shared by many records
    only links together with a second shared value (phone, e-mail, birth date, address).

    Returns:
        list: Rules in order; later rules skip pairs found by earlier ones.
    """
    rules: list[BlockingRuleCreator | str] = [
        block_on("phone"),
        block_on("email"),
        block_on("block_name"),
        block_on("last_name_key", "date_of_birth"),
        block_on("first_name_canonical", "date_of_birth"),
        block_on("postcode", "house_number"),
        block_on("regexp_extract(email, '^[^@]+')"),
    ]
    # a username spelling the other record's name ('gerritgroen@' vs Gerrit Groen)
    for target in ("block_full_name_flat", "block_full_name_core", "block_initial_surname"):
        rules.append(f"l.email_letters = r.{target}")
        rules.append(f"r.email_letters = l.{target}")
    return rules


def build_settings(settings: IdentitySettings) -> SettingsCreator:
    """The Splink settings (untrained model) for deduplicating person records.

    Args:
        settings: Identity settings.

    Returns:
        SettingsCreator: Settings with comparisons and blocking rules.
    """
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=comparisons(settings),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
    )
