import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_mistyped_boolean_is_named():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-" + "k7Hq2" * 10,
        ALLOWED_HOSTS="opsintel.example.org",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_flags_a_production_server_left_on_http():
    result = run_manage(
        "check",
        "--deploy",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-" + "k7Hq2" * 10,
        ALLOWED_HOSTS="opsintel.example.org",
        SECURE_SSL_REDIRECT="0",
    )
    assert "security.W008" in result.stderr + result.stdout


def test_a_local_env_file_fills_in_but_never_overrides(tmp_path, monkeypatch):
    from opsintel.settings import read_env_file

    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nOPSINTEL_TEST_A=from-file\nOPSINTEL_TEST_B = file\n")
    monkeypatch.delenv("OPSINTEL_TEST_A", raising=False)
    monkeypatch.setenv("OPSINTEL_TEST_B", "from-environment")
    read_env_file(env_file)
    assert os.environ["OPSINTEL_TEST_A"] == "from-file"
    assert os.environ["OPSINTEL_TEST_B"] == "from-environment"
    monkeypatch.delenv("OPSINTEL_TEST_A")
