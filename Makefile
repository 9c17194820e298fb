# The two commands: `make run` and `make test`. Everything else is what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The stamp names the pyproject's digest, so a changed dependency list reinstalls.
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)

# Test peers from npm (a real OpenID Connect provider), installed exactly as locked; again only when
# the lock file changed.
OIDC_PEER := tests/peers/oidc
PEERS_STAMP := $(OIDC_PEER)/node_modules/.installed-$(shell sha256sum $(OIDC_PEER)/package-lock.json | cut -c1-16)

.PHONY: install peers run test lint typecheck migrations-check security pytest clean demo-reports

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

$(PEERS_STAMP): $(OIDC_PEER)/package-lock.json
	cd $(OIDC_PEER) && npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(OIDC_PEER)/node_modules/.installed-*
	@touch $@

peers: $(PEERS_STAMP)

install: $(STAMP) peers

# Web (gunicorn), Celery worker and Celery beat on http://127.0.0.1:8000; Ctrl-C stops all three.
# Embedded default (SQLite + filesystem broker in ./data) unless DATABASE_URL / REDIS_URL are set.
run: install
	DJANGO_SETTINGS_MODULE=hansken_governance.settings.local $(BIN)/python -m tools.run_all

# The whole suite plus ruff, mypy and makemigrations --check. Against DATABASE_URL / REDIS_URL when set.
test: install lint typecheck migrations-check security pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

# bandit on the shipped code (config: [tool.bandit] in pyproject.toml); any finding not marked fails.
security: install
	$(BIN)/bandit -c pyproject.toml -r . -q

migrations-check: install
	DJANGO_SETTINGS_MODULE=hansken_governance.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# The suite's own results as JUnit XML (git ignores reports/), one file per database, so CI's two
# runs keep both: what a release of this project would publish as its test reports.
JUNIT_XML ?= reports/pytest-$(if $(DATABASE_URL),postgresql,sqlite).xml
pytest: install
	DJANGO_SETTINGS_MODULE=hansken_governance.settings.test $(BIN)/pytest --junitxml=$(JUNIT_XML) \
		-o junit_family=xunit2 $(PYTEST_ARGS)

# The demo's release (seed_demo) shows this project's own reports, committed in test_reports/demo/ so
# that a fresh machine has them without running the suite. This remakes them from real runs, one per
# kind: unit = the test files that need no database, integration = the API and page tests of
# the release reports and hashtotals, regression = every browser test (Chromium).
UNIT_TESTS := tests/test_reports_parsing.py tests/test_hashtotals_readers.py tests/test_siem_formats.py \
	tests/test_authz_batch_parsing.py tests/test_authz_batch_body.py tests/test_service_errors.py
INTEGRATION_TESTS := tests/test_reports_api.py tests/test_reports_pages.py \
	tests/test_reports_permission_matrix.py tests/test_hashtotals_api.py
demo-reports: install
	-DJANGO_SETTINGS_MODULE=hansken_governance.settings.test $(BIN)/pytest -q -p no:cacheprovider \
		--junitxml=test_reports/demo/unit.xml -o junit_family=xunit2 $(UNIT_TESTS)
	-DJANGO_SETTINGS_MODULE=hansken_governance.settings.test $(BIN)/pytest -q -p no:cacheprovider \
		--junitxml=test_reports/demo/integration.xml -o junit_family=xunit2 $(INTEGRATION_TESTS)
	-DJANGO_SETTINGS_MODULE=hansken_governance.settings.test $(BIN)/pytest -q -p no:cacheprovider \
		--junitxml=test_reports/demo/browser.xml -o junit_family=xunit2 tests/browser

clean:
	rm -rf $(VENV) data reports .pytest_cache .mypy_cache .ruff_cache $(OIDC_PEER)/node_modules
