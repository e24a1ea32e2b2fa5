"""Settings: sources and their precedence, profiles, overrides, validation."""

from __future__ import annotations

import contextvars
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.exceptions import ConfigurationError
from legato.settings import (
    SETTINGS,
    Profiles,
    clear_settings_cache,
    create_profile,
    delete_profile,
    format_value,
    get_current_settings,
    load_profiles,
    load_settings,
    rename_profile,
    resolve_setting_name,
    save_profiles,
    set_profile_values,
    settings_sources,
    temporary_settings,
    unset_profile_values,
    use_profile,
)
from legato.settings.profiles import dump_profiles


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def write_profiles(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "profiles.toml"
    path.write_text(text)
    return path


def load(home: Path, cwd: Path, **env: str):
    return load_settings(environ={"LEGATO_HOME": str(home), **env}, cwd=cwd)


# -- defaults and the tree -----------------------------------------------------


def test_defaults(home, cwd):
    settings = load(home, cwd)

    assert settings.home == home
    assert settings.profile == "default"
    assert settings.database_path == home / "legato.db"
    assert settings.database.url is None
    assert settings.api.url is None
    assert settings.logging.level == "INFO"
    assert settings.logging.setup is True
    assert settings.logging.log_prints is False
    assert settings.recorder.flush_interval_seconds == 0.5
    assert settings.recorder.max_batch_size == 10_000
    assert settings.flows.default_retries == 0
    assert settings.tasks.default_retry_delay_seconds == 0.0
    assert settings.task_runner.thread_pool_max_workers is None
    assert settings.results.persist_by_default is False
    assert settings.results.local_storage_path == home / "storage"


def test_home_defaults_to_dot_legato_in_the_user_folder(cwd):
    settings = load_settings(environ={}, cwd=cwd)

    assert settings.home == Path("~/.legato").expanduser()


def test_settings_are_immutable_values(home, cwd):
    settings = load(home, cwd)

    with pytest.raises(AttributeError, match="temporary_settings"):
        settings.logging.level = "DEBUG"  # type: ignore[misc]
    assert settings == load(home, cwd)
    assert settings != load(home, cwd, LEGATO_LOGGING_LEVEL="DEBUG")
    assert "level='INFO'" in repr(settings)


def test_every_setting_is_documented_and_named_after_its_path():
    for name, spec in SETTINGS.items():
        assert spec.doc
        assert name == "LEGATO_" + "_".join(spec.path).upper()


def test_environment_variables_round_trip(home, cwd):
    settings = load(home, cwd, LEGATO_API_URL="http://h:1/api", LEGATO_RECORDER_MAX_BATCH_SIZE="7")

    assert load_settings(environ=settings.to_environment_variables(), cwd=cwd) == settings


def test_to_dict_nests_sections(home, cwd):
    data = load(home, cwd).to_dict()

    assert data["logging"]["level"] == "INFO"
    assert data["home"] == home
    assert "sources" not in data


# -- precedence ------------------------------------------------------------------

LEVELS = {
    "override": "CRITICAL",
    "environment": "ERROR",
    "dotenv": "WARNING",
    "profile": "DEBUG",
    "pyproject": "NOTSET",
}


def _setup_sources(
    home: Path, cwd: Path, present: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    environ = {"LEGATO_HOME": str(home)}
    overrides = {}
    if "override" in present:
        overrides["LEGATO_LOGGING_LEVEL"] = LEVELS["override"]
    if "environment" in present:
        environ["LEGATO_LOGGING_LEVEL"] = LEVELS["environment"]
    if "dotenv" in present:
        (cwd / ".env").write_text(f"LEGATO_LOGGING_LEVEL={LEVELS['dotenv']}\n")
    if "profile" in present:
        write_profiles(home, f'[profiles.default]\nLEGATO_LOGGING_LEVEL = "{LEVELS["profile"]}"\n')
    if "pyproject" in present:
        text = f'[tool.legato.logging]\nlevel = "{LEVELS["pyproject"]}"\n'
        (cwd / "pyproject.toml").write_text(text)
    return environ, overrides


@pytest.mark.parametrize("winner", [*LEVELS, "default"])
def test_each_source_beats_the_next(home, cwd, winner):
    # Given the winner and every source below it set, each to a different value
    order = [*LEVELS, "default"]
    present = order[order.index(winner) :]
    environ, overrides = _setup_sources(home, cwd, [s for s in present if s != "default"])

    settings = load_settings(environ=environ, cwd=cwd, overrides=overrides)

    assert settings.logging.level == LEVELS.get(winner, "INFO")
    assert settings_sources(settings)["LEGATO_LOGGING_LEVEL"].source == winner


def test_sources_name_their_file(home, cwd):
    _setup_sources(home, cwd, ["profile"])
    (cwd / ".env").write_text("LEGATO_API_AUTH_STRING=a:b\n")

    sources = settings_sources(load(home, cwd))

    assert sources["LEGATO_LOGGING_LEVEL"].location == f"default ({home / 'profiles.toml'})"
    assert sources["LEGATO_API_AUTH_STRING"].location == str(cwd / ".env")
    assert sources["LEGATO_API_AUTH_STRING"].value == "a:b"
    assert sources["LEGATO_HOME"].source == "environment"
    assert sources["LEGATO_PROFILE"].source == "profile"


def test_pyproject_uses_nested_tables(home, cwd):
    (cwd / "pyproject.toml").write_text(
        "[tool.legato]\n[tool.legato.task_runner]\nthread_pool_max_workers = 3\n"
        "[tool.legato.results]\npersist_by_default = true\n"
    )

    settings = load(home, cwd)

    assert settings.task_runner.thread_pool_max_workers == 3
    assert settings.results.persist_by_default is True


def test_unknown_pyproject_key_suggests_the_dotted_name(home, cwd):
    (cwd / "pyproject.toml").write_text("[tool.legato.logging]\nlevl = 'DEBUG'\n")

    with pytest.raises(ConfigurationError, match=r"'logging.levl'.*Did you mean 'logging.level'"):
        load(home, cwd)


def test_a_pyproject_of_another_project_is_not_parsed(home, cwd):
    (cwd / "pyproject.toml").write_text("this is = not [ valid toml")

    assert load(home, cwd).logging.level == "INFO"


def test_empty_environment_value_means_none_for_optional_settings(home, cwd):
    write_profiles(home, '[profiles.default]\nLEGATO_API_URL = "http://server:4200/api"\n')

    settings = load(home, cwd, LEGATO_API_URL="", LEGATO_LOGGING_LEVEL="")

    assert settings.api.url is None
    assert settings.logging.level == "INFO"


def test_unknown_environment_variables_are_ignored(home, cwd):
    assert load(home, cwd, LEGATO_NOT_A_SETTING="1").logging.level == "INFO"


@pytest.mark.parametrize("where", ["dotenv", "profile", "pyproject"])
def test_bootstrap_settings_come_from_the_environment_only(home, cwd, where):
    if where == "dotenv":
        (cwd / ".env").write_text("LEGATO_HOME=/elsewhere\n")
    elif where == "profile":
        write_profiles(home, '[profiles.default]\nLEGATO_PROFILE = "x"\n')
    else:
        (cwd / "pyproject.toml").write_text("[tool.legato]\nhome = '/elsewhere'\n")

    with pytest.raises(ConfigurationError, match="environment only"):
        load(home, cwd)


# -- validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "LEGATO_API_URL",
            "ftp://x",
            r"LEGATO_API_URL='ftp://x' \(from the environment\) is not an http\(s\) URL; set it like 'http://127.0.0.1:4200/api'",
        ),
        ("LEGATO_API_URL", "localhost:4200", "not an http"),
        ("LEGATO_RECORDER_FLUSH_INTERVAL_SECONDS", "0", "must be greater than 0"),
        ("LEGATO_RECORDER_FLUSH_INTERVAL_SECONDS", "nan", "is not a number"),
        ("LEGATO_RECORDER_MAX_BATCH_SIZE", "0", "must be at least 1"),
        ("LEGATO_RECORDER_MAX_BATCH_SIZE", "many", "is not an integer"),
        ("LEGATO_FLOWS_DEFAULT_RETRIES", "-1", "must be at least 0"),
        ("LEGATO_LOGGING_LEVEL", "LOUD", "is not a logging level"),
        ("LEGATO_LOGGING_SETUP", "maybe", "is not a boolean"),
        ("LEGATO_DATABASE_URL", "legato.db", "is not a database URL"),
    ],
)
def test_bad_values_name_the_setting_the_value_and_the_fix(home, cwd, name, value, message):
    with pytest.raises(ConfigurationError, match=message) as caught:
        load(home, cwd, **{name: value})

    assert f"Fix or unset the environment variable {name}." in str(caught.value)


