"""The structured triage form: its fields as data, one definition per version, and validation.

Pure: no aiohttp, no session, no clock (the caller passes `now`). Labels and help texts are
message ids (`N_`), translated where they are shown. A stored triage keeps the version it was
filled in with, so a later version never breaks an old case: `FORMS` keeps every version, and
each version carries its own rules and its own reading of the answers (`Findings`).

The fields follow the hotline-triage fields of the domain research (§3): behaviour, safety flags,
resources, who else is involved, advice and the caller's wishes. There is no numeric score, no
label on the person, and no field for religion, ethnicity or opinions; the outcome is a human
decision with a written rationale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from denmark.municipalities import by_code
from intake.concern_form import NOT_A_CHOICE, REQUIRED, TOO_LONG, FieldProblem
from web.i18n import N_

LOCAL_TIME = ZoneInfo("Europe/Copenhagen")
UNKNOWN_MUNICIPALITY = "unknown"

NOT_A_FIELD = N_("This is not a field of this form.")
NOT_TEXT = N_("Please write text here.")
NOT_A_DATE = N_("Write a date like 2026-03-02.")
NOT_A_DATETIME = N_("Write a date and a time like 2026-03-02 14:30.")
IN_THE_FUTURE = N_("This time is in the future.")
DATE_IN_THE_FUTURE = N_("This date is in the future.")
LAST_BEFORE_FIRST = N_("The last observation cannot be before the first.")
POLICE_HOW = N_(
    "A safety flag, acute danger or a police outcome: record how the police were involved."
)
POLICE_BY = N_("Record who contacted the police or told the caller to call.")
POLICE_AT = N_("Record when the police were contacted, or the caller was told to call.")
CHILD_WELFARE = N_("The person is under 18: say whether the child's welfare is at risk.")
CHILD_MUNICIPALITY = N_(
    "A notification (underretning) goes to the child's municipality: choose the municipality."
)
NOT_JUSTIFIED_REASON = N_("Give the reason the concern is not justified.")
ADVICE_NEEDED = N_("Record the advice given.")
ROUTING_MUNICIPALITY = N_(
    "A justified concern is routed by municipality: choose the person's municipality, or the "
    "reporter's if the person's is unknown."
)


class Kind(StrEnum):
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    YES_NO = "yes_no"
    MUNICIPALITY = "municipality"


class TriageOutcome(StrEnum):
    JUSTIFIED = "justified"
    NOT_JUSTIFIED = "not_justified"
    ADVICE_ONLY = "advice_only"
    # Acute danger that the police take on alone.
    POLICE = "police"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class ShownWhen:
    """The field applies only when another field has one of these values (e.g. minors only).

    Pages may hide it with JavaScript; without it the field is shown. A submitted form drops an
    answer whose condition does not hold, so a stale answer cannot trigger a rule.
    """

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    label: str
    help: str | None = None
    options: tuple[Option, ...] = ()
    # Longest text accepted (text fields).
    max_length: int | None = None
    # Required to submit (drafts may leave anything empty).
    required: bool = False
    shown_when: ShownWhen | None = None

    def option_label(self, value: str) -> str | None:
        return next((o.label for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class Section:
    name: str
    legend: str
    fields: tuple[Field, ...]
    help: str | None = None


@dataclass(frozen=True)
class PoliceContact:
    # police_contacted, told_112 or told_114
    how: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Findings:
    """What a submitted triage means for the case, read from its answers by its version."""

    outcome: TriageOutcome | None
    acute: bool
    # None: the age is not known.
    under_18: bool | None
    # The municipality a child welfare notification goes to, when one is required.
    child_notification_municipality: int | None
    subject_municipality: int | None
    reporter_municipality: int | None
    police_contact: PoliceContact | None


# A version's rules add their problems to `errors`; they run on submit, after the type checks.
Rules = Callable[[Mapping[str, Any], dict[str, FieldProblem], datetime], None]
Reader = Callable[[Mapping[str, Any]], Findings]


@dataclass(frozen=True)
class FormDefinition:
    version: int
    sections: tuple[Section, ...]
    rules: Rules
    findings: Reader

    def fields(self) -> Iterator[Field]:
        for section in self.sections:
            yield from section.fields

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields() if f.name == name), None)


@dataclass
class Validation:
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, FieldProblem] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class UnknownVersion(LookupError):
    pass


# --- version 1 ---------------------------------------------------------------------------------

YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))
MINOR_AGE_BANDS = ("under_15", "15_17")
SAFETY_FLAGS = ("threats", "violence", "weapons", "imminent")
POLICE_FIELDS = ("police_contact", "police_contact_by", "police_contact_at")


def _v1_sections() -> tuple[Section, ...]:
    safety = Section(
        "safety",
        N_("Safety and acute danger"),
        help=N_(
            "Fill this in first. If a safety flag is ticked or someone is in acute danger, "
            "record how the police were involved before anything else: contact them, or tell "
            "the caller to call 112 (acute danger) or 114."
        ),
        fields=(
            Field(
                "safety_flags",
                Kind.MULTI_CHOICE,
                N_("Safety flags"),
                help=N_("Tick what the caller describes."),
                options=(
                    Option("threats", N_("Threats against someone")),
                    Option("violence", N_("Violence used or planned")),
                    Option("weapons", N_("Access to weapons")),
                    Option("imminent", N_("Imminent travel, or a date the caller fears")),
                ),
            ),
            Field("acute_danger", Kind.YES_NO, N_("Is someone in acute danger?"), options=YES_NO),
            Field(
                "police_contact",
                Kind.CHOICE,
                N_("How were the police involved?"),
                help=N_(
                    "Required with a safety flag, acute danger or the outcome “handled by "
                    "the police”."
                ),
                options=(
                    Option("police_contacted", N_("We contacted the police")),
                    Option("told_112", N_("The caller was told to call 112")),
                    Option("told_114", N_("The caller was told to call 114")),
                ),
            ),
            Field(
                "police_contact_by",
                Kind.TEXT,
                N_("By whom?"),
                help=N_("Your name, or the name of whoever contacted the police."),
                max_length=200,
            ),
            Field(
                "police_contact_at",
                Kind.DATETIME,
                N_("When?"),
                help=N_("Date and time, Danish time."),
            ),
        ),
    )
    person = Section(
        "person",
        N_("The person of concern"),
        fields=(
            Field(
                "age_band",
                Kind.CHOICE,
                N_("Age"),
                options=(
                    Option("under_15", N_("Under 15")),
                    Option("15_17", N_("15–17")),
                    Option("18_24", N_("18–24")),
                    Option("25_plus", N_("25 or older")),
                    Option("unknown", N_("Unknown")),
                ),
                required=True,
            ),
            Field(
                "child_welfare",
                Kind.YES_NO,
                N_("Is the child's welfare at risk?"),
                help=N_(
                    "Only for a person under 18. Yes means a notification (underretning) to "
                    "the child's municipality, tracked on the case."
                ),
                options=YES_NO,
                shown_when=ShownWhen("age_band", MINOR_AGE_BANDS),
            ),
            Field(
                "subject_municipality",
                Kind.MUNICIPALITY,
                N_("The person's municipality of residence"),
                help=N_("A justified concern is routed to this municipality."),
                required=True,
            ),
            Field(
                "concern_type",
                Kind.CHOICE,
                N_("Type of concern"),
                help=N_(
                    "The kind of extremism the behaviour points to: not the person's religion "
                    "or opinions."
                ),
                options=(
                    Option("militant_islamism", N_("Militant Islamism")),
                    Option("right_wing", N_("Right-wing extremism")),
                    Option("left_wing", N_("Left-wing extremism")),
                    Option("other", N_("Other")),
                    Option("unclear", N_("Unclear")),
                ),
                required=True,
            ),
        ),
    )
    reporter = Section(
        "reporter",
        N_("The reporter"),
        fields=(
            Field(
                "reporter_role",
                Kind.CHOICE,
                N_("The reporter's role"),
                options=(
                    Option("professional", N_("Professional")),
                    Option("relative", N_("Relative")),
                    Option("friend", N_("Friend")),
                    Option("other", N_("Other")),
                    Option("unknown", N_("Unknown")),
                ),
                required=True,
            ),
            Field(
                "reporter_relation",
                Kind.CHOICE,
                N_("Relation to the person"),
                options=(
                    Option("parent", N_("Parent")),
                    Option("sibling", N_("Sibling")),
                    Option("partner", N_("Partner")),
                    Option("other_family", N_("Other family")),
                    Option("friend", N_("Friend")),
                    Option("school", N_("School or education")),
                    Option("social_services", N_("Social services")),
                    Option("health", N_("Health care")),
                    Option("work", N_("Work or colleague")),
                    Option("neighbour", N_("Neighbour")),
                    Option("online", N_("Knows the person only online")),
                    Option("other", N_("Other")),
                ),
            ),
            Field(
                "reporter_own_words",
                Kind.TEXT,
                N_("Role and relation in the reporter's own words"),
                help=N_("For example: “I coach his football team”."),
                max_length=500,
            ),
            Field(
                "how_known",
                Kind.MULTI_CHOICE,
                N_("How does the reporter know?"),
                options=(
                    Option("first_hand", N_("Saw or heard it first-hand")),
                    Option("told_by_person", N_("The person told the reporter")),
                    Option("second_hand", N_("Heard it from someone else")),
                    Option("online", N_("Online or on social media")),
                    Option("other", N_("Other")),
                ),
            ),
            Field(
                "reporter_municipality",
                Kind.MUNICIPALITY,
                N_("The reporter's municipality of residence"),
                help=N_("Used for routing when the person's municipality is unknown."),
                required=True,
            ),
        ),
    )
    observed = Section(
        "observed",
        N_("Observed behaviour"),
        fields=(
            Field(
                "observed",
                Kind.TEXT,
                N_("What has been observed?"),
                help=N_(
                    "What the person has said or done, with dates where known. Behaviour, not "
                    "beliefs."
                ),
                max_length=4000,
                required=True,
            ),
            Field("first_observed", Kind.DATE, N_("First observed")),
            Field("last_observed", Kind.DATE, N_("Last observed")),
            Field(
                "change_over_time",
                Kind.TEXT,
                N_("Change over time"),
                help=N_("Has the behaviour grown, stayed the same or eased?"),
                max_length=2000,
            ),
        ),
    )
    context = Section(
        "context",
        N_("Resources and context"),
        fields=(
            Field(
                "protective_factors",
                Kind.TEXT,
                N_("Resources and protective factors"),
                help=N_(
                    "For example: family support, school or work, leisure activities, people "
                    "the person trusts."
                ),
                max_length=2000,
            ),
            Field(
                "recent_crisis",
                Kind.CHOICE,
                N_("Has there been a recent crisis?"),
                options=(*YES_NO, Option("unknown", N_("Unknown"))),
            ),
            Field(
                "recent_crisis_details",
                Kind.TEXT,
                N_("What crisis?"),
                help=N_("For example: a death, a break-up, dropping out, losing a job."),
                max_length=1000,
                shown_when=ShownWhen("recent_crisis", ("yes",)),
            ),
            Field(
                "others_involved",
                Kind.TEXT,
                N_("Who else is involved?"),
                help=N_("Family, school, authorities or professionals who know of the concern."),
                max_length=2000,
            ),
            Field(
                "actions_taken",
                Kind.TEXT,
                N_("What has been done already?"),
                max_length=2000,
            ),
        ),
    )
    advice = Section(
        "advice",
        N_("Advice and the caller's wishes"),
        fields=(
            Field("advice_given", Kind.TEXT, N_("Advice given"), max_length=2000),
            Field(
                "anonymity_wish",
                Kind.CHOICE,
                N_("The caller's wish about anonymity"),
                options=(
                    Option("anonymous", N_("Stays anonymous")),
                    Option("hotline_only", N_("Known to the hotline, not to be passed on")),
                    Option("may_be_named", N_("May be named to the authorities that take over")),
                ),
                required=True,
            ),
            Field(
                "consent_to_pass_on",
                Kind.CHOICE,
                N_("Does the caller consent to passing the information on?"),
                help=N_("To the municipality or Infohus that takes the case over."),
                options=(*YES_NO, Option("not_asked", N_("Not asked"))),
                required=True,
            ),
        ),
    )
    decision = Section(
        "decision",
        N_("Assessment and outcome"),
        help=N_("A human judgement with a written rationale: there is no score."),
        fields=(
            Field(
                "outcome",
                Kind.CHOICE,
                N_("Outcome"),
                options=(
                    Option(TriageOutcome.JUSTIFIED.value, N_("Justified concern: route it on")),
                    Option(TriageOutcome.NOT_JUSTIFIED.value, N_("Not justified: close the case")),
                    Option(TriageOutcome.ADVICE_ONLY.value, N_("Advice only: close the case")),
                    Option(
                        TriageOutcome.POLICE.value,
                        N_("Handled by the police alone: close the case"),
                    ),
                ),
                required=True,
            ),
            Field(
                "not_justified_reason",
                Kind.TEXT,
                N_("Why is the concern not justified?"),
                max_length=1000,
                shown_when=ShownWhen("outcome", (TriageOutcome.NOT_JUSTIFIED.value,)),
            ),
            Field(
                "rationale",
                Kind.TEXT,
                N_("Rationale"),
                help=N_("Why you reached this outcome, in your own words."),
                max_length=4000,
                required=True,
            ),
        ),
    )
    return (safety, person, reporter, observed, context, advice, decision)


def is_acute_v1(answers: Mapping[str, Any]) -> bool:
    return bool(answers.get("safety_flags")) or answers.get("acute_danger") == "yes"


def under_18_v1(answers: Mapping[str, Any]) -> bool | None:
    band = answers.get("age_band")
    if band is None or band == "unknown":
        return None
    return band in MINOR_AGE_BANDS


def _acute_rule(answers: Mapping[str, Any], errors: dict[str, FieldProblem], now: datetime) -> None:
    """Safety flags, acute danger or a police outcome: the police-contact block comes first."""
    if is_acute_v1(answers) or answers.get("outcome") == TriageOutcome.POLICE:
        for name, message in zip(POLICE_FIELDS, (POLICE_HOW, POLICE_BY, POLICE_AT), strict=True):
            if name not in answers:
                errors.setdefault(name, FieldProblem(message))
    at = answers.get("police_contact_at")
    if at is not None and datetime.fromisoformat(at) > now:
        errors.setdefault("police_contact_at", FieldProblem(IN_THE_FUTURE))


def _child_rule(answers: Mapping[str, Any], errors: dict[str, FieldProblem]) -> None:
    """A minor whose welfare is at risk: a notification to the child's municipality."""
    if under_18_v1(answers) is not True:
        return
    welfare = answers.get("child_welfare")
    if welfare is None:
        errors.setdefault("child_welfare", FieldProblem(CHILD_WELFARE))
    elif welfare == "yes" and _code(answers.get("subject_municipality")) is None:
        errors.setdefault("subject_municipality", FieldProblem(CHILD_MUNICIPALITY))


