"""legato config and legato profile."""

from __future__ import annotations

import tomllib

import pytest

from legato.settings import SETTINGS


def test_config_set_view_unset(invoke, home):
    result = invoke("config", "set", "LEGATO_LOGGING_LEVEL=debug", "recorder.max_batch_size=50")

    assert result.exit_code == 0, result.output
    assert "Set 'LEGATO_LOGGING_LEVEL' to 'DEBUG'." in result.stdout
    assert "Updated profile 'default'." in result.stdout
    stored = tomllib.loads((home / "profiles.toml").read_text())
    assert stored["profiles"]["default"] == {
        "LEGATO_LOGGING_LEVEL": "DEBUG",
        "LEGATO_RECORDER_MAX_BATCH_SIZE": 50,
    }

    view = invoke("config", "view", "--show-sources")
    assert "PROFILE = 'default'" in view.stdout
    assert (
        f"LEGATO_LOGGING_LEVEL='DEBUG' (from profile: default ({home / 'profiles.toml'}))"
        in view.stdout
    )
    assert "LEGATO_API_URL" not in view.stdout

    assert invoke("config", "unset", "LEGATO_LOGGING_LEVEL").exit_code == 0
    assert "LEGATO_LOGGING_LEVEL" not in invoke("config", "view").stdout


def test_config_view_show_defaults(invoke, home):
    lines = invoke("config", "view", "--show-defaults", "--show-sources").stdout.splitlines()

    assert "LEGATO_RECORDER_MAX_BATCH_SIZE='10000' (from default)" in lines
    assert f"LEGATO_HOME='{home}' (from environment)" in lines
    assert len(lines) == 1 + len(SETTINGS)  # the profile line, then every setting once


def test_config_view_masks_secrets(invoke):
    invoke("config", "set", "LEGATO_API_AUTH_STRING=admin:hunter2")

    assert "LEGATO_API_AUTH_STRING='********'" in invoke("config", "view").stdout
    assert "hunter2" in invoke("config", "view", "--show-secrets").stdout


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        (
            "LEGATO_LOGING_LEVEL=DEBUG",
            "Unknown setting 'LEGATO_LOGING_LEVEL'. Did you mean 'LEGATO_LOGGING_LEVEL'?",
        ),
        (
            "LEGATO_API_URL=localhost:4200",
            "is not an http(s) URL; set it like 'http://127.0.0.1:4200/api'",
        ),
        ("LEGATO_RECORDER_MAX_BATCH_SIZE=0", "must be at least 1"),
        ("LEGATO_HOME=/x", "export LEGATO_HOME"),
        ("LEGATO_LOGGING_LEVEL", "is not KEY=VALUE"),
    ],
)
def test_config_set_refuses_bad_input_in_one_red_line(invoke, home, assignment, message):
    result = invoke("config", "set", assignment)

    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (home / "profiles.toml").exists()


def test_config_set_warns_when_the_environment_wins(invoke, monkeypatch):
    monkeypatch.setenv("LEGATO_LOGGING_LEVEL", "ERROR")

    result = invoke("config", "set", "LEGATO_LOGGING_LEVEL=DEBUG")

    assert "also set in the environment, which takes precedence" in result.stderr


def test_config_unset_of_a_missing_key(invoke):
    result = invoke("config", "unset", "LEGATO_API_URL")

    assert result.exit_code == 1
    assert "LEGATO_API_URL is not set in profile 'default'" in result.stderr


def test_a_corrupt_profiles_file_is_reported_not_raised(invoke, home):
    home.mkdir()
    (home / "profiles.toml").write_text("active = 'default'\n[profiles.default\n")

    result = invoke("config", "view")

    assert result.exit_code == 1
    assert f"{home / 'profiles.toml'} is not valid TOML" in result.stderr
    assert "line 2" in result.stderr


def test_profile_lifecycle(invoke, home):
    invoke("config", "set", "LEGATO_LOGGING_LEVEL=WARNING")
    assert invoke("profile", "create", "dev", "--from", "default").exit_code == 0
    assert invoke("profile", "create", "ci").exit_code == 0

    result = invoke("profile", "use", "dev")
    assert "Now using profile 'dev'." in result.stdout
    assert invoke("profile", "ls").stdout.splitlines() == ["  ci", "  default", "* dev"]
    assert invoke("profile", "inspect").stdout == "LEGATO_LOGGING_LEVEL='WARNING'\n"
    assert invoke("profile", "inspect", "ci").stdout == "Profile 'ci' is empty.\n"
    assert "PROFILE = 'dev'" in invoke("config", "view").stdout

    assert invoke("profile", "rename", "dev", "staging").exit_code == 0
    assert "* staging" in invoke("profile", "ls").stdout
    assert invoke("profile", "delete", "ci").exit_code == 0
    assert invoke("profile", "ls").stdout.splitlines() == ["  default", "* staging"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("profile", "use", "prod"), "Profile 'prod' not found"),
        (("profile", "delete", "default"), "Profile 'default' is active"),
        (("profile", "create", "default"), "already exists"),
        (("profile", "inspect", "nope"), "Profile 'nope' not found"),
        (("profile", "rename", "nope", "x"), "Profile 'nope' not found"),
    ],
)
def test_profile_errors_are_one_red_line(invoke, args, message):
    invoke("config", "set", "LEGATO_LOGGING_LEVEL=WARNING")  # the file exists

    result = invoke(*args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or "Did you mean" in result.stderr


def test_profile_use_warns_when_legato_profile_is_set(invoke, monkeypatch):
    invoke("profile", "create", "dev")
    monkeypatch.setenv("LEGATO_PROFILE", "default")

    result = invoke("profile", "use", "dev")

    assert "LEGATO_PROFILE='default' is set in the environment" in result.stderr
