"""config/identity.yml rules: parsing, junk values, caps, never/always match and the audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from dagster_project.identity import rules as rules_module
from dagster_project.identity.deterministic import build_deterministic_links
from dagster_project.identity.prepare import prepare_records
from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.rules import (
    DEFAULT_CONFIG,
    IdentityRules,
    RulesError,
    default_rules,
    load_rules,
    parse_rules,
)
from dagster_project.identity.settings import IdentitySettings

from .helpers import rec, write_records

# No model file and under 100 records: resolve_identities links deterministically only.
SETTINGS = IdentitySettings()


def key(short: str) -> str:
    return rec(short)["record_key"]


def resolve(
    tmp_path: Path,
    rows: list[dict[str, Any]],
    rules: IdentityRules | None = None,
    settings: IdentitySettings = SETTINGS,
) -> duckdb.DuckDBPyConnection:
    tmp_path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    write_records(con, rows)
    resolve_identities(
        con, tmp_path / "no_model.json", settings, rules=rules or default_rules(), run_id="r1"
    )
    return con


def persons(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select record_key, person_id from identity.person_map").fetchall())


def audit(con: duckdb.DuckDBPyConnection, kind: str) -> list[dict[str, Any]]:
    frame = con.execute(
        "select * from identity.match_audit where kind = ? order by reason", [kind]
    ).df()
    return frame.to_dict("records")


# ---------------------------------------------------------------- parsing and validation


def test_shipped_config_parses_and_matches_the_settings_defaults() -> None:
    rules = load_rules(DEFAULT_CONFIG)
    assert rules.never_match == () and rules.always_match == ()
    assert rules.caps == {"account_id": 5, "email": 5, "phone": 5}
    assert rules.max_cluster_size == IdentitySettings().max_cluster_size
    assert "test@test.com" in rules.junk["email"].values


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"never_match": [["webshop__customers:1"]]}, "never_match[0]: expected two record keys"),
        ({"always_match": [["C001", "loyalty__members:L1"]]}, "always_match[0]: 'C001'"),
        ({"never_match": [["a__b:1", "a__b:1"]]}, "cannot be paired with itself"),
        ({"caps": {"postcode": 3}}, "caps.postcode: unknown identifier kind"),
        ({"caps": {"email": 0}}, "caps.email: expected an integer >= 1"),
        ({"max_cluster_size": "big"}, "max_cluster_size"),
        ({"junk_values": {"fax": {"values": ["0"]}}}, "unknown identifier kind(s) ['fax']"),
        ({"junk_values": {"phone": {"patterns": ["(1"]}}}, "junk_values.phone.patterns[0]"),
        ({"junk_values": {"phone": {"patterns": [r"(\d)\1+"]}}}, "invalid regular expression"),
        ({"never_macth": []}, "unknown key(s) ['never_macth']"),
        (
            {
                "always_match": [["a__b:1", "a__b:2"], ["a__b:2", "a__b:3"]],
                "never_match": [["a__b:3", "a__b:1"]],
            },
            "never_match pair [a__b:1, a__b:3] is joined by always_match pairs",
        ),
    ],
)
def test_invalid_rules_name_the_file_and_the_key(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(doc, "conf/identity.yml")
    assert str(err.value).startswith("conf/identity.yml: ")
    assert message in str(err.value)


def test_missing_file_named_by_the_environment_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RulesError, match="nope.yml: identity rules file not found"):
        load_rules(environ={"CDP_IDENTITY_CONFIG": str(tmp_path / "nope.yml")})
    # without the shipped file the built-in defaults apply
    monkeypatch.setattr(rules_module, "DEFAULT_CONFIG", tmp_path / "absent.yml")
    assert load_rules(environ={}) == default_rules()


def test_rules_file_numbers_fold_into_settings_and_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "identity.yml"
    path.write_text(yaml.safe_dump({"caps": {"phone": 2}, "max_cluster_size": 7}))
    env = {"CDP_IDENTITY_CONFIG": str(path)}
    settings = IdentitySettings.from_env(env)
    assert settings.max_cluster_size == 7
    assert settings.cap("phone") == 2 and settings.cap("email") == 5
    overridden = IdentitySettings.from_env(
        {**env, "CDP_MAX_CLUSTER_SIZE": "9", "CDP_MAX_NAMES_PER_IDENTIFIER": "3"}
    )
    assert overridden.max_cluster_size == 9
    assert overridden.cap("phone") == overridden.cap("email") == 3


# ---------------------------------------------------------------- junk values


JUNK_ROWS = [
    rec("ws:1", fn="emma", email="test@test.com", phone="+31600000000"),
    rec("nl:2", fn="noah", email="noreply@shop.nl", phone="+311234567890"),
    rec("cs:3", fn="unknown", email="info@bakkerij.nl", phone="+31612345678"),
    rec("lo:4", fn="mila", email="sofietje@provider.nl", phone="+4520123456"),
]


def _prepared(rows: list[dict[str, Any]], rules: IdentityRules) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    write_records(con, rows)
    prepare_records(con, "identity.int_person_records_unioned", "records", junk=rules.junk)
    return con


def test_default_junk_values_are_nulled_and_real_ones_kept() -> None:
    con = _prepared(JUNK_ROWS, default_rules())
    got = {
        k: (e, p, f)
        for k, e, p, f in con.execute(
            "select record_key, email, phone, first_name_key from records"
        ).fetchall()
    }
    assert got[key("ws:1")] == (None, None, "emma")
    assert got[key("nl:2")] == (None, None, "noah")
    # Sophia's mobile ends in 12345678 but is a real number; info@ is a shop's shared box
    assert got[key("cs:3")] == (None, "+31612345678", None)
    assert got[key("lo:4")] == ("sofietje@provider.nl", "+4520123456", "mila")
    counts = dict(
        con.execute("select identifier_kind, sum(n_records) from junk_audit group by 1").fetchall()
    )
    assert counts == {"email": 3, "phone": 2, "first_name": 1}


def test_configured_junk_extends_or_replaces_the_defaults() -> None:
    extended = parse_rules(
        {
            "junk_values": {
                "email": {"values": ["Sofietje@Provider.nl"]},
                "phone": {"patterns": ["^[+]45"]},
            }
        }
    )
    con = _prepared(JUNK_ROWS, extended)
    row = con.execute(f"select email, phone from records where record_key = '{key('lo:4')}'")
    assert row.fetchall() == [(None, None)]
    assert con.execute(
        f"select email from records where record_key = '{key('ws:1')}'"
    ).fetchall() == [(None,)]
    only_mine = parse_rules({"junk_values": {"include_defaults": False}})
    con = _prepared(JUNK_ROWS, only_mine)
    assert con.execute("select count(*) from junk_audit").fetchall()[0][0] == 0
    assert con.execute("select count(email) from records").fetchall()[0][0] == 4


def test_junk_email_never_links_and_is_audited_hashed(tmp_path: Path) -> None:
    rows = [
        rec("ws:1", fn="emma", email="test@test.com"),
        rec("nl:2", fn="emma", email="test@test.com"),
    ]
    con = resolve(tmp_path, rows)
    ids = persons(con)
    assert ids[key("ws:1")] != ids[key("nl:2")]
    (row,) = audit(con, "junk_value")
    assert row["identifier_kind"] == "email" and row["n_records"] == 2
    assert len(row["identifier_hash"]) == 16 and "@" not in row["identifier_hash"]


# ---------------------------------------------------------------- caps


def test_caps_are_per_identifier_kind() -> None:
    # a shop phone and a family mailbox, each shared by three first names
    rows = [rec(f"cs:{i}", fn=n, phone="+31201234567") for i, n in enumerate(["ida", "lars", "bo"])]
    rows += [rec(f"nl:{i}", fn=n, email="fam@x.nl") for i, n in enumerate(["ida", "lars", "bo"])]
    con = duckdb.connect()
    write_records(con, rows)
    prepare_records(con, "identity.int_person_records_unioned", "records")
    settings = IdentitySettings(identifier_caps={"phone": 2})
    build_deterministic_links(con, "records", settings)
    capped = con.execute("select identifier_kind, n_names, reason from det_capped").fetchall()
    assert [(k, n) for k, n, _ in capped] == [("phone", 3)]
    assert "cap 2" in capped[0][2]


def test_capped_identifier_is_audited_not_merged(tmp_path: Path) -> None:
    names = ["emma", "noah", "julia", "lucas", "tess", "daan"]
    rows = [rec(f"cs:{i}", fn=n, phone="+31201234567") for i, n in enumerate(names)]
    con = resolve(tmp_path, rows)
    assert len(set(persons(con).values())) == len(names)
    (row,) = audit(con, "capped_identifier")
    assert row["identifier_kind"] == "phone" and row["n_records"] == 6
    assert sorted(row["record_keys"]) == sorted(key(f"cs:{i}") for i in range(6))


# ---------------------------------------------------------------- never / always match


def test_never_match_removes_a_direct_link(tmp_path: Path) -> None:
    rows = [rec("ws:1", fn="emma", email="e@x.nl"), rec("nl:2", fn="emma", email="e@x.nl")]
    rules = parse_rules({"never_match": [[key("nl:2"), key("ws:1")]]})
    ids = persons(resolve(tmp_path / "a", rows, default_rules()))
    assert ids[key("ws:1")] == ids[key("nl:2")]
    con = resolve(tmp_path / "b", rows, rules)
    ids = persons(con)
    assert ids[key("ws:1")] != ids[key("nl:2")]
    (row,) = audit(con, "never_match")
    assert row["reason"] == "direct link (same_email) removed"


def test_never_match_splits_records_connected_through_others(tmp_path: Path) -> None:
    # 1 -e-mail- 2 -phone- 3: 1 and 3 must end apart; 2 goes with one of them
    rows = [
        rec("ws:1", fn="emma", email="e@x.nl"),
        rec("nl:2", fn="emma", email="e@x.nl", phone="+31655501234"),
        rec("cs:3", fn="emma", phone="+31655501234"),
    ]
    rules = parse_rules({"never_match": [[key("ws:1"), key("cs:3")]]})
    con = resolve(tmp_path, rows, rules)
    ids = persons(con)
    assert ids[key("ws:1")] != ids[key("cs:3")]
    assert ids[key("nl:2")] in {ids[key("ws:1")], ids[key("cs:3")]}
    (row,) = audit(con, "never_match")
    assert "re-clustered apart" in row["reason"]


def test_always_match_links_without_evidence_and_overrides_guards(tmp_path: Path) -> None:
    rows = [
        rec("ws:1", fn="emma", ln="jansen"),
        rec("lo:2", fn="emmy", ln="jansen"),
        # a shared mailbox with different first names: refused by the guard
        rec("ws:3", fn="jan", email="fam@x.nl"),
        rec("nl:4", fn="piet", email="fam@x.nl"),
        rec("cs:9", fn="ghost"),
    ]
    rules = parse_rules(
        {
            "always_match": [
                [key("ws:1"), key("lo:2")],
                [key("ws:3"), key("nl:4")],
                [key("cs:9"), "loyalty__members:GONE"],
            ]
        }
    )
    con = resolve(tmp_path, rows, rules)
    ids = persons(con)
    assert ids[key("ws:1")] == ids[key("lo:2")]
    assert ids[key("ws:3")] == ids[key("nl:4")]
    reasons = sorted(r["reason"] for r in audit(con, "always_match"))
    assert reasons == [
        "linked (neither a rule nor the model linked them)",
        "linked, overriding first_name_conflict",
        "record not in the input: rule ignored",
    ]
    rules_of_links = dict(
        con.execute(
            "select record_key_l || '|' || record_key_r, rule from identity.person_links"
        ).fetchall()
    )
    assert rules_of_links[f"{key('lo:2')}|{key('ws:1')}"] == "always_match"


# ---------------------------------------------------------------- oversized clusters


def test_oversized_cluster_is_broken_up_and_audited(tmp_path: Path) -> None:
    # five 'emma' records chained by e-mail addresses: one person of 5 records
    rows = [rec(f"nl:{i}", fn="emma", email=f"e{i}@x.nl") for i in range(5)]
    for i in range(4):
        rows.append(rec(f"cs:{i}", fn="emma", email=f"e{i}@x.nl", phone=f"+3161234560{i}"))
        rows.append(rec(f"lo:{i}", fn="emma", email=f"e{i + 1}@x.nl", phone=f"+3161234560{i}"))
    con = resolve(tmp_path, rows, settings=IdentitySettings(max_cluster_size=5))
    sizes = con.execute(
        "select max(n) from (select count(*) n from identity.person_map group by person_id)"
    ).fetchall()[0][0]
    assert sizes <= 5
    (row,) = audit(con, "oversized_cluster")
    assert row["n_records"] == len(rows)
    assert "above max_cluster_size 5" in row["reason"]


# ---------------------------------------------------------------- privacy of the audit


def test_audit_and_history_hold_no_raw_email_or_phone(tmp_path: Path) -> None:
    rows = [
        rec(
            "ws:1",
            fn="sophie",
            ln="de vries",
            dob="2001-05-04",
            email="fam@x.nl",
            phone="+31201112233",
        ),
        rec(
            "ws:2",
            fn="sara",
            ln="de vries",
            dob="2001-05-04",
            email="fam@x.nl",
            phone="+31201112233",
        ),
        rec("nl:3", fn="emma", email="test@test.com"),
        rec("cs:4", fn="emma", phone="+31600000000"),
    ] + [rec(f"cs:{i}", fn=n, phone="+31307654321") for i, n in enumerate("abcdefg", 10)]
    rows[-1]["first_name_key"] = rows[-1]["first_name_canonical"] = "gerda"
    for i, name in enumerate(["anna", "bert", "cees", "dirk", "evi", "fien", "gijs"]):
        rows[4 + i]["first_name_key"] = rows[4 + i]["first_name_canonical"] = name
    con = resolve(tmp_path, rows)
    kinds = {k for (k,) in con.execute("select distinct kind from identity.match_audit").fetchall()}
    assert {"blocked_link", "junk_value", "capped_identifier"} <= kinds
    raw = {"fam@x.nl", "+31201112233", "test@test.com", "+31600000000", "+31307654321", "201112233"}
    for table in ("match_audit", "person_id_history"):
        text = " ".join(
            str(v) for row in con.execute(f"select * from identity.{table}").fetchall() for v in row
        )
        assert not any(value in text for value in raw), table
