"""Bad input raises a legato.exceptions error whose message names the problem."""

from __future__ import annotations

import pytest

from legato import exceptions, flow, get_run_logger, task
from legato.exceptions import (
    FutureError,
    LegatoError,
    MappingLengthMismatch,
    MappingMissingIterable,
    MissingContextError,
    ParameterBindError,
    ParameterError,
    ParameterTypeError,
)


def raises_legato(expected: type[Exception], *words: str):
    """pytest.raises for a legato error whose message contains every word (any case)."""

    class _Check:
        def __enter__(self):
            self._ctx = pytest.raises(expected)
            self.info = self._ctx.__enter__()
            return self.info

        def __exit__(self, *exc_info):
            handled = self._ctx.__exit__(*exc_info)
            error = self.info.value
            assert isinstance(error, LegatoError), f"{type(error)} is not a LegatoError"
            message = str(error).lower()
            for word in words:
                assert word.lower() in message, f"{word!r} not in message: {error}"
            return handled

    return _Check()


def test_the_error_tree_has_one_root():
    for name in exceptions.__all__:
        error = getattr(exceptions, name)
        assert issubclass(error, LegatoError), name


# -- decorating things that are not functions ---------------------------------


@pytest.mark.parametrize("value", [42, "not a function"])
def test_task_of_a_non_callable(value):
    with raises_legato(LegatoError, "callable"):
        task(value)


@pytest.mark.parametrize("value", [42, "not a function"])
def test_flow_of_a_non_callable(value):
    with raises_legato(LegatoError, "callable"):
        flow(value)


# -- option values ------------------------------------------------------------


def _noop():
    return None


@pytest.mark.parametrize("decorator", [task, flow], ids=["task", "flow"])
def test_negative_timeout(decorator):
    with raises_legato(LegatoError, "timeout_seconds"):
        decorator(timeout_seconds=-1)(_noop)


@pytest.mark.parametrize("decorator", [task, flow], ids=["task", "flow"])
def test_negative_retries(decorator):
    with raises_legato(LegatoError, "retries"):
        decorator(retries=-1)(_noop)


@pytest.mark.parametrize("decorator", [task, flow], ids=["task", "flow"])
@pytest.mark.parametrize("delay", ["soon", object(), {"a": 1}], ids=["str", "object", "dict"])
def test_retry_delay_of_the_wrong_type(decorator, delay):
    with raises_legato(LegatoError, "retry_delay_seconds"):
        decorator(retries=1, retry_delay_seconds=delay)(_noop)


def test_option_errors_are_parameter_errors():
    with pytest.raises(ParameterError):
        task(retries=-1)(_noop)


def test_with_options_checks_values_too():
    base = task(_noop)

    with raises_legato(LegatoError, "timeout_seconds"):
        base.with_options(timeout_seconds=-5)


# -- call arguments -----------------------------------------------------------


@flow
def needs_count(count: int, label: str = "x"):
    return count


def test_parameter_that_fails_validation():
    with raises_legato(ParameterTypeError, "count"):
        needs_count("not a number")


def test_missing_required_parameter():
    with raises_legato(ParameterBindError, "count"):
        needs_count()


def test_unknown_keyword_parameter():
    with raises_legato(ParameterBindError, "colour"):
        needs_count(1, colour="red")


def test_task_called_with_a_missing_argument():
    @task
    def needs_two(a, second_operand):
        return a + second_operand

    @flow
    def pipeline():
        needs_two(1)

    with raises_legato(ParameterBindError, "second_operand"):
        pipeline()


# -- map ----------------------------------------------------------------------


@task
def pair(a, b):
    return (a, b)


def test_map_over_iterables_of_different_lengths():
    @flow
    def pipeline():
        pair.map([1, 2, 3], [1, 2])

    with raises_legato(MappingLengthMismatch, "length"):
        pipeline()


def test_map_length_error_names_the_lengths():
    @flow
    def pipeline():
        pair.map([1, 2, 3], [1, 2])

    with pytest.raises(MappingLengthMismatch) as info:
        pipeline()

    assert "3" in str(info.value) and "2" in str(info.value)


def test_map_over_no_iterable():
    @flow
    def pipeline():
        pair.map(1, 2)

    with raises_legato(MappingMissingIterable, "iterable"):
        pipeline()


def test_map_over_only_unmapped_values():
    from legato import unmapped

    @flow
    def pipeline():
        pair.map(unmapped([1]), unmapped([2]))

    with raises_legato(MappingMissingIterable, "iterable"):
        pipeline()


# -- futures and contexts -----------------------------------------------------


@task
def produce():
    return 1


@task
def consume(value):
    return value


def test_future_from_a_finished_flow_run_used_in_another():
    escaped = []

    @flow
    def first():
        future = produce.submit()
        future.wait()
        escaped.append(future)

    @flow
    def second():
        return consume(escaped[0])

    first()

    with raises_legato(FutureError, "future"):
        second()


def test_get_run_logger_outside_a_run():
    with raises_legato(MissingContextError, "run"):
        get_run_logger()


def test_missing_context_message_names_the_fix():
    with pytest.raises(MissingContextError) as info:
        get_run_logger()

    message = str(info.value).lower()
    assert "flow" in message or "task" in message
    assert "logger" in message or "get_logger" in message
