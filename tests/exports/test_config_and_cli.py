"""Destination config validation, the shipped config, and `cdp deliver`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_project.audiences.spec import load_audiences
from dagster_project.cli import main
from dagster_project.exports.config import (
    DestinationConfigError,
    load_destinations,
    parse_destinations,
)
from dagster_project.settings import PROJECT_ROOT, get_paths

from .helpers import create_warehouse


def parse(**entry: object) -> None:
    base = {
        "name": "d",
        "kind": "file",
        "audiences": ["a"],
        "fields": ["email"],
        "consent": "email",
    }
    parse_destinations({"destinations": [{**base, **entry}]}, known_audiences={"a"})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "ftp"}, "kind must be one of"),
        ({"audiences": ["nope"]}, "unknown audiences"),
        ({"consent": "mail"}, "consent must be one of"),
        ({"fields": []}, "non-empty list"),
        ({"options": {"platform": "tiktok"}}, "platform must be one of"),
        ({"options": {"format": "xlsx"}}, "format must be one of"),
        ({"options": {"platform": "google"}, "fields": ["loyalty_tier"]}, "no rule for fields"),
        ({"kind": "postgres", "options": {"url": "postgresql://u:pw@h/db"}}, "is a secret"),
        ({"kind": "webhook", "options": {"token": "abc"}}, "is a secret"),
        ({"kind": "webhook", "options": {"url_env": "lower-case"}}, "environment variable name"),
        ({"kind": "webhook", "options": {"batch_size": 0}}, "positive integer"),
        ({"kind": "postgres", "options": {"table": "Drop Table"}}, "lower-case SQL name"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_bad_config_gives_a_clear_error(entry: dict, message: str) -> None:
    with pytest.raises(DestinationConfigError, match=message) as err:
        parse(**entry)
    assert "destination 'd'" in str(err.value) or "destinations[0]" in str(err.value)


def test_shipped_config_is_valid_and_secret_free() -> None:
    known = {s.name for s in load_audiences(get_paths().audiences_config)}
    dests = {
        d.name: d for d in load_destinations(PROJECT_ROOT / "config" / "destinations.yml", known)
    }
    assert {d.kind for d in dests.values()} == {"file", "postgres", "webhook"}
    assert {d.platform for d in dests.values() if d.kind == "file"} == {"google", "meta"}
    text = (PROJECT_ROOT / "config" / "destinations.yml").read_text()
    assert "postgresql://" not in text and "Bearer" not in text


def test_cdp_deliver_writes_files_and_skips_destinations_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    paths = get_paths()
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        create_warehouse(con)
        con.execute("create table audiences.loyal_high_value as select * from audiences.loyal")
    config = tmp_path / "destinations.yml"
    config.write_text(
        "destinations:\n"
        "  - {name: ads, kind: file, audiences: [loyal_high_value], fields: [email, phone],\n"
        "     consent: ads, options: {platform: meta}}\n"
        "  - {name: crm, kind: postgres, audiences: [loyal_high_value], fields: [email],\n"
        "     consent: email, options: {url_env: CDP_TEST_UNSET_URL}}\n"
    )
    monkeypatch.setenv("CDP_DESTINATIONS_CONFIG", str(config))
    monkeypatch.delenv("CDP_TEST_UNSET_URL", raising=False)
    assert main(["deliver"]) == 0
    out = capsys.readouterr().out
    assert "ads (file, delta): success" in out and "entered      16" in out
    assert (
        "crm (postgres, delta): skipped - environment variable(s) CDP_TEST_UNSET_URL not set" in out
    )
    assert len(list((paths.data_dir / "outbox" / "ads").glob("*__entered__*.csv"))) == 1
    assert main(["deliver", "--destination", "ads", "--full"]) == 0
    assert len(list((paths.data_dir / "outbox" / "ads").glob("*__full__*.csv"))) == 1
    assert main(["deliver", "--destination", "nope"]) == 2
    assert main(["deliver", "--list"]) == 0
    assert "inactive: set CDP_TEST_UNSET_URL" in capsys.readouterr().out
