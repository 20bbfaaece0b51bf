"""Demo data generator: one synthetic Dutch/Danish population spread over five silos.

`generate()` draws a population of true people (75% Dutch, 25% Danish) with households,
twins, phones, e-mail addresses, addresses and shopping habits, then writes what each silo
would export about them, with the noise real exports have:

    webshop/customers.csv, orders.csv, order_lines.csv      accounts (some duplicated) and orders
    newsletter/subscribers.csv (;-separated, Dutch headers), email_events.jsonl
    customer_service/contacts.csv, preferences.csv          contact moments, do-not-call choices
    web_analytics/events.parquet, consent_choices.csv       cookies, logins, page views, consent
    loyalty/members.csv, transactions.parquet               store cards and till receipts

and, for evaluation only, `ground_truth.csv` (which true person each record belongs to) and
`people.csv` (the true people) under the truth folder. The pipeline never reads the truth.

Noisy as they are, a person's records always share evidence a careful CDP can use (see
_link_records): each source first plans what its records carry (which e-mail address, phone,
name spelling, birth date), then every piece of a person's records that shares nothing with
the rest gets one link, the way real data links up (the subscription address also on the
loyalty card, the mobile given to the service desk), and only then are the files written.
About 0.3% of the records stay unlinkable on purpose. A few rows are broken on purpose, for
the loader's quarantine: webshop birth dates like 1990-02-31 and cut-off lines in
email_events.jsonl (their records stay in the ground truth).

Everything is vectorised (numpy for numbers, pyarrow compute for strings): there is no loop
over people, and a run is byte-identical for the same (seed, people, as_of). Each source has
its own random stream, so changing one source does not reshuffle the others.

Person 0 is always "Sophia de Vries" (the demo story): webshop account sofietje@provider.nl,
newsletter subscriber sophiaX@provider.com, a WhatsApp contact as "Sophie" with only her phone,
a cookie that browses anonymously before logging in, and a loyalty card with her phone, birth
date and (the only link for her subscription) the newsletter address.

    python -m dagster_project.sources.demo_data --people 10000 --seed 42
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from dagster_project.sources import demo_names as names
from dagster_project.sources.demo_names import NICKNAMES

__all__ = ["CATEGORIES", "NICKNAMES", "SOURCES", "generate", "main"]

log = logging.getLogger(__name__)

DAY = 86_400
WINDOW_DAYS = 730
EPOCH = date(1970, 1, 1)
STR = pa.string()

CATEGORIES = [
    "dames-mode", "heren-mode", "kinderen", "schoenen", "sport", "wonen",
    "keuken", "elektronica", "beauty", "tuin", "boeken", "speelgoed",
]  # fmt: skip
# (low, high) typical unit price in euros, and how much women / men favour the category.
_CATEGORY_PRICE = [(15, 120), (15, 130), (8, 50), (30, 150), (10, 120), (8, 200),
                   (5, 150), (15, 600), (4, 60), (5, 250), (8, 35), (5, 80)]  # fmt: skip
_AFFINITY_F = [3.0, 0.3, 1.2, 1.5, 0.8, 1.2, 1.0, 0.6, 2.0, 0.8, 1.0, 0.8]
_AFFINITY_M = [0.3, 3.0, 0.8, 1.2, 1.5, 1.0, 0.8, 2.0, 0.4, 1.0, 1.0, 0.8]
_PRODUCTS_PER_CATEGORY = 150

# Source labels in the ground truth (`<system>__<table>`, cookies for the web).
SOURCES = {
    "webshop": "webshop__customers",
    "newsletter": "newsletter__subscribers",
    "customer_service": "customer_service__contacts",
    "loyalty": "loyalty__members",
    "web": "web_analytics__cookies",
}

NL, DK = 0, 1
# What a record's first + last name is worth to a name match (see _Records)
_NO_NAME, _LOOSE, _CLEAN = 0, 1, 2
# Birth date on a record: the true date, or the noise written instead
_DOB_OK, _DOB_BLANK, _DOB_1900, _DOB_SWAPPED, _DOB_IMPOSSIBLE = range(5)
# Hour-of-day weights for timestamps: quiet nights, busy lunch and evening.
_HOUR_WEIGHTS = np.array([1.0, 0.5, 0.3, 0.2, 0.2, 0.4, 1.5, 3.0, 4.0, 4.5, 5.0, 5.5,
                          6.0, 5.5, 5.0, 5.0, 5.0, 5.5, 6.5, 8.0, 8.5, 7.5, 5.0, 2.5])  # fmt: skip
_HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()

# Phone numbering: NL landline area codes of two digits (the others have three); DK prefixes.
_NL_TWO_DIGIT_AREAS = np.array([10, 13, 15, 20, 23, 24, 26, 30, 33, 35, 36, 38, 40, 43, 45,
                                50, 53, 55, 58, 70, 71, 72, 73, 75, 76, 77, 78, 79])  # fmt: skip
_DK_MOBILE_PREFIXES = np.array([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 40, 41, 42,
                                50, 51, 52, 53, 60, 61, 71, 81, 91, 92, 93])  # fmt: skip
_DK_LANDLINE_PREFIXES = np.array([32, 33, 35, 36, 38, 39, 43, 44, 45, 46, 47, 48, 49, 54, 55,
                                  56, 57, 58, 59, 62, 63, 64, 65, 66, 69, 70, 72, 73, 74, 75,
                                  76, 86, 87, 89, 96, 97, 98, 99])  # fmt: skip
_IP_FIRST_OCTET = {
    NL: [77, 84, 145, 213, 80, 62, 83, 86, 89, 94, 95],
    DK: [2, 5, 80, 87, 90, 130, 188, 193, 212],
    "mobile": [31, 37, 46, 100, 176, 185],
}
# Postcode letter pairs (NL never uses F I O Q U Y, nor SA / SD / SS).
_PC_LETTERS = [
    a + b
    for a in "ABCEGHJKLMNPRSTVWXZ"
    for b in "ABCEGHJKLMNPRSTVWXZ"
    if a + b not in ("SA", "SD", "SS")
]

# The Sophia story (person 0).
SOPHIA = {
    "first": "Sophia", "last": "de Vries", "dob": date(1991, 3, 12), "street": "Kerkstraat",
    "house_number": 12, "postcode": (1017, "GC"), "city": "Amsterdam", "mobile": 31612345678,
    "webshop_email": ("sofietje", "provider.nl"), "newsletter_email": ("sophiaX", "provider.com"),
    "favourites": ["dames-mode", "beauty", "wonen"],
}  # fmt: skip


# =============================================================================== small helpers


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent random stream per (seed, part of the generator)."""
    return np.random.default_rng([seed, stream])


def _strs(values: list[str]) -> pa.Array:
    return pa.array(values, type=STR)


def _take(table: pa.Array, idx: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """table[idx] as an arrow array; rows where null_mask is set become null."""
    indices = pa.array(np.asarray(idx, dtype=np.int64), mask=null_mask)
    return pc.take(table, indices)


def _flat(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _cat(*parts) -> pa.Array:
    """Element-wise string concatenation (a null part makes the result null)."""
    return pc.binary_join_element_wise(*parts, "")


def _where(mask: np.ndarray, a, b) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)


def _null_where(mask: np.ndarray, arr: pa.Array) -> pa.Array:
    return _where(mask, pa.scalar(None, STR), arr)


def _choose(codes: np.ndarray, *options) -> pa.Array:
    """Row i takes options[codes[i]][i]."""
    return pc.choose(pa.array(np.asarray(codes, dtype=np.int8)), *options)


def _fixed_width(matrix: np.ndarray) -> pa.Array:
    """Rows of a (n, width) uint8 matrix of ASCII bytes as an arrow string array (zero copy)."""
    n, width = matrix.shape
    data = np.ascontiguousarray(matrix)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    ).cast(STR)


def _digits(values: np.ndarray, width: int, prefix: str = "") -> pa.Array:
    """Non-negative integers as zero-padded strings, optionally prefixed: 7 -> "WS000007"."""
    x = np.asarray(values, dtype=np.int64).copy()
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    m = np.empty((len(x), len(head) + width), dtype=np.uint8)
    m[:, : len(head)] = head
    for k in range(width):
        m[:, len(head) + width - 1 - k] = 48 + x % 10
        x //= 10
    return _fixed_width(m)


def _ids(prefix: str, n: int, min_width: int) -> pa.Array:
    """prefix + 1..n zero-padded (the width grows if n needs more digits)."""
    return _digits(np.arange(1, n + 1), max(min_width, len(str(n))), prefix)


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _zipf(n: int, s: float = 0.9, offset: float = 3.0) -> np.ndarray:
    """Popularity weights for a list ordered from most to least common."""
    return _weights(1.0 / (np.arange(n) + offset) ** s)


def _pick(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=_weights(weights))


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Start position of each group when groups of `counts` are laid out back to back."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _rank_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group of np.repeat(..., counts)."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(counts.sum()) - np.repeat(_offsets(counts), counts)


def _scatter(parts: list[tuple[np.ndarray, pa.Array]], n: int) -> pa.Array:
    """Reassemble arrays computed for disjoint row subsets into one array of n rows."""
    idx = np.concatenate([p[0] for p in parts]).astype(np.int64)
    values = pa.concat_arrays([p[1].cast(STR) for p in parts])
    position = np.empty(n, dtype=np.int64)
    position[idx] = np.arange(len(idx))
    return pc.take(values, pa.array(position))


def _recent(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, skew: float = 0.8,
            last_month: float = 0.15) -> np.ndarray:  # fmt: skip
    """Timestamps (epoch seconds) in [lo, hi): skewed towards hi, with realistic hours of day.

    `skew` < 1 pushes activity towards the end of each span; a `last_month` share is drawn
    from the final 30 days of the span so that recency audiences are never empty.
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo + 1)
    n = len(lo)
    u = rng.random(n) ** skew
    recent = rng.random(n) < last_month
    lo_eff = np.where(recent, np.maximum(lo, hi - 30 * DAY), lo)
    t = lo_eff + (u * (hi - lo_eff)).astype(np.int64)
    # Move to a plausible hour on the same day if that stays inside the span.
    hour = rng.choice(24, size=n, p=_HOUR_P)
    snapped = (t // DAY) * DAY + hour * 3600 + rng.integers(0, 3600, n)
    return np.where((snapped >= lo) & (snapped < hi), snapped, t)


def _before(rng: np.random.Generator, t: np.ndarray, max_lead: int, floor: int) -> np.ndarray:
    """A moment up to `max_lead` seconds before t, but not before `floor` (then spread over [floor, t])."""
    t = np.asarray(t, dtype=np.int64)
    earlier = t - (rng.random(len(t)) * max_lead).astype(np.int64)
    spread = floor + (rng.random(len(t)) * np.maximum(t - floor, 0)).astype(np.int64)
    return np.where(earlier >= floor, earlier, spread)


@lru_cache(maxsize=4)
def _time_of_day(with_seconds: bool) -> pa.Array:
    if with_seconds:
        return _strs([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)])
    return _strs([f"{m // 60:02d}:{m % 60:02d}" for m in range(DAY // 60)])


def _fmt_ts(secs: np.ndarray, style: str = "iso") -> pa.Array:
    """Format epoch seconds: iso `YYYY-MM-DD HH:MM:SS`, isot `YYYY-MM-DDTHH:MM:SS`, nl `dd-mm-YYYY HH:MM`."""
    secs = np.asarray(secs, dtype=np.int64)
    if len(secs) == 0:
        return pa.array([], STR)
    days = secs // DAY
    first, last = int(days.min()), int(days.max())
    date_fmt = "%d-%m-%Y" if style == "nl" else "%Y-%m-%d"
    table = _strs([(EPOCH + timedelta(days=d)).strftime(date_fmt) for d in range(first, last + 1)])
    day_part = _take(table, days - first)
    tod = secs - days * DAY
    if style == "nl":
        return pc.binary_join_element_wise(day_part, _take(_time_of_day(False), tod // 60), " ")
    sep = "T" if style == "isot" else " "
    return pc.binary_join_element_wise(day_part, _take(_time_of_day(True), tod), sep)


def _date_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return year, month, day


def _fmt_date(year: np.ndarray, month: np.ndarray, day: np.ndarray, style: str = "iso") -> pa.Array:
    y, m, d = _digits(year, 4), _digits(month, 2), _digits(day, 2)
    if style == "iso":
        return pc.binary_join_element_wise(y, m, d, "-")
    return pc.binary_join_element_wise(d, m, y, "-")


def _timestamps(secs: np.ndarray) -> pa.Array:
    return pa.array((np.asarray(secs, dtype=np.int64) * 1000).astype("datetime64[ms]"))


def _money(cents: np.ndarray) -> pa.Array:
    cents = np.asarray(cents, dtype=np.int64)
    return _cat(pc.cast(pa.array(cents // 100), STR), ".", _digits(cents % 100, 2))


def _ip(addresses: np.ndarray) -> pa.Array:
    a = np.asarray(addresses, dtype=np.uint32).astype(np.int64)
    octets = [pc.cast(pa.array((a >> shift) & 255), STR) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


def _random_ips(rng: np.random.Generator, n: int, first_octets: list[int]) -> np.ndarray:
    first = np.asarray(first_octets, dtype=np.uint32)[rng.integers(0, len(first_octets), n)]
    return (first << np.uint32(24)) | rng.integers(1 << 8, 1 << 24, n, dtype=np.uint32)


def _hex_ids(rng: np.random.Generator, n: int, nbytes: int = 16) -> np.ndarray:
    """Random lowercase hex ids of 2 * nbytes characters, as a (n, 2 * nbytes) byte matrix
    (index rows, then turn into strings with _fixed_width)."""
    table = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    raw = np.frombuffer(rng.bytes(nbytes * n), dtype=np.uint8).reshape(n, nbytes)
    m = np.empty((n, 2 * nbytes), dtype=np.uint8)
    m[:, 0::2] = table[raw >> 4]
    m[:, 1::2] = table[raw & 15]
    return m


# ------------------------------------------------------------------------------- noise helpers


def _case_noise(rng: np.random.Generator, arr: pa.Array, upper: float, lower: float) -> pa.Array:
    u = rng.random(len(arr))
    arr = _where(u < upper, pc.utf8_upper(arr), arr)
    return _where((u >= upper) & (u < upper + lower), pc.utf8_lower(arr), arr)


def _space_noise(rng: np.random.Generator, arr: pa.Array, p: float) -> pa.Array:
    u = rng.random(len(arr))
    arr = _where(u < p / 2, _cat(" ", arr), arr)
    return _where((u >= p / 2) & (u < p), _cat(arr, " "), arr)


# ------------------------------------------------------------------------------------ writers


def _write_csv(path: Path, columns: dict[str, pa.Array], delimiter: str = ",") -> int:
    """Write a CSV the way an export tool would: header, minimal quoting, '\\n' line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(next(iter(columns.values())))

    def quoted(arr: pa.Array) -> pa.Array:
        arr = pc.fill_null(arr.cast(STR), "")
        needs = pc.match_substring_regex(arr, f'[{delimiter}"]')
        if not pc.any(needs).as_py():
            return arr
        return pc.if_else(needs, _cat('"', pc.replace_substring(arr, '"', '""'), '"'), arr)

    header = delimiter.join(f'"{c}"' if delimiter in c or '"' in c else c for c in columns)
    with open(path, "wb") as f:
        f.write(header.encode() + b"\n")
        if n:
            lines = pc.binary_join_element_wise(*[quoted(a) for a in columns.values()], delimiter)
            _write_lines(f, lines)
    return n


def _write_lines(f, lines: pa.Array) -> None:
    lists = pa.LargeListArray.from_arrays(
        pa.array([0, len(lines)], pa.int64()), lines.cast(pa.large_string())
    )
    f.write(pc.binary_join(lists, pa.scalar("\n", pa.large_string()))[0].as_buffer())
    f.write(b"\n")


def _write_jsonl(
    path: Path, fields: dict[str, pa.Array], truncated: np.ndarray | None = None
) -> int:
    """JSON lines from string columns (values are ids, codes and timestamps: no escaping needed).
    `truncated` lines are cut off in the second field, as by an export that died mid-write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = []
    for i, (key, arr) in enumerate(fields.items()):
        value = pc.fill_null(_cat('"', arr, '"'), "null")
        parts.append(_cat(("{" if i == 0 else ",") + f'"{key}":', value))
    n = len(parts[0])
    lines = _cat(*parts, "}")
    if truncated is not None and n:
        cut = _cat(
            parts[0], pc.utf8_slice_codeunits(parts[1], 0, len(f',"{list(fields)[1]}":"') + 2)
        )
        lines = _where(truncated, cut, lines)
    with open(path, "wb") as f:
        if n:
            _write_lines(f, lines)
    return n


def _write_parquet(path: Path, table: pa.Table, dictionary_columns: list[str]) -> int:
    """zstd level 1 halves the size of snappy on random ids at the same speed; dictionaries and
    statistics only where they pay off (statistics on the timestamp for range filters)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=1,
        use_dictionary=dictionary_columns,
        write_statistics=["ts"],
    )
    return table.num_rows


