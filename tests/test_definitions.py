"""The Definitions object: layers as groups, lineage from files to audiences, one writer."""

from __future__ import annotations

import dagster as dg

from dagster_project.definitions import build_definitions


def test_definitions_load_with_every_layer_as_a_group():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    groups = {
        graph.get(k).group_name
        for k in graph.get_all_asset_keys()
        if graph.get(k).is_materializable
    }
    assert {"sources", "staging", "identity", "profiles", "audiences", "exports"} <= groups


def test_every_dbt_source_has_a_producing_asset():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    materializable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    external = {k for k in graph.get_all_asset_keys() if not graph.get(k).is_materializable}
    assert not external, f"dbt sources without a producing asset: {external}"
    assert dg.AssetKey(["identity", "person_map"]) in materializable
    assert dg.AssetKey(["webshop", "customers"]) in materializable


def test_lineage_runs_from_raw_files_to_the_serving_copy():
    graph = build_definitions().resolve_asset_graph()
    upstream = graph.get_ancestor_asset_keys(dg.AssetKey(["exports", "serving_copy"]))
    assert dg.AssetKey(["webshop", "customers"]) in upstream
    assert dg.AssetKey(["identity", "person_map"]) in upstream
    assert any(k.path[-1] == "customer_profiles" for k in upstream)


def test_daily_job_and_schedule_run_one_step_at_a_time():
    defs = build_definitions()
    job = defs.resolve_job_def("daily")
    assert job.executor_def.name == "in_process"
    schedule = defs.resolve_schedule_def("daily_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "Europe/Amsterdam"
    assert defs.resolve_sensor_def("landing_files_sensor")


def test_dbt_tests_are_asset_checks():
    defs = build_definitions()
    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.asset_key.path[-1] == "customer_profiles" for c in checks)
    assert any(c.name == "every_record_has_one_person" for c in checks)
