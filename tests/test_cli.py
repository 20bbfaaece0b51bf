"""The `cdp` console script: every subcommand has --help; generate writes files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.bench import stage_of
from dagster_project.cli import build_parser, main

CDP = str(Path(sys.executable).with_name("cdp"))


@pytest.mark.parametrize("command", [[], ["generate"], ["run"], ["bench"]])
def test_every_subcommand_has_help(command):
    proc = subprocess.run([CDP, *command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: cdp" in proc.stdout


def test_generate_writes_landing_files_and_ground_truth(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--people",
                "200",
                "--quiet",
                "--out",
                str(tmp_path / "l"),
                "--truth",
                str(tmp_path / "t"),
            ]
        )
        == 0
    )
    assert (tmp_path / "t" / "ground_truth.csv").exists()
    assert (tmp_path / "l" / "webshop" / "customers.csv").exists()
    assert "generated 200 people" in capsys.readouterr().out


def test_unknown_subcommand_is_a_usage_error():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fly"])


@pytest.mark.parametrize(
    ("step", "stage"),
    [
        ("webshop__customers", "load sources"),
        ("cdp_dbt_models_2", "dbt"),
        ("identity__person_map", "identity"),
        ("audiences__cart_abandoners", "audiences"),
        ("exports__serving_copy", "exports"),
    ],
)
def test_bench_groups_steps_into_stages(step, stage):
    assert stage_of(step) == stage
