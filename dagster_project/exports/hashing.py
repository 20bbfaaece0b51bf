"""Identifier normalisation and SHA-256 hashing per ad platform, as DuckDB SQL expressions.

The platforms publish different rules (and both want lowercase hex SHA-256 of the normalised
UTF-8 string); hashing in SQL keeps a 500k-row export inside DuckDB instead of a Python loop.

Google Customer Match ("Formatting guidelines for customer data",
https://support.google.com/google-ads/answer/7659867, and the Google Ads API guide
"Normalize and hash user-provided data", https://developers.google.com/google-ads/api/docs/conversions/enhanced-conversions/web#normalize-and-hash):
  e-mail trimmed and lowercased, and for gmail.com / googlemail.com addresses the dots before the
  `@` removed (jane.doe@gmail.com -> janedoe@gmail.com); phone in E.164 *with* the `+`
  (+16505551212); first/last name trimmed and lowercased; country (ISO 3166-1 alpha-2) and zip
  are sent unhashed. Google does not document dropping a `+suffix`, so we keep it.
Meta custom audiences ("Hashing and normalization",
https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash):
  e-mail trimmed and lowercased; phone digits only with the country code, *no* `+`, no leading
  zeros (+1 (650) 555-1212 -> 16505551212); fn/ln lowercase without punctuation, special
  characters kept as UTF-8; ct lowercase without punctuation, spaces or digits
  (Menlo Park -> menlopark); zip lowercase without spaces or dashes; country lowercase
  ISO alpha-2 (us); every one of them hashed.
Phones are expected in international form (`+` or `00` prefix; staging writes E.164); a national
number without a country code cannot be normalised and becomes NULL rather than a wrong hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

HASHED_PLATFORMS = ("google", "meta")


@dataclass(frozen=True)
class OutputColumn:
    """One column of an export: its header, the SQL producing it, whether it identifies a person."""

    header: str
    sql: str
    identifier: bool


def _nz(expr: str) -> str:
    return f"nullif({expr}, '')"


def _email(col: str) -> str:
    return _nz(f"lower(trim({col}))")


def _google_email(col: str) -> str:
    e = f"lower(trim({col}))"
    return _nz(
        f"case when split_part({e}, '@', 2) in ('gmail.com', 'googlemail.com') "
        f"then replace(split_part({e}, '@', 1), '.', '') || '@' || split_part({e}, '@', 2) "
        f"else {e} end"
    )


def _intl_digits(col: str) -> str:
    """Digits after the international prefix (`+` or `00`), NULL for national numbers."""
    digits = f"regexp_replace({col}, '[^0-9]', '', 'g')"
    return (
        f"case when trim({col}) like '+%' then {digits} "
        f"when trim({col}) like '00%' then substr({digits}, 3) end"
    )


def _google_phone(col: str) -> str:
    return f"'+' || {_nz(f'ltrim({_intl_digits(col)}, {chr(39)}0{chr(39)})')}"


def _meta_phone(col: str) -> str:
    return _nz(f"ltrim({_intl_digits(col)}, '0')")


def _google_name(col: str) -> str:
    return _nz(f"lower(trim({col}))")


def _meta_name(col: str) -> str:
    return _nz(f"trim(regexp_replace(lower({col}), '[[:punct:]]', '', 'g'))")


def _meta_city(col: str) -> str:
    return _nz(f"regexp_replace(lower({col}), '[[:punct:][:space:]0-9]', '', 'g')")


def _meta_zip(col: str) -> str:
    return _nz(f"regexp_replace(lower({col}), '[[:space:]-]', '', 'g')")


def _lower(col: str) -> str:
    return _nz(f"lower(trim({col}))")


def _upper(col: str) -> str:
    return _nz(f"upper(trim({col}))")


def _trim(col: str) -> str:
    return _nz(f"trim({col})")


# field -> (header, normaliser, hashed?)
RULES: dict[str, dict[str, tuple[str, Callable[[str], str], bool]]] = {
    "google": {
        "email": ("Email", _google_email, True),
        "phone": ("Phone", _google_phone, True),
        "first_name": ("First Name", _google_name, True),
        "last_name": ("Last Name", _google_name, True),
        "country": ("Country", _upper, False),
        "postcode": ("Zip", _trim, False),
    },
    "meta": {
        "email": ("email", _email, True),
        "phone": ("phone", _meta_phone, True),
        "first_name": ("fn", _meta_name, True),
        "last_name": ("ln", _meta_name, True),
        "city": ("ct", _meta_city, True),
        "postcode": ("zip", _meta_zip, True),
        "country": ("country", _lower, True),
    },
}


def check_fields(platform: str, fields: tuple[str, ...] | list[str]) -> None:
    """Raise ValueError if a hashing platform is asked for a field it has no rule for."""
    if platform in RULES:
        unknown = sorted(set(fields) - set(RULES[platform]))
        if unknown:
            raise ValueError(
                f"platform {platform!r} has no rule for fields {unknown} "
                f"(supported: {sorted(RULES[platform])})"
            )


def normalise_sql(platform: str, field: str, col: str) -> str:
    """SQL for the platform's normalised (not yet hashed) value of `col`."""
    return RULES[platform][field][1](col)


def output_columns(platform: str, fields: tuple[str, ...], alias: str = "p") -> list[OutputColumn]:
    """Columns of an export for `platform`: hashed identifiers for google/meta, raw for plain."""
    if platform not in RULES:
        return [OutputColumn(f, f'{alias}."{f}"', False) for f in fields]
    cols = []
    for f in fields:
        header, norm, hashed = RULES[platform][f]
        expr = norm(f'{alias}."{f}"')
        cols.append(OutputColumn(header, f"sha256({expr})" if hashed else expr, hashed))
    return cols