# ================================================================================= vocabulary

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss"})


def _fold(s: str) -> str:
    """Drop accents the way a system without Unicode would: Søren -> Soren, Zoë -> Zoe."""
    s = s.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _plain(s: str) -> str:
    """Lowercase ASCII letters/digits only: the e-mail local-part form of a name."""
    return "".join(c for c in _fold(s).lower() if c.isalnum())


def _capitalise(s: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in s.split("-"))


def _typos(word: str) -> list[str]:
    """Every single-edit typo of `word` that keeps its first letter: swaps, drops, doubles."""
    out: list[str] = []
    n = len(word)
    for i in range(1, n - 1):
        if word[i] != word[i + 1] and word[i].isalpha() and word[i + 1].isalpha():
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    if n > 3:
        out += [word[:i] + word[i + 1 :] for i in range(1, n) if word[i].isalpha()]
    out += [
        word[:i] + word[i] + word[i:]
        for i in range(1, n)
        if word[i].isalpha() and word[i] != word[i - 1]
    ]
    return [t for t in dict.fromkeys(out) if t != word]


def _split_particle(surname: str) -> tuple[str, str]:
    for particle in names.PARTICLES:
        if surname.startswith(particle + " "):
            return particle, surname[len(particle) + 1 :]
    return "", surname


@dataclass
class _Forms:
    """Every spelling of every vocabulary entry, laid out entry by entry:

    [canonical, ascii-folded, typo_1..typo_t, alt_1..alt_k] where alt are nicknames (first
    names) or the capitalised-particle spelling "De Vries" (surnames).
    """

    text: pa.Array
    plain: pa.Array  # e-mail-safe lowercase form of each spelling
    start: np.ndarray
    n_typo: np.ndarray
    n_alt: np.ndarray
    canonical: list[str]

    @classmethod
    def build(
        cls, entries: list[str], alternatives: dict[str, list[str]], surnames: bool = False
    ) -> _Forms:
        text: list[str] = []
        start, n_typo, n_alt = [], [], []
        for name in entries:
            if surnames:
                particle, core = _split_particle(name)
                typos = [f"{particle} {t}".strip() for t in _typos(core)]
            else:
                typos = _typos(name)
            alts = alternatives.get(name, [])
            start.append(len(text))
            n_typo.append(len(typos))
            n_alt.append(len(alts))
            text += [name, _fold(name), *typos, *alts]
        return cls(
            text=_strs(text),
            plain=_strs([_plain(t) for t in text]),
            start=np.array(start, dtype=np.int64),
            n_typo=np.array(n_typo, dtype=np.int64),
            n_alt=np.array(n_alt, dtype=np.int64),
            canonical=list(entries),
        )

    def pick(self, rng: np.random.Generator, idx: np.ndarray, ascii: float = 0.0,
             typo: float = 0.0, alt: float = 0.0) -> np.ndarray:  # fmt: skip
        """Spelling index per row: canonical, or with the given probabilities folded/typo/alt."""
        idx = np.asarray(idx, dtype=np.int64)
        u = rng.random(len(idx))
        r = rng.integers(0, 1 << 30, len(idx))
        pos = self.start[idx].copy()
        is_ascii = u < ascii
        is_typo = (u >= ascii) & (u < ascii + typo) & (self.n_typo[idx] > 0)
        is_alt = (u >= ascii + typo) & (u < ascii + typo + alt) & (self.n_alt[idx] > 0)
        pos[is_ascii] += 1
        pos[is_typo] += 2 + r[is_typo] % self.n_typo[idx[is_typo]]
        pos[is_alt] += 2 + self.n_typo[idx[is_alt]] + r[is_alt] % self.n_alt[idx[is_alt]]
        return pos

    def level(self, pos: np.ndarray, idx: np.ndarray, alt_usable: bool = False) -> np.ndarray:
        """What a spelling is worth to a name match: _CLEAN for the canonical or folded form (the
        same match key), _LOOSE for a typo (one edit away), and for an alternative _CLEAN if
        alt_usable (the surname "De Vries") else _NO_NAME (a nickname)."""
        idx = np.asarray(idx, dtype=np.int64)
        offset = np.asarray(pos, dtype=np.int64) - self.start[idx]
        alt = _CLEAN if alt_usable else _NO_NAME
        return np.where(
            offset <= 1, _CLEAN, np.where(offset < 2 + self.n_typo[idx], _LOOSE, alt)
        ).astype(np.int8)


@dataclass
class _Vocabulary:
    first: _Forms
    last: _Forms
    first_groups: dict[
        tuple[int, int, int], tuple[np.ndarray, np.ndarray]
    ]  # (country, gender, era)
    last_groups: dict[int, tuple[np.ndarray, np.ndarray]]
    particle: pa.Array  # per surname: "de" / "van den" / ""
    core: pa.Array  # per surname: "Vries"
    core_plain: pa.Array  # per surname: "vries"
    cities: list[tuple]  # (name, country, pc_lo, pc_hi, area, weight, aliases)
    streets: list[str]
    street_country: np.ndarray
    # (n_first, n_first): names a matcher could take for one another (a common nickname family
    # or FIRST_NAME_FAMILIES group, one edit apart, or one the start of the other): never given
    # to two people of one household of the same sex, nor to twins
    first_clash: np.ndarray


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    lists = {
        (NL, 0, 0): names.NL_MALE_TRADITIONAL, (NL, 0, 1): names.NL_MALE_MODERN,
        (NL, 1, 0): names.NL_FEMALE_TRADITIONAL, (NL, 1, 1): names.NL_FEMALE_MODERN,
        (DK, 0, 0): names.DK_MALE_TRADITIONAL, (DK, 0, 1): names.DK_MALE_MODERN,
        (DK, 1, 0): names.DK_FEMALE_TRADITIONAL, (DK, 1, 1): names.DK_FEMALE_MODERN,
    }  # fmt: skip
    first_names = list(dict.fromkeys(n for group in lists.values() for n in group))
    first_pos = {n: i for i, n in enumerate(first_names)}
    nick = {n: [_capitalise(d) for d in NICKNAMES.get(n.lower(), [])] for n in first_names}
    surnames = list(dict.fromkeys(names.NL_SURNAMES + names.DK_SURNAMES))
    last_pos = {n: i for i, n in enumerate(surnames)}
    split = [_split_particle(s) for s in surnames]
    alt_last = {
        s: [p[:1].upper() + p[1:] + " " + c] for s, (p, c) in zip(surnames, split, strict=True) if p
    }
    cities = [(c[0], NL, *c[1:]) for c in names.NL_CITIES] + [
        (c[0], DK, *c[1:]) for c in names.DK_CITIES
    ]
    keys = [_plain(n) for n in first_names]
    families = {k: {k} for k in keys}
    for k, ds in NICKNAMES.items():
        for d in [k, *ds]:
            families.setdefault(_plain(d), set()).add(_plain(k))
    for i, group in enumerate(names.FIRST_NAME_FAMILIES):
        for d in group:
            families.setdefault(_plain(d), set()).add(f"#{i}")
    return _Vocabulary(
        first=_Forms.build(first_names, nick),
        last=_Forms.build(surnames, alt_last, surnames=True),
        first_groups={
            k: (np.array([first_pos[n] for n in v]), _zipf(len(v))) for k, v in lists.items()
        },
        last_groups={
            NL: (
                np.array([last_pos[n] for n in names.NL_SURNAMES]),
                _zipf(len(names.NL_SURNAMES), 0.8, 2),
            ),
            DK: (
                np.array([last_pos[n] for n in names.DK_SURNAMES]),
                _zipf(len(names.DK_SURNAMES), 1.0, 1),
            ),
        },
        particle=_strs([p for p, _ in split]),
        core=_strs([c for _, c in split]),
        core_plain=_strs([_plain(c) for _, c in split]),
        cities=cities,
        streets=names.NL_STREETS + names.DK_STREETS,
        street_country=np.array([NL] * len(names.NL_STREETS) + [DK] * len(names.DK_STREETS)),
        first_clash=_name_clash(keys, [sorted(families[k]) for k in keys]),
    )


def _name_clash(keys: list[str], families: list[list[str]]) -> np.ndarray:
    """clash[i, j]: names of a common family, one edit apart, or one the start of the other
    (Anne, Annette)."""
    table = pa.table({
        "i": pa.array(np.repeat(np.arange(len(keys)), [len(f) for f in families])),
        "k": _strs([k for k, f in zip(keys, families, strict=True) for _ in f]),
        "f": _strs([x for f in families for x in f]),
    })  # fmt: skip
    with duckdb.connect() as con:
        con.register("names", table)
        pairs = con.execute("""
            select distinct a.i as a, b.i as b from names a join names b on a.f = b.f
            union
            select a.i, b.i from (select distinct i, k from names) a, (select distinct i, k from names) b
            where abs(length(a.k) - length(b.k)) <= 1 and damerau_levenshtein(a.k, b.k) <= 1
                or least(length(a.k), length(b.k)) >= 3
                   and (starts_with(a.k, b.k) or starts_with(b.k, a.k))
        """).fetchnumpy()
    clash = np.zeros((len(keys), len(keys)), dtype=bool)
    clash[pairs["a"], pairs["b"]] = True
    return clash


# ================================================================================= population


@dataclass
class _Addresses:
    """One address per household (current, or the one before a move)."""

    city: np.ndarray
    street: np.ndarray
    number: np.ndarray
    suffix: pa.Array  # "", "A".."D", "-1".."-4"
    pc_number: np.ndarray
    pc_letters: np.ndarray  # index into _PC_LETTERS (NL only)

    def house_number(self) -> pa.Array:
        return _cat(pc.cast(pa.array(self.number), STR), self.suffix)


@dataclass
class _Population:
    n: int
    person_id: pa.Array
    country: np.ndarray
    gender: np.ndarray  # 0 male, 1 female
    first: np.ndarray  # index into vocabulary.first
    last: np.ndarray  # index into vocabulary.last
    dob: np.ndarray  # days since 1970-01-01
    household: np.ndarray
    is_twin: np.ndarray
    mobile: np.ndarray  # E.164 digits as int (0 = none)
    personal_mobile: np.ndarray  # the mobile unless a twin shares it (0 = none)
    engagement: np.ndarray
    favourites: np.ndarray  # (n, 3) category indices
    n_favourites: np.ndarray
    first_seen: np.ndarray  # epoch seconds
    last_seen: np.ndarray
    emails: list[pa.Array]  # [primary, alternative, old]
    # per household
    household_id: pa.Array
    household_size: np.ndarray
    hh_country: np.ndarray
    address: _Addresses
    old_address: _Addresses
    moved_at: np.ndarray  # epoch seconds of the move, 0 = never moved in the window
    landline: np.ndarray  # E.164 digits as int (0 = none)
    family_email: pa.Array  # null = none
    home_ip: np.ndarray

    def categories(
        self, rng: np.random.Generator, persons: np.ndarray, loyal: float = 0.75
    ) -> np.ndarray:
        """Category per row: one of the person's favourites with probability `loyal`."""
        persons = np.asarray(persons, dtype=np.int64)
        k = (rng.random(len(persons)) * self.n_favourites[persons]).astype(np.int64)
        favourite = self.favourites[persons, k]
        return np.where(
            rng.random(len(persons)) < loyal,
            favourite,
            rng.integers(0, len(CATEGORIES), len(persons)),
        )


@dataclass(frozen=True)
class _Clock:
    end: int  # as_of 00:00 as epoch seconds (exclusive)

    @property
    def start(self) -> int:
        return self.end - WINDOW_DAYS * DAY


def _draw_addresses(rng: np.random.Generator, country: np.ndarray) -> _Addresses:
    voc = _vocabulary()
    h = len(country)
    city = np.zeros(h, dtype=np.int64)
    street = np.zeros(h, dtype=np.int64)
    for c in (NL, DK):
        rows = np.flatnonzero(country == c)
        city_ids = np.array([i for i, x in enumerate(voc.cities) if x[1] == c])
        city[rows] = city_ids[_pick(rng, len(rows), [voc.cities[i][5] for i in city_ids])]
        street_ids = np.flatnonzero(voc.street_country == c)
        street[rows] = street_ids[
            rng.choice(len(street_ids), len(rows), p=_zipf(len(street_ids), 0.5, 5))
        ]
    number = (1 + rng.lognormal(2.7, 0.9, h)).astype(np.int64).clip(1, 400)
    kind = _pick(rng, h, [84, 9, 7])
    letters = _take(_strs(["A", "B", "C", "D"]), rng.integers(0, 4, h))
    floors = _cat("-", pc.cast(pa.array(rng.integers(1, 5, h)), STR))
    suffix = _choose(kind, pa.repeat(pa.scalar("", STR), h), letters, floors)
    lo = np.array([c[2] for c in voc.cities])[city]
    hi = np.array([c[3] for c in voc.cities])[city]
    pc_number = lo + (rng.random(h) * (hi - lo + 1)).astype(np.int64)
    return _Addresses(city, street, number, suffix, pc_number, rng.integers(0, len(_PC_LETTERS), h))


def _unique_numbers(
    rng: np.random.Generator, values: np.ndarray, keep_digits_above: int = 10**5
) -> np.ndarray:
    """Make non-zero numbers unique by redrawing the last digits of later duplicates."""
    values = values.copy()
    for _ in range(50):
        live = np.flatnonzero(values != 0)
        order = np.argsort(values[live], kind="stable")
        sorted_values = values[live][order]
        rows = live[order[1:][sorted_values[1:] == sorted_values[:-1]]]  # later holders of a number
        if len(rows) == 0:
            return values
        values[rows] = (
            values[rows]
            - values[rows] % keep_digits_above
            + rng.integers(0, keep_digits_above, len(rows))
        )
    raise RuntimeError("could not make phone numbers unique")


def _landlines(rng: np.random.Generator, country: np.ndarray, city: np.ndarray) -> np.ndarray:
    voc = _vocabulary()
    h = len(country)
    area = np.array([int(c[4]) if c[4] else 0 for c in voc.cities])[city]
    area_len = np.where(area >= 100, 3, 2)
    sub_len = 9 - area_len
    subscriber = (10 ** (sub_len - 1) * (2 + rng.random(h) * 7.99)).astype(np.int64)
    nl = 31 * 10**9 + area * 10**sub_len + subscriber
    dk = (
        45 * 10**8
        + _DK_LANDLINE_PREFIXES[rng.integers(0, len(_DK_LANDLINE_PREFIXES), h)] * 10**6
        + rng.integers(0, 10**6, h)
    )
    return np.where(country == NL, nl, dk)


