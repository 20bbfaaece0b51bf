"""The suppression list: keyed hashes of the identifiers of erased people, kept outside the warehouse.

A `cdp forget` request appends one JSON line to `CDP_SUPPRESSION_LIST` (default
`<CDP_DATA_DIR>/privacy/suppression_list.jsonl`) holding only HMAC-SHA256 digests of the person's
identifiers, keyed with `CDP_SUPPRESSION_KEY`, plus when it was requested and a free-text reference.
The warehouse can be rebuilt from the landing files at any time; this file is what keeps an erased
person erased, so it is append-only and every write is atomic (temporary file, fsync, rename).

Identifier kinds (the digest is HMAC(key, "<kind>:<value>")):
    email   e-mail address, trimmed and lower-cased (as staging's standardise_email)
    phone   E.164 phone number (as staging's standardise_phone)
    record  '<system>__<table>:<record id>' of a person record or cookie (= identity record_key)
    id      a bare id other rows refer to: person record ids, account ids, cookie ids, order ids
    person  person_id
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.settings import get_paths

KINDS: tuple[str, ...] = ("email", "phone", "record", "id", "person")
KEY_ENV = "CDP_SUPPRESSION_KEY"
PATH_ENV = "CDP_SUPPRESSION_LIST"
_MIN_KEY_BYTES = 16


class SuppressionKeyError(RuntimeError):
    """CDP_SUPPRESSION_KEY is unset or too short, so identifiers cannot be hashed or matched."""


def suppression_key() -> bytes:
    """The HMAC key from CDP_SUPPRESSION_KEY (at least 16 bytes).

    Raises:
        SuppressionKeyError: the variable is unset, empty or too short.
    """
    value = os.environ.get(KEY_ENV, "")
    if not value.strip():
        raise SuppressionKeyError(
            f"{KEY_ENV} is not set: the suppression list stores identifiers as HMAC-SHA256 digests "
            f"keyed with it. Set a long random secret (e.g. `export {KEY_ENV}=$(openssl rand -hex 32)`), "
            "keep it out of the repository, and use the same key for every run."
        )
    key = value.encode("utf-8")
    if len(key) < _MIN_KEY_BYTES:
        raise SuppressionKeyError(
            f"{KEY_ENV} is too short: use at least {_MIN_KEY_BYTES} characters"
        )
    return key


def suppression_list_path() -> Path:
    """CDP_SUPPRESSION_LIST, default <CDP_DATA_DIR>/privacy/suppression_list.jsonl."""
    value = os.environ.get(PATH_ENV)
    if value:
        return Path(value).expanduser().resolve()
    return get_paths().data_dir / "privacy" / "suppression_list.jsonl"


# ---------------------------------------------------------------- normalisation (as staging)


def normalise_email(value: str | None) -> str | None:
    """Trimmed, lower-cased, without 'mailto:' (staging's standardise_email, minus its junk list)."""
    if value is None:
        return None
    email = value.strip().lower().replace("mailto:", "")
    return email if "@" in email else None


def normalise_phone(value: str | None, country: str | None = None) -> str | None:
    """E.164 by staging's rules (standardise_phone): '06-12345678' -> '+31612345678'.

    National numbers take `country` (NL or DK), else NL; a number that fits no rule is None.
    """
    if value is None:
        return None
    kept = re.sub(r"[^0-9+]", "", value.strip().replace("(0)", ""))
    bare = kept.replace("+", "")
    if not bare:
        return None
    if kept.startswith("+"):
        d = "+" + bare
    elif kept.startswith("00"):
        d = "+" + bare[2:]
    else:
        d = bare
    cc = (country or "").strip().upper() or None
    eff = cc or "NL"
    candidate: str | None = None
    if d.startswith(("+31", "+45")):
        candidate = d[1:3] + (d[4:] if d[3:4] == "0" else d[3:])
    elif d.startswith("+"):
        candidate = d[1:]
    elif eff == "NL" and len(d) == 10 and d.startswith("0"):
        candidate = "31" + d[1:]
    elif eff == "NL" and len(d) == 9 and d.startswith("6"):
        candidate = "31" + d
    elif eff == "NL" and len(d) == 11 and d.startswith("31"):
        candidate = d
    elif eff == "DK" and len(d) == 8 and not d.startswith("0"):
        candidate = "45" + d
    elif eff == "DK" and len(d) == 10 and d.startswith("45"):
        candidate = d
    elif cc is None and len(d) == 10 and d.startswith("0"):
        candidate = "31" + d[1:]
    elif cc is None and len(d) == 8 and not d.startswith("0"):
        candidate = "45" + d
    if candidate is None or not re.fullmatch(r"[1-9][0-9]{7,14}", candidate):
        return None
    if candidate.startswith("31") and len(candidate) != 11:
        return None
    if candidate.startswith("45") and len(candidate) != 10:
        return None
    return "+" + candidate


def identifier_hash(key: bytes, kind: str, value: str) -> str:
    """Lower-case hex HMAC-SHA256 of '<kind>:<value>'."""
    if kind not in KINDS:
        raise ValueError(f"unknown identifier kind {kind!r} (expected one of {', '.join(KINDS)})")
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def hmac_sql_params(key: bytes) -> tuple[bytes, bytes]:
    """(outer, inner) padded keys for `hmac_sql`: HMAC written out with DuckDB's sha256.

    DuckDB has no HMAC function; HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) is two sha256
    calls, vectorised and multi-threaded in SQL (no Python per row).
    """
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    return bytes(b ^ 0x5C for b in padded), bytes(b ^ 0x36 for b in padded)


def hmac_sql(message: str, outer: str = "$outer", inner: str = "$inner") -> str:
    """SQL for the hex HMAC of the VARCHAR expression `message` ('<kind>:<value>'), given the
    padded keys of `hmac_sql_params` as BLOB parameters/expressions `outer` and `inner`."""
    return f"sha256({outer} || unhex(sha256({inner} || encode({message}))))"


# ---------------------------------------------------------------- the list


@dataclass
class SuppressionList:
    """Digests per kind, from every request in the file."""

    hashes: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    requests: int = 0

    def __bool__(self) -> bool:
        return any(self.hashes.values())

    def rows(self) -> list[tuple[str, str]]:
        """(kind, digest) pairs, for a temp table."""
        return [(kind, h) for kind, values in self.hashes.items() for h in sorted(values)]


def load_suppression_list(path: Path | None = None) -> SuppressionList:
    """Read the list (an absent file is an empty list).

    Raises:
        ValueError: a line is not a valid request (names the line; the file is never half-written).
    """
    path = path or suppression_list_path()
    result = SuppressionList()
    if not path.exists():
        return result
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            identifiers = request["identifiers"]
            for kind, digests in identifiers.items():
                if kind not in KINDS:
                    raise ValueError(f"unknown kind {kind!r}")
                result.hashes[kind].update(str(d) for d in digests)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: line {number} is not a suppression request ({exc})") from exc
        result.requests += 1
    return result


@dataclass(frozen=True)
class ForgetRequest:
    request_id: str
    requested_at: str
    reference: str
    counts: dict[str, int]


def append_request(
    key: bytes,
    identifiers: dict[str, Iterable[str]],
    reference: str = "",
    path: Path | None = None,
) -> ForgetRequest:
    """Hash `identifiers` ({kind: plain values}) and append them as one request, atomically.

    The file is rewritten under a temporary name (old content + the new line), fsynced and renamed
    over the old one, under an exclusive lock, so a crash leaves either the old or the new list.
    """
    path = path or suppression_list_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    digests = {
        kind: sorted({identifier_hash(key, kind, v) for v in identifiers.get(kind, ()) if v})
        for kind in KINDS
    }
    request = ForgetRequest(
        request_id=uuid.uuid4().hex,
        requested_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        reference=reference,
        counts={k: len(v) for k, v in digests.items()},
    )
    line = json.dumps(
        {
            "request_id": request.request_id,
            "requested_at": request.requested_at,
            "reference": reference,
            "identifiers": digests,
        },
        sort_keys=True,
    )
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = path.read_bytes() if path.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(old + line.encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return request
