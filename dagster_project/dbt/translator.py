"""Map dbt nodes onto Dagster: the layer (first folder under models/) is the group and key prefix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class LayerTranslator(DagsterDbtTranslator):
    """Models become `[<layer>, <model>]` in group `<layer>`; seeds go to `reference`.

    Sources keep dagster-dbt's default key `[<source>, <table>]`, which is what the loader
    assets (and, via `meta.dagster.asset_key`, the identity asset) are called.
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or {}
        kind, fqn = node.get("resource_type"), node.get("fqn", [])
        if kind == "model" and len(fqn) > 2:
            return spec.replace_attributes(
                key=dg.AssetKey([fqn[1], node["name"]]), group_name=fqn[1]
            )
        if kind == "seed":
            # Seeds are loaded with the silo sources. Without these deps Dagster runs the seed as
            # a dbt invocation of its own before the sources (about 5 s for one small lookup).
            landing = [
                dg.AssetKey([src["source_name"], src["name"]])
                for src in manifest["sources"].values()
                if not (src.get("config", {}).get("meta") or src.get("meta") or {}).get("dagster")
            ]
            return spec.replace_attributes(
                key=dg.AssetKey(["reference", node["name"]]), group_name="reference", deps=landing
            )
        return spec
