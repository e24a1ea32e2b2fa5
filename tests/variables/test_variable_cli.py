"""legato variable: ls, get, set, unset, inspect."""

from __future__ import annotations

import json

import pytest


def ok(result):
    assert result.exit_code == 0, result.output
    return result.stdout


def fails_with(result, message):
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("4.5", 4.5),
        ('{"a": [1, null]}', {"a": [1, None]}),
        ("[1, 2]", [1, 2]),
        ("true", True),
        ("null", None),
        ('"quoted"', "quoted"),
        ("plain text", "plain text"),
        ("{not json", "{not json"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("-5", -5),  # after "--", like any value that starts with a dash
    ],
)
def test_set_parses_json_else_keeps_the_text(invoke, embedded_client, text, value):
    result = invoke("variable", "set", "answer", "--", text)

    assert ok(result).strip() == "Set variable 'answer'."

    assert embedded_client.read_variable_by_name("answer")["value"] == value


def test_get_prints_strings_bare_and_other_values_as_json(invoke, embedded_client):
    embedded_client.create_variable(name="text", value="hello world")
    embedded_client.create_variable(name="mapping", value={"a": 1})

    assert ok(invoke("variable", "get", "text")) == "hello world\n"
    assert json.loads(ok(invoke("variable", "get", "mapping"))) == {"a": 1}


def test_set_an_existing_name_needs_overwrite(invoke, embedded_client):
    ok(invoke("variable", "set", "region", "eu", "--tag", "prod"))

    fails_with(invoke("variable", "set", "region", "us"), "Pass --overwrite to replace it")
    assert embedded_client.read_variable_by_name("region")["value"] == "eu"

    ok(invoke("variable", "set", "region", "us", "--overwrite", "--tag", "a", "--tag", "b"))
    row = embedded_client.read_variable_by_name("region")
    assert (row["value"], row["tags"]) == ("us", ["a", "b"])


def test_ls_table_json_and_filters(invoke, embedded_client):
    embedded_client.create_variable(name="db_url", value="postgres://x", tags=["prod"])
    embedded_client.create_variable(name="batch", value=[1, 2], tags=["etl"])

    table = ok(invoke("variable", "ls"))
    for text in ("db_url", "postgres://x", "batch", "[1, 2]", "prod", "etl"):
        assert text in table
    rows = json.loads(ok(invoke("variable", "ls", "-o", "json")))
    assert [row["name"] for row in rows] == ["batch", "db_url"]
    assert rows[0]["value"] == [1, 2]
    tagged = json.loads(ok(invoke("variable", "ls", "--tag", "prod", "-o", "json")))
    assert [row["name"] for row in tagged] == ["db_url"]
    named = json.loads(ok(invoke("variable", "ls", "--name", "bat", "--limit", "1", "-o", "json")))
    assert [row["name"] for row in named] == ["batch"]


def test_ls_on_an_empty_store(invoke):
    assert "No variables match." in ok(invoke("variable", "ls"))


def test_inspect(invoke, embedded_client):
    created = embedded_client.create_variable(name="limits", value={"max": 3}, tags=["a", "b"])

    table = ok(invoke("variable", "inspect", "limits"))
    for text in (created["id"], '"max": 3', "a, b"):
        assert text in table
    row = json.loads(ok(invoke("variable", "inspect", "limits", "--output", "json")))
    assert row["id"] == created["id"]
    assert row["value"] == {"max": 3}
    assert row["created"].endswith("+00:00")


def test_unset(invoke, embedded_client):
    embedded_client.create_variable(name="gone", value=1)

    assert ok(invoke("variable", "unset", "gone")).strip() == "Unset variable 'gone'."
    assert embedded_client.read_variable_by_name("gone") is None


@pytest.mark.parametrize("command", ["get", "unset", "inspect"])
def test_unknown_names_exit_1_naming_the_fix(invoke, command):
    fails_with(
        invoke("variable", command, "nothing"),
        "Variable 'nothing' not found. List variables with `legato variable ls`.",
    )


def test_bad_names_and_values_exit_1(invoke, embedded_client):
    fails_with(invoke("variable", "set", "Bad Name", "1"), "Variable name 'Bad Name' is not valid")
    fails_with(invoke("variable", "set", "big", "x" * 10_001), "the limit is 10,000")
    assert embedded_client.read_variables() == []
