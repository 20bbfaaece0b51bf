"""Suppression list: normalisation, keyed hashes, the key-missing error, atomic appends, and the
loader dropping suppressed rows (never to quarantine)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import main as cdp
from dagster_project.privacy.load_filter import raw_text_is_suppressed
from dagster_project.privacy.suppression import (
    SuppressionKeyError,
    SuppressionList,
    append_request,
    hmac_sql,
    hmac_sql_params,
    identifier_hash,
    load_suppression_list,
    normalise_email,
    normalise_phone,
    suppression_key,
    suppression_list_path,
)
from dagster_project.sources.config import parse_sources
from dagster_project.sources.loader import load_source

KEY = b"test-key-0123456789abcdef"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Jan.Jansen@Gmail.COM ", "jan.jansen@gmail.com"),
        ("mailto:Fie@X.nl", "fie@x.nl"),
        ("n/a", None),
        (None, None),
    ],
)
def test_normalise_email_as_staging(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("06-12345678", None, "+31612345678"),
        ("+31 (0)6-1234 5678", None, "+31612345678"),
        ("0031 6 12345678", None, "+31612345678"),
        ("612345678", "NL", "+31612345678"),
        ("20123456", "DK", "+4520123456"),
        ("0045 20 12 34 56", None, "+4520123456"),
        ("20123456", None, "+4520123456"),  # no country: an 8-digit number is Danish
        ("12345", None, None),
        ("", None, None),
    ],
)
def test_normalise_phone_as_staging(raw, country, expected):
    assert normalise_phone(raw, country) == expected


def test_hash_is_keyed_and_kind_scoped():
    h = identifier_hash(KEY, "email", "a@b.nl")
    assert h == hmac.new(KEY, b"email:a@b.nl", hashlib.sha256).hexdigest()
    assert h != identifier_hash(b"another-key-0123456789", "email", "a@b.nl")
    assert h != identifier_hash(KEY, "id", "a@b.nl")
    with pytest.raises(ValueError, match="unknown identifier kind"):
        identifier_hash(KEY, "name", "x")


def test_sql_hmac_matches_python():
    outer, inner = hmac_sql_params(KEY)
    con = duckdb.connect()
    got = con.execute(
        f"select {hmac_sql('m', '$o', '$i')} from (select unnest($v) as m)",
        {"o": outer, "i": inner, "v": ["email:a@b.nl", "id:WS1"]},
    ).fetchall()
    assert [r[0] for r in got] == [
        identifier_hash(KEY, "email", "a@b.nl"),
        identifier_hash(KEY, "id", "WS1"),
    ]


def test_missing_or_short_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("CDP_SUPPRESSION_KEY", raising=False)
    with pytest.raises(SuppressionKeyError, match="CDP_SUPPRESSION_KEY is not set"):
        suppression_key()
    monkeypatch.setenv("CDP_SUPPRESSION_KEY", "short")
    with pytest.raises(SuppressionKeyError, match="too short"):
        suppression_key()


def test_forget_refuses_without_key_and_records_nothing(monkeypatch, capsys):
    monkeypatch.delenv("CDP_SUPPRESSION_KEY", raising=False)
    assert cdp(["forget", "--email", "a@b.nl"]) == 2
    assert "CDP_SUPPRESSION_KEY" in capsys.readouterr().err
    assert not suppression_list_path().exists()


def test_forget_without_warehouse_stores_only_hashes(monkeypatch, capsys):
    monkeypatch.setenv("CDP_SUPPRESSION_KEY", KEY.decode())
    assert cdp(["forget", "--email", " Someone@Example.NL ", "--reference", "ticket 7"]) == 0
    out = capsys.readouterr().out
    text = suppression_list_path().read_text()
    assert "someone" not in text.lower() and "someone" not in out.lower()
    request = json.loads(text)
    assert request["reference"] == "ticket 7"
    assert request["identifiers"]["email"] == [identifier_hash(KEY, "email", "someone@example.nl")]


def test_append_is_append_only_and_loads_every_request(tmp_path: Path):
    path = tmp_path / "privacy" / "list.jsonl"
    append_request(KEY, {"email": ["a@b.nl"]}, "one", path=path)
    first = path.read_text()
    append_request(KEY, {"phone": ["+31612345678"], "person": ["P1"]}, "two", path=path)
    assert path.read_text().startswith(first)
    assert len(path.read_text().splitlines()) == 2
    loaded = load_suppression_list(path)
    assert loaded.requests == 2
    assert identifier_hash(KEY, "phone", "+31612345678") in loaded.hashes["phone"]
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind
    path.write_text(first + "{broken\n")
    with pytest.raises(ValueError, match="line 2"):
        load_suppression_list(path)


def test_raw_text_check_finds_identifiers_in_broken_lines():
    supp = SuppressionList()
    supp.hashes["email"].add(identifier_hash(KEY, "email", "fie@x.nl"))
    supp.hashes["phone"].add(identifier_hash(KEY, "phone", "+31612345678"))
    assert raw_text_is_suppressed('C9,"Fie",FIE@X.NL,1990-02-31', "shop__customers", supp, KEY)
    assert raw_text_is_suppressed('{"id": "C8", "tel": "06-12345678"', "shop__customers", supp, KEY)
    assert not raw_text_is_suppressed("C7,Other,other@x.nl", "shop__customers", supp, KEY)


SOURCES = {
    "systems": {
        "shop": {
            "customers": {
                "path": "shop/customers*.csv",
                "format": "csv",
                "entity": "person",
                "columns": {
                    "record_id": "id",
                    "email": "email",
                    "phone": "phone",
                    "date_of_birth": "dob",
                },
            },
            "orders": {
                "path": "shop/orders*.csv",
                "format": "csv",
                "entity": "order",
                "columns": {"record_id": "order_id", "person_record_id": "customer"},
            },
        }
    }
}


def test_loader_drops_suppressed_rows_and_never_quarantines_them(tmp_path: Path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "shop").mkdir(parents=True)
    (landing / "shop" / "customers.csv").write_text(
        "id,email,phone,dob\n"
        "C1,Fie@X.nl,,1990-01-01\n"  # erased by e-mail
        "C2,other@x.nl,06-12345678,1990-01-01\n"  # erased by phone
        "C3,keep@x.nl,,1990-01-01\n"
        "C4,FIE@x.nl,,1990-02-31\n"  # erased, and would have been quarantined (bad date)
        "C5,keep2@x.nl,,1990-02-31\n"  # quarantined as usual
    )
    (landing / "shop" / "orders.csv").write_text("order_id,customer\nO1,C1\nO2,C3\nO3,C9\n")
    supp = SuppressionList()
    supp.hashes["email"].add(identifier_hash(KEY, "email", "fie@x.nl"))
    supp.hashes["phone"].add(identifier_hash(KEY, "phone", "+31612345678"))
    supp.hashes["id"] |= {identifier_hash(KEY, "id", "C1"), identifier_hash(KEY, "id", "C9")}
    specs = {s.table: s for s in parse_sources(SOURCES)}
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("CDP_SUPPRESSION_KEY", KEY.decode())
    customers = load_source(con, specs["customers"], landing, suppression=supp)
    orders = load_source(con, specs["orders"], landing, suppression=supp)
    assert (customers.rows, customers.quarantined, customers.suppressed) == (1, 1, 3)
    assert (orders.rows, orders.suppressed) == (1, 2)
    assert con.execute("select record_id from raw.shop__customers").fetchall() == [("C3",)]
    quarantined = con.execute("select raw_row from quarantine.quarantined_rows").fetchall()
    assert len(quarantined) == 1 and "keep2" in quarantined[0][0]
    counts = dict(
        con.execute("select source, suppressed_rows from privacy.suppressed_rows").fetchall()
    )
    assert counts == {"shop__customers": 3, "shop__orders": 2}
    # An empty list needs no key and drops nothing.
    again = load_source(con, specs["customers"], landing, suppression=SuppressionList())
    assert (again.rows, again.suppressed) == (3, 0)


def test_loader_refuses_a_non_empty_list_without_key(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("CDP_SUPPRESSION_KEY", raising=False)
    supp = SuppressionList()
    supp.hashes["id"].add("00")
    spec = parse_sources(SOURCES)[0]
    with pytest.raises(SuppressionKeyError):
        load_source(duckdb.connect(), spec, tmp_path, suppression=supp)
