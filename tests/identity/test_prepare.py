"""Matching input: swapped names put back, e-mail derived columns, capped blocking keys."""

from __future__ import annotations

import duckdb
import pandas as pd

from dagster_project.identity.prepare import prepare_records

from .helpers import rec, write_records


def _prepared(rows: list[dict], **kwargs: object) -> dict[str, dict]:
    con = duckdb.connect()
    write_records(con, rows)
    prepare_records(con, "identity.int_person_records_unioned", "records", **kwargs)
    frame = con.execute("select * from records").df()
    con.close()
    return {row["source_record_id"]: row for row in frame.to_dict("records")}


def test_swapped_first_and_last_name_are_put_back() -> None:
    names = [
        ("kees", "jansen"),
        ("kees", "bakker"),
        ("kees", "smit"),
        ("anna", "jansen"),
        ("piet", "jansen"),
    ]
    crowd = [rec(f"ws:{i}", fn=fn, ln=ln) for i, (fn, ln) in enumerate(names)]
    rows = crowd + [rec("lo:S", fn="jansen", ln="kees"), rec("lo:K", fn="anna", ln="smit")]
    out = _prepared(rows)
    assert (out["S"]["first_name_key"], out["S"]["last_name_key"]) == ("kees", "jansen")
    assert (out["K"]["first_name_key"], out["K"]["last_name_key"]) == ("anna", "smit")


def test_leading_particle_from_last_first_order_is_repaired() -> None:
    out = _prepared([rec("lo:P", fn="de", ln="jong mats")])
    assert (out["P"]["first_name_key"], out["P"]["last_name_key"]) == ("mats", "de jong")


def test_email_and_name_derived_columns() -> None:
    out = _prepared(
        [
            rec("nl:1", fn="teun", email="teun.scholten79@icloud.com", phone="+31612345678"),
            rec("ws:2", fn="teun", ln="van der scholten", phone="+31201234567"),
        ]
    )
    assert out["1"]["email_letters"] == "teunscholten"
    assert out["1"]["email_digits"] == "79"
    assert out["1"]["phone_is_mobile"] and not out["2"]["phone_is_mobile"]
    assert out["2"]["last_name_core"] == "scholten"
    assert out["2"]["full_name_flat"] == "teunvanderscholten"
    assert out["2"]["full_name_core"] == "teunscholten"


def test_common_names_get_no_blocking_key() -> None:
    rows = [rec(f"ws:{i}", fn="jan", ln="jansen") for i in range(4)]
    rows.append(rec("ws:rare", fn="xandra", ln="visser"))
    out = _prepared(rows, max_name_block=3)
    assert out["rare"]["block_name"] == "xandra visser"
    assert all(pd.isna(out[str(i)]["block_name"]) for i in range(4))
    assert out["0"]["full_name_flat"] == "janjansen"  # comparisons still see the name