def _outcome_rules(answers: Mapping[str, Any], errors: dict[str, FieldProblem]) -> None:
    outcome = answers.get("outcome")
    if outcome == TriageOutcome.NOT_JUSTIFIED and "not_justified_reason" not in answers:
        errors.setdefault("not_justified_reason", FieldProblem(NOT_JUSTIFIED_REASON))
    if outcome == TriageOutcome.ADVICE_ONLY and "advice_given" not in answers:
        errors.setdefault("advice_given", FieldProblem(ADVICE_NEEDED))
    if outcome == TriageOutcome.JUSTIFIED and (
        _code(answers.get("subject_municipality")) is None
        and _code(answers.get("reporter_municipality")) is None
    ):
        errors.setdefault("subject_municipality", FieldProblem(ROUTING_MUNICIPALITY))


def _date_rules(answers: Mapping[str, Any], errors: dict[str, FieldProblem], now: datetime) -> None:
    today = now.astimezone(LOCAL_TIME).date()
    for name in ("first_observed", "last_observed"):
        if name in answers and date.fromisoformat(answers[name]) > today:
            errors.setdefault(name, FieldProblem(DATE_IN_THE_FUTURE))
    first, last = answers.get("first_observed"), answers.get("last_observed")
    if first and last and last < first:  # ISO dates sort as text
        errors.setdefault("last_observed", FieldProblem(LAST_BEFORE_FIRST))


