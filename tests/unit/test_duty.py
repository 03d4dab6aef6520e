"""On-duty numbers are normalised on entry; invalid ones are refused by name."""

from __future__ import annotations

import pytest

from intake.duty import InvalidDutyNumbers, normalise_all


def test_numbers_are_normalised_and_deduplicated() -> None:
    assert normalise_all(["20 12 34 56", "+45 20123456", "0045 30123456"]) == [
        "+4520123456",
        "+4530123456",
    ]


def test_invalid_numbers_are_named() -> None:
    with pytest.raises(InvalidDutyNumbers) as caught:
        normalise_all(["+4520123456", "12345678", "anonymous"])
    assert caught.value.numbers == ["12345678", "anonymous"]
    assert "12345678" in str(caught.value)


def test_at_most_ten() -> None:
    with pytest.raises(ValueError, match="at most 10"):
        normalise_all([f"+45201234{i:02d}" for i in range(11)])