def _build_population(n: int, seed: int, clock: _Clock) -> _Population:
    voc = _vocabulary()
    rng = _rng(seed, 1)

    # --- households: ~30% of people share one (2-4 members), the rest live alone
    target = int(round(0.30 * n))
    sizes = rng.choice([2, 3, 4], size=target // 2 + 4, p=[0.5, 0.3, 0.2])
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), target, side="right"))]
    multi = 1 + rng.permutation(n - 1)[: int(sizes.sum())] if n > 1 else np.zeros(0, np.int64)
    in_multi = np.zeros(n, dtype=bool)
    in_multi[multi] = True
    singles = np.flatnonzero(~in_multi)  # person 0 (Sophia) lives alone
    raw_hh = np.empty(n, dtype=np.int64)
    raw_hh[multi] = np.repeat(np.arange(len(sizes)), sizes)
    raw_hh[singles] = len(sizes) + np.arange(len(singles))
    # number households in order of their first member
    first_member = np.full(len(sizes) + len(singles), n, dtype=np.int64)
    np.minimum.at(first_member, raw_hh, np.arange(n))
    renumber = np.empty(len(first_member), dtype=np.int64)
    renumber[np.argsort(first_member, kind="stable")] = np.arange(len(first_member))
    household = renumber[raw_hh]
    n_hh = len(first_member)
    hh_size = np.bincount(household, minlength=n_hh)
    member = np.zeros(n, dtype=np.int64)
    member[multi] = _rank_in_group(sizes)

    # --- twins: the first two members of ~0.5% x n households (1% of people)
    multi_hh = np.flatnonzero(hh_size >= 2)
    n_pairs = min(len(multi_hh), max(1, int(round(0.005 * n)))) if len(multi_hh) else 0
    twin_hh = (
        np.sort(rng.choice(multi_hh, n_pairs, replace=False)) if n_pairs else np.zeros(0, np.int64)
    )
    is_twin_hh = np.zeros(n_hh, dtype=bool)
    is_twin_hh[twin_hh] = True
    is_twin = is_twin_hh[household] & (member < 2)
    twin_a = np.flatnonzero(is_twin & (member == 0))
    twin_b = np.flatnonzero(is_twin & (member == 1))
    order_a, order_b = np.argsort(household[twin_a]), np.argsort(household[twin_b])
    twin_a, twin_b = twin_a[order_a], twin_b[order_b]  # paired by household

    # --- household attributes
    hh_country = np.where(rng.random(n_hh) < 0.75, NL, DK)
    hh_country[household[0]] = NL
    address = _draw_addresses(rng, hh_country)
    old_address = _draw_addresses(rng, hh_country)
    moved = rng.random(n_hh) < 0.06
    moved_at = np.where(
        moved, clock.start + rng.integers(30 * DAY, (WINDOW_DAYS - 30) * DAY, n_hh), 0
    )
    has_landline = rng.random(n_hh) < np.where(hh_size >= 2, 0.5, 0.22)
    landline = np.where(has_landline, _landlines(rng, hh_country, address.city), 0)
    hh_surname = np.zeros(n_hh, dtype=np.int64)
    for c in (NL, DK):
        rows = np.flatnonzero(hh_country == c)
        pool, w = voc.last_groups[c]
        hh_surname[rows] = pool[rng.choice(len(pool), len(rows), p=w)]
    home_ip = np.where(
        hh_country == NL,
        _random_ips(rng, n_hh, _IP_FIRST_OCTET[NL]),
        _random_ips(rng, n_hh, _IP_FIRST_OCTET[DK]),
    )

    # --- people
    country = hh_country[household]
    gender = rng.integers(0, 2, n)
    lo_dob, hi_dob = (date(1940, 1, 1) - EPOCH).days, (date(2006, 12, 31) - EPOCH).days
    dob = lo_dob + (rng.beta(1.5, 1.3, n) * (hi_dob - lo_dob)).astype(np.int64)
    dob[twin_b] = dob[twin_a]
    birth_year = 1970 + dob.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    modern = rng.random(n) < np.clip((birth_year - 1960) / 35, 0.05, 0.95)
    first = np.zeros(n, dtype=np.int64)
    for (c, g, era), (pool, w) in voc.first_groups.items():
        rows = np.flatnonzero((country == c) & (gender == g) & (modern == era))
        first[rows] = pool[rng.choice(len(pool), len(rows), p=w)]
    # no household holds two people of the same sex whose first names a matcher could take for
    # one another (Jan and Johannes, Sara and Sarah), nor twins with such names
    by_hh = np.argsort(household, kind="stable")
    hh_sorted = household[by_hh]
    left = np.concatenate([by_hh[:-k][hh_sorted[k:] == hh_sorted[:-k]] for k in (1, 2, 3)])
    right = np.concatenate([by_hh[k:][hh_sorted[k:] == hh_sorted[:-k]] for k in (1, 2, 3)])
    related = (gender[left] == gender[right]) | (is_twin[left] & is_twin[right])
    left, right = left[related], right[related]
    for _ in range(100):
        b = np.unique(right[voc.first_clash[first[left], first[right]]])
        if len(b) == 0:
            break
        for (c, g, era), (pool, w) in voc.first_groups.items():
            rows = b[(country[b] == c) & (gender[b] == g) & (modern[b] == era)]
            first[rows] = pool[rng.choice(len(pool), len(rows), p=w)]
    else:
        raise RuntimeError("could not give household members distinct first names")
    # surname: household's, except some partners who kept their own (never twins)
    last = hh_surname[household].copy()
    own = (member > 0) & ~is_twin & (rng.random(n) < 0.15)
    for c in (NL, DK):
        rows = np.flatnonzero(own & (country == c))
        pool, w = voc.last_groups[c]
        last[rows] = pool[rng.choice(len(pool), len(rows), p=w)]

    # phones: most people have a mobile; twins often share one
    has_mobile = rng.random(n) < np.where(birth_year < 1955, 0.8, 0.96)
    nl_mobile = 316 * 10**8 + rng.integers(10**7, 10**8, n)
    dk_mobile = (
        45 * 10**8
        + _DK_MOBILE_PREFIXES[rng.integers(0, len(_DK_MOBILE_PREFIXES), n)] * 10**6
        + rng.integers(0, 10**6, n)
    )
    mobile = np.where(has_mobile, np.where(country == NL, nl_mobile, dk_mobile), 0)

    # behaviour: active span, engagement, favourite categories
    first_seen = clock.start + (rng.random(n) ** 1.3 * (WINDOW_DAYS - 1) * DAY).astype(np.int64)
    churned = rng.random(n) < 0.3
    last_seen = np.where(
        churned, first_seen + (rng.random(n) * (clock.end - first_seen)).astype(np.int64), clock.end
    )
    last_seen = np.maximum(last_seen, np.minimum(first_seen + 7 * DAY, clock.end))
    engagement = rng.lognormal(0.0, 0.7, n)
    engagement /= engagement.mean() if n else 1.0
    affinity = np.where(gender[:, None] == 1, np.log(_AFFINITY_F), np.log(_AFFINITY_M))
    gumbel = -np.log(-np.log(rng.random((n, len(CATEGORIES)))))
    score = affinity + gumbel  # Gumbel top-k: 3 categories drawn without replacement by affinity
    top3 = np.argpartition(-score, 3, axis=1)[:, :3]
    favourites = np.take_along_axis(
        top3, np.argsort(-np.take_along_axis(score, top3, axis=1), axis=1), axis=1
    )
    n_favourites = rng.choice([1, 2, 3], size=n, p=[0.35, 0.40, 0.25])

    # --- the Sophia story: person 0
    s = SOPHIA
    first[0] = voc.first.canonical.index(s["first"])
    last[0] = voc.last.canonical.index(s["last"])
    gender[0], country[0] = 1, NL
    dob[0] = (s["dob"] - EPOCH).days
    h0 = household[0]
    amsterdam = next(i for i, c in enumerate(voc.cities) if c[0] == s["city"])
    address.city[h0], address.street[h0] = amsterdam, voc.streets.index(s["street"])
    address.number[h0], address.pc_number[h0] = s["house_number"], s["postcode"][0]
    address.pc_letters[h0] = _PC_LETTERS.index(s["postcode"][1])
    address.suffix = _where(np.arange(n_hh) == h0, "", address.suffix)
    moved_at[h0], landline[h0] = 0, 0
    mobile[0] = s["mobile"]
    first_seen[0], last_seen[0], engagement[0] = clock.start + 200 * DAY, clock.end, 2.0
    favourites[0] = [CATEGORIES.index(c) for c in s["favourites"]]
    n_favourites[0] = 3

    # unique numbers (Sophia first so she keeps hers), then twins share on purpose
    numbers = _unique_numbers(rng, np.concatenate([mobile, landline]))
    mobile, landline = numbers[:n], numbers[n:]
    share = rng.random(len(twin_a)) < 0.5
    mobile[twin_b[share]] = np.where(
        mobile[twin_a[share]] != 0, mobile[twin_a[share]], mobile[twin_b[share]]
    )
    shared = np.zeros(n, dtype=bool)
    shared[twin_a] = shared[twin_b] = mobile[twin_a] == mobile[twin_b]
    personal_mobile = np.where(shared, 0, mobile)

    pop = _Population(
        n=n,
        person_id=_ids("T", n, 7),
        country=country,
        gender=gender,
        first=first,
        last=last,
        dob=dob,
        household=household,
        is_twin=is_twin,
        mobile=mobile,
        personal_mobile=personal_mobile,
        engagement=engagement,
        favourites=favourites,
        n_favourites=n_favourites,
        first_seen=first_seen,
        last_seen=last_seen,
        emails=[],
        household_id=_ids("H", n_hh, 7),
        household_size=hh_size,
        hh_country=hh_country,
        address=address,
        old_address=old_address,
        moved_at=moved_at,
        landline=landline,
        family_email=pa.nulls(n_hh, STR),
        home_ip=home_ip,
    )
    _add_emails(rng, pop, birth_year)
    return pop


# --------------------------------------------------------------------------------- e-mail

# local-part patterns: weights for a primary, an alternative and an old (changed) address
_EMAIL_PATTERNS = [
    # name                primary alt  old
    ("first.last",          24,   8,   24),
    ("firstlast",           10,   5,   10),
    ("f.last",              10,   5,   10),
    ("first+yy",             7,  10,    7),
    ("first_last",           3,   3,    3),
    ("last.first",           3,   2,    3),
    ("first+l+n",            6,  10,    6),
    ("nick+yyyy",            4,  14,    4),
    ("nick+n",               3,  14,    3),
    ("handle+n",             4,  14,    4),
    ("first.last+yy",        8,   6,    8),
    ("flast+n",              8,   5,    8),
    ("first.core",          10,   4,   10),
]  # fmt: skip