def rules_v1(answers: Mapping[str, Any], errors: dict[str, FieldProblem], now: datetime) -> None:
    _acute_rule(answers, errors, now)
    _child_rule(answers, errors)
    _outcome_rules(answers, errors)
    _date_rules(answers, errors, now)


def findings_v1(answers: Mapping[str, Any]) -> Findings:
    under_18 = under_18_v1(answers)
    subject = _code(answers.get("subject_municipality"))
    child = under_18 is True and answers.get("child_welfare") == "yes"
    police = None
    if all(name in answers for name in POLICE_FIELDS):
        police = PoliceContact(
            answers["police_contact"],
            answers["police_contact_by"],
            datetime.fromisoformat(answers["police_contact_at"]),
        )
    outcome = answers.get("outcome")
    return Findings(
        outcome=TriageOutcome(outcome) if outcome else None,
        acute=is_acute_v1(answers),
        under_18=under_18,
        child_notification_municipality=subject if child else None,
        subject_municipality=subject,
        reporter_municipality=_code(answers.get("reporter_municipality")),
        police_contact=police,
    )


FORMS: dict[int, FormDefinition] = {
    1: FormDefinition(1, _v1_sections(), rules=rules_v1, findings=findings_v1),
}
CURRENT_VERSION = 1


def definition(version: int | None = None) -> FormDefinition:
    """The form of `version` (the current one by default); every version ever used stays here."""
    wanted = CURRENT_VERSION if version is None else version
    try:
        return FORMS[wanted]
    except KeyError:
        raise UnknownVersion(f"there is no triage form version {wanted}") from None


