"""Identifier normalisation and hashing against the platforms' documented rules and examples.

Expected digests are SHA-256 (lowercase hex) of the normalised strings the docs show:
- Meta, "Hashing and normalization" for custom audiences
  (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash):
  phone "+1 (650) 555-1212" -> "16505551212"; fn "Mary" -> "mary"; ct "Menlo Park" -> "menlopark";
  country "US" -> "us"; zip "94025"; e-mail trimmed and lowercased.
- Google Customer Match / Google Ads API "Normalize and hash"
  (https://support.google.com/google-ads/answer/7659867,
  https://developers.google.com/google-ads/api/docs/conversions/enhanced-conversions/web#normalize-and-hash):
  e-mail lowercased, gmail.com dots removed ("jane.doe@gmail.com" -> "janedoe@gmail.com");
  phone E.164 with "+" ("+16505551212"); country and zip not hashed.
"""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from dagster_project.exports.hashing import check_fields, normalise_sql, output_columns

# sha256 of the documented normalised strings (hex constants, not recomputed by the code under test)
SHA = {
    "joe@eg.com": "8830eedd6c6b5ea97d181563a349476ca1bb25ace1f94b5c5e48d9cad727941b",
    "16505551212": "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
    "+16505551212": "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8",
    "janedoe@gmail.com": "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69",
    "john": "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",
    "smith": "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd",
    "menlopark": "0007a3d64c01e23d5075203c5977c14e4f7e01a3fc570686fcc50b5e1dd42685",
    "94025": "b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7",
    "us": "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621",
}


def test_constants_are_sha256_of_the_normalised_strings() -> None:
    for text, digest in SHA.items():
        assert hashlib.sha256(text.encode()).hexdigest() == digest


def run(platform: str, field: str, value: str | None) -> dict[str, str | None]:
    cols = {c.header: c.sql for c in output_columns(platform, (field,))}
    con = duckdb.connect()
    con.execute(f'create table p as select cast(? as varchar) as "{field}"', [value])
    ((header, sql),) = cols.items()
    hashed = con.execute(f"select {sql} from p").fetchone()[0]
    normal = con.execute(
        f"select {normalise_sql(platform, field, 'p.' + field)} from p"
    ).fetchone()[0]
    return {"header": header, "normal": normal, "out": hashed}


@pytest.mark.parametrize(
    ("field", "raw", "normal"),
    [
        ("email", "  Joe@EG.com ", "joe@eg.com"),
        ("phone", "+1 (650) 555-1212", "16505551212"),
        ("phone", "001 650 555 1212", "16505551212"),  # international prefix 00, no leading zeros
        ("first_name", "John", "john"),
        ("last_name", "Smith.", "smith"),  # no punctuation
        ("city", "Menlo Park", "menlopark"),
        ("postcode", "94025", "94025"),
        ("country", "US", "us"),
    ],
)
def test_meta_rules(field: str, raw: str, normal: str) -> None:
    r = run("meta", field, raw)
    assert r["normal"] == normal
    assert r["out"] == SHA[normal]


@pytest.mark.parametrize(
    ("field", "raw", "normal"),
    [
        ("email", " Joe@EG.com", "joe@eg.com"),
        ("email", "Jane.Doe@gmail.com", "janedoe@gmail.com"),
        ("phone", "+1 650-555-1212", "+16505551212"),
        ("first_name", " John ", "john"),
    ],
)
def test_google_rules(field: str, raw: str, normal: str) -> None:
    r = run("google", field, raw)
    assert r["normal"] == normal
    assert r["out"] == SHA[normal]


def test_google_sends_country_and_zip_unhashed() -> None:
    assert run("google", "country", " nl ")["out"] == "NL"
    assert run("google", "postcode", "2511 AB")["out"] == "2511 AB"


def test_platforms_differ_on_the_plus_and_dots() -> None:
    assert run("google", "phone", "+31612345678")["normal"] == "+31612345678"
    assert run("meta", "phone", "+31612345678")["normal"] == "31612345678"
    assert run("meta", "email", "jane.doe@gmail.com")["normal"] == "jane.doe@gmail.com"


def test_missing_or_national_values_give_null_not_a_hash_of_nothing() -> None:
    assert run("meta", "email", "   ")["out"] is None
    assert run("meta", "email", None)["out"] is None
    assert run("google", "phone", "0612345678")["out"] is None  # no country code: cannot normalise
    assert run("meta", "phone", "06-12345678")["out"] is None


def test_accented_names_keep_their_letters_in_utf8() -> None:
    r = run("meta", "first_name", "Anaïs")
    assert r["normal"] == "anaïs"
    assert r["out"] == hashlib.sha256("anaïs".encode()).hexdigest()


def test_unknown_field_for_a_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="no rule for fields"):
        check_fields("google", ["email", "loyalty_tier"])
    check_fields("plain", ["loyalty_tier"])