def test_a_bad_profile_value_says_how_to_change_it(home, cwd):
    write_profiles(home, "[profiles.default]\nLEGATO_RECORDER_MAX_BATCH_SIZE = -3\n")

    with pytest.raises(
        ConfigurationError, match="legato config unset LEGATO_RECORDER_MAX_BATCH_SIZE"
    ):
        load(home, cwd)


def test_values_are_normalised(home, cwd):
    settings = load(home, cwd, LEGATO_LOGGING_LEVEL="debug", LEGATO_API_URL="https://h/api/")

    assert settings.logging.level == "DEBUG"
    assert settings.api.url == "https://h/api"


@pytest.mark.parametrize(
    ("given_name", "suggested"),
    [
        ("LEGATO_LOGING_LEVEL", "LEGATO_LOGGING_LEVEL"),
        ("LEGATO_API_ULR", "LEGATO_API_URL"),
        ("recorder.max_batch", "LEGATO_RECORDER_MAX_BATCH_SIZE"),
    ],
)
def test_unknown_names_suggest_the_closest(given_name, suggested):
    with pytest.raises(ConfigurationError, match=f"Did you mean '{suggested}'"):
        resolve_setting_name(given_name)


@pytest.mark.parametrize(
    "alias", ["LEGATO_LOGGING_LEVEL", "legato_logging_level", "logging.level", "LOGGING_LEVEL"]
)
def test_names_resolve_from_env_or_dotted_form(alias):
    assert resolve_setting_name(alias) == "LEGATO_LOGGING_LEVEL"


