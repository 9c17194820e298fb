"""The production shape without a Docker engine: docker-compose.yml and the Dockerfile read as data,
and the production settings run for real in subprocesses (they fail closed at import, so each case
needs a fresh interpreter)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.healthcheck import CHECKS

REPO = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_VARIABLES = (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "POSTGRES_PASSWORD",
    "HG_DB_OWNER_PASSWORD",
    "HG_DB_RUNTIME_PASSWORD",
    "REDIS_PASSWORD",
)
VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::([?-])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    text = (REPO / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip()]


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's own substitution: ``${X:?message}`` is required, ``${X:-default}`` has a default."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise LookupError(f"{name}: {rest}")
        return rest if kind == "-" else ""

    return VARIABLE.sub(substitute, value)


def _command(service: dict[str, Any]) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def _base_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: nothing of this machine's DATABASE_URL, REDIS_URL or Django settings."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "hansken_governance.settings.production",
        "HG_DATA_DIR": str(tmp_path / "data"),
    }


def _production_env(tmp_path: Path) -> dict[str, str]:
    return {
        **_base_env(tmp_path),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "governance.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # Only read, never connected to, by `check`.
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# docker-compose.yml


def test_compose_has_the_six_services_on_the_right_images(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    images = {services[name]["image"] for name in (*APP_SERVICES, "migrate")}
    assert len(images) == 1  # one image for the three processes and the migration
    assert all(services[name]["build"] == "." for name in (*APP_SERVICES, "migrate"))


def test_compose_runs_the_ordinary_processes(compose):
    services = compose["services"]
    assert "gunicorn hansken_governance.wsgi --bind 0.0.0.0:8000 --worker-class sync" in _command(
        services["web"]
    )
    # Migrations finish (as the owner, in their own one-shot service) before gunicorn starts.
    assert _command(services["migrate"]) == "python manage.py migrate --noinput"
    assert services["migrate"]["restart"] == "no"
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "migrate" not in _command(services["web"])
    assert _command(services["worker"]).startswith("celery -A hansken_governance worker")
    beat = _command(services["beat"])
    assert beat.startswith("celery -A hansken_governance beat")
    schedule = beat.split("--schedule ")[1].split()[0]
    assert any(schedule.startswith(mount.split(":")[1] + "/") for mount in services["beat"]["volumes"])


def test_every_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name == "migrate":  # runs to completion; the web waits for that instead
            assert service["healthcheck"] == {"disable": True}
            continue
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and len(test) > 1, name
        assert service["healthcheck"]["interval"], name
    for name in APP_SERVICES:
        test = compose["services"][name]["healthcheck"]["test"]
        assert test[1:4] == ["python", "-m", "tools.healthcheck"], name
        assert test[4] == name and test[4] in CHECKS


def test_state_lives_in_named_volumes(compose):
    declared = set(compose["volumes"])
    assert declared == {"postgres-data", "redis-data", "beat-data", "audit-checkpoints", "hashtotals-data"}
    mounts = {
        (mount.split(":")[0], name, mount.split(":")[1])
        for name, service in compose["services"].items()
        for mount in service.get("volumes", [])
        if not mount.startswith("./")
    }
    assert mounts == {
        ("postgres-data", "postgres", "/var/lib/postgresql/data"),
        ("redis-data", "redis", "/data"),
        ("beat-data", "beat", "/app/data/beat"),
        # One checkpoint file for the worker that writes it and the web that verifies against it.
        ("audit-checkpoints", "web", "/app/data/checkpoints"),
        ("audit-checkpoints", "worker", "/app/data/checkpoints"),
        ("hashtotals-data", "web", "/app/data/hashtotals"),
    }


def test_the_checkpoint_file_lies_on_the_shared_volume_and_the_app_user_owns_its_folder(compose, dockerfile):
    for name in ("web", "worker"):
        checkpoint_file = compose["services"][name]["environment"]["HG_AUDIT_CHECKPOINT_FILE"]
        assert checkpoint_file == "/app/data/checkpoints/audit-checkpoints.log", name
    runs = " ".join(line for line in dockerfile if line.startswith("RUN "))
    assert "mkdir -p /app/data/beat /app/data/checkpoints" in runs
    assert "chown hansken:hansken /app/data/beat /app/data/checkpoints" in runs
    # The processes run as that user (the last USER), which a new named volume's folder then belongs to.
    assert [line for line in dockerfile if line.startswith("USER ")][-1] == "USER hansken"


def test_the_database_roles_are_an_owner_for_migrate_and_a_runtime_role_for_the_processes(compose):
    """The postgres service runs the role set-up once (tests/test_production_roles.py runs the same
    file against a real server); migrate connects as the owner, the three processes as the runtime
    role, and none of them as the superuser."""
    services = compose["services"]
    postgres = services["postgres"]
    assert (
        "./deploy/postgres/init-roles.sql:/docker-entrypoint-initdb.d/10-init-roles.sql:ro"
        in postgres["volumes"]
    )
    assert (REPO / "deploy" / "postgres" / "init-roles.sql").is_file()
    owner, runtime = postgres["environment"]["HG_DB_OWNER"], postgres["environment"]["HG_DB_RUNTIME"]
    superuser = postgres["environment"]["POSTGRES_USER"]
    assert len({owner, runtime, superuser}) == 3
    samples = {name: "x" for name in REQUIRED_VARIABLES}
    assert interpolate(services["migrate"]["environment"]["DATABASE_URL"], samples).startswith(
        f"postgres://{owner}:"
    )
    for name in APP_SERVICES:
        url = interpolate(services[name]["environment"]["DATABASE_URL"], samples)
        assert url.startswith(f"postgres://{runtime}:"), name
    # The owner's password reaches only the migration and the set-up.
    for name, service in services.items():
        text = " ".join(str(value) for value in service.get("environment", {}).values())
        assert ("HG_DB_OWNER_PASSWORD" in text) == (name in {"migrate", "postgres"}), name


def test_processes_start_only_after_what_they_need_is_healthy(compose):
    services = compose["services"]
    expected = {
        "migrate": {"postgres"},
        "web": {"postgres", "redis"},
        "worker": {"postgres", "redis", "web"},
        "beat": {"postgres", "redis", "web"},
    }
    for name, needs in expected.items():
        depends_on = dict(services[name]["depends_on"])
        if name == "web":  # and after the migration has run to completion
            assert depends_on.pop("migrate") == {"condition": "service_completed_successfully"}
        assert set(depends_on) == needs, name
        assert {d["condition"] for d in depends_on.values()} == {"service_healthy"}, name


def test_the_app_runs_with_production_settings_and_required_secrets(compose):
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "hansken_governance.settings.production"
        # Compose refuses to start without the required secrets ...
        for variable in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
            with pytest.raises(LookupError):
                interpolate(env[variable], {})
    # ... and the file holds no secret of its own: every password or secret comes from a variable.
    text = (REPO / "docker-compose.yml").read_text()
    for variable in REQUIRED_VARIABLES:
        assert f"${{{variable}:?" in text
    for service in compose["services"].values():
        for key, value in service.get("environment", {}).items():
            if any(word in key for word in ("SECRET", "PASSWORD", "AUTH")):
                assert str(value).startswith("${"), key
    assert not re.search(r"://[^:$]*:[^$@]+@", text)  # no literal password in a URL


def test_the_compose_environment_passes_the_deployment_checks(compose, tmp_path):
    """The web's environment as compose would give it (with sample secrets) satisfies the production
    settings, including ``check --deploy``. (Checks do not connect to the database.)"""
    samples = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "governance.example.org",
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "HG_DB_OWNER_PASSWORD": secrets.token_hex(16),
        "HG_DB_RUNTIME_PASSWORD": secrets.token_hex(16),
        "REDIS_PASSWORD": secrets.token_hex(16),
    }
    environment = compose["services"]["web"]["environment"]
    env = {**_base_env(tmp_path), **{k: interpolate(str(v), samples) for k, v in environment.items()}}
    assert env["DATABASE_URL"].startswith("postgres://hansken:")  # the runtime role
    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


# Dockerfile


def test_dockerfile_builds_a_non_root_gunicorn_image(dockerfile):
    assert dockerfile[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in dockerfile if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    last_run = max(i for i, line in enumerate(dockerfile) if line.startswith("RUN "))
    last_user = max(i for i, line in enumerate(dockerfile) if line.startswith("USER "))
    assert last_user > last_run  # nothing after the switch runs as root
    runs = " ".join(line for line in dockerfile if line.startswith("RUN "))
    assert "pip install --no-deps ." in runs
    assert "manage.py collectstatic --noinput" in runs
    healthcheck = next(line for line in dockerfile if line.startswith("HEALTHCHECK "))
    assert '"tools.healthcheck", "web"' in healthcheck
    cmd = next(line for line in dockerfile if line.startswith("CMD "))
    assert cmd.startswith('CMD ["gunicorn", "hansken_governance.wsgi"')
    assert "ENV" in " ".join(
        dockerfile
    ) and "DJANGO_SETTINGS_MODULE=hansken_governance.settings.production" in (" ".join(dockerfile))


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "data", ".env", "*.sqlite3", "tests"} <= ignored


# The production settings, for real


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"]
)
def test_production_settings_refuse_to_start_without(missing, tmp_path):
    env = _production_env(tmp_path)
    del env[missing]
    result = _manage(env, "check")
    assert result.returncode != 0
    assert missing in result.stderr
    assert "MissingSetting" in result.stderr


def test_production_settings_read_the_secret_key_from_a_file(tmp_path):
    key = secrets.token_urlsafe(50)
    key_file = tmp_path / "secret_key"
    key_file.write_text(key + "\n")
    env = _production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    env["DJANGO_SECRET_KEY_FILE"] = str(key_file)
    show = (
        "import hashlib; from django.conf import settings; "
        "print(hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest())"
    )

    result = _manage(env, "shell", "--no-imports", "-c", show)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == hashlib.sha256(key.encode()).hexdigest()

    env["DJANGO_SECRET_KEY_FILE"] = str(tmp_path / "absent")
    result = _manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY_FILE" in result.stderr


def test_demo_data_is_refused_under_production_settings(tmp_path):
    result = _manage(_production_env(tmp_path), "seed_demo")
    assert result.returncode != 0
    assert "refuses to run with the production settings" in result.stderr


def test_the_containers_web_health_check_passes_host_checks_and_https_redirect(tmp_path):
    """The HEALTHCHECK command against gunicorn on the production settings: a plain probe would get
    400 (unknown host) or a redirect to HTTPS; the check must get 200, and fail once it is down."""
    env = _production_env(tmp_path)
    env["DJANGO_ALLOWED_HOSTS"] = ".example.org"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env["HG_PORT"] = str(port)
    health = [sys.executable, "-m", "tools.healthcheck", "web"]
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "hansken_governance.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "-w",
            "1",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            result = subprocess.run(health, cwd=REPO, env=env, capture_output=True, text=True, check=False)
            if result.returncode == 0 or time.monotonic() > deadline or web.poll() is not None:
                break
            time.sleep(0.5)
        assert result.returncode == 0, result.stdout
        assert result.stdout.strip() == "web: healthy: /healthz answered 200"
        with pytest.raises(urllib.error.HTTPError) as plain:  # what a naive probe would get
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert plain.value.code == 400
    finally:
        web.terminate()
        web.wait(timeout=30)
    result = subprocess.run(health, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "unhealthy" in result.stdout


# README.md


def test_the_readme_documents_every_setting_read_from_the_environment():
    settings_text = "".join(p.read_text() for p in (REPO / "hansken_governance" / "settings").glob("*.py"))
    names = set(re.findall(r"env_\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", settings_text))
    names |= {"SIEM_HOST", "SIEM_PORT", "SIEM_TRANSPORT", "SIEM_FORMAT", "SIEM_CA_FILE"}  # the contract's
    names |= {"DJANGO_SETTINGS_MODULE", "HG_PORT", "WEB_CONCURRENCY"}  # read outside the settings
    names |= set(re.findall(r"\$\{(\w+)", (REPO / "docker-compose.yml").read_text()))
    assert len(names) > 30
    readme = (REPO / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", readme, re.MULTILINE))
    assert not sorted(names - documented), "settings missing from the README's table"
    assert "`make run`" in readme and "`make test`" in readme
    assert "/api/schema/" in readme and "/api/docs/" in readme