def _email_domains(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    out = []
    for c, table in ((NL, names.NL_EMAIL_DOMAINS), (DK, names.DK_EMAIL_DOMAINS)):
        rows = np.flatnonzero(country == c)
        out.append(
            (
                rows,
                _take(_strs([d for d, _ in table]), _pick(rng, len(rows), [w for _, w in table])),
            )
        )
    return _scatter(out, len(country))


def _add_emails(rng: np.random.Generator, pop: _Population, birth_year: np.ndarray) -> None:
    """Three e-mail addresses per person (primary, alternative, old) and family addresses."""
    voc = _vocabulary()
    n = pop.n
    fn = _take(voc.first.plain, voc.first.start[pop.first])
    nick = _take(voc.first.plain, voc.first.pick(rng, pop.first, alt=1.0))
    ln = _take(voc.last.plain, voc.last.start[pop.last])
    core = _take(voc.core_plain, pop.last)
    fi = pc.utf8_slice_codeunits(fn, 0, 1)
    li = pc.utf8_slice_codeunits(core, 0, 1)
    yy = _digits(birth_year % 100, 2)
    yyyy = pc.cast(pa.array(birth_year), STR)
    handles = _strs(names.NL_HANDLES + names.DK_HANDLES)
    n_nl = len(names.NL_HANDLES)
    handle = _take(
        handles,
        np.where(pop.country == NL, rng.integers(0, n_nl, n), rng.integers(n_nl, len(handles), n)),
    )

    def num() -> pa.Array:
        return pc.cast(pa.array(rng.integers(1, 1000, n)), STR)

    candidates = [
        _cat(fn, ".", ln), _cat(fn, ln), _cat(fi, ".", ln), _cat(fn, yy), _cat(fn, "_", ln),
        _cat(ln, ".", fn), _cat(fn, li, num()), _cat(nick, yyyy), _cat(nick, num()),
        _cat(handle, num()), _cat(fn, ".", ln, yy), _cat(fi, ln, num()), _cat(fn, ".", core),
    ]  # fmt: skip
    locals_, domains = [], []
    for column in (1, 2, 3):
        codes = _pick(rng, n, [p[column] for p in _EMAIL_PATTERNS])
        locals_.append(_choose(codes, *candidates))
        domains.append(_email_domains(rng, pop.country))
    # Sophia's two addresses
    is0 = np.arange(n) == 0
    locals_[0] = _where(is0, SOPHIA["webshop_email"][0], locals_[0])
    domains[0] = _where(is0, SOPHIA["webshop_email"][1], domains[0])
    locals_[1] = _where(is0, SOPHIA["newsletter_email"][0], locals_[1])
    domains[1] = _where(is0, SOPHIA["newsletter_email"][1], domains[1])

    # family addresses for ~20% of multi-person households: fam.devries@ziggo.nl
    n_hh = len(pop.household_size)
    has_family = (pop.household_size >= 2) & (rng.random(n_hh) < 0.2)
    head = np.full(n_hh, -1)
    head[pop.household[::-1]] = np.arange(n)[::-1]  # first member of each household
    fam_ln = _take(ln, np.maximum(head, 0))
    fam_prefix = _where(
        pop.hh_country == NL,
        "fam.",
        _take(_strs(["familien", "familie."]), rng.integers(0, 2, n_hh)),
    )
    fam_domain = _where(
        pop.hh_country == NL,
        _take(_strs(names.NL_FAMILY_DOMAINS), rng.integers(0, len(names.NL_FAMILY_DOMAINS), n_hh)),
        _take(_strs(names.DK_FAMILY_DOMAINS), rng.integers(0, len(names.DK_FAMILY_DOMAINS), n_hh)),
    )
    all_local = pa.concat_arrays([*locals_, _cat(fam_prefix, fam_ln)])
    all_domain = pa.concat_arrays([*domains, fam_domain])
    keep = np.concatenate([np.ones(3 * n, dtype=bool), has_family])
    all_local = _deduplicate_emails(rng, all_local, all_domain, keep)
    emails = pc.binary_join_element_wise(all_local, all_domain, "@")
    pop.emails = [emails.slice(i * n, n) for i in range(3)]
    pop.family_email = _null_where(~has_family, emails.slice(3 * n, n_hh))


def _deduplicate_emails(
    rng: np.random.Generator, local: pa.Array, domain: pa.Array, keep: np.ndarray
) -> pa.Array:
    """Append digits to later duplicates until every kept address is unique.

    The k-th repeat of an address gets a number in [100(k-1)+1, 100k), which makes each group
    unique at once; a suffixed address that clashes with another address draws a longer number.
    Addresses are compared by 64-bit hash (equal strings have equal hashes; a rare false clash
    only costs an unneeded suffix).
    """
    rows = np.flatnonzero(keep)
    hashes = _string_hash(pc.binary_join_element_wise(_take(local, rows), _take(domain, rows), "@"))
    order = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = sorted_hashes[1:] != sorted_hashes[:-1]
    repeat = np.arange(len(order)) - np.maximum.accumulate(
        np.where(new_group, np.arange(len(order)), 0)
    )
    settled = sorted_hashes[repeat == 0]  # sorted hashes of addresses that stay as they are
    pending = rows[order[repeat > 0]]  # later holders of an address, need a suffix
    base = 100 * (repeat[repeat > 0] - 1)
    suffix = np.zeros(len(local), dtype=np.int64)
    for _ in range(20):
        if len(pending) == 0:
            break
        suffix[pending] = base + rng.integers(1, 100, len(pending))
        h = _string_hash(pc.binary_join_element_wise(
            _take(local, pending), pc.cast(pa.array(suffix[pending]), STR), "@", _take(domain, pending), ""
        ))  # fmt: skip
        pos = np.searchsorted(settled, h).clip(max=max(len(settled) - 1, 0))
        clash = (settled[pos] == h) if len(settled) else np.zeros(len(h), bool)
        _, first = np.unique(h, return_index=True)
        repeated = np.ones(len(h), dtype=bool)
        repeated[first] = False
        ok = ~clash & ~repeated
        settled = np.sort(np.concatenate([settled, h[ok]]), kind="stable")
        # what still clashes (typically "jan.jansen" + a two-digit number) retries with more digits
        pending, base = pending[~ok], 100 * rng.integers(1, 1000, int((~ok).sum()))
    else:
        raise RuntimeError("could not make e-mail addresses unique")
    return _where(suffix > 0, _cat(local, pc.cast(pa.array(suffix), STR)), local)


def _string_hash(strings: pa.Array) -> np.ndarray:
    """64-bit hash per string (equal strings, equal hashes), computed by DuckDB: much faster than
    a dictionary encode of millions of distinct strings."""
    table = pa.table({"s": strings, "i": pa.array(np.arange(len(strings)))})
    with duckdb.connect() as con:
        con.register("strings", table)
        result = con.execute("select i, hash(s) as h from strings").fetchnumpy()
    out = np.empty(len(strings), dtype=np.uint64)
    out[result["i"]] = result["h"]
    return out


# ============================================================================ record rendering


def _first_names(
    rng, pop: _Population, persons: np.ndarray, ascii=0.05, typo=0.03, nick=0.03
) -> pa.Array:
    voc = _vocabulary()
    return _take(
        voc.first.text, voc.first.pick(rng, pop.first[persons], ascii=ascii, typo=typo, alt=nick)
    )


def _last_names(
    rng, pop: _Population, persons: np.ndarray, ascii=0.05, typo=0.03, capital=0.08
) -> pa.Array:
    voc = _vocabulary()
    return _take(
        voc.last.text, voc.last.pick(rng, pop.last[persons], ascii=ascii, typo=typo, alt=capital)
    )


# one-field name shapes, see _render_full_names
_FULL, _SORTED, _INITIAL, _FIRST_ONLY, _SWAPPED, _MISSING = range(6)


@dataclass
class _FullNames:
    """The parts of one-field names, drawn before they are written (see _render_full_names)."""

    shape: np.ndarray
    first: np.ndarray  # spelling index into vocabulary.first
    last: np.ndarray  # spelling index into vocabulary.last

    @classmethod
    def draw(cls, rng, pop: _Population, persons: np.ndarray, weights: list[float], *,
             nick: float = 0.04, typo: float = 0.03, ascii: float = 0.05) -> _FullNames:  # fmt: skip
        voc = _vocabulary()
        return cls(
            shape=_pick(rng, len(persons), weights),
            first=voc.first.pick(rng, pop.first[persons], ascii=ascii, typo=typo, alt=nick),
            last=voc.last.pick(rng, pop.last[persons], ascii=ascii, typo=typo, alt=0.0),
        )

    def level(self, pop: _Population, persons: np.ndarray) -> np.ndarray:
        """Name-match value per row: only "First Last" and "Last, First" split into both names."""
        voc = _vocabulary()
        level = np.minimum(
            voc.first.level(self.first, pop.first[persons]),
            voc.last.level(self.last, pop.last[persons], alt_usable=True),
        )
        return np.where(np.isin(self.shape, [_FULL, _SORTED]), level, _NO_NAME).astype(np.int8)

    def fix(self, pop: _Population, persons: np.ndarray, rows: np.ndarray) -> None:
        """Write the canonical "First Last" on rows."""
        voc = _vocabulary()
        self.shape[rows] = _FULL
        self.first[rows] = voc.first.start[pop.first[persons[rows]]]
        self.last[rows] = voc.last.start[pop.last[persons[rows]]]


def _render_full_names(rng, pop: _Population, persons: np.ndarray, parts: _FullNames) -> pa.Array:
    """One-field names by shape: "First Last", "Last, First" (Dutch style "Vries, Sophie de" for
    particle names), "F. Last", "First", "Last First" (swapped), "" (missing)."""
    voc = _vocabulary()
    m = len(persons)
    first = _take(voc.first.text, parts.first)
    last = _take(voc.last.text, parts.last)
    particle = _take(voc.particle, pop.last[persons])
    core = _take(voc.core, pop.last[persons])
    has_particle = pc.not_equal(particle, "")
    dutch_sort = pc.if_else(
        has_particle, _cat(core, ", ", first, " ", particle), _cat(last, ", ", first)
    )
    sorted_name = _where(rng.random(m) < 0.5, dutch_sort, _cat(last, ", ", first))
    initial = _cat(pc.utf8_slice_codeunits(first, 0, 1), ". ", last)
    options = [
        _cat(first, " ", last),
        sorted_name,
        initial,
        first,
        _cat(last, " ", first),
        pa.nulls(m, STR),
    ]
    return _choose(parts.shape, *options)


def _full_names(rng, pop: _Population, persons: np.ndarray, weights: list[float], *, nick: float = 0.04,
                typo: float = 0.03, ascii: float = 0.05) -> pa.Array:  # fmt: skip
    """One-field names drawn and written at once (weights over the shapes of _render_full_names)."""
    parts = _FullNames.draw(rng, pop, persons, weights, nick=nick, typo=typo, ascii=ascii)
    return _render_full_names(rng, pop, persons, parts)


_PHONE_FORMATS = {
    # weights per format, see _format_phones
    "nl_mobile": [30, 15, 3, 35, 10, 7],
    "nl_landline": [40, 25, 10, 25],
    "dk": [35, 35, 15, 5, 10],
}


def _format_phones(
    rng: np.random.Generator, numbers: np.ndarray, weights: dict[str, list[float]] | None = None
) -> pa.Array:
    """E.164 integers to the mixed formats people type. 0 -> null.

    NL mobile: 06-12345678, +31612345678, 0031 6 12345678, 0612345678, 06 12 34 56 78, +31 6 12345678
    NL landline: (020) 123 4567, 020-1234567, +31201234567, 0201234567
    DK: +45 12 34 56 78, 12345678, +4512345678, 0045 12345678, 12 34 56 78
    """
    weights = {**_PHONE_FORMATS, **(weights or {})}
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    kind = np.where(
        numbers == 0,
        -1,
        np.where(numbers // 10**8 == 316, 0, np.where(numbers // 10**9 == 31, 1, 2)),
    )
    parts: list[tuple[np.ndarray, pa.Array]] = [
        (np.flatnonzero(kind == -1), pa.nulls(int((kind == -1).sum()), STR))
    ]

    rows = np.flatnonzero(kind == 0)
    if len(rows):
        sub = _digits(numbers[rows] % 10**8, 8)
        pairs = pc.binary_join_element_wise(
            *[pc.utf8_slice_codeunits(sub, i, i + 2) for i in (0, 2, 4, 6)], " "
        )
        options = [
            _cat("06-", sub),
            _cat("+316", sub),
            _cat("0031 6 ", sub),
            _cat("06", sub),
            _cat("06 ", pairs),
            _cat("+31 6 ", sub),
        ]
        parts.append((rows, _choose(_pick(rng, len(rows), weights["nl_mobile"]), *options)))

    rows = np.flatnonzero(kind == 1)
    if len(rows):
        national = numbers[rows] % 10**9
        two = np.isin(national // 10**7, _NL_TWO_DIGIT_AREAS)
        area = pc.cast(pa.array(np.where(two, national // 10**7, national // 10**6)), STR)
        sub = _where(two, _digits(national % 10**7, 7), _digits(national % 10**6, 6))
        spaced = _cat(pc.utf8_slice_codeunits(sub, 0, 3), " ", pc.utf8_slice_codeunits(sub, 3))
        options = [
            _cat("(0", area, ") ", spaced),
            _cat("0", area, "-", sub),
            _cat("+31", area, sub),
            _cat("0", area, sub),
        ]
        parts.append((rows, _choose(_pick(rng, len(rows), weights["nl_landline"]), *options)))

    rows = np.flatnonzero(kind == 2)
    if len(rows):
        d = _digits(numbers[rows] % 10**8, 8)
        pairs = pc.binary_join_element_wise(
            *[pc.utf8_slice_codeunits(d, i, i + 2) for i in (0, 2, 4, 6)], " "
        )
        options = [_cat("+45 ", pairs), d, _cat("+45", d), _cat("0045 ", d), pairs]
        parts.append((rows, _choose(_pick(rng, len(rows), weights["dk"]), *options)))
    return _scatter(parts, n)


def _person_phone(
    rng: np.random.Generator, pop: _Population, persons: np.ndarray, landline_share: float
) -> np.ndarray:
    """A phone number per row: the person's mobile, or the household landline (or the other if
    one is missing)."""
    mobile = pop.mobile[persons]
    landline = pop.landline[pop.household[persons]]
    use_landline = (rng.random(len(persons)) < landline_share) & (landline != 0) | (mobile == 0)
    return np.where(use_landline, landline, mobile)


# e-mail codes on a record: which of the person's addresses it carries
_NO_EMAIL, _PRIMARY, _ALTERNATIVE, _OLD, _FAMILY = -1, 0, 1, 2, 3


def _email_codes(
    rng: np.random.Generator, pop: _Population, persons: np.ndarray, weights: list[float],
    no_family: int = _PRIMARY,
) -> np.ndarray:  # fmt: skip
    """weights over: primary, alternative, old, family (`no_family` where the household has none)."""
    codes = _pick(rng, len(persons), weights).astype(np.int8)
    has_family = pc.is_valid(pop.family_email).to_numpy(zero_copy_only=False)
    return np.where((codes == _FAMILY) & ~has_family[pop.household[persons]], no_family, codes)


def _render_email(pop: _Population, persons: np.ndarray, codes: np.ndarray) -> pa.Array:
    """The addresses the codes name (null for _NO_EMAIL)."""
    family = _take(pop.family_email, pop.household[persons])
    options = [_take(e, persons) for e in pop.emails] + [family]
    return _null_where(codes < 0, _choose(np.maximum(codes, 0), *options))


def _email_noise(
    rng: np.random.Generator, arr: pa.Array, upper: float = 0.02, space: float = 0.01
) -> pa.Array:
    u = rng.random(len(arr))
    capitalised = pc.utf8_capitalize(arr)  # "Jan.jansen@gmail.com"
    arr = _where(u < upper / 2, pc.utf8_upper(arr), _where(u < upper, capitalised, arr))
    return _space_noise(rng, arr, space)


def _junk_where(
    rng: np.random.Generator, mask: np.ndarray, arr: pa.Array, values: list[str]
) -> pa.Array:
    """A placeholder from `values` where mask is set."""
    junk = _take(_strs(values), rng.integers(0, len(values), len(arr)))
    return _where(mask, junk, arr)


# impossible dates a form without validation lets through (the loader quarantines the row)
_IMPOSSIBLE_DAYS = [(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)]


def _render_birth_dates(
    rng: np.random.Generator, pop: _Population, persons: np.ndarray, noise: np.ndarray, style: str
) -> pa.Array:
    """Birth dates by noise code: the true date, blank, 1900-01-01, day and month swapped, or an
    impossible date such as 1990-02-31."""
    year, month, day = _date_parts(pop.dob[persons])
    swap = noise == _DOB_SWAPPED
    month, day = np.where(swap, day, month), np.where(swap, month, day)
    bad = noise == _DOB_IMPOSSIBLE
    impossible = np.array(_IMPOSSIBLE_DAYS)[rng.integers(0, len(_IMPOSSIBLE_DAYS), len(persons))]
    month, day = np.where(bad, impossible[:, 0], month), np.where(bad, impossible[:, 1], day)
    year = np.where(noise == _DOB_1900, 1900, year)
    month, day = np.where(noise == _DOB_1900, 1, month), np.where(noise == _DOB_1900, 1, day)
    return _null_where(noise == _DOB_BLANK, _fmt_date(year, month, day, style))


@dataclass
class _RenderedAddress:
    street: pa.Array
    house_number: pa.Array
    postcode: pa.Array
    city: pa.Array
    country: pa.Array


def _render_address(rng: np.random.Generator, pop: _Population, persons: np.ndarray, use_old: np.ndarray,
                    combined: np.ndarray, gone: np.ndarray) -> _RenderedAddress:  # fmt: skip
    """Address fields of a record, from the household's current or pre-move address; `combined`
    rows write "Kerkstraat 12a" in the street and no house number, `gone` rows no address."""
    voc = _vocabulary()
    m = len(persons)
    hh = pop.household[persons]
    old = np.asarray(use_old, dtype=bool)
    cur, prev = pop.address, pop.old_address

    def pick(attr: str) -> np.ndarray:
        return np.where(old, getattr(prev, attr)[hh], getattr(cur, attr)[hh])

    city, street, number = pick("city"), pick("street"), pick("number")
    suffix = _where(old, _take(prev.suffix, hh), _take(cur.suffix, hh))
    suffix = _where(rng.random(m) < 0.15, pc.utf8_lower(suffix), suffix)
    house = _cat(pc.cast(pa.array(number), STR), suffix)
    street_s = _take(_strs(voc.streets), street)
    street_s = _where(combined, _cat(street_s, " ", pc.utf8_lower(house)), street_s)
    house = _null_where(combined, house)

    country = pop.country[persons]
    digits = pc.cast(pa.array(pick("pc_number")), STR)
    letters = _take(_strs(_PC_LETTERS), pick("pc_letters"))
    nl_pc = _choose(_pick(rng, m, [80, 12, 4, 4]), _cat(digits, " ", letters), _cat(digits, letters),
                    _cat(digits, " ", pc.utf8_lower(letters)), _cat(digits, pc.utf8_lower(letters)))  # fmt: skip
    dk_pc = _where(rng.random(m) < 0.04, _cat("DK-", digits), digits)
    postcode = _where(country == NL, nl_pc, dk_pc)

    names_ = _strs([c[0] for c in voc.cities])
    aliases = _strs([c[6][0] if c[6] else c[0] for c in voc.cities])
    folded = _strs([_fold(c[0]) for c in voc.cities])
    city_s = _choose(_pick(rng, m, [86, 5, 5, 4]), _take(names_, city), pc.utf8_upper(_take(names_, city)),
                     _take(aliases, city), _take(folded, city))  # fmt: skip
    nl_country = _take(
        _strs(["NL", "Nederland", "Netherlands", "nl"]), _pick(rng, m, [85, 7, 5, 3])
    )
    dk_country = _take(_strs(["DK", "Danmark", "Denmark", "dk"]), _pick(rng, m, [85, 8, 5, 2]))
    country_s = _where(country == NL, nl_country, dk_country)
    return _RenderedAddress(
        _null_where(gone, street_s), _null_where(gone, house), _null_where(gone, postcode),
        _null_where(gone, city_s), country_s,
    )  # fmt: skip


def _uses_old_address(rng: np.random.Generator, pop: _Population, persons: np.ndarray, created: np.ndarray,
                      updated_share: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """For records created before the household moved: is the old address still on file?
    Returns (use_old, update_time) where update_time is when the new address was entered (0 if n/a)."""
    moved_at = pop.moved_at[pop.household[persons]]
    before_move = (moved_at > 0) & (created < moved_at)
    updated = before_move & (rng.random(len(persons)) < updated_share)
    update_time = np.where(updated, moved_at + rng.integers(0, 20 * DAY, len(persons)), 0)
    return before_move & ~updated, update_time


# ==================================================================================== sources


@dataclass
class _Context:
    seed: int
    clock: _Clock
    out_dir: Path
    truth: list[tuple[str, pa.Array, np.ndarray]]  # (source label, record ids, person index)
    files: dict[str, int]

    def rng(self, stream: int) -> np.random.Generator:
        return _rng(self.seed, stream)

    def wrote(self, relative: str, rows: int) -> None:
        self.files[relative] = rows
        log.info("wrote %s (%d rows)", relative, rows)


@dataclass
class _Shop:
    """What the web analytics need to know about the webshop."""

    account_person: np.ndarray
    account_id: pa.Array  # customer_id per account row
    primary_account: np.ndarray  # per person: account row, -1 if no account
    order_person: np.ndarray
    order_account: np.ndarray
    order_ts: np.ndarray
    line_start: np.ndarray  # per order: first row in line_category
    line_count: np.ndarray
    line_category: np.ndarray


@dataclass
class _Records:
    """The evidence one source's person records will carry, one row per record.

    Decided before anything is written, so that _link_records can give a record that shares
    nothing with the rest of its person a link (see there). The writers follow these fields.
    """

    source: str
    person: np.ndarray
    email: np.ndarray  # int8 e-mail code (_NO_EMAIL, _PRIMARY, _ALTERNATIVE, _OLD, _FAMILY)
    email_junk: np.ndarray  # bool: a placeholder (test@test.com) is written instead
    phone: np.ndarray  # int64 E.164 number, 0 = none
    phone_junk: np.ndarray  # bool: a placeholder (0000000000) is written instead
    name: np.ndarray  # int8 _NO_NAME / _LOOSE / _CLEAN: first + last name as a name match sees them
    name_fix: np.ndarray  # bool: write the canonical first and last name
    dob: np.ndarray  # int8 _DOB_* code
    address: np.ndarray  # int8 postcode + house number: -1 none, 0 current, 1 before the move
    loaded: np.ndarray  # bool: False when the loader quarantines the row

    @classmethod
    def blank(cls, source: str, person: np.ndarray) -> _Records:
        m = len(person)
        return cls(
            source=source,
            person=np.asarray(person, dtype=np.int64),
            email=np.full(m, _NO_EMAIL, dtype=np.int8),
            email_junk=np.zeros(m, dtype=bool),
            phone=np.zeros(m, dtype=np.int64),
            phone_junk=np.zeros(m, dtype=bool),
            name=np.zeros(m, dtype=np.int8),
            name_fix=np.zeros(m, dtype=bool),
            dob=np.full(m, _DOB_BLANK, dtype=np.int8),
            address=np.full(m, -1, dtype=np.int8),
            loaded=np.ones(m, dtype=bool),
        )


def _catalogue(seed: int) -> np.ndarray:
    """Unit price in cents per (category, product), with shop-like endings (.95, .99, .00, .50)."""
    rng = _rng(seed, 2)
    lo = np.array([p[0] for p in _CATEGORY_PRICE], dtype=float)[:, None]
    hi = np.array([p[1] for p in _CATEGORY_PRICE], dtype=float)[:, None]
    euros = np.exp(
        np.log(lo)
        + rng.random((len(CATEGORIES), _PRODUCTS_PER_CATEGORY)) * (np.log(hi) - np.log(lo))
    )
    ending = np.array([95, 99, 0, 50])[rng.integers(0, 4, euros.shape)]
    return (np.floor(euros).astype(np.int64) * 100 + ending).clip(195)


@dataclass
class _WebshopPlan:
    rng: np.random.Generator
    rec: _Records  # accounts in file order (= creation order)
    account_id: pa.Array  # per account row (creation order is applied via `order`)
    order: np.ndarray  # file position -> account row
    a_person: np.ndarray
    primary: np.ndarray  # per person: primary account row, -1 if none
    first: np.ndarray  # first-name spelling per file row
    last: np.ndarray
    swap: np.ndarray
    last_blank: np.ndarray
    use_old: np.ndarray
    combined: np.ndarray
    gone: np.ndarray
    accepts: np.ndarray  # per account row
    marketing_ts: np.ndarray
    created: np.ndarray
    updated: np.ndarray
    o_ts: np.ndarray
    o_acct: np.ndarray
    o_person: np.ndarray


def _webshop_plan(ctx: _Context, pop: _Population) -> _WebshopPlan:
    rng = ctx.rng(10)
    clock, n = ctx.clock, pop.n
    voc = _vocabulary()
    holder = rng.random(n) < 0.60
    holder[0] = True
    P = np.flatnonzero(holder)
    n_p = len(P)

    # orders: skewed, many people buy once or never, a loyal few 10+ times
    mean = 0.5 + 1.7 * pop.engagement[P]
    n_orders = rng.negative_binomial(0.7, 0.7 / (0.7 + mean))  # P(0) ~ 0.4, P(10+) ~ 0.05
    n_orders[P == 0] = 3
    o_row = np.repeat(np.arange(n_p), n_orders)  # holder row per order
    o_person = P[o_row]
    o_ts = _recent(rng, pop.first_seen[o_person], pop.last_seen[o_person], skew=0.7)
    sophia = o_person == 0
    o_ts[sophia] = clock.end - np.array([25, 12, 3])[: sophia.sum()] * DAY + 19 * 3600 + 1234

    # primary account: created before the first order (or somewhere in the active span)
    first_order = np.full(n_p, clock.end, dtype=np.int64)
    np.minimum.at(first_order, o_row, o_ts)
    created = np.where(
        n_orders > 0,
        _before(rng, first_order - 60, 20 * DAY, clock.start),
        _recent(rng, pop.first_seen[P], pop.last_seen[P], skew=1.0, last_month=0.05),
    )
    # duplicate accounts (~4%): made later with another e-mail; some later orders land there
    has_dup = (rng.random(n_p) < 0.04) & (P != 0)
    D = np.flatnonzero(has_dup)
    dup_created = created[D] + (rng.random(len(D)) * (clock.end - 1 - created[D])).astype(np.int64)
    dup_of_row = np.full(n_p, -1)
    dup_of_row[D] = np.arange(len(D))
    dup_since = np.append(dup_created, clock.end)[dup_of_row[o_row]]  # end: "no duplicate"
    moves = (o_ts > dup_since) & (rng.random(len(o_row)) < 0.5)
    o_acct = np.where(moves, n_p + dup_of_row[o_row], o_row)

    a_person = np.concatenate([P, P[D]])
    a_created = np.concatenate([created, dup_created])
    a_dup = np.concatenate([np.zeros(n_p, bool), np.ones(len(D), bool)])
    n_a = len(a_person)
    last_order = np.full(n_a, 0, dtype=np.int64)
    np.maximum.at(last_order, o_acct, o_ts)
    use_old, address_update = _uses_old_address(rng, pop, a_person, a_created, updated_share=0.55)
    accepts = (rng.random(n_a) < 0.55) | (a_person == 0)
    marketing_ts = np.where(
        rng.random(n_a) < 0.4,
        a_created + (rng.random(n_a) * (clock.end - a_created)).astype(np.int64),
        a_created,
    )
    updated = np.maximum.reduce(
        [a_created + rng.integers(0, 3600, n_a), marketing_ts, last_order, address_update]
    ).clip(max=clock.end - 1)

    # customer ids in order of account creation, which is also the file order
    order = np.argsort(a_created, kind="stable")
    rank = np.empty(n_a, dtype=np.int64)
    rank[order] = np.arange(n_a)
    account_id = _take(_ids("WS", n_a, 6), rank)

    # what each account will carry (file order)
    pers = a_person[order]
    dup = a_dup[order]
    rec = _Records.blank(SOURCES["webshop"], pers)
    first = voc.first.pick(rng, pop.first[pers], ascii=0.05, typo=0.03, alt=0.03)
    # a duplicate account is often typed carelessly
    careless = dup & (rng.random(n_a) < 0.25)
    first = np.where(careless, voc.first.pick(rng, pop.first[pers], typo=1.0), first)
    last = voc.last.pick(rng, pop.last[pers], ascii=0.05, typo=0.02, alt=0.08)
    swap = rng.random(n_a) < 0.01
    last_blank = rng.random(n_a) < 0.01
    rec.name = np.minimum(
        voc.first.level(first, pop.first[pers]),
        voc.last.level(last, pop.last[pers], alt_usable=True),
    )
    rec.name[swap | last_blank] = _NO_NAME
    rec.email = np.where(
        dup,
        _email_codes(rng, pop, pers, [0, 70, 30, 0]),
        _email_codes(rng, pop, pers, [85, 4, 8, 3]),
    ).astype(np.int8)
    rec.email_junk = rng.random(n_a) < 0.009  # ~0.6% once some are replaced to link a record
    phone = _person_phone(rng, pop, pers, landline_share=0.1)
    rec.phone = np.where(rng.random(n_a) < 0.2, 0, phone)
    rec.phone_junk = rng.random(n_a) < 0.005
    use_old_f = use_old[order]
    combined = rng.random(n_a) < 0.03
    gone = rng.random(n_a) < 0.02
    rec.address = np.where(combined | gone, -1, use_old_f).astype(np.int8)
    u = rng.random(n_a)
    rec.dob = np.where(u < 0.005, _DOB_1900, np.where(u < 0.205, _DOB_BLANK, _DOB_OK)).astype(
        np.int8
    )
    _, month, day = _date_parts(pop.dob[pers])
    swap_dm = (rng.random(n_a) < 0.01) & (day <= 12) & (day != month) & (rec.dob == _DOB_OK)
    rec.dob[swap_dm] = _DOB_SWAPPED

    # a duplicate account shares the phone, or the name and birth date, with the original
    dup_pos, orig_pos = rank[n_p:], rank[D]
    by_phone = (pop.personal_mobile[P[D]] != 0) & (rng.random(len(D)) < 0.5)
    both = np.concatenate([dup_pos[by_phone], orig_pos[by_phone]])
    rec.phone[both] = pop.personal_mobile[pers[both]]
    rec.phone_junk[both] = False
    both = np.concatenate([dup_pos[~by_phone], orig_pos[~by_phone]])
    rec.dob[both] = _DOB_OK
    fix = np.concatenate(
        [orig_pos[~by_phone], dup_pos[~by_phone][rec.name[dup_pos[~by_phone]] == _NO_NAME]]
    )
    rec.name_fix[fix] = True
    rec.name[fix] = _CLEAN

    # a few sign-ups with an impossible birth date (1990-02-31): quarantined by the loader.
    # Accounts without orders or a duplicate, so no orders point at a missing customer.
    dup_person = np.zeros(n, dtype=bool)
    dup_person[P[D]] = True
    quiet = np.flatnonzero(~dup & (last_order[order] == 0) & (pers != 0) & ~dup_person[pers])
    n_bad = min(len(quiet), max(1, round(0.001 * n_a)))
    bad = np.sort(rng.choice(quiet, n_bad, replace=False)) if n_bad else np.zeros(0, np.int64)
    rec.dob[bad] = _DOB_IMPOSSIBLE
    rec.loaded[bad] = False

    # Sophia's account exactly as in the story
    s = pers == 0
    rec.email[s], rec.email_junk[s] = _PRIMARY, False
    rec.phone[s], rec.phone_junk[s] = pop.mobile[0], False
    rec.name[s], rec.name_fix[s], rec.dob[s], rec.address[s] = _CLEAN, True, _DOB_OK, 0
    swap[s] = last_blank[s] = combined[s] = gone[s] = False

    primary = np.full(n, -1, dtype=np.int64)
    primary[P] = np.arange(n_p)
    return _WebshopPlan(
        rng=rng, rec=rec, account_id=account_id, order=order, a_person=a_person, primary=primary,
        first=first, last=last, swap=swap, last_blank=last_blank, use_old=use_old_f,
        combined=combined, gone=gone, accepts=accepts, marketing_ts=marketing_ts,
        created=a_created, updated=updated, o_ts=o_ts, o_acct=o_acct, o_person=o_person,
    )  # fmt: skip


def _webshop_write(ctx: _Context, pop: _Population, plan: _WebshopPlan) -> _Shop:
    rng, rec, order = plan.rng, plan.rec, plan.order
    voc = _vocabulary()
    pers = rec.person
    fix = rec.name_fix
    first = _take(voc.first.text, np.where(fix, voc.first.start[pop.first[pers]], plan.first))
    last = _take(voc.last.text, np.where(fix, voc.last.start[pop.last[pers]], plan.last))
    swap = plan.swap & ~fix
    first, last = _where(swap, last, first), _where(swap, first, last)
    first = _space_noise(rng, _case_noise(rng, first, 0.02, 0.03), 0.02)
    last = _space_noise(rng, _case_noise(rng, last, 0.02, 0.03), 0.02)
    last = _null_where(plan.last_blank & ~fix, last)
    email = _email_noise(rng, _render_email(pop, pers, rec.email))
    email = _junk_where(rng, rec.email_junk, email, names.JUNK_EMAILS)
    phone = _junk_where(rng, rec.phone_junk, _format_phones(rng, rec.phone), names.JUNK_PHONES)
    address = _render_address(rng, pop, pers, plan.use_old, plan.combined, plan.gone)
    birth = _render_birth_dates(rng, pop, pers, rec.dob, "iso")

    # Sophia's account exactly as in the story
    is_s = pers == 0
    if is_s.any():
        first, last = _where(is_s, "Sophia", first), _where(is_s, "de Vries", last)
        email = _where(is_s, "sofietje@provider.nl", email)
        phone = _where(is_s, "06-12345678", phone)
        address.street = _where(is_s, SOPHIA["street"], address.street)
        address.house_number = _where(is_s, str(SOPHIA["house_number"]), address.house_number)
        address.postcode = _where(
            is_s, f"{SOPHIA['postcode'][0]} {SOPHIA['postcode'][1]}", address.postcode
        )
        address.city = _where(is_s, SOPHIA["city"], address.city)
        address.country = _where(is_s, "NL", address.country)

    rows = _write_csv(
        ctx.out_dir / "webshop" / "customers.csv",
        {
            "customer_id": _take(plan.account_id, order),
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "street": address.street,
            "house_number": address.house_number,
            "postcode": address.postcode,
            "city": address.city,
            "country": address.country,
            "birth_date": birth,
            "accepts_marketing": _where(plan.accepts[order], "true", "false"),
            "marketing_updated_at": _fmt_ts(plan.marketing_ts[order]),
            "created_at": _fmt_ts(plan.created[order]),
            "updated_at": _fmt_ts(plan.updated[order]),
        },
    )
    ctx.wrote("webshop/customers.csv", rows)
    ctx.truth.append((SOURCES["webshop"], _take(plan.account_id, order), pers))

    # --- orders and lines (file order = order id order = time order)
    o_order = np.argsort(plan.o_ts, kind="stable")
    o_ts, o_acct, o_person = plan.o_ts[o_order], plan.o_acct[o_order], plan.o_person[o_order]
    n_o = len(o_ts)
    n_lines = rng.choice([1, 2, 3, 4, 5], size=n_o, p=[0.48, 0.27, 0.13, 0.07, 0.05])
    l_order = np.repeat(np.arange(n_o), n_lines)
    theme = pop.categories(rng, o_person)
    l_cat = np.where(
        rng.random(len(l_order)) < 0.7, theme[l_order], pop.categories(rng, o_person[l_order])
    )
    l_product = (rng.random(len(l_order)) ** 2.2 * _PRODUCTS_PER_CATEGORY).astype(np.int64)
    prices = _catalogue(ctx.seed)
    l_price = prices[l_cat, l_product]
    l_qty = rng.choice([1, 2, 3, 4], size=len(l_order), p=[0.82, 0.13, 0.04, 0.01])
    total = np.bincount(l_order, weights=l_qty * l_price, minlength=n_o).astype(np.int64)
    order_id = _ids("ORD", n_o, 7)
    rows = _write_csv(
        ctx.out_dir / "webshop" / "orders.csv",
        {
            "order_id": order_id,
            "customer_id": _take(plan.account_id, o_acct),
            "order_date": _fmt_ts(o_ts),
            "total_amount": _money(total),
        },
    )
    ctx.wrote("webshop/orders.csv", rows)
    product_id = _cat("P", _digits(l_cat + 1, 2), _digits(l_product + 1, 4))
    rows = _write_csv(
        ctx.out_dir / "webshop" / "order_lines.csv",
        {
            "line_id": _ids("OL", len(l_order), 8),
            "order_id": _take(order_id, l_order),
            "product_id": product_id,
            "category": _take(_strs(CATEGORIES), l_cat),
            "quantity": pc.cast(pa.array(l_qty), STR),
            "unit_price": _money(l_price),
        },
    )
    ctx.wrote("webshop/order_lines.csv", rows)
    return _Shop(
        account_person=plan.a_person,
        account_id=plan.account_id,
        primary_account=plan.primary,
        order_person=o_person,
        order_account=o_acct,
        order_ts=o_ts,
        line_start=_offsets(n_lines),
        line_count=n_lines,
        line_category=l_cat,
    )


@dataclass
class _NewsletterPlan:
    rng: np.random.Generator
    rec: _Records  # one row per subscription (not file order)
    shape: np.ndarray  # names: 0 first + last, 1 first only, 2 none
    signup: np.ndarray
    status: np.ndarray
    changed: np.ndarray


def _newsletter_plan(ctx: _Context, pop: _Population, holder: np.ndarray) -> _NewsletterPlan:
    rng = ctx.rng(20)
    clock, n = ctx.clock, pop.n
    subscribed = rng.random(n) < np.where(holder, 0.58, 0.38)
    subscribed[0] = True
    S = np.flatnonzero(subscribed)
    twice = (rng.random(len(S)) < 0.03) & (S != 0)  # subscribed again with another address
    persons = np.concatenate([S, S[twice]])
    second = np.concatenate([np.zeros(len(S), bool), np.ones(int(twice.sum()), bool)])
    m = len(persons)

    signup = _recent(
        rng, pop.first_seen[persons], pop.last_seen[persons], skew=1.3, last_month=0.04
    )
    status = _pick(rng, m, [80, 15, 5])  # actief, afgemeld, bounced
    status[persons == 0] = 0
    changed = np.where(
        status > 0,
        signup + (rng.random(m) * (clock.end - signup)).astype(np.int64),
        np.where(
            rng.random(m) < 0.4,
            signup + (rng.random(m) * (clock.end - signup) * 0.5).astype(np.int64),
            signup,
        ),
    ).clip(max=clock.end - 60)
    changed = np.maximum(changed, signup)

    # e-mail: often not the one used in the webshop
    rec = _Records.blank(SOURCES["newsletter"], persons)
    which = np.where(
        holder[persons],
        _email_codes(rng, pop, persons, [60, 22, 10, 8], no_family=_ALTERNATIVE),
        _email_codes(rng, pop, persons, [65, 20, 8, 7], no_family=_ALTERNATIVE),
    )
    which = np.where(second, (which % 3 + 1 + rng.integers(0, 2, m)) % 3, which)
    which[persons == 0] = _ALTERNATIVE
    rec.email = which.astype(np.int8)
    rec.email_junk = (rng.random(m) < 0.004) & (persons != 0)
    # names: both, first only (often a nickname) or none
    # (people who signed up with another address mostly fill in their name)
    shape = np.where(which == 0, _pick(rng, m, [35, 35, 30]), _pick(rng, m, [75, 20, 5]))
    shape[persons == 0] = 0
    return _NewsletterPlan(rng, rec, shape, signup, status, changed)


def _newsletter_write(ctx: _Context, pop: _Population, plan: _NewsletterPlan) -> None:
    rng, rec = plan.rng, plan.rec
    clock = ctx.clock
    persons, signup, status, changed = rec.person, plan.signup, plan.status, plan.changed
    m = len(persons)
    email = _email_noise(rng, _render_email(pop, persons, rec.email), upper=0.03)
    email = _junk_where(rng, rec.email_junk, email, names.JUNK_EMAILS[:2])
    shape = np.where(rec.name_fix, 0, plan.shape)  # linked through a loyalty card: full name
    first = _first_names(rng, pop, persons, ascii=0.1, typo=0.03, nick=0.12)
    first = _where(
        (shape == 1) & (rng.random(m) < 0.3),
        _first_names(rng, pop, persons, ascii=0, typo=0, nick=1.0),
        first,
    )
    last = _last_names(rng, pop, persons, ascii=0.1, typo=0.03, capital=0.1)
    first = _space_noise(rng, _case_noise(rng, first, 0.01, 0.06), 0.02)
    last = _space_noise(rng, _case_noise(rng, last, 0.01, 0.06), 0.02)
    first = _null_where(shape == 2, first)
    last = _null_where(shape >= 1, last)
    is_s = persons == 0
    first, last = _where(is_s, "Sophia", first), _where(is_s, "de Vries", last)

    order = np.argsort(signup, kind="stable")
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    sub_id = _take(_ids("SUB", m, 7), rank)
    rows = _write_csv(
        ctx.out_dir / "newsletter" / "subscribers.csv",
        {
            "Subscriber ID": _take(sub_id, order),
            "E-mail": _take(email, order),
            "Voornaam": _take(first, order),
            "Achternaam": _take(last, order),
            "Status": _take(_strs(["actief", "afgemeld", "bounced"]), status[order]),
            "Opt-in": _where(status[order] == 1, "nee", _where(rng.random(m) < 0.03, "nee", "ja")),
            "Aangemeld op": _fmt_ts(signup[order], "nl"),
            "Laatst gewijzigd": _fmt_ts(changed[order], "nl"),
        },
        delimiter=";",
    )
    ctx.wrote("newsletter/subscribers.csv", rows)
    ctx.truth.append((SOURCES["newsletter"], _take(sub_id, order), persons[order]))

    # --- opens and clicks on a fortnightly campaign
    first_campaign = clock.start + 3 * DAY + 10 * 3600
    n_campaigns = (clock.end - first_campaign - 1) // (14 * DAY) + 1
    stop = np.where(status == 0, clock.end, changed)
    c_lo = np.clip(-((first_campaign - signup) // (14 * DAY)), 0, n_campaigns)
    c_hi = np.clip((stop - first_campaign) // (14 * DAY) + 1, 0, n_campaigns)
    exposed = np.maximum(c_hi - c_lo, 0)
    open_rate = (rng.beta(0.7, 6.0, m) * pop.engagement[persons]).clip(0, 0.9)
    open_rate[persons == 0] = 0.5
    n_open = rng.binomial(exposed, open_rate)
    e_row = np.repeat(np.arange(m), n_open)
    campaign = c_lo[e_row] + (rng.random(len(e_row)) * exposed[e_row]).astype(np.int64)
    open_ts = (
        first_campaign
        + campaign * 14 * DAY
        + rng.exponential(5 * 3600, len(e_row)).astype(np.int64)
    )
    clicked = rng.random(len(e_row)) < rng.beta(1.5, 4.0, m)[e_row]
    click_ts = open_ts[clicked] + rng.integers(20, 600, int(clicked.sum()))
    ev_row = np.concatenate([e_row, e_row[clicked]])
    ev_ts = np.concatenate([open_ts, click_ts])
    ev_click = np.concatenate([np.zeros(len(e_row), bool), np.ones(len(click_ts), bool)])
    keep = ev_ts < np.minimum(stop[ev_row] + DAY, clock.end)
    ev_row, ev_ts, ev_click = ev_row[keep], ev_ts[keep], ev_click[keep]
    order = np.argsort(ev_ts, kind="stable")
    ev_row, ev_ts, ev_click = ev_row[order], ev_ts[order], ev_click[order]
    category = _take(_strs(CATEGORIES), pop.categories(rng, persons[ev_row]), null_mask=~ev_click)
    # ~0.1% of the lines cut off mid-record by the export (the loader quarantines them)
    candidates = np.flatnonzero(persons[ev_row] != 0)
    n_cut = min(len(candidates), max(1, round(0.001 * len(ev_row))))
    truncated = np.zeros(len(ev_row), dtype=bool)
    truncated[rng.choice(candidates, n_cut, replace=False)] = True
    rows = _write_jsonl(
        ctx.out_dir / "newsletter" / "email_events.jsonl",
        {
            "event_id": _ids("EM", len(ev_ts), 9),
            "subscriber_id": _take(sub_id, ev_row),
            "type": _where(ev_click, "click", "open"),
            "ts": _fmt_ts(ev_ts, "isot"),
            "product_category": category,
        },
        truncated=truncated,
    )
    ctx.wrote("newsletter/email_events.jsonl", rows)


@dataclass
class _ServicePlan:
    rng: np.random.Generator
    rec: _Records  # one row per contact (not file order)
    when: np.ndarray
    channel: np.ndarray


def _customer_service_plan(ctx: _Context, pop: _Population) -> _ServicePlan:
    rng = ctx.rng(30)
    n = pop.n
    contacted = rng.random(n) < 0.20
    contacted[0] = True
    C = np.flatnonzero(contacted)
    counts = rng.choice([1, 2, 3, 4, 5, 6], size=len(C), p=[0.6, 0.22, 0.1, 0.04, 0.025, 0.015])
    counts[C == 0] = 1
    persons = np.repeat(C, counts)
    m = len(persons)
    when = _recent(rng, pop.first_seen[persons], pop.last_seen[persons], skew=0.7)
    # people mostly come back through the same channel, number and address
    usual = np.repeat(_pick(rng, len(C), [30, 35, 20, 15]), counts)  # whatsapp, phone, email, chat
    channel = np.where(rng.random(m) < 0.75, usual, _pick(rng, m, [30, 35, 20, 15]))
    channel[(channel == 0) & (pop.mobile[persons] == 0)] = 1

    rec = _Records.blank(SOURCES["customer_service"], persons)
    number = np.repeat(_person_phone(rng, pop, C, landline_share=0.2), counts)
    number = np.where(channel == 0, pop.mobile[persons], number)
    present = rng.random(m) < np.select(
        [channel == 0, channel == 1, channel == 2], [1.0, 0.92, 0.1], 0.4
    )
    rec.phone = np.where(present, number, 0)
    rec.phone_junk = rng.random(m) < 0.01
    email = np.repeat(_email_codes(rng, pop, C, [70, 20, 7, 3]), counts)
    email_share = np.select([channel == 2, channel == 3], [0.95, 0.5], 0.2)
    rec.email = np.where(rng.random(m) >= email_share, _NO_EMAIL, email).astype(np.int8)
    rec.email_junk = rng.random(m) < 0.01

    # every contact carries the person's own mobile or one of their own e-mail addresses (the
    # agent needs a way to reach them): by phone on phone channels, else by e-mail
    mobile = pop.personal_mobile[persons]
    reachable = ((rec.phone == mobile) & (mobile != 0) & ~rec.phone_junk) | (
        (rec.email >= _PRIMARY) & (rec.email <= _OLD) & ~rec.email_junk
    )
    fix = ~reachable & (persons != 0)
    by_phone = fix & (mobile != 0) & ((channel <= 1) | rec.email_junk | (rng.random(m) < 0.3))
    rec.phone[by_phone], rec.phone_junk[by_phone] = mobile[by_phone], False
    by_mail = fix & ~by_phone
    rec.email[by_mail] = np.where(email[by_mail] <= _OLD, email[by_mail], _PRIMARY)
    rec.email_junk[by_mail] = False

    s = persons == 0
    rec.phone[s], rec.phone_junk[s], rec.email[s] = pop.mobile[0], False, _NO_EMAIL
    channel[s] = 0
    return _ServicePlan(rng, rec, when, channel)


def _customer_service_write(ctx: _Context, pop: _Population, plan: _ServicePlan) -> None:
    rng, rec, channel, when = plan.rng, plan.rec, plan.channel, plan.when
    persons = rec.person
    m = len(persons)
    # name as the agent typed it
    name = _full_names(rng, pop, persons, [30, 12, 20, 30, 0, 8], nick=0.15, typo=0.04, ascii=0.08)
    name = _space_noise(rng, _case_noise(rng, name, 0.03, 0.05), 0.02)
    even = {"nl_mobile": [1, 1, 1, 1, 1, 1], "nl_landline": [1, 1, 1, 1], "dk": [1, 1, 1, 1, 1]}
    phone = _junk_where(
        rng, rec.phone_junk, _format_phones(rng, rec.phone, even), names.JUNK_PHONES
    )
    email = _email_noise(rng, _render_email(pop, persons, rec.email))
    email = _junk_where(rng, rec.email_junk, email, names.JUNK_EMAILS)
    sms = _take(_strs(["yes", "no", ""]), _pick(rng, m, [35, 25, 40]))

    is_s = persons == 0
    name = _where(is_s, "Sophie", name)
    phone = _where(is_s, "+31612345678", phone)
    sms = _where(is_s, "yes", sms)

    order = np.argsort(when, kind="stable")
    contact_id = _ids("CS", m, 7)
    rows = _write_csv(
        ctx.out_dir / "customer_service" / "contacts.csv",
        {
            "contact_id": contact_id,
            "name": _take(name, order),
            "phone": _take(phone, order),
            "email": _take(email, order),
            "channel": _take(_strs(["whatsapp", "phone", "email", "chat"]), channel[order]),
            "sms_ok": _take(sms, order),
            "contacted_at": _fmt_ts(when[order]),
        },
    )
    ctx.wrote("customer_service/contacts.csv", rows)
    ctx.truth.append((SOURCES["customer_service"], contact_id, persons[order]))
    _customer_service_preferences(ctx, contact_id, channel[order], when[order])


def _customer_service_preferences(
    ctx: _Context, contact_id: pa.Array, channel: np.ndarray, when: np.ndarray
) -> None:
    """customer_service/preferences.csv: phone-call permissions the agent recorded at a contact.

    About 5% of contacts ask not to be called ("do not call"); about 15% of phone contacts agree
    to be called with offers. A separate random stream, so the contacts file does not change.
    """
    rng = ctx.rng(31)
    m = len(channel)
    r = rng.random(m)
    denied = r < 0.05
    granted = ~denied & (channel == 1) & (r < 0.20)
    chosen = np.flatnonzero(denied | granted)
    delay = rng.integers(30, 900, len(chosen))  # during or just after the contact
    rows = _write_csv(
        ctx.out_dir / "customer_service" / "preferences.csv",
        {
            "preference_id": _ids("PR", len(chosen), 7),
            "contact_id": _take(contact_id, chosen),
            "channel": _take(_strs(["phone"]), np.zeros(len(chosen), dtype=np.int64)),
            "permission": _take(_strs(["no", "yes"]), granted[chosen].astype(np.int64)),
            "changed_at": _fmt_ts(when[chosen] + delay),
        },
    )
    ctx.wrote("customer_service/preferences.csv", rows)


# web event types
_CONSENT, _LOGIN, _VIEW, _CART, _WITHDRAW = range(5)
_EVENT_TYPES = ["ads_consent_granted", "login", "page_view", "add_to_cart", "ads_consent_withdrawn"]


def _web_analytics(ctx: _Context, pop: _Population, shop: _Shop) -> None:
    rng = ctx.rng(40)
    clock, n = ctx.clock, pop.n
    holder = shop.primary_account >= 0
    on_web = holder | (rng.random(n) < 0.35)
    W = np.flatnonzero(on_web)

    # --- cookies: 1-3 per person (devices, cleared browsers); the first one is the main one
    n_ck = rng.choice([1, 2, 3], size=len(W), p=[0.55, 0.30, 0.15])
    n_ck[W == 0] = 1
    ck_person = np.repeat(W, n_ck)
    ck_rank = _rank_in_group(n_ck)
    main_cookie = np.full(n, -1, dtype=np.int64)
    main_cookie[W] = _offsets(n_ck)
    n_pc = len(ck_person)
    fs, ls = pop.first_seen[ck_person], pop.last_seen[ck_person]
    c_start = np.where(ck_rank == 0, fs, fs + (rng.random(n_pc) * (ls - fs)).astype(np.int64))
    c_end = np.where(
        ck_rank == 0, ls, c_start + (rng.random(n_pc) * (ls - c_start)).astype(np.int64)
    )
    c_end = np.maximum(c_end, np.minimum(c_start + DAY, clock.end))
    logs_in = holder[ck_person] & ((ck_rank == 0) | (rng.random(n_pc) < 0.45))
    ck_ip = np.where(rng.random(n_pc) < 0.8, pop.home_ip[pop.household[ck_person]],
                     _random_ips(rng, n_pc, _IP_FIRST_OCTET["mobile"]))  # fmt: skip

    # anonymous visitors who are not in the population at all
    n_anon = int(round(0.25 * n))
    anon_ip = _random_ips(
        rng, n_anon, _IP_FIRST_OCTET[NL] + _IP_FIRST_OCTET[DK] + _IP_FIRST_OCTET["mobile"]
    )
    cookie_bytes = _hex_ids(rng, n_pc + n_anon, 8)
    cookie_ip = np.concatenate([ck_ip, anon_ip])

    # --- browsing sessions of population cookies, ranked in time per cookie
    n_bs = 1 + rng.poisson(np.where(ck_rank == 0, 0.8, 0.4) * pop.engagement[ck_person])
    b_cookie = np.repeat(np.arange(n_pc), n_bs)
    b_ts = _recent(rng, c_start[b_cookie], c_end[b_cookie], skew=0.8)
    b_ts = b_ts[np.lexsort((b_ts, b_cookie))]  # b_cookie is already sorted
    b_rank = _rank_in_group(n_bs)
    nb = len(b_cookie)
    sophia_first = (ck_person[b_cookie] == 0) & (b_rank == 0)
    b_ts[sophia_first] = pop.first_seen[0] + DAY + 20 * 3600  # she browses before she logs in
    grants = rng.random(n_pc) < 0.6
    withdraws = grants & (n_bs > 1) & (rng.random(n_pc) < 0.06)
    b_consent = (b_rank == 0) & grants[b_cookie]
    b_login = logs_in[b_cookie] & (b_rank > 0) & (rng.random(nb) < 0.35)
    b_withdraw = withdraws[b_cookie] & (b_rank == n_bs[b_cookie] - 1)
    b_person = ck_person[b_cookie]
    b_account = np.where(b_login, shop.primary_account[b_person], -1)

    # --- the session in which each web order was placed (main cookie, ends just before the order)
    o_person = shop.order_person
    n_o = len(o_person)
    o_login = (rng.random(n_o) < 0.85) | (o_person == 0)

    # --- cart abandoners: something in the cart in the last 14 days, no order after it
    last_order = np.full(n, clock.start, dtype=np.int64)
    np.maximum.at(last_order, o_person, shop.order_ts)
    ab = W[(pop.last_seen[W] == clock.end) & (rng.random(len(W)) < 0.07) & (W != 0)]
    ab_lo = np.maximum(clock.end - 14 * DAY, last_order[ab] + 3600)
    ab_hi = clock.end - 2 * 3600
    ab = ab[ab_lo < ab_hi]
    ab_lo = ab_lo[ab_lo < ab_hi]
    ab_ts = ab_lo + (rng.random(len(ab)) * (ab_hi - ab_lo)).astype(np.int64)
    ab_login = holder[ab] & (rng.random(len(ab)) < 0.5)

    # --- anonymous visitors' sessions
    n_as = 1 + rng.poisson(0.5, n_anon)
    a_cookie = n_pc + np.repeat(np.arange(n_anon), n_as)
    a_ts = _recent(
        rng, np.full(len(a_cookie), clock.start), np.full(len(a_cookie), clock.end), skew=0.9
    )
    a_consent = (_rank_in_group(n_as) == 0) & (rng.random(len(a_cookie)) < 0.4)

    # --- one table of sessions: browse | order | abandon | anonymous
    def z(k: int) -> np.ndarray:
        return np.zeros(k, dtype=np.int64)

    na, nab = len(a_cookie), len(ab)
    s_cookie = np.concatenate([b_cookie, main_cookie[o_person], main_cookie[ab], a_cookie])
    s_person = np.concatenate([b_person, o_person, ab, z(na) - 1])
    s_order = np.concatenate([z(nb) - 1, np.arange(n_o), z(nab) - 1, z(na) - 1])
    s_account = np.concatenate([b_account, np.where(o_login, shop.order_account, -1),
                                np.where(ab_login, shop.primary_account[ab], -1), z(na) - 1])  # fmt: skip
    n_consent = np.concatenate([b_consent, z(n_o), z(nab), a_consent]).astype(np.int64)
    n_login = (s_account >= 0).astype(np.int64)
    n_view = np.concatenate(
        [
            rng.geometric(0.5, nb),
            1 + rng.poisson(0.5, n_o),
            1 + rng.poisson(1.5, nab),
            rng.geometric(0.5, na),
        ]
    )
    n_cart = np.concatenate(
        [
            (rng.random(nb) < 0.04).astype(np.int64),
            shop.line_count,
            1 + (rng.random(nab) < 0.3),
            z(na),
        ]
    )
    n_withdraw = np.concatenate([b_withdraw, z(n_o), z(nab), z(na)]).astype(np.int64)
    size = n_consent + n_login + n_view + n_cart + n_withdraw
    gap = rng.integers(20, 90, len(size))
    s_start = np.concatenate(
        [b_ts, shop.order_ts - (size[nb : nb + n_o] + 1) * gap[nb : nb + n_o], ab_ts, a_ts]
    )
    s_start = np.clip(s_start, clock.start, clock.end - (size + 1) * gap)

    # --- expand sessions (in order of start) into events: consent, login, views, cart, withdrawal
    by_start = np.argsort(s_start, kind="stable")
    s_start, s_cookie, s_person, s_order, s_account, gap = (
        s_start[by_start], s_cookie[by_start], s_person[by_start], s_order[by_start], s_account[by_start], gap[by_start]
    )  # fmt: skip
    n_consent, n_login, n_view, n_cart, size = (
        n_consent[by_start], n_login[by_start], n_view[by_start], n_cart[by_start], size[by_start]
    )  # fmt: skip
    e_s = np.repeat(np.arange(len(size)), size)
    j = _rank_in_group(size)
    t1 = n_consent[e_s]
    t2 = t1 + n_login[e_s]
    t3 = t2 + n_view[e_s]
    t4 = t3 + n_cart[e_s]
    # event types are numbered in within-session order, so the type is the number of thresholds passed
    e_type = (j >= t1).astype(np.int8) + (j >= t2) + (j >= t3) + (j >= t4)
    e_gap = gap[e_s]
    e_ts = s_start[e_s] + j * e_gap + (rng.random(len(e_s)) * e_gap * 0.5).astype(np.int64)
    e_account = np.where(e_type == _LOGIN, s_account[e_s], -1)

    shopping = np.flatnonzero((e_type == _VIEW) | (e_type == _CART))
    person = s_person[e_s[shopping]]
    order_of = s_order[e_s[shopping]]
    category = np.full(len(e_s), -1, dtype=np.int64)
    known = person >= 0
    category[shopping] = rng.integers(0, len(CATEGORIES), len(shopping))
    category[shopping[known]] = pop.categories(rng, person[known])
    is_cart = e_type[shopping] == _CART
    from_line = (order_of >= 0) & (is_cart | (rng.random(len(shopping)) < 0.7))
    line = shop.line_start[order_of[from_line]] + np.where(
        is_cart[from_line], j[shopping[from_line]] - t3[shopping[from_line]], 0
    )
    category[shopping[from_line]] = shop.line_category[line]

    order = np.argsort(e_ts, kind="stable")  # nearly sorted already: cheap
    e_s, e_ts, e_type, category, e_account = (
        e_s[order],
        e_ts[order],
        e_type[order],
        category[order],
        e_account[order],
    )
    e_cookie = s_cookie[e_s]
    table = pa.table(
        {
            "event_id": _ids("EV", len(e_ts), 9),
            "cookie_id": _fixed_width(cookie_bytes[e_cookie]),
            "customer_id": _take(
                shop.account_id, np.maximum(e_account, 0), null_mask=e_account < 0
            ),
            "event_type": _take(_strs(_EVENT_TYPES), e_type),
            "ts": _timestamps(e_ts),
            "page_category": _take(
                _strs(CATEGORIES), np.maximum(category, 0), null_mask=category < 0
            ),
            "ip": _take(_ip(cookie_ip), e_cookie),
        }
    )
    path = ctx.out_dir / "web_analytics" / "events.parquet"
    ctx.wrote(
        "web_analytics/events.parquet",
        _write_parquet(path, table, ["customer_id", "event_type", "page_category"]),
    )
    ctx.truth.append((SOURCES["web"], _fixed_width(cookie_bytes[:n_pc]), ck_person))
    consent_at = e_type == _CONSENT
    withdrawn_at = e_type == _WITHDRAW
    _cookie_banner(ctx, cookie_bytes, e_cookie, e_ts, consent_at, withdrawn_at)


def _cookie_banner(ctx: _Context, cookie_bytes: np.ndarray, e_cookie: np.ndarray, e_ts: np.ndarray,
                   consent_at: np.ndarray, withdrawn_at: np.ndarray) -> None:  # fmt: skip
    """web_analytics/consent_choices.csv: the consent manager's log of personalisation choices.

    At every banner where a cookie accepted ads it also answered the personalisation question
    (70% yes); a cookie that later withdrew ads consent withdrew personalisation in the same click.
    """
    rng = ctx.rng(41)
    banner = np.flatnonzero(consent_at)
    yes = rng.random(len(banner)) < 0.7
    gone = np.flatnonzero(withdrawn_at)
    idx = np.concatenate([banner, gone])
    granted = np.concatenate([yes, np.zeros(len(gone), dtype=bool)])
    order = np.argsort(e_ts[idx], kind="stable")
    idx, granted = idx[order], granted[order]
    rows = _write_csv(
        ctx.out_dir / "web_analytics" / "consent_choices.csv",
        {
            "choice_id": _ids("CC", len(idx), 8),
            "cookie_id": _fixed_width(cookie_bytes[e_cookie[idx]]),
            "purpose": _take(_strs(["personalisation"]), np.zeros(len(idx), dtype=np.int64)),
            "choice": _take(_strs(["denied", "granted"]), granted.astype(np.int64)),
            "ts": _fmt_ts(e_ts[idx]),
        },
    )
    ctx.wrote("web_analytics/consent_choices.csv", rows)


@dataclass
class _LoyaltyPlan:
    rng: np.random.Generator
    rec: _Records  # one row per card (not file order)
    names: _FullNames
    use_old: np.ndarray
    gone: np.ndarray
    card_number: pa.Array
    joined: np.ndarray
    tier: np.ndarray
    t_ts: np.ndarray
    t_card: np.ndarray
    t_cat: np.ndarray
    cents: np.ndarray
    store: np.ndarray
    store_code: pa.Array


def _loyalty_plan(ctx: _Context, pop: _Population) -> _LoyaltyPlan:
    rng = ctx.rng(50)
    clock, n = ctx.clock, pop.n
    member = rng.random(n) < 0.35
    member[0] = True
    M = np.flatnonzero(member)
    n_m = len(M)
    # ~2% replaced a lost card: the old card is still in the system
    replaced = (rng.random(n_m) < 0.02) & (M != 0)
    fs, ls = pop.first_seen[M], pop.last_seen[M]
    split = fs + ((0.2 + 0.6 * rng.random(n_m)) * (ls - fs)).astype(np.int64)
    R = np.flatnonzero(replaced)
    c_person = np.concatenate([M, M[R]])
    c_old = np.concatenate([np.zeros(n_m, bool), np.ones(len(R), bool)])
    c_member = np.concatenate([np.arange(n_m), R])
    n_c = len(c_person)

    # till receipts
    n_tx = rng.negative_binomial(0.8, 0.8 / (0.8 + 4.0 * pop.engagement[M]))
    n_tx[M == 0] = 5
    t_member = np.repeat(np.arange(n_m), n_tx)
    t_person = M[t_member]
    t_ts = _recent(rng, fs[t_member], ls[t_member], skew=0.8)
    on_old = replaced[t_member] & (t_ts < split[t_member])
    old_card = np.full(n_m, -1)
    old_card[R] = n_m + np.arange(len(R))
    t_card = np.where(on_old, old_card[t_member], t_member)

    first_tx = np.full(n_c, clock.end, dtype=np.int64)
    np.minimum.at(first_tx, t_card, t_ts)
    span_start = np.where(
        c_old, fs[c_member], np.where(replaced[c_member], split[c_member], fs[c_member])
    )
    joined = _before(rng, np.minimum(span_start, first_tx), 10 * DAY, clock.start)

    items = 1 + rng.poisson(1.5, len(t_ts))
    t_cat = pop.categories(rng, t_person)
    lo = np.array([p[0] for p in _CATEGORY_PRICE], dtype=float)[t_cat]
    hi = np.array([p[1] for p in _CATEGORY_PRICE], dtype=float)[t_cat]
    unit = np.exp(np.log(lo) + rng.random(len(t_ts)) * (np.log(hi) - np.log(lo)) * 0.7)
    cents = (unit * items * 100).astype(np.int64) // 5 * 5 + rng.choice([0, 4], len(t_ts))
    spend = np.bincount(t_member, weights=cents, minlength=n_m)
    rank = np.argsort(np.argsort(-spend, kind="stable"), kind="stable") / max(n_m, 1)
    tier = np.where(rank < 0.08, 2, np.where(rank < 0.30, 1, 0))[c_member]
    tier[c_old] = 0

    # stores: one per city, people mostly shop at the one near home
    voc = _vocabulary()
    city_country = np.array([c[1] for c in voc.cities])
    store_code = _strs(
        [f"{'NL' if c[1] == NL else 'DK'}-{i + 1:03d}" for i, c in enumerate(voc.cities)]
    )
    home = pop.address.city[pop.household[t_person]]
    random_store = rng.integers(0, len(voc.cities), len(t_ts))
    same_country = city_country[random_store] == pop.country[t_person]
    store = np.where((rng.random(len(t_ts)) < 0.85) | ~same_country, home, random_store)

    numbers = 2_600_000_000_000 + rng.choice(10**11, size=n_c, replace=False)
    card_number = pc.cast(pa.array(numbers), STR)

    # --- what each card carries: always a name (written at the till), and a birth date or a phone
    rec = _Records.blank(SOURCES["loyalty"], c_person)
    use_old, _ = _uses_old_address(rng, pop, c_person, joined, updated_share=0.5)
    parts = _FullNames.draw(
        rng, pop, c_person, [71, 14, 5, 0, 4, 0], nick=0.04, typo=0.03, ascii=0.12
    )
    rec.name = parts.level(pop, c_person)
    rec.email = np.where(
        rng.random(n_c) < 0.5, _NO_EMAIL, _email_codes(rng, pop, c_person, [60, 25, 10, 5])
    ).astype(np.int8)
    rec.email_junk = rng.random(n_c) < 0.01
    rec.phone = np.where(rng.random(n_c) < 0.85, _person_phone(rng, pop, c_person, 0.15), 0)
    rec.phone_junk = rng.random(n_c) < 0.01
    gone = rng.random(n_c) < 0.03
    rec.address = np.where(gone, -1, use_old).astype(np.int8)
    rec.dob = np.where(rng.random(n_c) < 0.12, _DOB_BLANK, _DOB_OK).astype(np.int8)
    rec.dob[((rec.phone == 0) | rec.phone_junk) & (rec.dob != _DOB_OK)] = _DOB_OK
    # a replacement card shares the phone, or the name and birth date, with the lost one
    current, lost = R, n_m + np.arange(len(R))
    by_phone = (pop.personal_mobile[M[R]] != 0) & (rng.random(len(R)) < 0.5)
    both = np.concatenate([current[by_phone], lost[by_phone]])
    rec.phone[both], rec.phone_junk[both] = pop.personal_mobile[c_person[both]], False
    both = np.concatenate([current[~by_phone], lost[~by_phone]])
    rec.dob[both] = _DOB_OK
    both = both[rec.name[both] != _CLEAN]
    rec.name_fix[both], rec.name[both] = True, _CLEAN

    # Sophia's card: her phone and birth date, and the address she uses for the newsletter
    # (the only other place that address appears, so her subscription can be linked)
    s = c_person == 0
    rec.email[s], rec.email_junk[s] = _ALTERNATIVE, False
    rec.phone[s], rec.phone_junk[s] = pop.mobile[0], False
    rec.name[s], rec.dob[s], rec.address[s] = _CLEAN, _DOB_OK, 0
    gone[s] = False
    return _LoyaltyPlan(
        rng=rng, rec=rec, names=parts, use_old=use_old, gone=gone, card_number=card_number,
        joined=joined, tier=tier, t_ts=t_ts, t_card=t_card, t_cat=t_cat, cents=cents,
        store=store, store_code=store_code,
    )  # fmt: skip


def _loyalty_write(ctx: _Context, pop: _Population, plan: _LoyaltyPlan) -> None:
    rng, rec = plan.rng, plan.rec
    c_person = rec.person
    n_c = len(c_person)
    plan.names.fix(pop, c_person, np.flatnonzero(rec.name_fix))
    name = _render_full_names(rng, pop, c_person, plan.names)
    name = _space_noise(rng, _case_noise(rng, name, 0.06, 0.02), 0.02)
    email = _email_noise(rng, _render_email(pop, c_person, rec.email))
    email = _junk_where(rng, rec.email_junk, email, names.JUNK_EMAILS)
    phone = _junk_where(rng, rec.phone_junk, _format_phones(rng, rec.phone), names.JUNK_PHONES)
    no_street = np.zeros(n_c, dtype=bool)
    address = _render_address(rng, pop, c_person, plan.use_old, no_street, plan.gone)
    dob = _render_birth_dates(rng, pop, c_person, rec.dob, "nl")
    sms = _where(rng.random(n_c) < 0.38, "1", "0")

    is_s = c_person == 0
    name = _where(is_s, "Sophia de Vries", name)
    email = _where(is_s, "@".join(SOPHIA["newsletter_email"]), email)
    phone = _where(is_s, "0612345678", phone)
    dob = _where(is_s, SOPHIA["dob"].strftime("%d-%m-%Y"), dob)
    postcode = _where(is_s, f"{SOPHIA['postcode'][0]} {SOPHIA['postcode'][1]}", address.postcode)
    house_number = _where(is_s, str(SOPHIA["house_number"]), address.house_number)

    joined, card_number = plan.joined, plan.card_number
    order = np.argsort(joined, kind="stable")
    rows = _write_csv(
        ctx.out_dir / "loyalty" / "members.csv",
        {
            "card_number": _take(card_number, order),
            "name": _take(name, order),
            "email": _take(email, order),
            "phone": _take(phone, order),
            "postcode": _take(postcode, order),
            "house_number": _take(house_number, order),
            "country": _take(address.country, order),
            "dob": _take(dob, order),
            "tier": _take(_strs(["bronze", "silver", "gold"]), plan.tier[order]),
            "sms_opt_in": _take(sms, order),
            "joined_at": _fmt_ts(joined[order]),
        },
    )
    ctx.wrote("loyalty/members.csv", rows)
    ctx.truth.append((SOURCES["loyalty"], _take(card_number, order), c_person[order]))

    t_ts = plan.t_ts
    t_order = np.argsort(t_ts, kind="stable")
    table = pa.table(
        {
            "transaction_id": _ids("TX", len(t_ts), 10),
            "card_number": _take(card_number, plan.t_card[t_order]),
            "store_id": _take(plan.store_code, plan.store[t_order]),
            "ts": _timestamps(t_ts[t_order]),
            "amount": pa.array(np.round(plan.cents[t_order] / 100.0, 2)),
            "category": _take(_strs(CATEGORIES), plan.t_cat[t_order]),
        }
    )
    path = ctx.out_dir / "loyalty" / "transactions.parquet"
    ctx.wrote("loyalty/transactions.parquet", _write_parquet(path, table, ["store_id", "category"]))


# ============================================================================= evidence links
#
# Real customer data links up because a person leaves the same identifier in more than one place:
# Sophia's webshop address sofietje@provider.nl and her newsletter address sophiaX@provider.com
# meet on her loyalty card, which has the newsletter address and the phone of the webshop
# account. The sources above draw their records with all their noise (typos, nicknames, other
# addresses, blanks, placeholders); _link_records then checks, per true person, that the records
# form one connected "evidence graph", where two records are linked by
#
#   - the same personal e-mail address (not a household's family mailbox),
#   - the same personal mobile number (not a landline, not a mobile twins share),
#   - a usable first + last name (canonical, or a typo of it against a canonical one; not an
#     initial, not a nickname, not swapped) and the same true birth date,
#   - such a name and the same postcode + house number (the current or the pre-move address),
#
# and gives each piece that is cut off one link to the person's main piece, the way it happens
# in real life: the e-mail address also on the loyalty card, the mobile given to the service
# agent, the birth date filled in. A small share of records (ORPHAN_SHARE) stays unlinkable on
# purpose. (Web cookies link through logins to an account and are not part of this graph.)

ORPHAN_SHARE = 0.003
# repairs: host the record's e-mail on a main record without one, fill in / swap the record's
# e-mail for one of the main piece, add the personal mobile, add a usable name + birth date
_HOST, _FILL_EMAIL, _SWAP_EMAIL, _ADD_PHONE, _ADD_NAME_DOB, _FALLBACK = range(6)
_REPAIR_PREFERENCE = {  # per source: preference per repair (0 never); ties broken at random
    SOURCES["webshop"]: [2, 3, 1, 3, 3],
    SOURCES["loyalty"]: [2, 3, 1, 3, 3],
    SOURCES["newsletter"]: [3, 3, 2.5, 0, 0],
    SOURCES["customer_service"]: [2, 3, 1, 3, 0],
}
_HOST_ORDER = [SOURCES[s] for s in ("loyalty", "customer_service", "webshop", "newsletter")]
_LOWEST_BIT = np.array([-1, 0, 1, 0, 2, 0, 1, 0], dtype=np.int8)


def _components(keys: list[tuple[np.ndarray, np.ndarray | None]], n: int) -> np.ndarray:
    """Connected components of n records, linked when they share a key value (>= 0).

    A key given with a `strong` mask only links groups that hold a strong record: a typo'd
    name is one edit from the true name, but two typo'd names can be two edits apart.
    Returns, per record, the smallest record index in its component.
    """
    groups = []
    for key, strong in keys:
        rows = np.flatnonzero(key >= 0)
        rows = rows[np.argsort(key[rows], kind="stable")]
        k = key[rows]
        if len(k) == 0:
            continue
        start = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        size = np.diff(np.r_[start, len(k)])
        keep = size > 1
        if strong is not None:
            keep &= np.maximum.reduceat(strong[rows], start)
        rows, size = rows[np.repeat(keep, size)], size[keep]
        if len(rows):
            groups.append((rows, _offsets(size), size))
    label = np.arange(n)
    while True:
        before = label
        label = label.copy()
        for rows, start, size in groups:
            label[rows] = np.repeat(np.minimum.reduceat(label[rows], start), size)
        while True:  # pointer jumping: follow labels to their own label
            nxt = label[label]
            if np.array_equal(nxt, label):
                break
            label = nxt
        if np.array_equal(label, before):
            return label


def _first_per_person(rows: np.ndarray, person: np.ndarray, *order_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(persons, row) of the first row per person when sorted by person, then order_keys."""
    o = rows[np.lexsort((rows, *reversed([k[rows] for k in order_keys]), person[rows]))]
    head = np.r_[True, person[o][1:] != person[o][:-1]] if len(o) else np.zeros(0, bool)
    return person[o][head], o[head]


def _link_records(rng: np.random.Generator, pop: _Population, recs: list[_Records],
                  phone_channel: list[np.ndarray | None]) -> dict[str, int]:  # fmt: skip
    """Give every piece of a person's records that shares no evidence with the rest one link
    (see the comment above), except ORPHAN_SHARE of the records. Edits `recs` in place.

    `phone_channel` per source: rows reached over a phone channel (they give a phone first).
    """
    sizes = [len(r.person) for r in recs]
    src = np.repeat(np.arange(len(recs)), sizes)

    def cat(field: str) -> np.ndarray:
        return np.concatenate([getattr(r, field) for r in recs])

    person, email, email_junk, phone, phone_junk = (cat(f) for f in ("person", "email", "email_junk", "phone", "phone_junk"))  # fmt: skip
    name, name_fix, dob, address, loaded = (cat(f) for f in ("name", "name_fix", "dob", "address", "loaded"))  # fmt: skip
    n = len(person)
    labels = [r.source for r in recs]
    has_phone = np.array([s != SOURCES["newsletter"] for s in labels])[src]
    has_dob = np.array([s in (SOURCES["webshop"], SOURCES["loyalty"]) for s in labels])[src]
    is_newsletter = np.array([s == SOURCES["newsletter"] for s in labels])[src]
    host_rank = np.array([_HOST_ORDER.index(s) for s in labels])[src]
    preference = np.array([_REPAIR_PREFERENCE[s] for s in labels], dtype=float)[src]
    by_phone = np.concatenate([np.zeros(k, bool) if c is None else c for k, c in zip(sizes, phone_channel, strict=True)])  # fmt: skip
    preference[by_phone, _ADD_PHONE] += 1
    mobile = pop.personal_mobile[person]
    exempt = np.zeros(n, dtype=bool)
    repairs = ("host", "fill_email", "swap_email", "add_phone", "add_name_dob", "fallback")
    stats = {"records": int(loaded.sum()), "cut_off": 0, "orphans": 0, "rounds": 0}
    stats.update(dict.fromkeys(repairs, 0))

    for round_ in range(10):
        personal = loaded & (email >= _PRIMARY) & (email <= _OLD) & ~email_junk
        has_mobile = loaded & (phone != 0) & (phone == mobile) & ~phone_junk
        named = loaded & (name >= _LOOSE)
        strong = name == _CLEAN
        label = _components(
            [
                (np.where(personal, person * 3 + email, -1), None),
                (np.where(has_mobile, person, -1), None),
                (np.where(named & (dob == _DOB_OK), person, -1), strong),
                (np.where(named & (address >= 0), person * 2 + address, -1), strong),
            ],
            n,
        )
        # a person's main piece: the largest (ties: the one with the earliest record)
        size = np.bincount(label, minlength=n)
        who, root = _first_per_person(np.flatnonzero(loaded), person, -size[label], label)
        main = np.full(pop.n, -1, dtype=np.int64)
        main[who] = label[root]
        in_main = loaded & (label == main[person])
        reps = np.flatnonzero(loaded & (label == np.arange(n)) & ~in_main)
        if round_ == 0:
            stats["cut_off"] = len(reps)
            # the orphans: records whose identifiers are placeholders first, then any
            pool = reps[person[reps] != 0]
            k = min(len(pool), int(round(ORPHAN_SHARE * stats["records"])))
            junk = (email_junk | phone_junk)[pool]
            exempt[pool[np.argsort(-(junk + rng.random(len(pool))), kind="stable")[:k]]] = True
            stats["orphans"] = k
        reps = reps[~exempt[reps]]
        if len(reps) == 0:
            break
        stats["rounds"] = round_ + 1
        p = person[reps]
        # what the main piece offers
        emails = np.zeros(pop.n, dtype=np.uint8)
        sel = in_main & personal
        np.bitwise_or.at(emails, person[sel], (1 << email[sel].astype(np.uint8)).astype(np.uint8))
        mobiles = np.zeros(pop.n, dtype=bool)
        mobiles[person[in_main & has_mobile]] = True
        name_dob = np.zeros(pop.n, dtype=bool)
        name_dob[person[in_main & strong & (dob == _DOB_OK)]] = True
        host = np.full(pop.n, -1, dtype=np.int64)
        who, row = _first_per_person(
            np.flatnonzero(in_main & ~personal), person, email_junk, host_rank
        )
        host[who] = row

        own = personal[reps]
        feasible = np.stack(
            [
                own & (host[p] >= 0),
                ~own & (emails[p] != 0),
                own & (emails[p] != 0),
                mobiles[p] & has_phone[reps],
                name_dob[p] & has_dob[reps],
            ],
            axis=1,
        ) & (preference[reps] > 0)
        score = np.where(feasible, preference[reps] + rng.random(feasible.shape), -1.0)
        action = np.where(feasible.any(axis=1), np.argmax(score, axis=1), _FALLBACK)
        # one hosted e-mail per person and round (the others try again next round)
        hosting = np.flatnonzero(action == _HOST)
        _, first = np.unique(p[hosting], return_index=True)
        later = np.setdiff1d(hosting, hosting[first])
        action[later] = -1

        r = reps[action == _HOST]
        h = host[person[r]]
        email[h], email_junk[h] = email[r], False
        name_fix[r[is_newsletter[r]]] = True  # a subscriber linked that way gave a full name
        r = reps[(action == _FILL_EMAIL) | (action == _SWAP_EMAIL)]
        email[r], email_junk[r] = _LOWEST_BIT[emails[person[r]]], False
        r = reps[action == _ADD_PHONE]
        phone[r], phone_junk[r] = mobile[r], False
        r = reps[action == _ADD_NAME_DOB]
        name_fix[r], name[r], dob[r] = True, _CLEAN, _DOB_OK
        # nothing personal on either side: both get the primary address
        r = reps[action == _FALLBACK]
        h = main[person[r]]
        email[r] = email[h] = _PRIMARY
        email_junk[r] = email_junk[h] = False
        for code, key in enumerate(repairs):
            stats[key] += int((action == code).sum())
    else:
        raise RuntimeError("could not link every person's records")

    start = 0
    for rec, k in zip(recs, sizes, strict=True):
        part = slice(start, start + k)
        rec.email, rec.email_junk = email[part], email_junk[part]
        rec.phone, rec.phone_junk = phone[part], phone_junk[part]
        rec.name, rec.name_fix, rec.dob = name[part], name_fix[part], dob[part]
        start += k
    log.info("evidence links: %s", stats)
    return stats


def _write_truth(ctx: _Context, pop: _Population, truth_dir: Path) -> dict[str, int]:
    voc = _vocabulary()
    # one row per person-bearing record, grouped by true person (Sophia's records come first)
    labels = [t[0] for t in ctx.truth]
    persons = np.concatenate([t[2] for t in ctx.truth]).astype(np.int64)
    source_code = np.repeat(np.arange(len(labels)), [len(t[2]) for t in ctx.truth])
    by_person = np.argsort(persons, kind="stable")  # within a person: source order, then file order
    persons, source_code = persons[by_person], source_code[by_person]
    record_ids = pc.take(pa.concat_arrays([_flat(t[1]) for t in ctx.truth]), pa.array(by_person))
    source = _take(_strs(labels), source_code)
    counts = {
        "ground_truth.csv": _write_csv(
            truth_dir / "ground_truth.csv",
            {
                "source": source,
                "source_record_id": record_ids,
                "person_id": _take(pop.person_id, persons),
                "household_id": _take(pop.household_id, pop.household[persons]),
                "is_twin": _where(pop.is_twin[persons], "true", "false"),
            },
        )
    }
    hh = pop.household
    year, month, day = _date_parts(pop.dob)
    fav = pc.binary_join_element_wise(
        *[_take(_strs(CATEGORIES), pop.favourites[:, k], null_mask=pop.n_favourites <= k) for k in range(3)],
        "|", null_handling="skip",
    )  # fmt: skip
    cur = pop.address
    digits = pc.cast(pa.array(cur.pc_number[hh]), STR)
    postcode = _where(
        pop.country == NL, _cat(digits, " ", _take(_strs(_PC_LETTERS), cur.pc_letters[hh])), digits
    )
    counts["people.csv"] = _write_csv(
        truth_dir / "people.csv",
        {
            "person_id": pop.person_id,
            "household_id": _take(pop.household_id, hh),
            "household_size": pc.cast(pa.array(pop.household_size[hh]), STR),
            "is_twin": _where(pop.is_twin, "true", "false"),
            "first_name": _take(voc.first.text, voc.first.start[pop.first]),  # canonical spelling
            "last_name": _take(voc.last.text, voc.last.start[pop.last]),
            "gender": _where(pop.gender == 1, "F", "M"),
            "date_of_birth": _fmt_date(year, month, day),
            "country": _where(pop.country == NL, "NL", "DK"),
            "street": _take(_strs(voc.streets), cur.street[hh]),
            "house_number": _take(cur.house_number(), hh),
            "postcode": postcode,
            "city": _take(_strs([c[0] for c in voc.cities]), cur.city[hh]),
            "moved_at": _null_where(pop.moved_at[hh] == 0, _fmt_ts(pop.moved_at[hh])),
            "mobile": _null_where(pop.mobile == 0, _cat("+", pc.cast(pa.array(pop.mobile), STR))),
            "landline": _null_where(
                pop.landline[hh] == 0, _cat("+", pc.cast(pa.array(pop.landline[hh]), STR))
            ),
            "email_primary": pop.emails[0],
            "email_alternative": pop.emails[1],
            "email_old": pop.emails[2],
            "family_email": _take(pop.family_email, hh),
            "favourite_categories": fav,
        },
    )
    for name, rows in counts.items():
        log.info("wrote truth %s (%d rows)", name, rows)
    return counts


# ================================================================================ public API


def generate(out_dir: Path, truth_dir: Path, people: int, seed: int = 42, as_of: date | None = None,
             progress: bool = False) -> dict[str, int]:  # fmt: skip
    """Write landing files under out_dir and ground truth under truth_dir; return {file_relative_path: rows}.

    Keys are paths relative to out_dir (e.g. "webshop/customers.csv") for the landing files and
    relative to truth_dir ("ground_truth.csv", "people.csv") for the truth. The output is
    byte-identical for the same (seed, people, as_of); as_of defaults to today and every event
    falls in the 730 days before it.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    out_dir, truth_dir = Path(out_dir), Path(truth_dir)
    as_of = as_of or date.today()
    clock = _Clock(end=(as_of - EPOCH).days * DAY)
    ctx = _Context(seed=seed, clock=clock, out_dir=out_dir, truth=[], files={})
    started = time.perf_counter()
    log.info("generating %d people (seed %d, as of %s) into %s", people, seed, as_of, out_dir)
    state: dict = {}

    def plan() -> None:
        pop = state["pop"]
        state["webshop"] = _webshop_plan(ctx, pop)
        state["newsletter"] = _newsletter_plan(ctx, pop, state["webshop"].primary >= 0)
        state["customer_service"] = _customer_service_plan(ctx, pop)
        state["loyalty"] = _loyalty_plan(ctx, pop)

    def link() -> None:
        plans = [state[k] for k in ("webshop", "loyalty", "newsletter", "customer_service")]
        on_phone = [None, None, None, state["customer_service"].channel <= 1]
        _link_records(ctx.rng(60), state["pop"], [p.rec for p in plans], on_phone)

    steps = {
        "population": lambda: state.update(pop=_build_population(people, seed, clock)),
        "plan": plan,
        "evidence links": link,
        "webshop": lambda: state.update(shop=_webshop_write(ctx, state["pop"], state["webshop"])),
        "newsletter": lambda: _newsletter_write(ctx, state["pop"], state["newsletter"]),
        "customer_service": lambda: _customer_service_write(
            ctx, state["pop"], state["customer_service"]
        ),
        "web_analytics": lambda: _web_analytics(ctx, state["pop"], state["shop"]),
        "loyalty": lambda: _loyalty_write(ctx, state["pop"], state["loyalty"]),
        "ground_truth": lambda: ctx.files.update(_write_truth(ctx, state["pop"], truth_dir)),
    }
    redirect = logging_redirect_tqdm() if progress else contextlib.nullcontext()
    with (
        redirect,
        tqdm(total=len(steps), desc="demo data", unit="step", disable=not progress) as bar,
    ):
        for name, step in steps.items():
            bar.set_postfix_str(name)
            t = time.perf_counter()
            step()
            log.debug("%s took %.1fs", name, time.perf_counter() - t)
            bar.update()
    log.info("generated %d people in %.1fs", people, time.perf_counter() - started)
    return ctx.files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate the demo landing files and their ground truth."
    )
    parser.add_argument(
        "--people", type=int, default=10_000, help="number of true people (100 - 1,000,000)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("data/landing"), help="landing folder")
    parser.add_argument(
        "--truth", type=Path, default=Path("data/ground_truth"), help="ground-truth folder"
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD, default today"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    files = generate(
        args.out,
        args.truth,
        args.people,
        seed=args.seed,
        as_of=args.as_of,
        progress=not args.no_progress,
    )
    log.info("%d files, %d rows", len(files), sum(files.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
