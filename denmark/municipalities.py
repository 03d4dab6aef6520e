"""Denmark's 98 municipalities with their region and police district (shipped reference data)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Municipality:
    code: int
    name: str
    region: str
    police_district: str


@cache
def all_municipalities() -> tuple[Municipality, ...]:
    """Every municipality, sorted by name (Danish collation is close enough for a select list)."""
    text = resources.files(__package__).joinpath("municipalities.csv").read_text(encoding="utf-8")
    rows = [
        Municipality(int(r["code"]), r["name"], r["region"], r["police_district"])
        for r in csv.DictReader(text.splitlines())
    ]
    return tuple(sorted(rows, key=lambda m: _danish_sort_key(m.name)))


@cache
def by_code() -> dict[int, Municipality]:
    return {m.code: m for m in all_municipalities()}


def find(code: int) -> Municipality | None:
    return by_code().get(code)


def _danish_sort_key(name: str) -> str:
    # Æ, Ø and Å come last in Danish, in that order; "Aa" counts as Å in names.
    table = str.maketrans({"Æ": "{", "Ø": "|", "Å": "}", "æ": "{", "ø": "|", "å": "}"})
    lowered = name.replace("Aa", "Å").replace("aa", "å") if name.startswith("Aa") else name
    return lowered.translate(table).lower()