# --- validation --------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, message: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.problem = FieldProblem(message, limit)


@cache
def _municipality_codes() -> frozenset[str]:
    return frozenset(str(code) for code in by_code())


def _code(value: object) -> int | None:
    """A municipality answer as its code; None when unknown or not given."""
    return int(value) if isinstance(value, str) and value in _municipality_codes() else None


def _empty(raw: object) -> bool:
    if isinstance(raw, str):
        return not raw.strip()
    return raw is None or (isinstance(raw, list | tuple) and not raw)


def _clean_text(spec: Field, raw: object) -> str:
    if not isinstance(raw, str):
        raise _Invalid(NOT_TEXT)
    value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if spec.max_length is not None and len(value) > spec.max_length:
        raise _Invalid(TOO_LONG, spec.max_length)
    return value


def _clean_choice(spec: Field, raw: object) -> str:
    value = raw.strip() if isinstance(raw, str) else raw
    if not isinstance(value, str) or spec.option_label(value) is None:
        raise _Invalid(NOT_A_CHOICE)
    return value


def _clean_multi(spec: Field, raw: object) -> list[str]:
    chosen = [raw] if isinstance(raw, str) else raw
    if not isinstance(chosen, list | tuple):
        raise _Invalid(NOT_A_CHOICE)
    picked = {_clean_choice(spec, item) for item in chosen if not _empty(item)}
    # In the definition's order, each once.
    return [o.value for o in spec.options if o.value in picked]