@given(st.sampled_from(list(SETTINGS.values())))
def test_env_name_and_field_path_round_trip(spec):
    assert resolve_setting_name(spec.name) == spec.name
    assert resolve_setting_name(spec.dotted_path) == spec.name
    assert SETTINGS[f"LEGATO_{'_'.join(spec.path).upper()}"] is spec


@given(st.data())
def test_typed_values_survive_their_string_form(data):
    spec = data.draw(
        st.sampled_from(
            [s for s in SETTINGS.values() if s.type_name in ("int", "float", "bool", "int | None")]
        )
    )
    strategy = {
        "int": st.integers(min_value=1, max_value=2**63),
        "int | None": st.none() | st.integers(min_value=1, max_value=2**63),
        "float": st.floats(min_value=1e-9, max_value=1e12, allow_nan=False),
        "bool": st.booleans(),
    }[spec.type_name]
    value = data.draw(strategy)

    assert spec.parse(format_value(value)) == value


# -- profiles ------------------------------------------------------------------------


def test_a_missing_profiles_file_is_one_empty_default_profile(home):
    profiles = load_profiles(home)

    assert profiles.active == "default"
    assert profiles.profiles == {"default": {}}
    assert not profiles.path.exists()


def test_active_profile_and_switching(home, cwd):
    write_profiles(
        home,
        'active = "dev"\n[profiles.default]\n[profiles.dev]\nLEGATO_LOGGING_LEVEL = "DEBUG"\n',
    )
    assert load(home, cwd).profile == "dev"
    assert load(home, cwd).logging.level == "DEBUG"

    # LEGATO_PROFILE beats the file's choice
    assert load(home, cwd, LEGATO_PROFILE="default").logging.level == "INFO"

    use_profile("default", home=home)
    assert load(home, cwd).profile == "default"
    assert load(home, cwd).logging.level == "INFO"


