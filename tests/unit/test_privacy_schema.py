"""The schema itself cannot hold religion, origin, opinions or a computed risk score.

The politicians' rule: nobody is suspected merely for their religion or opinions, and citizens are
not mapped. So no column may be named for such data, and no number on a contact or a case can
quietly become a score.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Column, Float, Integer, Numeric, Table
from sqlalchemy.types import TypeDecorator, TypeEngine

import access.models
import intake.models
import notifications.alert_models
import notifications.models
import triage.models
from db import Base, EncryptedJSON, EncryptedText

FORBIDDEN = ("risk", "score", "religion", "faith", "ethnic", "race", "opinion", "politic")
# Numbers that describe no one: the queue's sort rank and municipality codes (of the 98).
NUMERIC_ALLOWED = {"queue_rank", "subject_municipality", "reporter_municipality"}
MODEL_MODULES = (
    access.models,
    intake.models,
    notifications.alert_models,
    notifications.models,
    triage.models,
)
PERSONAL = re.compile(r"reporter_(name|organisation|phone_raw|phone_e164|email)")


def _tables() -> list[Table]:
    tables = list(Base.metadata.sorted_tables)
    assert tables, "no models are registered"
    return tables


def _base_type(column: Column[object]) -> TypeEngine[object]:
    column_type: TypeEngine[object] = column.type
    while isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return column_type


def test_every_model_module_is_in_the_walked_metadata() -> None:
    names = {table.name for table in _tables()}

    assert {"contacts", "cases", "hotlines", "staff_users", "case_events"} <= names
    for module in MODEL_MODULES:
        own = {
            model.__tablename__
            for model in vars(module).values()
            if isinstance(model, type)
            and issubclass(model, Base)
            and model.__module__ == module.__name__
        }
        assert own, module.__name__
        assert own <= names


def test_no_column_is_named_for_sensitive_data_or_scores() -> None:
    offending = [
        f"{table.name}.{column.name}"
        for table in _tables()
        for column in table.columns
        if any(word in column.name.lower() for word in FORBIDDEN)
    ]

    assert offending == []


def test_no_table_is_named_for_sensitive_data_or_scores() -> None:
    assert [t.name for t in _tables() if any(w in t.name.lower() for w in FORBIDDEN)] == []


@pytest.mark.parametrize("table_name", ["contacts", "cases"])
def test_contacts_and_cases_have_no_free_numbers(table_name: str) -> None:
    table = Base.metadata.tables[table_name]

    numeric = [
        column.name
        for column in table.columns
        if isinstance(_base_type(column), Integer | Float | Numeric)
        and not column.primary_key
        and not column.foreign_keys
        and column.name not in NUMERIC_ALLOWED
    ]

    assert numeric == []


def test_ids_are_recognised_as_numbers_so_the_check_above_has_teeth() -> None:
    contacts = Base.metadata.tables["contacts"]

    assert isinstance(_base_type(contacts.c.id), Integer)
    assert isinstance(_base_type(contacts.c.case_id), Integer)
    assert isinstance(_base_type(Base.metadata.tables["cases"].c.queue_rank), Integer)


def test_personal_fields_on_contacts_are_encrypted_types() -> None:
    contacts = Base.metadata.tables["contacts"]
    personal = [c for c in contacts.columns if PERSONAL.fullmatch(c.name)]

    assert len(personal) == 5
    for column in personal:
        assert isinstance(column.type, EncryptedText), column.name
    assert isinstance(contacts.c.answers.type, EncryptedJSON)


def test_triage_answers_and_notification_texts_are_encrypted_types() -> None:
    # The triage form's answers hold the person's and the reporter's details.
    assert isinstance(Base.metadata.tables["triage_records"].c.answers.type, EncryptedJSON)
    notifications = Base.metadata.tables["child_welfare_notifications"]
    assert isinstance(notifications.c.sent_how.type, EncryptedText)
