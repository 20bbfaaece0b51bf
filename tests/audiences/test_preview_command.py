"""`cdp audience preview NAME`: sizes, masked sample and overlaps, read-only, clear errors."""

from __future__ import annotations

import json

import duckdb
import pytest

from dagster_project.cli import main

from .conftest import AS_OF, Warehouse


@pytest.fixture
def populated(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    wh.person("sanne", email="sanne.devries@provider.nl", phone="+31612345678")
    wh.event("sanne", "add_to_cart", 2)
    wh.event("sanne", "email_open", 2)
    wh.person("piet", email="piet.bakker@provider.nl", has_email_consent=False)
    wh.event("piet", "add_to_cart", 2)
    wh.con.close()
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(wh.path))
    return wh


def preview(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["audience", "preview", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_preview_prints_sizes_sample_and_overlaps(
    populated: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = preview(capsys, "cart_abandoners", "--as-of", AS_OF.isoformat())
    assert code == 0
    assert "size before consent" in out and "size after consent" in out
    lines = {
        line.split("  ")[1].strip(): line.split()[-1]
        for line in out.splitlines()
        if "size " in line
    }
    assert lines["size before consent"] == "2"
    assert lines["size after consent"] == "1"
    overlap = next(line for line in out.splitlines() if "newsletter_engaged_non_buyers" in line)
    assert overlap.split()[1:] == ["1", "100.0%"]
    assert "s***@" in out
    assert "sanne.devries" not in out and "piet.bakker" not in out and "12345678" not in out
    # Nothing was materialised.
    with duckdb.connect(str(populated.path), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_tables()").fetchall()}
    assert schemas == {"marts"}


def test_preview_as_json(populated: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = preview(capsys, "cart_abandoners", "--as-of", AS_OF.isoformat(), "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["size_before_consent"], data["size_before_exclusions"], data["size"]) == (2, 1, 1)
    assert data["overlaps"]["newsletter_engaged_non_buyers"] == 1
    assert data["overlap_shares"]["newsletter_engaged_non_buyers"] == 1.0
    assert data["overlap_source"] == "computed"


def test_unknown_audience_lists_the_known_ones(
    populated: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = preview(capsys, "cart_abandonerz")
    assert code == 2
    assert "unknown audience 'cart_abandonerz'" in err and "cart_abandoners" in err


def test_missing_warehouse_is_a_clear_error(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "nowhere.duckdb"))
    code, _, err = preview(capsys, "cart_abandoners")
    assert code == 2
    assert "no warehouse at" in err
    assert not (tmp_path / "nowhere.duckdb").exists()


def test_warehouse_without_profiles_is_a_clear_error(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(path))
    code, _, err = preview(capsys, "cart_abandoners")
    assert code == 2
    assert "marts.customer_profiles does not exist" in err


@pytest.mark.parametrize("command", [["audience"], ["audience", "preview"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: cdp audience" in capsys.readouterr().out