def test_an_unknown_active_profile_suggests_a_name(home, cwd):
    write_profiles(home, "[profiles.default]\n[profiles.staging]\n")

    with pytest.raises(
        ConfigurationError, match=r"Profile 'stagin' not found.*Did you mean 'staging'"
    ):
        load(home, cwd, LEGATO_PROFILE="stagin")


def test_a_corrupt_profiles_file_names_the_file_and_line(home, cwd):
    path = write_profiles(home, 'active = "default"\n[profiles.default\n')

    with pytest.raises(ConfigurationError, match=rf"{path} is not valid TOML: .*line 2"):
        load(home, cwd)


def test_an_unknown_setting_in_a_profile_suggests_and_says_how_to_remove_it(home, cwd):
    write_profiles(home, "[profiles.default]\nLEGATO_LOGGING_LEVL = 'DEBUG'\n")

    with pytest.raises(
        ConfigurationError, match="Did you mean 'LEGATO_LOGGING_LEVEL'.*config unset"
    ):
        load(home, cwd)
    unset_profile_values(["LEGATO_LOGGING_LEVL"], home=home)
    assert load(home, cwd).logging.level == "INFO"


def test_create_use_rename_delete(home):
    set_profile_values({"logging.level": "debug"}, home=home)
    create_profile("dev", from_="default", home=home)
    create_profile("empty", home=home)
    use_profile("dev", home=home)
    rename_profile("dev", "development", home=home)

    profiles = load_profiles(home)
    assert profiles.active == "development"
    assert profiles.profiles == {
        "default": {"LEGATO_LOGGING_LEVEL": "DEBUG"},
        "development": {"LEGATO_LOGGING_LEVEL": "DEBUG"},
        "empty": {},
    }
    delete_profile("empty", home=home)
    assert list(load_profiles(home).profiles) == ["default", "development"]


def test_profile_operations_refuse_what_makes_no_sense(home):
    create_profile("dev", home=home)
    with pytest.raises(ConfigurationError, match="already exists"):
        create_profile("dev", home=home)
    with pytest.raises(ConfigurationError, match="is active"):
        delete_profile("default", home=home)
    with pytest.raises(ConfigurationError, match="Did you mean 'dev'"):
        use_profile("deb", home=home)
    with pytest.raises(ConfigurationError, match="not found"):
        delete_profile("nope", home=home)
    with pytest.raises(ConfigurationError, match="not a usable profile name"):
        create_profile(" ", home=home)


def test_set_and_unset_validate(home):
    written = set_profile_values(
        {"LEGATO_RECORDER_MAX_BATCH_SIZE": "5", "LEGATO_RESULTS_PERSIST_BY_DEFAULT": "yes"},
        home=home,
    )
    assert written == {
        "LEGATO_RECORDER_MAX_BATCH_SIZE": 5,
        "LEGATO_RESULTS_PERSIST_BY_DEFAULT": True,
    }
    assert tomllib.loads((home / "profiles.toml").read_text())["profiles"]["default"] == written

    with pytest.raises(ConfigurationError, match="is not an integer"):
        set_profile_values({"LEGATO_RECORDER_MAX_BATCH_SIZE": "x"}, home=home)
    with pytest.raises(ConfigurationError, match="Did you mean"):
        set_profile_values({"LEGATO_RECORDER_MAX_BATCH": "1"}, home=home)
    with pytest.raises(ConfigurationError, match="export LEGATO_HOME"):
        set_profile_values({"LEGATO_HOME": "/x"}, home=home)
    with pytest.raises(ConfigurationError, match="not set in profile 'default'"):
        unset_profile_values(["LEGATO_API_URL"], home=home)

    unset_profile_values(["recorder.max_batch_size"], home=home)
    assert load_profiles(home).profiles["default"] == {"LEGATO_RESULTS_PERSIST_BY_DEFAULT": True}


