"""Sort orders accepted by the ``/filter`` routes (Prefect 3's names)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ArtifactSort", "FlowRunSort", "FlowSort", "LogSort", "TaskRunSort", "VariableSort"]


class FlowSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class FlowRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    CREATED_DESC = "CREATED_DESC"
    START_TIME_ASC = "START_TIME_ASC"
    START_TIME_DESC = "START_TIME_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    END_TIME_DESC = "END_TIME_DESC"


class TaskRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    CREATED_DESC = "CREATED_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    END_TIME_DESC = "END_TIME_DESC"


class LogSort(StrEnum):
    TIMESTAMP_ASC = "TIMESTAMP_ASC"
    TIMESTAMP_DESC = "TIMESTAMP_DESC"


class ArtifactSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    ID_DESC = "ID_DESC"
    KEY_DESC = "KEY_DESC"
    KEY_ASC = "KEY_ASC"


class VariableSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_DESC = "NAME_DESC"
    NAME_ASC = "NAME_ASC"
