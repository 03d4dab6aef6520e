"""Staff contact details at entry: phone numbers normalised to E.164, e-mail addresses checked,
empty values clearing, every problem named by its field."""

from __future__ import annotations

import pytest

from notifications.problems import Invalid
from notifications.staff_contacts import StaffContact, check


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("20 12 34 56", "+4520123456"),
        ("+45 20 12 34 56", "+4520123456"),
        ("0045 20123456", "+4520123456"),
        (" 2012-3456 ", "+4520123456"),
        ("+46 70 174 06 05", "+46701740605"),  # abroad: allowed with the country code
    ],
)
def test_phone_numbers_are_stored_in_e164(typed: str, e164: str) -> None:
    assert check({"phone": typed}) == {"phone_e164": e164}


@pytest.mark.parametrize("typed", ["12345678", "20 12 34", "anonymous", "ring mig", "+45" * 12])
def test_invalid_phone_numbers_are_refused_by_name(typed: str) -> None:
    with pytest.raises(Invalid) as refused:
        check({"phone": typed, "email": "anne@example.org"})
    assert set(refused.value.problems) == {"phone"}
    assert "phone number is not valid" in refused.value.problems["phone"].text()


def test_e_mail_addresses_are_checked_and_kept_in_lower_case() -> None:
    assert check({"email": " Anne.Hansen@Example.ORG "}) == {"email": "anne.hansen@example.org"}
    for typed in ("anne", "anne@example", "an ne@example.org", "a@" + "b" * 250 + ".dk"):
        with pytest.raises(Invalid) as refused:
            check({"email": typed})
        assert set(refused.value.problems) == {"email"}


def test_both_fields_wrong_name_both_and_empty_values_clear() -> None:
    with pytest.raises(Invalid) as refused:
        check({"phone": "123", "email": "nope"})
    assert list(refused.value.problems) == ["phone", "email"]
    assert check({"phone": "", "email": None}) == {"phone_e164": None, "email": None}
    assert check({}) == {}


def test_only_an_active_account_with_a_phone_can_be_paged() -> None:
    anne = StaffContact(1, "anne", "Anne", "+4520123456", None, active=True)
    assert anne.pageable
    assert not StaffContact(2, "bo", "Bo", None, "bo@example.org", active=True).pageable
    assert not StaffContact(3, "carl", "Carl", "+4520123457", None, active=False).pageable