def _clean_municipality(raw: object) -> str:
    # A code as text ("101"), or as a number from a JSON client; "unknown" is an answer too.
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _Invalid(NOT_A_CHOICE)
    value = str(raw).strip()
    if value != UNKNOWN_MUNICIPALITY and value not in _municipality_codes():
        raise _Invalid(NOT_A_CHOICE)
    return value


def _clean_date(raw: object) -> str:
    if not isinstance(raw, str):
        raise _Invalid(NOT_A_DATE)
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise _Invalid(NOT_A_DATE) from None


def _clean_datetime(raw: object) -> str:
    """An ISO date-time; without an offset it is Danish time (what a datetime-local field sends).

    Stored in UTC.
    """
    if not isinstance(raw, str):
        raise _Invalid(NOT_A_DATETIME)
    text = raw.strip().replace(" ", "T", 1)
    if len(text) < 16 or "T" not in text:  # a time is required, not just a date
        raise _Invalid(NOT_A_DATETIME)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid(NOT_A_DATETIME) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TIME)
    return moment.astimezone(UTC).isoformat()


def _clean(spec: Field, raw: object) -> Any:
    match spec.kind:
        case Kind.TEXT:
            return _clean_text(spec, raw)
        case Kind.CHOICE | Kind.YES_NO:
            return _clean_choice(spec, raw)
        case Kind.MULTI_CHOICE:
            return _clean_multi(spec, raw)
        case Kind.MUNICIPALITY:
            return _clean_municipality(raw)
        case Kind.DATE:
            return _clean_date(raw)
        case Kind.DATETIME:
            return _clean_datetime(raw)


