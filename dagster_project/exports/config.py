"""Activation destinations declared in config/destinations.yml (path: env CDP_DESTINATIONS_CONFIG).

Secrets never live in the YAML: a destination names the environment variables holding its
database URL or token (`url_env`, `token_env`), and is skipped with a warning while they are unset.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dagster_project.settings import PROJECT_ROOT, get_paths

KINDS = ("file", "postgres", "webhook")
CONSENT_CHANNELS = ("email", "sms", "phone", "ads", "personalisation", "none")
FILE_FORMATS = ("csv", "parquet")
PLATFORMS = ("google", "meta", "plain")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class DestinationConfigError(ValueError):
    """config/destinations.yml is invalid; the message names the destination and the key."""


@dataclass(frozen=True)
class FileOptions:
    format: str = "csv"
    platform: str = "plain"
    outbox: Path | None = None  # default <data>/outbox/<name>


@dataclass(frozen=True)
class PostgresOptions:
    url_env: str = "CRM_DATABASE_URL"
    table: str = "cdp_audience_members"
    schema: str = "public"


@dataclass(frozen=True)
class WebhookOptions:
    url_env: str = "WEBHOOK_URL"
    token_env: str | None = None
    batch_size: int = 500
    retries: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 10.0
    dead_letter: Path | None = None  # default <data>/dead_letter/<name>
    hashed: bool = True  # send identifiers sha256-hashed (Meta rules) rather than raw


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    audiences: tuple[str, ...]
    fields: tuple[str, ...]
    consent: str
    options: FileOptions | PostgresOptions | WebhookOptions = field(default_factory=FileOptions)
    description: str = ""

    @property
    def platform(self) -> str:
        """Identifier hashing rules: a file's platform; webhooks hash by Meta's rules if `hashed`."""
        if isinstance(self.options, FileOptions):
            return self.options.platform
        if isinstance(self.options, WebhookOptions) and self.options.hashed:
            return "meta"
        return "plain"

    def outbox(self) -> Path:
        assert isinstance(self.options, FileOptions)
        return self.options.outbox or get_paths().data_dir / "outbox" / self.name

    def dead_letter_dir(self) -> Path:
        assert isinstance(self.options, WebhookOptions)
        return self.options.dead_letter or get_paths().data_dir / "dead_letter" / self.name

    def missing_secrets(self) -> list[str]:
        """Names of the environment variables this destination needs that are unset."""
        names: list[str] = []
        if isinstance(self.options, PostgresOptions | WebhookOptions):
            names.append(self.options.url_env)
        if isinstance(self.options, WebhookOptions) and self.options.token_env:
            names.append(self.options.token_env)
        return [n for n in names if not os.environ.get(n)]


def destinations_config_path() -> Path:
    value = os.environ.get("CDP_DESTINATIONS_CONFIG")
    return (
        Path(value).expanduser().resolve()
        if value
        else PROJECT_ROOT / "config" / "destinations.yml"
    )


def _err(name: str, message: str) -> DestinationConfigError:
    return DestinationConfigError(f"destination {name!r}: {message}")


def _str_list(name: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _err(name, f"{key!r} must be a non-empty list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise _err(name, f"{key!r} has duplicates: {value!r}")
    return tuple(value)


def _options(
    name: str, kind: str, raw: dict[str, Any]
) -> FileOptions | PostgresOptions | WebhookOptions:
    cls = {"file": FileOptions, "postgres": PostgresOptions, "webhook": WebhookOptions}[kind]
    allowed = set(cls.__dataclass_fields__)
    for key in ("url", "token", "password", "dsn"):
        if key in raw:
            raise _err(name, f"{key!r} is a secret: name its environment variable ({key}_env)")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _err(name, f"unknown {kind} options {unknown} (allowed: {sorted(allowed)})")
    values = dict(raw)
    for key in ("outbox", "dead_letter"):
        if values.get(key) is not None:
            path = Path(str(values[key])).expanduser()
            values[key] = path if path.is_absolute() else get_paths().data_dir / path
    for key in ("url_env", "token_env"):
        if values.get(key) is not None and not ENV_RE.match(str(values[key])):
            raise _err(name, f"{key} must be an environment variable name, got {values[key]!r}")
    if kind == "file":
        if values.get("format", "csv") not in FILE_FORMATS:
            raise _err(name, f"format must be one of {FILE_FORMATS}, got {values['format']!r}")
        if values.get("platform", "plain") not in PLATFORMS:
            raise _err(name, f"platform must be one of {PLATFORMS}, got {values['platform']!r}")
    if kind == "postgres":
        for key in ("table", "schema"):
            if key in values and not NAME_RE.match(str(values[key])):
                raise _err(name, f"{key} must be a lower-case SQL name, got {values[key]!r}")
    if kind == "webhook":
        for key in ("batch_size", "retries"):
            if key in values and (
                not isinstance(values[key], int) or values[key] < (1 if key == "batch_size" else 0)
            ):
                raise _err(name, f"{key} must be a positive integer, got {values[key]!r}")
        for key in ("backoff_seconds", "max_backoff_seconds", "timeout_seconds"):
            if key in values and (not isinstance(values[key], int | float) or values[key] < 0):
                raise _err(name, f"{key} must be a number >= 0, got {values[key]!r}")
    return cls(**values)


def parse_destinations(data: Any, known_audiences: set[str] | None = None) -> list[Destination]:
    """Validate the parsed YAML; `known_audiences` (if given) must contain every audience named."""
    if not isinstance(data, dict) or not isinstance(data.get("destinations", []), list):
        raise DestinationConfigError(
            "destinations config must be a mapping with a list 'destinations'"
        )
    result: list[Destination] = []
    for i, entry in enumerate(data.get("destinations") or []):
        if not isinstance(entry, dict):
            raise DestinationConfigError(f"destinations[{i}] must be a mapping, got {entry!r}")
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise DestinationConfigError(
                f"destinations[{i}]: name must be snake_case, got {name!r}"
            )
        if name in {d.name for d in result}:
            raise _err(name, "declared twice")
        unknown = sorted(
            set(entry)
            - {"name", "kind", "audiences", "fields", "consent", "options", "description"}
        )
        if unknown:
            raise _err(name, f"unknown keys {unknown}")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise _err(name, f"kind must be one of {KINDS}, got {kind!r}")
        audiences = _str_list(name, "audiences", entry.get("audiences"))
        bad = [a for a in audiences if not NAME_RE.match(a)]
        if bad:
            raise _err(name, f"audience names must be snake_case, got {bad!r}")
        if known_audiences is not None:
            missing = sorted(set(audiences) - known_audiences)
            if missing:
                raise _err(
                    name, f"unknown audiences {missing} (declared: {sorted(known_audiences)})"
                )
        fields = _str_list(name, "fields", entry.get("fields"))
        for f in fields:
            if not NAME_RE.match(f):
                raise _err(name, f"field names must be snake_case columns, got {f!r}")
        consent = entry.get("consent")
        if consent not in CONSENT_CHANNELS:
            raise _err(name, f"consent must be one of {CONSENT_CHANNELS}, got {consent!r}")
        raw_options = entry.get("options") or {}
        if not isinstance(raw_options, dict):
            raise _err(name, "options must be a mapping")
        dest = Destination(
            name=name,
            kind=kind,
            audiences=audiences,
            fields=fields,
            consent=consent,
            options=_options(name, kind, raw_options),
            description=str(entry.get("description") or ""),
        )
        from dagster_project.exports.hashing import check_fields  # avoid an import cycle

        try:
            check_fields(dest.platform, dest.fields)
        except ValueError as exc:
            raise _err(name, str(exc)) from exc
        result.append(dest)
    return result


def load_destinations(
    path: Path | None = None, known_audiences: set[str] | None = None
) -> list[Destination]:
    """Read and validate the destinations file; a missing file means no destinations."""
    path = path or destinations_config_path()
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DestinationConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_destinations(data, known_audiences)
    except DestinationConfigError as exc:
        raise DestinationConfigError(f"{path}: {exc}") from exc
