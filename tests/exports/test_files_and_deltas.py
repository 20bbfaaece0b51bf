"""File destinations: atomic files with manifests, full and delta deliveries, state, consent."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.exports import files as files_module
from dagster_project.exports.deliver import deliver_destination
from dagster_project.exports.state import LOG_TABLE, STATE_TABLE, exit_hex_sql, exit_value_sql

from .helpers import destination, set_members


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def outbox_files(folder: Path, change: str) -> list[Path]:
    return sorted(p for p in folder.glob(f"*__{change}__*") if not p.name.endswith(".json"))


def test_full_file_has_consented_members_only_and_a_true_manifest(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    dest = destination(
        fields=["email", "phone", "first_name", "country"],
        consent="ads",
        options={"platform": "google", "outbox": str(tmp_path / "out")},
    )
    result = deliver_destination(warehouse, dest, run_id="run1", full=True)
    assert result.status == "success"
    (path,) = outbox_files(tmp_path / "out", "full")
    rows = read_csv(path)
    consented = warehouse.execute(
        "select count(*) from audiences.loyal join marts.customer_profiles using (person_id) "
        "where has_ads_consent"
    ).fetchone()[0]
    assert len(rows) == consented == 16  # 20 members, 4 without ads consent
    assert set(rows[0]) == {"Email", "Phone", "First Name", "Country"}
    # no raw identifier in the upload; a gmail address is hashed without its dots
    text = path.read_text()
    assert "@" not in text and "+316" not in text
    expected = hashlib.sha256(b"person1@gmail.com").hexdigest()
    assert expected in {r["Email"] for r in rows}
    manifest = json.loads(path.with_name(path.name + ".manifest.json").read_text())
    assert manifest["rows"] == 16
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (manifest["run_id"], manifest["kind"], manifest["audience"]) == ("run1", "full", "loyal")
    # people without consent are not in the state either
    no_consent = warehouse.execute(
        f"select count(*) from {STATE_TABLE} s join marts.customer_profiles p using (person_id) "
        "where not p.has_ads_consent"
    ).fetchone()[0]
    assert no_consent == 0


def test_delta_sends_entered_updated_and_exited_only(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    dest = destination(
        fields=["email", "first_name"], options={"platform": "meta", "outbox": str(out)}
    )
    set_members(warehouse, "loyal", [1, 2, 3, 4, 6])
    assert deliver_destination(warehouse, dest, run_id="r1").status == "success"
    (first,) = outbox_files(out, "entered")
    assert len(read_csv(first)) == 5
    # nothing changed: no files, counts zero
    again = deliver_destination(warehouse, dest, run_id="r2")
    assert again.totals()["rows_sent"] == 0 and len(outbox_files(out, "entered")) == 1
    # 2 leaves, 7 enters, 3 changes e-mail, 6 withdraws consent
    set_members(warehouse, "loyal", [1, 3, 4, 6, 7])
    warehouse.execute(
        "update marts.customer_profiles set email = 'new3@x.nl' where person_id = 'p0003'"
    )
    warehouse.execute(
        "update marts.customer_profiles set has_email_consent = false where person_id = 'p0006'"
    )
    result = deliver_destination(warehouse, dest, run_id="r3")
    (a,) = result.audiences
    assert (a.counts.entered, a.counts.updated, a.counts.exited) == (1, 1, 2)
    entered = read_csv(outbox_files(out, "entered")[-1])
    exited = read_csv(outbox_files(out, "exited")[-1])
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    assert {r["email"] for r in entered} == {sha("person.7@gmail.com"), sha("new3@x.nl")}
    # leavers and the old address of p0003 are removed under the hashes they were sent with
    assert {r["email"] for r in exited} == {
        sha("person.2@gmail.com"),
        sha("person.6@gmail.com"),
        sha("person.3@gmail.com"),
    }
    state = warehouse.execute(
        f"select person_id from {STATE_TABLE} where destination = 'dest' order by 1"
    ).fetchall()
    assert [s[0] for s in state] == ["p0001", "p0003", "p0004", "p0007"]


def test_full_resync_rewrites_everything_and_replaces_state(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    dest = destination(
        fields=["email", "loyalty_tier"], options={"format": "parquet", "outbox": str(out)}
    )
    deliver_destination(warehouse, dest, run_id="r1")
    set_members(warehouse, "loyal", [1, 2])
    result = deliver_destination(warehouse, dest, run_id="r2", full=True)
    (path,) = outbox_files(out, "full")
    rows = warehouse.execute(f"select person_id from read_parquet('{path}') order by 1").fetchall()
    assert rows == [("p0001",), ("p0002",)]
    assert result.audiences[0].counts.exited == 14
    assert warehouse.execute(f"select count(*) from {STATE_TABLE}").fetchone()[0] == 2
    modes = warehouse.execute(
        f"select mode, status from {LOG_TABLE} order by finished_at"
    ).fetchall()
    assert modes == [("delta", "success"), ("full", "success")]


def test_per_category_audience_keeps_one_row_per_category(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    dest = destination(
        audiences=["interest"], fields=["first_name"], options={"outbox": str(tmp_path)}
    )
    deliver_destination(warehouse, dest, run_id="r1", full=True)
    (path,) = outbox_files(tmp_path, "full")
    rows = read_csv(path)
    assert {r["category"] for r in rows} == {"shoes", "books"}
    # p0000, p0015, p0030 have no consent; 14 people x 2 categories have
    assert len(rows) == 2 * 11


def test_a_crash_while_writing_leaves_no_file_and_no_state(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    dest = destination(options={"outbox": str(out)})

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files_module.os, "replace", crash)
    result = deliver_destination(warehouse, dest, run_id="r1")
    assert result.status == "failed" and "disk full" in result.detail
    assert list(out.iterdir()) == []  # the temporary is gone, nothing half-written
    assert warehouse.execute(f"select count(*) from {STATE_TABLE}").fetchone()[0] == 0
    monkeypatch.undo()
    (out / ".stale.csv.tmp").write_text("half")  # left by a killed process
    caught_up = deliver_destination(warehouse, dest, run_id="r2")
    assert caught_up.status == "success" and caught_up.audiences[0].counts.entered == 16
    assert not list(out.glob(".*"))


def test_no_personal_data_in_the_log_or_state(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    dest = destination(
        fields=["email", "phone"], options={"platform": "plain", "outbox": str(tmp_path)}
    )
    deliver_destination(warehouse, dest, run_id="r1")
    for table in (STATE_TABLE, LOG_TABLE):
        text = str(warehouse.execute(f"select * from {table}").fetchall())
        assert "@" not in text and "+316" not in text


def test_run_summary_lists_the_latest_delivery_per_destination(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.exports.state import delivery_summary_lines

    assert delivery_summary_lines(warehouse) == []
    deliver_destination(
        warehouse, destination(options={"outbox": str(tmp_path / "o")}), run_id="r1"
    )
    monkeypatch.delenv("SOME_CRM_URL", raising=False)
    crm = destination(name="crm", kind="postgres", options={"url_env": "SOME_CRM_URL"})
    deliver_destination(warehouse, crm, run_id="r1")
    lines = delivery_summary_lines(warehouse)
    assert "dest" in lines[1] and "entered 16" in lines[1] and str(tmp_path / "o") in lines[2]
    assert "crm" in lines[0] and "skipped" in lines[0] and "SOME_CRM_URL" in lines[0]


def test_google_exit_file_uses_the_hashes_that_were_uploaded(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    dest = destination(
        fields=["email", "first_name", "country"],
        consent="ads",
        options={"platform": "google", "outbox": str(out)},
    )
    set_members(warehouse, "loyal", [1, 2])
    deliver_destination(warehouse, dest, run_id="r1")
    set_members(warehouse, "loyal", [1])
    warehouse.execute("delete from marts.customer_profiles where person_id = 'p0002'")  # erased
    deliver_destination(warehouse, dest, run_id="r2")
    (exited,) = [read_csv(p) for p in outbox_files(out, "exited")]
    sha = hashlib.sha256
    assert exited == [
        {
            "Email": sha(b"person2@gmail.com").hexdigest(),
            "First Name": sha(b"first2").hexdigest(),
            "Country": "",
        }
    ]


def test_exit_keys_stored_as_json_by_an_older_version_still_work(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    dest = destination(
        fields=["email", "first_name", "country"],
        consent="ads",
        options={"platform": "google", "outbox": str(out)},
    )
    set_members(warehouse, "loyal", [1, 2, 3])
    deliver_destination(warehouse, dest, run_id="r1")
    key = warehouse.execute(f"select exit_key from {STATE_TABLE} limit 1").fetchall()[0][0]
    assert key.startswith("b1:") and len(key) < 100  # two digests, packed
    headers = ["Email", "First Name"]
    values = {h: exit_value_sql("exit_key", exit_hex_sql("exit_key"), headers, h) for h in headers}
    warehouse.execute(  # the state as the JSON-keyed version wrote it
        f"update {STATE_TABLE} set exit_key = json_object('Email', {values['Email']}, "
        f"'First Name', {values['First Name']})"
    )
    set_members(warehouse, "loyal", [1, 3])  # 2 leaves
    warehouse.execute(  # 3 changes first name, 1 changes country (not an identifier)
        "update marts.customer_profiles set first_name = case person_id when 'p0003' then 'Drie' "
        "else first_name end, country = case person_id when 'p0001' then 'BE' else country end"
    )
    result = deliver_destination(warehouse, dest, run_id="r2")
    assert (result.totals()["updated"], result.totals()["exited"]) == (2, 1)
    (exited,) = [read_csv(p) for p in outbox_files(out, "exited")]
    sha = lambda v: hashlib.sha256(v.encode()).hexdigest()  # noqa: E731
    assert sorted(exited, key=lambda r: r["Email"]) == sorted(
        [
            {"Email": sha("person2@gmail.com"), "First Name": sha("first2"), "Country": ""},
            {"Email": sha("person3@gmail.com"), "First Name": sha("first3"), "Country": ""},
        ],
        key=lambda r: r["Email"],
    )


@pytest.mark.parametrize("profiles", ["table", "view"])
def test_delta_reads_the_changed_members_fields_from_a_table_or_a_view(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, profiles: str
) -> None:
    """A delta fetches changed members' fields by rowid from a table, by person_id from a view."""
    if profiles == "view":
        warehouse.execute("alter table marts.customer_profiles rename to profiles_base")
        warehouse.execute(
            "create view marts.customer_profiles as select * from marts.profiles_base"
        )
    base = "marts.profiles_base" if profiles == "view" else "marts.customer_profiles"
    out = tmp_path / "out"
    dest = destination(fields=["email", "first_name"], options={"outbox": str(out)})
    set_members(warehouse, "loyal", [1, 2, 3])
    assert deliver_destination(warehouse, dest, run_id="r1").status == "success"
    # 3 changes first name, 4 enters, 2 leaves, a non-member's profile is erased
    warehouse.execute(f"update {base} set first_name = 'Drie' where person_id = 'p0003'")
    warehouse.execute(f"delete from {base} where person_id = 'p0009'")
    set_members(warehouse, "loyal", [1, 3, 4])
    result = deliver_destination(warehouse, dest, run_id="r2")
    (a,) = result.audiences
    assert (a.counts.entered, a.counts.updated, a.counts.exited) == (1, 1, 1)
    entered = read_csv(outbox_files(out, "entered")[-1])
    assert sorted((r["person_id"], r["first_name"], r["email"]) for r in entered) == [
        ("p0003", "Drie", " Person.3@Gmail.com "),
        ("p0004", "First4", " Person.4@Gmail.com "),
    ]
    assert [r["person_id"] for r in read_csv(outbox_files(out, "exited")[-1])] == ["p0002"]
