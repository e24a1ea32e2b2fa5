"""The parsers behind --param, --params, --job-variable, --start-in and --start-at."""

from __future__ import annotations

import datetime as dt

import pytest
import typer

from legato.cli._parsing import parse_json_object, parse_key_values, parse_start_at, parse_start_in


def test_key_values_decode_json_values_and_keep_text():
    parsed = parse_key_values(["n=3", "flag=true", "name=Ada", "items=[1, 2]", "empty="], "--param")

    assert parsed == {"n": 3, "flag": True, "name": "Ada", "items": [1, 2], "empty": ""}


def test_key_values_keep_equals_signs_in_the_value():
    assert parse_key_values(["query=a=b"], "--param") == {"query": "a=b"}


@pytest.mark.parametrize("pair", ["novalue", "=3", " =3"])
def test_key_values_without_a_key_exit_naming_the_option(pair, capsys):
    with pytest.raises(typer.Exit) as raised:
        parse_key_values([pair], "--param")

    assert raised.value.exit_code == 1
    assert "--param" in capsys.readouterr().err


def test_json_object_parses_and_refuses_other_json(capsys):
    assert parse_json_object('{"a": [1]}', "--params") == {"a": [1]}
    assert parse_json_object(None, "--params") == {}
    with pytest.raises(typer.Exit):
        parse_json_object("[1, 2]", "--params")
    assert "must be a JSON object" in capsys.readouterr().err
    with pytest.raises(typer.Exit):
        parse_json_object("{nope", "--params")
    assert "not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10 minutes", 600),
        ("2 hours", 7200),
        ("1h 30m", 5400),
        ("in 5 minutes", 300),
        ("1.5h", 5400),
        ("1 day", 86400),
        ("2w", 1209600),
    ],
)
def test_start_in_reads_durations(text, seconds):
    assert parse_start_in(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["soon", "10 parsecs", "", "5"])
def test_start_in_refuses_what_is_not_a_duration(text, capsys):
    with pytest.raises(typer.Exit):
        parse_start_in(text)

    assert "--start-in" in capsys.readouterr().err


def test_start_at_reads_iso_times_with_and_without_offset():
    aware = parse_start_at("2030-01-31T18:00:00+02:00")
    naive = parse_start_at("2030-01-31 18:00")

    assert aware == dt.datetime(2030, 1, 31, 16, tzinfo=dt.UTC)
    assert naive.tzinfo is not None
    assert naive.replace(tzinfo=None) == dt.datetime(2030, 1, 31, 18, 0)


def test_start_at_refuses_text(capsys):
    with pytest.raises(typer.Exit):
        parse_start_at("tomorrow at noon")

    assert "--start-at" in capsys.readouterr().err