def applies(spec: Field, answers: Mapping[str, Any]) -> bool:
    """Whether a conditional field's condition holds for these answers."""
    if spec.shown_when is None:
        return True
    given = answers.get(spec.shown_when.field)
    values = given if isinstance(given, list) else [given]
    return any(value in spec.shown_when.values for value in values)


def validate(
    version: int, answers: Mapping[str, Any], *, submit: bool, now: datetime
) -> Validation:
    """Clean answers of form `version` and the problems per field.

    Drafts (`submit=False`) are checked for types and lengths only; a submission must also have
    its required fields and pass the version's rules. Empty answers are left out.
    """
    form = definition(version)
    result = Validation()
    known = {spec.name for spec in form.fields()}
    for name in answers:
        if name not in known:
            result.errors[name] = FieldProblem(NOT_A_FIELD)
    for spec in form.fields():
        raw = answers.get(spec.name)
        if _empty(raw):
            continue
        try:
            value = _clean(spec, raw)
        except _Invalid as invalid:
            result.errors[spec.name] = invalid.problem
            continue
        if not _empty(value):
            result.answers[spec.name] = value
    if submit:
        _check_submission(form, result, now)
    order = [*(spec.name for spec in form.fields()), *result.errors]
    result.errors = {
        name: result.errors[name] for name in dict.fromkeys(order) if name in result.errors
    }
    return result


def _check_submission(form: FormDefinition, result: Validation, now: datetime) -> None:
    for spec in form.fields():
        if not applies(spec, result.answers):
            result.answers.pop(spec.name, None)
            result.errors.pop(spec.name, None)
    for spec in form.fields():
        if spec.required and spec.name not in result.answers:
            result.errors.setdefault(spec.name, FieldProblem(REQUIRED))
    # Rules read clean values only: a field with a type error is not read again.
    clean = {k: v for k, v in result.answers.items() if k not in result.errors}
    form.rules(clean, result.errors, now)


def findings(version: int, answers: Mapping[str, Any]) -> Findings:
    """What submitted (validated) answers of `version` mean for the case."""
    return definition(version).findings(answers)


def input_values(version: int, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Stored answers as a form shows them: date-times in Danish time, as `datetime-local` wants."""
    form = definition(version)
    shown = dict(answers)
    for spec in form.fields():
        value = answers.get(spec.name)
        if spec.kind is Kind.DATETIME and isinstance(value, str):
            shown[spec.name] = local_input(datetime.fromisoformat(value))
    return shown


def local_input(moment: datetime) -> str:
    """A moment as a `datetime-local` field's value: Danish time, to the minute."""
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%dT%H:%M")
