"""denmark.municipalities: the 98 municipalities, their police districts and their Danish order."""

from __future__ import annotations

from collections import Counter

from denmark.municipalities import Municipality, all_municipalities, by_code, find

# The Danish alphabet: Æ, Ø and Å come after Z.
DANISH_ALPHABET = "abcdefghijklmnopqrstuvwxyzæøå"


def _danish_key(name: str) -> list[int]:
    """An independent Danish collation for single names: a leading "Aa" is the letter Å."""
    lowered = name.lower()
    if lowered.startswith("aa"):
        lowered = "å" + lowered[2:]
    # Hyphens and spaces sort before every letter.
    return [DANISH_ALPHABET.index(ch) + 1 if ch in DANISH_ALPHABET else 0 for ch in lowered]


def _named(name: str) -> Municipality:
    matches = [m for m in all_municipalities() if m.name == name]
    assert len(matches) == 1, name
    return matches[0]


def test_there_are_98_municipalities_with_unique_codes_and_names() -> None:
    municipalities = all_municipalities()

    assert len(municipalities) == 98
    assert len({m.code for m in municipalities}) == 98
    assert len({m.name for m in municipalities}) == 98
    assert len(by_code()) == 98


def test_codes_are_three_digit_kommunekoder() -> None:
    assert all(101 <= m.code <= 860 for m in all_municipalities())


def test_there_are_12_police_districts_and_5_regions() -> None:
    municipalities = all_municipalities()

    assert len({m.police_district for m in municipalities}) == 12
    assert {m.region for m in municipalities} == {
        "Region Hovedstaden",
        "Region Sjælland",
        "Region Syddanmark",
        "Region Midtjylland",
        "Region Nordjylland",
    }


def test_every_police_district_covers_at_least_one_municipality() -> None:
    counts = Counter(m.police_district for m in all_municipalities())

    assert all(count >= 1 for count in counts.values())
    assert counts["Bornholms Politi"] == 1


def test_copenhagen_police_covers_exactly_four_municipalities() -> None:
    covered = {m.name for m in all_municipalities() if m.police_district == "Københavns Politi"}

    assert covered == {"København", "Frederiksberg", "Tårnby", "Dragør"}
    assert find(101) == _named("København")
    assert find(147) == _named("Frederiksberg")


def test_find_751_is_aarhus_in_east_jutland_police() -> None:
    aarhus = find(751)

    assert aarhus is not None
    assert aarhus.name == "Aarhus"
    assert aarhus.police_district == "Østjyllands Politi"
    assert aarhus.region == "Region Midtjylland"


def test_skanderborg_belongs_to_south_east_jutland_police() -> None:
    assert _named("Skanderborg").police_district == "Sydøstjyllands Politi"


def test_find_an_unknown_code_is_none() -> None:
    assert find(999) is None
    assert find(0) is None


def test_by_code_agrees_with_the_list() -> None:
    assert {code: m.name for code, m in by_code().items()} == {
        m.code: m.name for m in all_municipalities()
    }


def test_sorted_in_danish_order() -> None:
    names = [m.name for m in all_municipalities()]

    assert names == sorted(names, key=_danish_key)


def test_aa_names_sort_last_as_the_letter_aa() -> None:
    names = [m.name for m in all_municipalities()]

    assert names[-3:] == ["Aabenraa", "Aalborg", "Aarhus"]
    assert names[-4] == "Ærø"
    assert names[0] == "Albertslund"


def test_danish_letters_sort_after_z_inside_names() -> None:
    names = [m.name for m in all_municipalities()]

    # "Læsø" comes after "Lyngby-Taarbæk" because æ follows y; "Køge" after "Kolding".
    assert names.index("Læsø") > names.index("Lyngby-Taarbæk")
    assert names.index("Køge") > names.index("Kolding")
    assert names.index("Tårnby") > names.index("Tønder")
