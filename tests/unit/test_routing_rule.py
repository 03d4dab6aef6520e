"""triage/routing.py: where a justified concern goes, and why it cannot go anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from denmark.municipalities import find
from triage.routing import NO_MUNICIPALITY, NO_UNIT, Proposal, RoutingRefused, propose

KOEBENHAVN, FREDERIKSBERG, TAARNBY, DRAGOER, AARHUS, ODENSE = 101, 147, 185, 155, 751, 461


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    municipalities: Sequence[int]
    active: bool = True


COPENHAGEN = Unit(1, "Infohus København", (KOEBENHAVN,))
FREDERIKSBERG_UNIT = Unit(2, "Infohus Frederiksberg", (FREDERIKSBERG,))
AARHUS_UNIT = Unit(3, "Infohus Aarhus", (AARHUS,))
UNITS = (COPENHAGEN, FREDERIKSBERG_UNIT, AARHUS_UNIT)


def test_the_test_municipalities_are_the_ones_meant() -> None:
    names = {code: find(code) for code in (KOEBENHAVN, FREDERIKSBERG, TAARNBY, DRAGOER, AARHUS)}
    assert {code: m.name for code, m in names.items() if m} == {
        KOEBENHAVN: "København",
        FREDERIKSBERG: "Frederiksberg",
        TAARNBY: "Tårnby",
        DRAGOER: "Dragør",
        AARHUS: "Aarhus",
    }


def test_a_copenhagen_resident_goes_to_the_coordination_unit() -> None:
    assert propose(KOEBENHAVN, None, UNITS) == Proposal(1, "Infohus København", KOEBENHAVN, False)


def test_frederiksberg_goes_to_its_own_infohus_despite_sharing_copenhagens_police() -> None:
    frederiksberg = find(FREDERIKSBERG)
    copenhagen = find(KOEBENHAVN)
    assert frederiksberg
    assert copenhagen
    assert frederiksberg.police_district == copenhagen.police_district

    proposal = propose(FREDERIKSBERG, KOEBENHAVN, UNITS)

    assert proposal.unit_id == FREDERIKSBERG_UNIT.id
    assert proposal.municipality == FREDERIKSBERG
    assert not proposal.by_reporter_residence


@pytest.mark.parametrize("code", [TAARNBY, DRAGOER])
def test_other_copenhagen_police_municipalities_are_not_the_coordination_unit(code: int) -> None:
    with pytest.raises(RoutingRefused) as refused:
        propose(code, None, UNITS)
    assert refused.value.code == NO_UNIT
    assert refused.value.municipality == code


def test_aarhus_goes_to_the_aarhus_infohus() -> None:
    assert propose(AARHUS, KOEBENHAVN, UNITS) == Proposal(3, "Infohus Aarhus", AARHUS, False)


def test_unknown_residence_routes_by_the_reporters_and_is_flagged() -> None:
    proposal = propose(None, AARHUS, UNITS)

    assert proposal == Proposal(3, "Infohus Aarhus", AARHUS, by_reporter_residence=True)


def test_both_unknown_is_refused_with_what_to_do() -> None:
    with pytest.raises(RoutingRefused) as refused:
        propose(None, None, UNITS)

    assert refused.value.code == NO_MUNICIPALITY
    assert refused.value.message == (
        "record the person's or the reporter's municipality in triage first"
    )


def test_an_uncovered_municipality_is_named() -> None:
    with pytest.raises(RoutingRefused) as refused:
        propose(ODENSE, KOEBENHAVN, UNITS)

    assert refused.value.code == NO_UNIT
    assert refused.value.municipality == ODENSE
    assert refused.value.message == (
        "no partner unit covers Odense; an administrator adds one under Partner units"
    )


def test_the_reporters_municipality_is_not_a_fallback_for_an_uncovered_one() -> None:
    # The person's residence is known: that decides, even if nobody covers it yet.
    with pytest.raises(RoutingRefused):
        propose(ODENSE, AARHUS, UNITS)


def test_an_inactive_unit_is_ignored() -> None:
    retired = Unit(1, "Infohus København", (KOEBENHAVN,), active=False)
    with pytest.raises(RoutingRefused) as refused:
        propose(KOEBENHAVN, None, (retired, FREDERIKSBERG_UNIT))
    assert "København" in refused.value.message

    successor = Unit(9, "Koordineringsenheden", (KOEBENHAVN, TAARNBY))
    assert propose(KOEBENHAVN, None, (retired, successor)).unit_id == successor.id


def test_a_unit_may_cover_several_municipalities() -> None:
    shared = Unit(5, "Infohus Amager", (TAARNBY, DRAGOER))
    assert propose(DRAGOER, None, (*UNITS, shared)).unit_id == shared.id
    assert propose(TAARNBY, None, (*UNITS, shared)).unit_id == shared.id
