"""Start dagster-webserver on 127.0.0.1 with workspace.yaml and ask its GraphQL API, as a client would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dagster_project.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        jobs { name }
        schedules { name cronSchedule executionTimezone }
        sensors { name }
      }
    }
  }
  assetNodes { assetKey { path } groupName hasAssetChecks }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    (tmp_path / "dagster_home").mkdir()
    exe = Path(sys.executable).with_name("dagster-webserver")
    log = open(tmp_path / "webserver.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [str(exe), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _query(url: str) -> dict:
    deadline = time.monotonic() + 120
    while True:  # the code location loads in the background after the server answers
        data = requests.post(f"{url}/graphql", json={"query": QUERY}, timeout=60).json()["data"]
        repos = data["repositoriesOrError"].get("nodes")
        if repos or time.monotonic() > deadline:
            return data
        time.sleep(2)


def test_graphql_lists_assets_checks_job_and_schedule(webserver):
    data = _query(webserver)
    assert data["repositoriesOrError"].get("nodes"), f"code location did not load: {data}"
    repo = data["repositoriesOrError"]["nodes"][0]
    assert "daily" in {j["name"] for j in repo["jobs"]}
    schedule = {s["name"]: s for s in repo["schedules"]}["daily_schedule"]
    assert (schedule["cronSchedule"], schedule["executionTimezone"]) == (
        "0 6 * * *",
        "Europe/Amsterdam",
    )
    assert "landing_files_sensor" in {s["name"] for s in repo["sensors"]}
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    assert "webshop/customers" in nodes and "identity/person_map" in nodes
    assert nodes["profiles/customer_profiles"]["groupName"] == "profiles"
    assert nodes["profiles/customer_profiles"]["hasAssetChecks"]
    assert {n["groupName"] for n in nodes.values()} >= {
        "sources",
        "staging",
        "identity",
        "profiles",
        "audiences",
        "exports",
    }
