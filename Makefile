# Two commands on a fresh machine: `make demo` and `make test` (Python 3.11+, make, git).
PYTHON ?= python3
PEOPLE ?= 100000
DEMO_PEOPLE ?= 10000
RUNS ?= 3
VENV := .venv
UV := .uv/bin/uv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install parse demo run test test-fast ui bench bench-exports lint format clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --extra dev --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed  ## install everything from the lock file

parse: install  ## build the dbt manifest
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .

demo: install  ## generate 10k people, run the daily job, print a summary
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/cdp generate --people $(DEMO_PEOPLE)
	$(BIN)/cdp run

run: install
	$(BIN)/cdp run

test: parse  ## the whole test suite
	$(BIN)/pytest -q -n 2 --dist loadgroup

test-fast: parse
	$(BIN)/pytest -q -m "not slow"

ui: install  ## Dagster UI on http://127.0.0.1:3000
	@mkdir -p $(DAGSTER_HOME) && cp -n config/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: install  ## make bench PEOPLE=1000000
	$(BIN)/cdp bench --people $(PEOPLE) --runs $(RUNS)

bench-exports: install  ## full file export of a 500k audience at 1M people vs a 1% delta day
	$(BIN)/python -m dagster_project.exports.benchmark --people 1000000 --members 500000 --runs $(RUNS)

lint: install
	$(BIN)/ruff check dagster_project tests
	$(BIN)/ruff format --check dagster_project tests

format: install
	$(BIN)/ruff format dagster_project tests
	$(BIN)/ruff check --fix dagster_project tests

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
