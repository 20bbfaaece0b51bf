"""The loader against a corpus of bad files: clear errors, quarantine rows, no good row lost."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.sources.config import SourceConfigError, parse_sources
from dagster_project.sources.loader import SourceLoadError, load_source

HEADER = "customer_id,first_name,last_name,email,birth_date,accepts_marketing,created_at"


def spec(path: str = "shop/customers*.csv", fmt: str = "csv", **options):
    doc = {
        "systems": {
            "shop": {
                "customers": {
                    "path": path,
                    "format": fmt,
                    "entity": "person",
                    "options": options,
                    "columns": {
                        "record_id": "customer_id",
                        "first_name": "first_name",
                        "last_name": "last_name",
                        "email": "email",
                        "date_of_birth": "birth_date",
                        "email_consent": "accepts_marketing",
                        "created_at": "created_at",
                    },
                }
            }
        }
    }
    return parse_sources(doc)[0]


@pytest.fixture
def con(tmp_path: Path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / "landing" / "shop" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def quarantine(con) -> list[tuple[str, str]]:
    return con.execute(
        "select raw_row, reason from quarantine.quarantined_rows order by file, row_number"
    ).fetchall()


def test_good_rows_load_typed_and_bad_rows_are_quarantined_with_reasons(con, tmp_path):
    write(
        tmp_path,
        "customers.csv",
        HEADER
        + "\nC1,Sophia,de Vries,sofietje@provider.nl,1990-02-03,true,2024-01-01 10:00:00"
        + "\nC2,Jan,Jansen,jan@x.nl,31-02-1990,false,2024-01-01"
        + "\n,No,Id,noid@x.nl,,,"
        + "\nC3,Kees,Bakker,kees@x.nl,,perhaps,"
        + "\nC4,Piet,Pols,piet@x.nl,,,not a date"
        + "\nC5,Robert'); DROP TABLE raw.shop__customers;--,x,sql@x.nl,03-02-1991,ja,\n",
    )
    result = load_source(con, spec(), tmp_path / "landing")
    rows = con.execute(
        "select record_id, first_name, date_of_birth, email_consent from raw.shop__customers order by 1"
    ).fetchall()
    assert [r[0] for r in rows] == ["C1", "C5"]
    assert str(rows[0][2]) == "1990-02-03" and rows[0][3] is True
    assert rows[1][1] == "Robert'); DROP TABLE raw.shop__customers;--"  # stored literally
    assert str(rows[1][2]) == "1991-02-03" and rows[1][3] is True
    reasons = [r for _, r in quarantine(con)]
    assert result.rows == 2 and result.quarantined == 4
    assert "unparseable date in date_of_birth: 31-02-1990" in reasons[0]
    assert reasons[1] == "missing record id"
    assert "unparseable boolean in email_consent: perhaps" in reasons[2]
    assert "unparseable timestamp in created_at: not a date" in reasons[3]
    # the raw row is kept so nothing disappears
    assert json.loads(quarantine(con)[0][0])["customer_id"] == "C2"


def test_broken_encoding_quarantines_only_that_line(con, tmp_path):
    write(
        tmp_path,
        "customers.csv",
        (HEADER + "\nC1,Zoë,Smit,z@x.nl,,,\n").encode()
        + b"C2,Caf\xe9,Bar,c@x.nl,,,\nC3,Ok,Fine,o@x.nl,,,\n",
    )
    result = load_source(con, spec(), tmp_path / "landing")
    ids = [
        r[0] for r in con.execute("select record_id from raw.shop__customers order by 1").fetchall()
    ]
    assert ids == ["C1", "C3"]
    assert result.quarantined == 1
    raw_row, reason = quarantine(con)[0]
    assert "C2" in raw_row and "encoding" in reason.lower()


def test_latin1_file_loads_when_the_source_declares_its_encoding(con, tmp_path):
    write(tmp_path, "customers.csv", (HEADER + "\nC1,Søren,Møller,s@x.dk,,,\n").encode("latin-1"))
    load_source(con, spec(encoding="latin-1"), tmp_path / "landing")
    assert con.execute("select first_name from raw.shop__customers").fetchone()[0] == "Søren"


def test_duplicate_ids_keep_the_latest_row_and_quarantine_the_rest(con, tmp_path):
    write(tmp_path, "customers_1.csv", HEADER + "\nC1,Old,Name,old@x.nl,,,\nC2,A,B,a@x.nl,,,\n")
    write(tmp_path, "customers_2.csv", HEADER + "\nC1,New,Name,new@x.nl,,,\n")
    result = load_source(con, spec(), tmp_path / "landing")
    assert result.rows == 2 and len(result.files) == 2
    assert (
        con.execute("select email from raw.shop__customers where record_id='C1'").fetchone()[0]
        == "new@x.nl"
    )
    assert "duplicate record id C1" in quarantine(con)[0][1]


def test_semicolon_file_with_bom_and_other_column_names(con, tmp_path):
    doc = {
        "systems": {
            "nl": {
                "members": {
                    "path": "nl/*.csv",
                    "format": "csv",
                    "entity": "person",
                    "options": {"delimiter": ";", "date_formats": ["%d-%m-%Y"]},
                    "columns": {
                        "record_id": "Lid nr",
                        "full_name": "Naam",
                        "date_of_birth": "Geboren",
                    },
                }
            }
        }
    }
    path = tmp_path / "landing" / "nl" / "leden.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("\ufeffLid nr;Naam;Geboren\n1;de Vries, Sophia;03-02-1990\n".encode())
    load_source(con, parse_sources(doc)[0], tmp_path / "landing")
    assert con.execute(
        "select record_id, full_name, date_of_birth::varchar from raw.nl__members"
    ).fetchone() == (
        "1",
        "de Vries, Sophia",
        "1990-02-03",
    )


def test_missing_column_fails_with_the_file_and_the_column(con, tmp_path):
    path = write(tmp_path, "customers.csv", "customer_id,first_name\nC1,Sophia\n")
    with pytest.raises(SourceLoadError) as err:
        load_source(con, spec(), tmp_path / "landing")
    assert str(path) in str(err.value) and "'last_name' (for last_name)" in str(err.value)


def test_empty_file_fails_with_a_clear_message(con, tmp_path):
    path = write(tmp_path, "customers.csv", "")
    with pytest.raises(SourceLoadError, match="empty") as err:
        load_source(con, spec(), tmp_path / "landing")
    assert str(path) in str(err.value)


def test_a_failed_load_leaves_the_previous_raw_table_in_place(con, tmp_path):
    write(tmp_path, "customers_1.csv", HEADER + "\nC1,Sophia,de Vries,s@x.nl,,,\n")
    load_source(con, spec(), tmp_path / "landing")
    write(tmp_path, "customers_2.csv", "")
    with pytest.raises(SourceLoadError):
        load_source(con, spec(), tmp_path / "landing")
    assert con.execute("select count(*) from raw.shop__customers").fetchone()[0] == 1


def test_corrupt_parquet_names_the_file(con, tmp_path):
    write(tmp_path, "customers.parquet", b"PAR1 this is not parquet")
    with pytest.raises(SourceLoadError, match=r"customers\.parquet"):
        load_source(con, spec(path="shop/*.parquet", fmt="parquet"), tmp_path / "landing")


def test_json_lines_quarantine_broken_lines_and_keep_good_ones(con, tmp_path):
    lines = [
        json.dumps(
            {"customer_id": "C1", "first_name": "Sophia", "created_at": "2024-01-01T10:00:00"}
        ),
        "{not json",
        json.dumps({"customer_id": None, "first_name": "Nobody"}),
        json.dumps(
            {
                "customer_id": "C2",
                "first_name": "Jan",
                "last_name": "Jansen",
                "email": "jan@x.nl",
                "birth_date": "1990-01-01",
                "accepts_marketing": "ja",
            }
        ),
    ]
    write(tmp_path, "customers.jsonl", "\n".join(lines) + "\n")
    result = load_source(con, spec(path="shop/*.jsonl", fmt="json"), tmp_path / "landing")
    assert result.rows == 2 and result.quarantined == 2
    assert "malformed JSON line" in quarantine(con)[0][1]


def test_no_files_gives_an_empty_table_not_an_error(con, tmp_path):
    result = load_source(con, spec(), tmp_path / "landing")
    assert result.rows == 0 and result.files == []
    assert con.execute("select count(*) from raw.shop__customers").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("entity"), "missing 'entity'"),
        (lambda b: b.update(format="xlsx"), "format 'xlsx'"),
        (lambda b: b.update(entity="thing"), "entity 'thing'"),
        (lambda b: b["columns"].update(e_mail="x"), "unknown field"),
        (lambda b: b["columns"].pop("record_id"), "record_id"),
    ],
)
def test_config_errors_name_the_source(change, message):
    body = {"path": "x.csv", "format": "csv", "entity": "person", "columns": {"record_id": "id"}}
    change(body)
    with pytest.raises(SourceConfigError, match="shop.customers") as err:
        parse_sources({"systems": {"shop": {"customers": body}}})
    assert message in str(err.value)


def test_shipped_sources_config_is_valid():
    from dagster_project.settings import PROJECT_ROOT
    from dagster_project.sources.config import load_sources

    specs = load_sources(PROJECT_ROOT / "config" / "sources.yml")
    assert {s.system for s in specs} >= {
        "webshop",
        "newsletter",
        "customer_service",
        "web_analytics",
        "loyalty",
    }


def test_json_array_file_loads_like_json_lines(con, tmp_path):
    records = [
        {
            "customer_id": "C1",
            "first_name": "Sophia",
            "last_name": "de Vries",
            "email": None,
            "birth_date": "1990-02-03",
            "accepts_marketing": True,
            "created_at": "2024-01-01T10:00:00+02:00",
        },
        {
            "customer_id": "C2",
            "first_name": "Jan",
            "last_name": "Jansen",
            "email": "jan@x.nl",
            "birth_date": None,
            "accepts_marketing": False,
            "created_at": None,
        },
    ]
    write(tmp_path, "customers.json", json.dumps(records))
    result = load_source(con, spec(path="shop/*.json", fmt="json"), tmp_path / "landing")
    assert result.rows == 2 and result.quarantined == 0
    created = con.execute(
        "select created_at::varchar from raw.shop__customers where record_id = 'C1'"
    ).fetchone()
    assert created == ("2024-01-01 08:00:00",)  # offsets are converted to UTC


def test_json_file_without_a_mapped_key_fails_with_the_file_and_the_key(con, tmp_path):
    write(tmp_path, "customers.jsonl", json.dumps({"customer_id": "C1", "first_name": "S"}) + "\n")
    with pytest.raises(SourceLoadError, match=r"customers\.jsonl.*'last_name' \(for last_name\)"):
        load_source(con, spec(path="shop/*.jsonl", fmt="json"), tmp_path / "landing")


def test_integers_that_overflow_or_have_fractions_are_quarantined(con, tmp_path):
    doc = {
        "systems": {
            "shop": {
                "lines": {
                    "path": "shop/lines.csv",
                    "format": "csv",
                    "entity": "order_line",
                    "columns": {"record_id": "id", "order_id": "order", "quantity": "qty"},
                }
            }
        }
    }
    write(
        tmp_path,
        "lines.csv",
        "id,order,qty\nL1,O1,2\nL2,O1,1e30\nL3,O1,2.7\nL4,O1,3.0\nL5,O1,nan\n",
    )
    result = load_source(con, parse_sources(doc)[0], tmp_path / "landing")
    assert con.execute("select record_id, quantity from raw.shop__lines order by 1").fetchall() == [
        ("L1", 2),
        ("L4", 3),
    ]
    assert result.quarantined == 3
