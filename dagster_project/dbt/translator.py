"""Map dbt nodes onto Dagster asset groups: the group is the layer (first folder under models/)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class LayerTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}
        fqn = node.get("fqn", [])
        if node.get("resource_type") in ("model", "seed", "snapshot") and len(fqn) > 2:
            return spec.replace_attributes(group_name=fqn[1])
        if node.get("resource_type") == "seed":
            return spec.replace_attributes(group_name="reference")
        return spec
