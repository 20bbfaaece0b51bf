"""Parse and validate config/sources.yml into `SourceSpec`s.

Every problem is reported with the source it belongs to, so a user editing the YAML
sees `webshop.customers: column mapping names unknown field 'e_mail'` rather than a KeyError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dagster_project.sources.entities import ENTITIES

FORMATS = ("csv", "json", "parquet")
CSV_OPTIONS = {"delimiter", "quote", "escape", "encoding", "header"}
PARSE_OPTIONS = {"date_formats", "timestamp_formats", "decimal_separator"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d"]
DEFAULT_TIMESTAMP_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
    "%d-%m-%Y",
]


class SourceConfigError(ValueError):
    """The sources YAML is invalid; the message names the source and the problem."""


@dataclass(frozen=True)
class SourceSpec:
    system: str
    table: str
    path: str
    format: str
    entity: str
    columns: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def name(self) -> str:
        """`<system>__<table>`: the raw table name and the `source` label downstream."""
        return f"{self.system}__{self.table}"

    @property
    def date_formats(self) -> list[str]:
        return list(self.options.get("date_formats") or DEFAULT_DATE_FORMATS)

    @property
    def timestamp_formats(self) -> list[str]:
        extra = self.options.get("timestamp_formats") or self.options.get("date_formats") or []
        return list(extra) + [f for f in DEFAULT_TIMESTAMP_FORMATS if f not in extra]

    @property
    def decimal_separator(self) -> str:
        return str(self.options.get("decimal_separator", "."))


def parse_sources(raw: dict[str, Any]) -> list[SourceSpec]:
    """Validate a parsed sources document and return one spec per (system, table)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("systems"), dict):
        raise SourceConfigError("sources config must have a top-level 'systems:' mapping")
    specs: list[SourceSpec] = []
    for system, tables in raw["systems"].items():
        if not _NAME.match(str(system)):
            raise SourceConfigError(f"system name {system!r} must be snake_case")
        if not isinstance(tables, dict) or not tables:
            raise SourceConfigError(f"{system}: expected a mapping of tables")
        for table, body in tables.items():
            specs.append(_parse_one(str(system), str(table), body))
    return specs


def _parse_one(system: str, table: str, body: Any) -> SourceSpec:
    where = f"{system}.{table}"
    if not _NAME.match(table):
        raise SourceConfigError(f"{where}: table name must be snake_case")
    if not isinstance(body, dict):
        raise SourceConfigError(f"{where}: expected a mapping with path, format, entity, columns")
    for key in ("path", "format", "entity", "columns"):
        if key not in body:
            raise SourceConfigError(f"{where}: missing '{key}'")
    fmt = str(body["format"]).lower()
    if fmt not in FORMATS:
        raise SourceConfigError(f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    entity = ENTITIES.get(str(body["entity"]))
    if entity is None:
        raise SourceConfigError(
            f"{where}: entity {body['entity']!r} is not one of {', '.join(sorted(ENTITIES))}"
        )
    columns = body["columns"]
    if not isinstance(columns, dict):
        raise SourceConfigError(f"{where}: 'columns' must map canonical fields to file columns")
    unknown = sorted(set(columns) - set(entity.fields))
    if unknown:
        raise SourceConfigError(
            f"{where}: column mapping names unknown field(s) {unknown}; "
            f"{entity.name} fields are {sorted(entity.fields)}"
        )
    missing = [f for f in entity.required if f not in columns]
    if missing:
        raise SourceConfigError(f"{where}: required field(s) {missing} are not mapped")
    options = body.get("options") or {}
    bad = sorted(set(options) - CSV_OPTIONS - PARSE_OPTIONS)
    if bad:
        raise SourceConfigError(f"{where}: unknown option(s) {bad}")
    return SourceSpec(
        system=system,
        table=table,
        path=str(body["path"]),
        format=fmt,
        entity=entity.name,
        columns={str(k): str(v) for k, v in columns.items()},
        options=dict(options),
        description=str(body.get("description", "")),
    )


def load_sources(path: Path) -> list[SourceSpec]:
    """Read and validate the sources YAML file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceConfigError(f"sources config not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"sources config {path} is not valid YAML: {exc}") from exc
    return parse_sources(raw)
