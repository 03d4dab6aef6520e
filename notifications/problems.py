"""What is wrong with one input field: a message id with named values, translated when shown.

Use cases raise `Invalid` with every problem by field name; pages show them beside their fields in
the user's language, the API answers 400 naming them (in English, like every API message).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    # An N_() message id; may hold %(name)s placeholders filled from `values`.
    message: str
    values: Mapping[str, str | int] = field(default_factory=dict)

    def text(self, gettext: Callable[[str], str] = str) -> str:
        translated = gettext(self.message)
        return translated % dict(self.values) if self.values else translated


class Invalid(ValueError):
    """Input that cannot be stored; nothing was changed."""

    def __init__(self, problems: Mapping[str, Problem]) -> None:
        super().__init__("; ".join(f"{name}: {p.text()}" for name, p in problems.items()))
        self.problems = dict(problems)
