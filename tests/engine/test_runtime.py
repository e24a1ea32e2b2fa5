"""legato.runtime.flow_run and legato.runtime.task_run inside and outside runs."""

from __future__ import annotations

import datetime as dt

from legato import flow, tags, task
from legato.runtime import flow_run, task_run


def test_flow_run_id_matches_the_recorded_run(recorded):
    @flow
    def who_am_i():
        return flow_run.id

    flow_run_id = who_am_i()

    assert recorded.only_flow_run()["id"] == str(flow_run_id)


def test_flow_run_name_and_flow_name():
    @flow(name="runtime-flow", flow_run_name="runtime-run")
    def who_am_i():
        return flow_run.name, flow_run.flow_name

    assert who_am_i() == ("runtime-run", "runtime-flow")


def test_flow_run_parameters():
    @flow
    def with_params(a, b=2):
        return dict(flow_run.parameters)

    assert with_params(1) == {"a": 1, "b": 2}


def test_flow_run_tags_come_from_the_tags_context():
    @flow
    def tagged():
        return set(flow_run.tags)

    with tags("alpha", "beta"):
        assert tagged() >= {"alpha", "beta"}


def test_flow_run_run_count_is_one_on_the_first_attempt():
    @flow
    def once():
        return flow_run.run_count

    assert once() == 1


def test_flow_run_scheduled_start_time_is_an_aware_datetime_near_now():
    @flow
    def when():
        return flow_run.scheduled_start_time

    before = dt.datetime.now(dt.UTC)
    scheduled = when()
    after = dt.datetime.now(dt.UTC)

    assert isinstance(scheduled, dt.datetime)
    assert scheduled.tzinfo is not None
    assert before - dt.timedelta(seconds=2) <= scheduled <= after + dt.timedelta(seconds=2)


def test_flow_run_parent_is_none_for_a_top_level_run():
    @flow
    def top():
        return flow_run.parent_flow_run_id

    assert top() is None


def test_flow_run_parent_of_a_subflow_is_the_parent_run():
    @flow
    def child():
        return flow_run.parent_flow_run_id

    @flow
    def parent():
        return flow_run.id, child()

    parent_id, seen = parent()

    assert str(seen) == str(parent_id)


def test_flow_run_in_a_task_reports_the_enclosing_flow_run():
    @task
    def inner():
        return flow_run.id, flow_run.flow_name

    @flow(name="enclosing")
    def outer():
        return flow_run.id, inner.submit().result()

    outer_id, (seen_id, seen_name) = outer()

    assert str(seen_id) == str(outer_id)
    assert seen_name == "enclosing"


def test_task_run_id_matches_the_future(recorded):
    @task
    def who_am_i():
        return task_run.id

    @flow
    def pipeline():
        future = who_am_i.submit()
        return future.task_run_id, future.result()

    future_id, seen_id = pipeline()

    assert str(seen_id) == str(future_id)
    assert recorded.task_run(future_id)["id"] == str(seen_id)


def test_task_run_name_task_name_and_parameters():
    @task(name="runtime-task", task_run_name="runtime-task-{x}")
    def who_am_i(x, y=5):
        return task_run.name, task_run.task_name, dict(task_run.parameters)

    @flow
    def pipeline():
        return who_am_i(3)

    assert pipeline() == ("runtime-task-3", "runtime-task", {"x": 3, "y": 5})


def test_task_run_tags():
    @task(tags=["decorated"])
    def tagged():
        return set(task_run.tags)

    @flow
    def pipeline():
        with tags("ctx"):
            return tagged()

    assert pipeline() >= {"decorated", "ctx"}


def test_task_run_run_count_is_one_on_the_first_attempt():
    @task
    def once():
        return task_run.run_count

    @flow
    def pipeline():
        return once()

    assert pipeline() == 1


def test_task_run_in_a_task_outside_a_flow():
    @task(name="standalone")
    def standalone():
        return task_run.task_name, task_run.id is not None, flow_run.id

    assert standalone() == ("standalone", True, None)


def test_task_run_attributes_are_empty_in_a_flow_body():
    @flow
    def body():
        return task_run.id

    assert body() is None


def test_runtime_outside_any_run():
    assert flow_run.id is None
    assert task_run.id is None
    assert flow_run.name is None
    assert flow_run.parameters == {}
    assert list(flow_run.tags) == []
