"""The regulator feed's pseudonyms (issue 20, item 3): one per child, never one for two."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.values import Actor, Client, Role
from ledger.application import Ledger
from projections.service import ReadModels
from tests.factories import START, LedgerStory

pytestmark = pytest.mark.store
EASTSIDE = Actor(id="eve", role=Role.REPORTER, organisation="Eastside CSO")


def notifiable(ledger: Ledger, **overrides: object) -> LedgerStory:
    return LedgerStory.report(ledger, regulator_category="notifiable", **overrides)


def client_pseudonyms(read_models: ReadModels) -> list[str]:
    items = read_models.feed("ssr")
    return [i["data"]["clients"][0]["pseudonym"] for i in items]


def test_the_same_reference_at_two_providers_is_two_children(
    ledger: Ledger, read_models: ReadModels
) -> None:
    notifiable(ledger)
    notifiable(ledger, actor=EASTSIDE, now=START + timedelta(minutes=1))

    read_models.catch_up()

    northside, eastside = client_pseudonyms(read_models)
    assert northside != eastside


def test_the_department_client_id_is_one_child_across_providers(
    ledger: Ledger, read_models: ReadModels
) -> None:
    child = Client(ref="NS-1", aboriginal=False, department_client_id="1234567")
    same_child = Client(ref="ES-77", aboriginal=False, department_client_id="1234567")
    notifiable(ledger, clients=[child])
    notifiable(ledger, actor=EASTSIDE, now=START + timedelta(minutes=1), clients=[same_child])

    read_models.catch_up()

    northside, eastside = client_pseudonyms(read_models)
    assert northside == eastside


def test_pseudonyms_are_stable_across_a_rebuild(ledger: Ledger, read_models: ReadModels) -> None:
    notifiable(ledger)
    notifiable(ledger, actor=EASTSIDE, now=START + timedelta(minutes=1))
    read_models.catch_up()
    before = client_pseudonyms(read_models)

    read_models.rebuild()

    assert client_pseudonyms(read_models) == before
