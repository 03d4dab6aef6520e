"""Danish closed dates: the statutory holidays (helligdage) plus optional customary closures.

The one place that computes them; opening hours (intake) and business-hours deadlines (triage)
both ask here. The statutory days come from the `holidays` package, which computes the
Easter-based days and knows that Store Bededag ended after 2023. Grundlovsdag (5 June),
Christmas Eve and New Year's Eve are not helligdage, but many offices close on them, so each is
a switch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

import holidays

CONSTITUTION_DAY = (6, 5)
CHRISTMAS_EVE = (12, 24)
NEW_YEARS_EVE = (12, 31)


@dataclass(frozen=True)
class Closures:
    """Which customary closures apply on top of the statutory holidays."""

    constitution_day: bool = False
    christmas_eve: bool = True
    new_years_eve: bool = True

    def month_days(self) -> tuple[tuple[int, int], ...]:
        switches = (
            (self.constitution_day, CONSTITUTION_DAY),
            (self.christmas_eve, CHRISTMAS_EVE),
            (self.new_years_eve, NEW_YEARS_EVE),
        )
        return tuple(month_day for on, month_day in switches if on)


# Christmas Eve and New Year's Eve closed, Grundlovsdag open: the hotline's long-standing default.
DEFAULT_CLOSURES = Closures()


@cache
def statutory_holidays(year: int) -> frozenset[date]:
    """The Danish public holidays (helligdage) of one year, Sundays among them included."""
    return frozenset(holidays.country_holidays("DK", years=year).keys())


@cache
def closed_dates(year: int, closures: Closures = DEFAULT_CLOSURES) -> frozenset[date]:
    """Statutory holidays plus the chosen customary closures, for one year (cached)."""
    extra = (date(year, month, day) for month, day in closures.month_days())
    return statutory_holidays(year) | frozenset(extra)


def closed_dates_in(years: Iterable[int], closures: Closures = DEFAULT_CLOSURES) -> frozenset[date]:
    """The closed dates of several years."""
    dates: frozenset[date] = frozenset()
    for year in years:
        dates |= closed_dates(year, closures)
    return dates
