"""Source assets in Dagster: a bad file fails only its own asset, with the file in the message."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.settings import get_paths
from dagster_project.sources.assets import build_source_assets


def test_an_unreadable_file_fails_only_its_own_source():
    paths = get_paths()
    (paths.landing_dir / "webshop").mkdir(parents=True)
    (paths.landing_dir / "webshop" / "customers.csv").write_text("")  # empty: unreadable
    (paths.landing_dir / "loyalty").mkdir(parents=True)
    (paths.landing_dir / "loyalty" / "members.csv").write_text(
        "card_number,name,email,phone,postcode,house_number,country,dob,tier,sms_opt_in,joined_at\n"
        "2600000000001,Sophia de Vries,,0612345678,1234AB,12,NL,03-02-1990,gold,1,2024-01-01 10:00:00\n"
    )
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    assets = {a.key.to_user_string(): a for a in build_source_assets()}
    result = dg.materialize(
        [assets["webshop/customers"], assets["loyalty/members"]],
        resources={"duckdb": DuckDBResource(database=str(paths.warehouse))},
        raise_on_error=False,
    )
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["webshop__customers"]
    assert "customers.csv" in failures[0].step_failure_data.error.message
    loaded = result.asset_materializations_for_node("loyalty__members")[0]
    assert loaded.metadata["dagster/row_count"].value == 1