_scalars = st.one_of(
    st.text(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
)


@given(
    active=st.text(min_size=1),
    profiles=st.dictionaries(
        st.text(), st.dictionaries(st.text(), _scalars, max_size=4), max_size=4
    ),
)
def test_the_profiles_writer_produces_toml_that_reads_back(active, profiles):
    text = dump_profiles(Profiles(Path("p.toml"), active, profiles))

    data = tomllib.loads(text)
    assert data["active"] == active
    assert data.get("profiles", {}) == profiles


def test_save_profiles_creates_home(home):
    save_profiles(Profiles(home / "profiles.toml", "x", {"x": {"LEGATO_API_URL": "http://h"}}))

    assert load_profiles(home).active == "x"


# -- the current settings and overrides -------------------------------------------------


def test_get_current_settings_is_cached(home):
    with temporary_settings({"LEGATO_HOME": str(home)}):
        assert get_current_settings() is get_current_settings()


def test_temporary_settings_nest_and_restore(home, monkeypatch):
    before = get_current_settings()
    monkeypatch.setenv("LEGATO_RECORDER_MAX_BATCH_SIZE", "3")
    with temporary_settings({"LEGATO_HOME": str(home)}, LEGATO_LOGGING_LEVEL="DEBUG") as outer:
        assert get_current_settings() is outer
        assert outer.home == home
        assert outer.recorder.max_batch_size == 3
        with temporary_settings(
            {"recorder.flush_interval_seconds": 2},
            restore_defaults=["LEGATO_RECORDER_MAX_BATCH_SIZE"],
        ) as inner:
            assert inner.home == home
            assert inner.logging.level == "DEBUG"
            assert inner.recorder.flush_interval_seconds == 2.0
            assert inner.recorder.max_batch_size == 10_000
            assert settings_sources()["LEGATO_RECORDER_FLUSH_INTERVAL_SECONDS"].source == "override"
        assert get_current_settings() is outer
        assert outer.recorder.flush_interval_seconds == 0.5
    assert get_current_settings() is before


def test_temporary_settings_validate_on_entry():
    with (
        pytest.raises(ConfigurationError, match="temporary_settings"),
        temporary_settings(LEGATO_API_URL="nope"),
    ):
        pass
    with (
        pytest.raises(ConfigurationError, match="Did you mean"),
        temporary_settings(LEGATO_API_ULR="http://h"),
    ):
        pass


def test_temporary_settings_move_the_profiles_file(home, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    set_profile_values({"LEGATO_LOGGING_LEVEL": "ERROR"}, home=home)

    with temporary_settings(LEGATO_HOME=home):
        assert get_current_settings().logging.level == "ERROR"
        assert load_profiles().path == home / "profiles.toml"


def test_clearing_the_cache_reads_the_environment_again(monkeypatch):
    # Outside any temporary_settings block (a fresh context), as in a new process
    def in_fresh_context() -> None:
        with monkeypatch.context() as patch:
            patch.setenv("LEGATO_LOGGING_LEVEL", "CRITICAL")
            clear_settings_cache()
            assert get_current_settings().logging.level == "CRITICAL"
            assert get_current_settings() is get_current_settings()
        clear_settings_cache()
        assert get_current_settings() == load_settings()

    contextvars.Context().run(in_fresh_context)


def test_importing_settings_stays_light(tmp_path):
    # No pydantic at all; dotenv and tomllib only when their files exist.
    code = (
        "import sys, legato; assert 'legato.settings' not in sys.modules; "
        "from legato.settings import get_current_settings; get_current_settings(); "
        "heavy = {'pydantic', 'pydantic_settings', 'dotenv', 'tomllib'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    env = {"LEGATO_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)


def test_every_setting_is_on_the_settings_page():
    page = (Path(__file__).parents[1] / "docs" / "settings.md").read_text()

    missing = [name for name in SETTINGS if f"`{name}`" not in page]
    assert not missing


def test_local_storage_path_is_also_read_from_its_short_name(tmp_path, monkeypatch):
    from legato.settings import load_settings

    monkeypatch.setenv("LEGATO_LOCAL_STORAGE_PATH", str(tmp_path / "short"))
    assert load_settings().results.local_storage_path == tmp_path / "short"
    monkeypatch.setenv("LEGATO_RESULTS_LOCAL_STORAGE_PATH", str(tmp_path / "canonical"))
    assert load_settings().results.local_storage_path == tmp_path / "canonical"
