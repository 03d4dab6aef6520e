"""`hotline demo`: a few dozen realistic contacts, cases in every state, and staff logins.

Everything is invented. The contacts describe observed behaviour only (withdrawal, violent
propaganda, threats, weapons, travel plans), never religion, ethnicity or opinions, as the real
form does. Phone contacts come with their calls (answered, missed, voicemail with a stored audio
file, outside hours) and web chats with their transcripts. No on-duty phones are set: any valid
number may be somebody's, and a demo database must never ring a stranger (set them with
`hotline duty set`). For the same reason demo staff have e-mail addresses (example.org) but no
phone numbers: Denmark reserves no range of fictional numbers, and every number phonenumbers
accepts could be someone's. Each hotline gets an on-call schedule (a weekly rotation of the
demo staff, a team lead, an override ahead); its page warns that nobody can be paged until real
numbers are set with `hotline staff set USERNAME --phone …`. Loading happens in one transaction
and is skipped when the `demo` login exists, so running it twice changes nothing.
"""

from __future__ import annotations

import io
import math
import os
import secrets
import wave
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.models import PartnerUnit, Role, StaffUser, UnitKind
from access.service import AccountExists, create_user
from bootstrap import Deps, build_deps
from clock import Clock
from intake import opening_hours, phone, receipts
from intake.chat import CHAT_DELIVERED, token_hash
from intake.concern_form import FORM_VERSION
from intake.models import (
    Call,
    CallerRole,
    CallOutcome,
    Channel,
    Chat,
    ChatStatus,
    Contact,
    Hotline,
    Message,
    MessageDirection,
    PhoneStatus,
    Recording,
    ReporterRole,
)
from intake.recordings import FOLDER as RECORDINGS_FOLDER
from notifications.models import OncallOverride, OncallSchedule
from notifications.oncall import DEFAULT_TIMEZONE, OverrideReason
from settings import Settings
from triage import deadlines, workflow
from triage.intake_flow import take_in_contact
from triage.models import (
    ActorKind,
    Case,
    CaseEvent,
    CaseStatus,
    CloseReason,
    Deadline,
    DeadlineKind,
    NoticeStatus,
    Routing,
)

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-hotline-2026"  # noqa: S105  (a demo login, printed on purpose)
# username, display name, role; all share DEMO_PASSWORD.
DEMO_STAFF: tuple[tuple[str, str, Role], ...] = (
    (DEMO_USERNAME, "Demo Medarbejder", Role.HOTLINE),
    ("kirsten", "Kirsten Dalgaard", Role.HOTLINE),
    ("jonas", "Jonas Holm", Role.HOTLINE),
    ("infohus", "Infohus København", Role.COORDINATOR),
    # The team lead of both on-call schedules, and the login that may change them.
    ("lise", "Lise Mortensen", Role.ADMIN),
)
DEMO_EMAIL_DOMAIN = "example.org"  # reserved for examples (RFC 2606): mail to it goes nowhere
# Per hotline: the rotation's order, its handover weekday and hour (Copenhagen time).
DEMO_ROTATIONS: dict[str, tuple[tuple[str, ...], int, int]] = {
    "national": ((DEMO_USERNAME, "kirsten", "jonas"), 0, 9),
    "copenhagen": (("kirsten", "jonas", DEMO_USERNAME), 2, 8),
}
DEMO_TEAM_LEAD = "lise"

# What became of a contact: "waiting" = not taken in yet (the worker's sweeper picks it up);
# "not_justified" and "advice_only" are closed cases with that outcome; "justified" waits to be
# routed; "routed" and "acknowledged" went to the partner unit of the person's municipality.
State = Literal[
    "waiting",
    "new",
    "in_triage",
    "justified",
    "routed",
    "acknowledged",
    "not_justified",
    "advice_only",
]

# Partner units (name, kind, covered municipality codes, mailbox). The addresses end in
# .invalid, a domain that can never exist: a demo database never mails anyone.
DEMO_UNITS: tuple[tuple[str, UnitKind, tuple[int, ...], str], ...] = (
    ("Infohus København", UnitKind.COORDINATION_UNIT, (101,), "infohus@koebenhavn.example.invalid"),
    ("Infohus Frederiksberg", UnitKind.INFOHUS, (147,), "infohus@frederiksberg.example.invalid"),
    ("Infohus Aarhus", UnitKind.INFOHUS, (751,), "infohus@aarhus.example.invalid"),
)
DEMO_COORDINATOR_UNIT = "Infohus København"
DEMO_LEGAL_BASIS = "Retsplejeloven § 115, stk. 2"

# How long after receipt the worker took the contact in, and when staff acted on its case.
TAKEN_IN_AFTER = timedelta(seconds=40)
ASSIGNED_AFTER = timedelta(minutes=25)
TRIAGE_STARTED_AFTER = timedelta(minutes=50)
# Justified after triage began, routed after that, acknowledged by the unit later.
JUSTIFIED_AFTER_TRIAGE = timedelta(minutes=40)
ROUTED_AFTER_JUSTIFIED = timedelta(minutes=20)
ACKNOWLEDGED_AFTER_ROUTED = timedelta(hours=2)
CLOSED_AFTER_TRIAGE_AT_LEAST = timedelta(minutes=10)
# Staff actions never land in the future or in the last moments before "now".
LATEST_ACTION_BEFORE_NOW = timedelta(minutes=2)

# A call: the menu (language, role, anonymity) until the on-duty phones ring, and until one of
# them accepts. The voicemail audio: a quiet tone, stored as fetched recordings are.
MENU = timedelta(seconds=25)
RINGING = timedelta(seconds=12)
VOICEMAIL_SECONDS = 2
VOICEMAIL_CONTENT_TYPE = "audio/x-wav"
# Calls and answered chats are moved (at most this far from their nominal time, in these steps)
# to when the hotline was open, or closed for the outside-hours call, so the rows agree.
PLACE_STEP = timedelta(minutes=15)
OLDEST_CONTACT = timedelta(hours=118)
NEWEST_PLACED = timedelta(hours=1)


@dataclass(frozen=True)
class DemoMessage:
    """One message of an SMS/WhatsApp thread, `minutes` after the contact arrived."""

    minutes: float
    body: str
    # Outbound messages are staff replies (by the contact's assignee, else `demo`), with the
    # status the provider last reported and, when failed, its error code and reason.
    outbound: bool = False
    status: str = "received"
    error: tuple[str, str] | None = None


def _in(minutes: float, body: str) -> DemoMessage:
    return DemoMessage(minutes, body)


def _out(
    minutes: float, body: str, status: str, error: tuple[str, str] | None = None
) -> DemoMessage:
    return DemoMessage(minutes, body, outbound=True, status=status, error=error)


def _staff(minutes: float, body: str) -> DemoMessage:
    """A staff line in a web chat: no provider, it reaches the visitor at once."""
    return DemoMessage(minutes, body, outbound=True, status=CHAT_DELIVERED)


@dataclass(frozen=True)
class DemoCall:
    """The call behind a phone contact, as the voice webhooks leave it when it has ended.

    `seconds`: answered, the talk time with the on-duty phone; otherwise the whole call.
    """

    outcome: CallOutcome
    seconds: int
    answered_by: str | None = None


def _answered(label: str, seconds: int) -> DemoCall:
    return DemoCall(CallOutcome.ANSWERED, seconds, answered_by=label)


@dataclass(frozen=True)
class DemoChat:
    """A web chat: who ended it ("visitor", "staff"), or None for a chat nobody accepted in
    time (missed; the visitor then left a call-back number, the contact's `phone`)."""

    ended_by: Literal["visitor", "staff"] | None
    # The transcript; staff lines are by the contact's assignee, else `demo`.
    lines: tuple[DemoMessage, ...]


@dataclass(frozen=True)
class DemoContact:
    hotline: str
    channel: Channel
    hours_ago: float
    role: ReporterRole
    answers: dict[str, Any]
    state: State
    language: str = "da"
    anonymous: bool = False
    name: str | None = None
    organisation: str | None = None
    # As it arrived (typed, or the caller ID); normalised when the contact is taken in.
    phone: str | None = None
    # A caller who hid their number: nothing is stored, the status says why.
    withheld: bool = False
    email: str | None = None
    assignee: str | None = None
    # For closed cases: hours from receipt until triage ended.
    closed_after_hours: float = 4.0
    # SMS and WhatsApp: the messages of the thread, the first one being what opened it.
    thread: tuple[DemoMessage, ...] = ()
    # Phone contacts: their call. Web chats: their chat and transcript.
    call: DemoCall | None = None
    chat: DemoChat | None = None

    @property
    def is_acute(self) -> bool:
        return any(answer == "yes" for answer in self.answers["safety"].values())


def _safety(
    threats: str = "no", violence: str = "no", weapons: str = "no", travel: str = "no"
) -> dict[str, str]:
    return {"threats": threats, "violence": violence, "weapons": weapons, "travel": travel}


def _form(
    *,
    relation: str | None,
    age: str,
    municipality: str,
    observed: str,
    when: str | None,
    how_known: str | None,
    change: str | None,
    safety: dict[str, str],
) -> dict[str, Any]:
    """Answers exactly as the public concern form stores them."""
    return {
        "form_version": FORM_VERSION,
        "relation": relation,
        "person_age": age,
        "municipality": municipality,
        "observed": observed,
        "observed_when": when,
        "how_known": how_known,
        "change_over_time": change,
        "safety": safety,
    }


def _told(
    summary: str, *, age: str, municipality: str, safety: dict[str, str], relation: str | None
) -> dict[str, Any]:
    """A call, message thread or chat: staff's short summary, with the form's keys where shared."""
    return {
        "form_version": FORM_VERSION,
        "summary": summary,
        "relation": relation,
        "person_age": age,
        "municipality": municipality,
        "safety": safety,
    }


# What a caller chose in the phone menu; an unknown role chose nothing.
CALLER_ROLES: dict[ReporterRole, CallerRole] = {
    ReporterRole.PROFESSIONAL: CallerRole.PROFESSIONAL,
    ReporterRole.RELATIVE: CallerRole.CITIZEN,
    ReporterRole.FRIEND: CallerRole.CITIZEN,
    ReporterRole.OTHER: CallerRole.CITIZEN,
}

PRO, REL, FRIEND, OTHER, UNKNOWN = (
    ReporterRole.PROFESSIONAL,
    ReporterRole.RELATIVE,
    ReporterRole.FRIEND,
    ReporterRole.OTHER,
    ReporterRole.UNKNOWN,
)
CPH, NAT = "copenhagen", "national"

DEMO_CONTACTS: tuple[DemoContact, ...] = (
    # ---- Copenhagen (VINK's hotline) -----------------------------------------------------------
    DemoContact(
        CPH,
        Channel.PHONE,
        40.2,
        REL,
        _told(
            "Mor ringer om sin søn på 17. Han har i de sidste to måneder trukket sig fra sine "
            "gamle venner og fodboldholdet, sidder oppe om natten ved computeren og har fået nye, "
            "ældre kontakter online, som han ikke vil tale om. Han har delt videoer med voldsomme "
            "kampscener i familiens gruppechat. Ingen kendte trusler eller våben.",
            relation="Mor",
            age="under_18",
            municipality="101",
            safety=_safety(violence="unknown"),
        ),
        "acknowledged",
        name="Susanne Madsen",
        phone="20 12 34 56",
        call=_answered("duty-1", 14 * 60),
        assignee="demo",
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        20.4,
        PRO,
        _form(
            relation="Klasselærer for eleven",
            age="under_18",
            municipality="101",
            observed="En elev i 8. klasse tegner gentagne gange symboler, som bruges af voldelige "
            "grupper, på sine hæfter og på bordene, og har vist klassekammerater videoer af "
            "angreb på sin telefon. Han siger, at ofrene 'selv var ude om det'.",
            when="De sidste tre uger",
            how_known="Jeg har selv set tegningerne, og to elever har fortalt om videoerne.",
            change="Han var tidligere social; nu sidder han alene i frikvartererne.",
            safety=_safety(),
        ),
        "routed",
        name="Jonas Brandt",
        organisation="Folkeskole på Amager",
        email="jonas.brandt@example.org",
        assignee="kirsten",
    ),
    DemoContact(
        CPH,
        Channel.PHONE,
        19.2,
        PRO,
        _told(
            "Klubmedarbejder ringer om en 16-årig, der færdes i kanten af et bandemiljø. De "
            "sidste uger er han set sammen med ældre mænd, der ifølge andre unge hverver til en "
            "voldelig gruppe. Han har vist en kniv frem i klubben og sagt, at han 'er klar, når "
            "de kalder'. Klubben har talt med forældrene.",
            relation="Medarbejder i fritidsklubben",
            age="under_18",
            municipality="101",
            safety=_safety(threats="unknown", weapons="yes"),
        ),
        "in_triage",
        name="Mikkel Holm",
        organisation="Fritidsklub på Nørrebro",
        phone="40 11 22 33",
        call=_answered("duty-2", 9 * 60 + 20),
        assignee="kirsten",
    ),
    DemoContact(
        CPH,
        Channel.PHONE,
        110.5,
        PRO,
        _told(
            "Lærer søger råd om, hvordan hun taler med sin 9. klasse om et terrorangreb, der "
            "fylder i nyhederne, efter at nogle elever har lavet grove vittigheder om ofrene. "
            "Ingen konkret bekymring for en enkelt elev. Rådgivet om dialog i klassen og om, "
            "hvornår skolen skal inddrage SSP.",
            relation="Lærer",
            age="under_18",
            municipality="101",
            safety=_safety(),
        ),
        "advice_only",
        name="Lotte Vestergaard",
        organisation="Skole i Valby",
        phone="26 45 78 12",
        call=_answered("duty-1", 11 * 60),
        assignee="kirsten",
        closed_after_hours=0.5,
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        26.3,
        OTHER,
        _form(
            relation="Nabo",
            age="18_25",
            municipality="101",
            observed="En ung mand i opgangen praler over for andre unge af, at han snart skal "
            "'ned og kæmpe' i udlandet, og han har solgt sine møbler. Jeg har hørt ham sige, at "
            "han har fået en billet.",
            when="Den sidste uge",
            how_known="Jeg har hørt det på trappen og i gården.",
            change="Han har ændret sig meget på kort tid og hilser ikke længere.",
            safety=_safety(travel="unknown"),
        ),
        "new",
        anonymous=True,
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        10.1,
        PRO,
        _form(
            relation="Sagsbehandler",
            age="18_25",
            municipality="101",
            observed="En 22-årig borger har ved de sidste tre samtaler udtrykt had mod "
            "myndighederne og sagt, at 'nogen her skal betale'. I går truede han en kollega med, "
            "at han ved, hvor hun bor. Han har også vist videoer af vold mod politifolk.",
            when="De sidste to måneder, senest i går",
            how_known="Jeg har selv været til stede ved samtalerne.",
            change="Tonen er blevet skarpere fra gang til gang.",
            safety=_safety(threats="yes", weapons="unknown"),
        ),
        "in_triage",
        name="Pernille Kjær",
        organisation="Jobcenter København",
        phone="42 77 31 05",
        email="pernille.kjaer@example.org",
        assignee="demo",
    ),
    DemoContact(
        CPH,
        Channel.WHATSAPP,
        12.0,
        REL,
        _told(
            "Father writes that his 15-year-old daughter is in daily contact with adult men "
            "online who send her violent videos and urge her to leave home and 'join them'. She "
            "has started hiding her phone and talks about travelling abroad after the summer.",
            relation="Father",
            age="under_18",
            municipality="101",
            safety=_safety(travel="unknown"),
        ),
        "new",
        language="en",
        name="Daniel Moore",
        phone="whatsapp:+4530567812",
        assignee="kirsten",
        thread=(
            _in(
                0,
                "Hello, I am writing about my 15-year-old daughter. She is in daily contact with "
                "adult men online who send her violent videos and tell her to leave home and "
                "join them.",
            ),
            _in(4, "She has started hiding her phone and talks about travelling after the summer."),
            _out(
                30,
                "Thank you for writing to us. We take this seriously. Can we call you today? "
                "Please reply with a time that suits you.",
                "read",
            ),
            _in(42, "Please call after 5 pm."),
        ),
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        50.0,
        PRO,
        _form(
            relation="Boligsocial medarbejder",
            age="under_18",
            municipality="101",
            observed="En gruppe unge på 15-18 år har malet voldsforherligende symboler i "
            "kælderen og på legepladsen. En af dem samler penge ind blandt de yngre 'til "
            "krigerne' og viser videoer af kampe på sin telefon.",
            when="Siden starten af måneden",
            how_known="Jeg har selv set graffitien; forældre har fortalt om indsamlingen.",
            change="Flere af de yngre børn er begyndt at følge ham.",
            safety=_safety(violence="unknown"),
        ),
        "in_triage",
        name="Rikke Jensen",
        organisation="Boligsocial helhedsplan i Sydhavnen",
        email="rikke.jensen@example.net",
    ),
    DemoContact(
        CPH,
        Channel.SMS,
        13.4,
        OTHER,
        _told(
            "Fodboldtræner skriver, at en spiller på 17 er holdt op med at komme til træning og "
            "har lagt billeder op af sig selv med våben og maske sammen med ukendte, ældre "
            "personer. Træneren ved ikke, om våbnene er ægte.",
            relation="Fodboldtræner",
            age="under_18",
            municipality="101",
            safety=_safety(weapons="unknown"),
        ),
        "new",
        phone="25 36 47 58",
        thread=(
            _in(
                0,
                "Hej. Jeg er fodboldtræner for et U19-hold. En af mine spillere på 17 er holdt op "
                "med at komme til træning og har lagt billeder op af sig selv med våben og maske "
                "sammen med nogle ældre fyre, jeg ikke kender. Hvad gør jeg?",
            ),
            _in(3, "Jeg ved ikke, om våbnene er ægte. Han svarer ikke, når jeg skriver til ham."),
        ),
    ),
    DemoContact(
        CPH,
        Channel.PHONE,
        23.1,
        PRO,
        _told(
            "Fængselsbetjent ringer om en indsat på 31, der løslades om ti dage. Han har under "
            "afsoningen forsøgt at få medindsatte med i en voldelig gruppe og delt propaganda. "
            "Kriminalforsorgen ønsker koordinering med Infohus før løsladelsen.",
            relation="Fængselsbetjent",
            age="26_40",
            municipality="101",
            safety=_safety(violence="unknown"),
        ),
        "in_triage",
        name="Bo Kristensen",
        organisation="Kriminalforsorgen",
        phone="+4560718293",
        call=DemoCall(CallOutcome.VOICEMAIL, 48),
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        1.0,
        REL,
        _form(
            relation="Mor",
            age="under_18",
            municipality="101",
            observed="Min søn på 14 har søgt på nettet efter, hvordan man laver sprængstoffer, "
            "og jeg har fundet kemikalier og ledninger gemt i hans skab. Han ser mange videoer "
            "om skoleskyderier og siger, at han hader alle på skolen.",
            when="Jeg fandt det i går aftes",
            how_known="Jeg har selv set søgehistorikken og fundet tingene.",
            change="Han er blevet mere indelukket, siden han skiftede skole i efteråret.",
            safety=_safety(threats="unknown", weapons="yes"),
        ),
        "new",
        name="Mette Andersen",
        phone="0045 22 33 44 55",
    ),
    DemoContact(
        CPH,
        Channel.WEB_CHAT,
        4.2,
        PRO,
        _told(
            "School counsellor at an international school: a 15-year-old student has joked "
            "repeatedly about a school shooting and was found drawing floor plans of the school "
            "with the exits marked. Classmates are scared. The school has informed the parents.",
            relation="School counsellor",
            age="under_18",
            municipality="101",
            safety=_safety(threats="yes", weapons="unknown"),
        ),
        "new",
        language="en",
        name="Sarah Whitfield",
        organisation="International school in Copenhagen",
        email="s.whitfield@example.com",
        chat=DemoChat(
            "staff",
            (
                _in(
                    0,
                    "Hello, I am a school counsellor at an international school in Copenhagen. "
                    "Can I talk to someone about a student?",
                ),
                _staff(1.5, "Hello, you are chatting with VINK. Of course, what worries you?"),
                _in(
                    3,
                    "A 15-year-old student keeps joking about a school shooting, and yesterday we "
                    "found his drawings of the school's floor plan with the exits marked. His "
                    "classmates are scared.",
                ),
                _staff(
                    6,
                    "Thank you for telling us. Have the parents been informed? Do you know if he "
                    "has access to weapons?",
                ),
                _in(8, "We told the parents this morning. We do not know about weapons."),
                _staff(
                    10,
                    "We will look at this today and contact you. Please write your e-mail address.",
                ),
                _in(11, "s.whitfield@example.com. Thank you."),
            ),
        ),
    ),
    DemoContact(
        CPH,
        Channel.SMS,
        18.0,
        REL,
        _told(
            "Lillesøster skriver, at hendes storebror på 27 har brudt kontakten med familien, "
            "efter at han er kommet ind i en lukket gruppe, der forbyder kontakt til "
            "'udenforstående'. Han har skrevet til moren, at familien 'vil få, hvad de fortjener'.",
            relation="Søster",
            age="26_40",
            municipality="101",
            safety=_safety(threats="unknown"),
        ),
        "new",
        phone="+45 29 87 65 43",
        thread=(
            _in(
                0,
                "Hej. Min storebror på 27 har brudt kontakten med hele familien, efter han er "
                "kommet ind i en lukket gruppe. Nu har han skrevet til vores mor, at vi 'vil få, "
                "hvad vi fortjener'. Vi er bange.",
            ),
            _out(
                45,
                "Tak for din besked. Vi vil gerne tale med dig om din bror. Må vi ringe til dig i "
                "dag mellem kl. 10 og 15? Svar gerne med et tidspunkt.",
                "failed",
                ("30003", "the recipient's phone is switched off or unreachable"),
            ),
            _in(200, "Har I fået min besked? Jeg kan tale i telefon efter kl. 16."),
        ),
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        36.5,
        PRO,
        _form(
            relation="Bibliotekar",
            age="26_40",
            municipality="101",
            observed="En fast låner på omkring 30 år ser henrettelsesvideoer fra en "
            "terrororganisation på bibliotekets offentlige computere og har printet flere sider "
            "propaganda, som han har lagt frem på læsebordene.",
            when="Flere gange de sidste tre uger",
            how_known="Jeg har selv set skærmen og fundet udskrifterne.",
            change="Det sker oftere, og han bliver konfronterende, når personalet spørger.",
            safety=_safety(violence="unknown"),
        ),
        "new",
        name="Birgitte Frost",
        organisation="Bibliotek på Østerbro",
        email="birgitte.frost@example.org",
    ),
    DemoContact(
        CPH,
        Channel.WEB_CHAT,
        75.0,
        REL,
        _told(
            "Mor er bekymret, fordi hendes søn på 18 har ændret udseende og tøjstil og har fået "
            "en ny vennekreds. På opfølgende spørgsmål beskriver hun ingen voldelig adfærd, "
            "trusler eller isolation fra familien. Rådgivet om at holde dialogen åben; ingen "
            "begrundet bekymring.",
            relation="Mor",
            age="18_25",
            municipality="101",
            safety=_safety(),
        ),
        "not_justified",
        name="Lene Christiansen",
        email="lene.c@example.net",
        chat=DemoChat(
            "visitor",
            (
                _in(
                    0,
                    "Hej. Jeg er bekymret for min søn på 18. Han har skiftet tøjstil og har fået "
                    "helt nye venner.",
                ),
                _staff(
                    2,
                    "Hej, du skriver med VINK. Godt, at du tager kontakt. Har du set ham gøre "
                    "eller sige noget voldeligt eller truende?",
                ),
                _in(4, "Nej, ikke noget voldeligt. Han er sød derhjemme, han er bare meget væk."),
                _staff(
                    7,
                    "Det lyder ikke som tegn på radikalisering. Hold dialogen åben, og spørg "
                    "nysgerrigt ind til hans nye venner. Du er altid velkommen til at skrive igen.",
                ),
                _in(9, "Tak, det var rart at høre."),
            ),
        ),
        assignee="demo",
        closed_after_hours=1.0,
    ),
    DemoContact(
        CPH,
        Channel.SMS,
        52.3,
        PRO,
        _told(
            "Klubmedarbejder skriver, at flere unge deler en video af et overfald med "
            "voldsforherligende slogans. Ønsker råd om, hvordan klubben taler med de unge om det. "
            "Rådgivet om dialog og om at kontakte SSP, hvis enkelte unge viser bekymrende adfærd.",
            relation="Klubmedarbejder",
            age="under_18",
            municipality="101",
            safety=_safety(),
        ),
        "advice_only",
        name="Nikolaj Berg",
        organisation="Ungdomsklub i Tingbjerg",
        phone="+4571234567",
        assignee="demo",
        closed_after_hours=3.0,
        thread=(
            _in(
                0,
                "Hej VINK. Flere af de unge i klubben deler en video af et overfald med "
                "voldsforherligende slogans. Hvordan tager vi snakken med dem? Ring gerne.",
            ),
        ),
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        7.3,
        PRO,
        _form(
            relation="Tilsynsførende",
            age="18_25",
            municipality="101",
            observed="En klient under tilsyn har efter en vens anholdelse talt om 'hævn' over "
            "politiet og spurgt andre klienter, hvor man kan skaffe våben.",
            when="De sidste to mødegange",
            how_known="Han sagde det selv til mig; en anden klient har fortalt om spørgsmålene.",
            change="Han har tidligere samarbejdet godt, men udebliver nu fra aftaler.",
            safety=_safety(threats="unknown", weapons="unknown"),
        ),
        "new",
        name="Camilla Skov",
        organisation="Kriminalforsorgen i Frihed",
        phone="30 45 12 78",
    ),
    DemoContact(
        CPH,
        Channel.WEB_FORM,
        0.3,
        OTHER,
        _form(
            relation="Forælder til en klassekammerat",
            age="under_18",
            municipality="101",
            observed="Min datter fortæller, at en dreng på 12 i hendes klasse viser "
            "henrettelsesvideoer på sin telefon i frikvartererne og siger, at det er det, der "
            "skal ske med dem, der er imod ham. Flere børn har fået mareridt.",
            when="Den sidste måned",
            how_known="Min datter og to andre forældre har fortalt det.",
            change=None,
            safety=_safety(threats="unknown"),
        ),
        "waiting",
        anonymous=True,
    ),
    # ---- National hotline ----------------------------------------------------------------------
    DemoContact(
        NAT,
        Channel.SMS,
        5.0,
        FRIEND,
        _told(
            "Skriver om en ven på omkring 20, der deler voldelig propaganda i vennernes "
            "gruppechat: videoer fra angreb med tekster, der hylder gerningsmændene. Vennen har "
            "skrevet, at 'nogen burde gøre det samme her'. Afsender vil gerne ringes op efter "
            "kl. 16.",
            relation="Ven",
            age="18_25",
            municipality="751",
            safety=_safety(threats="unknown"),
        ),
        "new",
        phone="+45 31 45 67 89",
        assignee="demo",
        thread=(
            _in(
                0,
                "Min ven på omkring 20 deler voldelig propaganda i vores gruppechat. Han har "
                "skrevet, at 'nogen burde gøre det samme her'. Jeg ved ikke, om jeg overreagerer.",
            ),
            _in(2, "Ring gerne efter kl. 16, jeg er i skole indtil da."),
            _out(
                40,
                "Tak fordi du skriver. Det er rigtigt at sige det videre. Vi ringer til dig i dag "
                "efter kl. 16.",
                "delivered",
            ),
            _in(55, "Super, tak."),
        ),
    ),
    DemoContact(
        NAT,
        Channel.WEB_FORM,
        2.1,
        OTHER,
        _form(
            relation="Med i samme online spilgruppe",
            age="unknown",
            municipality="unknown",
            observed="En bruger i en gruppechat for et onlinespil har flere gange skrevet, at han "
            "vil 'skyde løs' på sin gamle skole, og har lagt billeder af et gevær op. Han skriver, "
            "at det sker 'inden sommerferien'.",
            when="I går aftes og i nat",
            how_known="Jeg har selv læst beskederne og taget skærmbilleder.",
            change="Beskederne er blevet mere konkrete den sidste uge.",
            safety=_safety(threats="yes", violence="unknown", weapons="yes"),
        ),
        "new",
        anonymous=True,
    ),
    DemoContact(
        NAT,
        Channel.WEB_FORM,
        70.4,
        OTHER,
        _form(
            relation="Kollega på samme arbejdsplads",
            age="over_40",
            municipality="265",
            observed="En 45-årig kollega, IT-specialist, er meget aktiv i højreekstreme "
            "onlinefora, hvor der opfordres til vold mod politikere og journalister. Han har vist "
            "mig opslag, hvor han selv skriver, at 'der snart skal ryddes op med våben', og han "
            "har delt manifester fra gerningsmænd bag terrorangreb. Han har jagttegn og flere "
            "rifler derhjemme.",
            when="Over de sidste seks måneder, tiltagende",
            how_known="Han har selv vist mig opslagene på sin telefon i frokostpausen.",
            change="Han er blevet mere optaget af det og taler om det næsten dagligt.",
            safety=_safety(threats="yes", weapons="yes"),
        ),
        "in_triage",
        name="Henrik Sørensen",
        phone="+45-28-91-04-77",
        assignee="demo",
    ),
    DemoContact(
        NAT,
        Channel.WEB_FORM,
        8.2,
        FRIEND,
        _form(
            relation="Fellow student on the engineering programme",
            age="18_25",
            municipality="851",
            observed="A fellow engineering student, around 23, has started praising recent "
            "terror attacks and calls the attackers heroes. He has shared propaganda videos from "
            "a militant group in our study group chat and asked others whether they would 'dare' "
            "to do something similar.",
            when="Over the past month",
            how_known="I was in the conversations and have seen the chat myself.",
            change="He used to be very social; now he avoids most of us and skips lectures.",
            safety=_safety(travel="unknown"),
        ),
        "new",
        language="en",
        name="Emma Clarke",
        email="emma.clarke@example.com",
    ),
    DemoContact(
        NAT,
        Channel.PHONE,
        45.0,
        REL,
        _told(
            "Søster ringer om sin søster, der ventes hjem fra en lejr i en konfliktzone med to "
            "børn på 4 og 6 år. Familien ønsker råd om, hvad der sker ved hjemkomsten, og om "
            "støtte til børnene og bedsteforældrene. Ingen aktuelle trusler.",
            relation="Søster",
            age="26_40",
            municipality="461",
            safety=_safety(),
        ),
        "in_triage",
        name="Anne Mikkelsen",
        phone="61234567",
        call=DemoCall(CallOutcome.MISSED, 70),
        assignee="demo",
    ),
    DemoContact(
        NAT,
        Channel.PHONE,
        115.0,
        PRO,
        _told(
            "Sygeplejerske i psykiatrien søger råd om en indlagt patient med psykose, der er "
            "optaget af materiale om et kendt terrorangreb og tegner gerningsmanden. Ingen "
            "trusler og ingen adgang til våben. Rådgivet om PSP-samarbejdet og om at dokumentere "
            "konkret adfærd.",
            relation="Sygeplejerske",
            age="26_40",
            municipality="851",
            safety=_safety(),
        ),
        "advice_only",
        name="Jesper Lund",
        organisation="Psykiatrien, Region Nordjylland",
        phone="51 88 20 14",
        call=_answered("duty-1", 17 * 60 + 5),
        assignee="demo",
        closed_after_hours=0.7,
    ),
    DemoContact(
        NAT,
        Channel.WHATSAPP,
        22.0,
        FRIEND,
        _told(
            "Veninde skriver om sin bedste ven på 24, der er begyndt at træne 'kamp' i skoven "
            "med en lukket gruppe, som taler om en kommende 'dag X'. Han har købt "
            "camouflageudstyr og siger, at han ikke kan fortælle mere.",
            relation="Veninde",
            age="18_25",
            municipality="561",
            safety=_safety(violence="unknown", weapons="unknown"),
        ),
        "new",
        name="Sofie",
        phone="whatsapp:+4541526374",
        thread=(
            _in(
                0,
                "Hej. Min bedste ven på 24 træner 'kamp' i skoven med en lukket gruppe, der "
                "taler om en 'dag X'. Han har købt camouflageudstyr og siger, han ikke kan "
                "fortælle mere.",
            ),
        ),
    ),
    DemoContact(
        NAT,
        Channel.PHONE,
        60.0,
        REL,
        _told(
            "Bedstemor ringer om sit barnebarn på 19, der er stoppet på sin uddannelse og bruger "
            "det meste af tiden på computerspil. På opfølgende spørgsmål er der ingen tegn på "
            "voldelig adfærd, trusler eller kontakt til voldelige miljøer. Henvist til "
            "kommunens ungerådgivning.",
            relation="Bedstemor",
            age="18_25",
            municipality="630",
            safety=_safety(),
        ),
        "not_justified",
        name="Inger Poulsen",
        phone="53 19 46 70",
        call=_answered("duty-2", 12 * 60),
        assignee="demo",
        closed_after_hours=2.0,
    ),
    DemoContact(
        NAT,
        Channel.WEB_FORM,
        3.0,
        PRO,
        _form(
            relation="Studievejleder",
            age="under_18",
            municipality="265",
            observed="Tre elever fra 2.g deltog i weekenden i voldelige angreb på politiet under "
            "en demonstration og har lagt videoer af det op med opfordringer til at 'gøre det "
            "igen og hårdere'. En af dem har sagt i klassen, at der næste gang skal bruges "
            "brandbomber.",
            when="Sidste weekend og mandag i klassen",
            how_known="Jeg har set videoerne og hørt om udtalelsen fra flere elever.",
            change="De tre er blevet mere isolerede fra resten af klassen.",
            safety=_safety(threats="yes", violence="yes", weapons="unknown"),
        ),
        "new",
        name="Karen Holt",
        organisation="Gymnasium på Sjælland",
        email="karen.holt@example.org",
    ),
    DemoContact(
        NAT,
        Channel.WEB_CHAT,
        1.5,
        UNKNOWN,
        _told(
            "Anonymous chat: the writer says her boyfriend, around 30, watches execution videos "
            "every night and has said he wants to 'do the same' to people at his workplace. She "
            "is afraid of him and ended the chat when asked where they live. Told to call 112 if "
            "in immediate danger.",
            relation=None,
            age="26_40",
            municipality="unknown",
            safety=_safety(threats="yes", violence="unknown"),
        ),
        "new",
        language="en",
        anonymous=True,
        chat=DemoChat(
            "visitor",
            (
                _in(
                    0,
                    "hi. my boyfriend watches execution videos every night. he said he wants to do "
                    "the same to people at his work",
                ),
                _staff(
                    1,
                    "Hello, you are chatting with the national hotline. Thank you for writing. Are "
                    "you safe right now? If you are in immediate danger, call 112.",
                ),
                _in(3, "not right now. but I am scared of him"),
                _staff(
                    5,
                    "We understand. Can you tell us roughly where you live, so we can involve the "
                    "right people?",
                ),
            ),
        ),
    ),
    DemoContact(
        NAT,
        Channel.WEB_CHAT,
        26.0,
        UNKNOWN,
        _told(
            "Chat, som ingen nåede at tage: en søster skriver, at hendes lillebror på 16 har "
            "skaffet sig en kniv og siger, at han skal 'forsvare' sine nye, ældre venner. Hun "
            "efterlod et nummer til at blive ringet op.",
            relation="Søster",
            age="under_18",
            municipality="unknown",
            safety=_safety(violence="unknown", weapons="yes"),
        ),
        "new",
        # Given in the chat's call-back form, which makes the visitor reachable (not anonymous).
        phone="+45 22 41 63 85",
        chat=DemoChat(
            None,
            (
                _in(
                    0,
                    "Hej. Min lillebror på 16 har skaffet sig en kniv og siger, at han skal "
                    "'forsvare' sine nye venner. De er meget ældre end ham. Kan jeg tale med "
                    "nogen?",
                ),
                _in(1, "Er der nogen?"),
            ),
        ),
    ),
    DemoContact(
        NAT,
        Channel.WEB_FORM,
        0.6,
        OTHER,
        _form(
            relation="Kollega",
            age="26_40",
            municipality="791",
            observed="En kollega på lageret viser billeder af våben på sin telefon og taler om at "
            "'straffe forræderne' på arbejdspladsen. Han har spurgt, hvornår ledelsen holder møde.",
            when="De sidste to uger",
            how_known="Jeg har selv set billederne og hørt ham sige det.",
            change="Han er blevet vredere efter en advarsel fra ledelsen.",
            safety=_safety(threats="unknown", weapons="unknown"),
        ),
        "waiting",
        name="Torben Nielsen",
        email="torben.nielsen@example.net",
    ),
    DemoContact(
        NAT,
        Channel.WEB_FORM,
        16.0,
        FRIEND,
        _form(
            relation="Ven fra gymnasiet",
            age="18_25",
            municipality="751",
            observed="Min ven på 19 har solgt sin bil og sin computer, har købt en enkeltbillet "
            "til udlandet og siger, at han vil videre til en konfliktzone for at kæmpe. Han har "
            "bedt mig om ikke at sige det til sine forældre.",
            when="Han rejser efter planen på fredag",
            how_known="Han har selv fortalt mig det og vist mig billetten.",
            change="Han er over de sidste måneder holdt op med at se sine gamle venner.",
            safety=_safety(travel="yes"),
        ),
        "in_triage",
        anonymous=True,
        assignee="kirsten",
    ),
    DemoContact(
        NAT,
        Channel.PHONE,
        6.0,
        UNKNOWN,
        _told(
            "Opkald fra skjult nummer: en mand siger, at en person, han kender, planlægger "
            "'noget stort' på en musikfestival i næste måned og har skaffet udstyr. Samtalen blev "
            "afbrudt, før der kom navne eller sted. Politiet er orienteret efter retningslinjen "
            "for akutte henvendelser.",
            relation=None,
            age="unknown",
            municipality="unknown",
            safety=_safety(threats="yes", weapons="unknown"),
        ),
        "new",
        anonymous=True,
        withheld=True,
        assignee="demo",
        call=_answered("duty-1", 95),
    ),
    DemoContact(
        NAT,
        Channel.PHONE,
        90.0,
        PRO,
        _told(
            "Socialrådgiver søger råd om en 16-årig, hvis forældre ifølge skolen viser ham "
            "voldsforherligende videoer og forbyder ham at deltage i skolens aktiviteter. "
            "Spørgsmål om underretning og om samarbejdet med Infohus. Rådgivet om "
            "underretningspligten; sagen håndteres af kommunen.",
            relation="Socialrådgiver",
            age="under_18",
            municipality="461",
            safety=_safety(),
        ),
        "advice_only",
        name="Hanne Bech",
        organisation="Børne- og familieafdelingen",
        phone="+4527183946",
        call=DemoCall(CallOutcome.VOICEMAIL, 52),
        assignee="kirsten",
        closed_after_hours=1.5,
    ),
    DemoContact(
        NAT,
        Channel.WEB_FORM,
        100.0,
        PRO,
        _form(
            relation="Lærer",
            age="under_18",
            municipality="851",
            observed="En elev på 13 har tegnet symboler fra voldelige grupper og skrevet navne på "
            "kendte gerningsmænd bag massedrab på sin skoletaske.",
            when="Opdaget i mandags",
            how_known="Jeg har selv set skoletasken.",
            change="Ingen anden ændring i hans adfærd, som jeg har bemærket.",
            safety=_safety(),
        ),
        "not_justified",
        name="Morten Dahl",
        organisation="Skole i Aalborg",
        email="morten.dahl@example.org",
        assignee="kirsten",
        closed_after_hours=20.0,
    ),
    DemoContact(
        NAT,
        Channel.WHATSAPP,
        14.0,
        OTHER,
        _told(
            "Ex-girlfriend living in Sweden writes that her former partner in Frederiksberg sends "
            "her hateful messages about 'cleaning the streets' and violent videos. No direct "
            "threat against anyone named. She has blocked him but fears he will act.",
            relation="Former partner",
            age="26_40",
            municipality="147",
            safety=_safety(threats="unknown", weapons="unknown"),
        ),
        "justified",
        language="en",
        name="Linnea",
        phone="whatsapp:+46701740652",
        thread=(
            _in(
                0,
                "Hi, my ex-partner in Frederiksberg keeps sending me hateful messages about "
                "'cleaning the streets' and violent videos. I have blocked him but I am afraid "
                "he will do something.",
            ),
        ),
    ),
    DemoContact(
        NAT,
        Channel.SMS,
        0.1,
        UNKNOWN,
        _told(
            "Anonym sms: 'En i min klasse har en liste med navne på lærere og elever, han vil "
            "skade. Han siger, det sker i morgen.' Afsenderen svarer ikke på spørgsmål.",
            relation=None,
            age="under_18",
            municipality="unknown",
            safety=_safety(threats="yes"),
        ),
        "waiting",
        anonymous=True,
        withheld=True,
        thread=(
            _in(
                0,
                "En i min klasse har en liste med navne på lærere og elever, han vil skade. Han "
                "siger, det sker i morgen.",
            ),
        ),
    ),
    DemoContact(
        NAT,
        Channel.PHONE,
        9.0,
        REL,
        _told(
            "Uncle calling from the UK about his nephew, 20, who lives in Aarhus and has started "
            "posting support for recent attacks on social media, writing that 'violence is the "
            "only language they understand'. The family has not heard from him for weeks.",
            relation="Uncle",
            age="18_25",
            municipality="751",
            safety=_safety(threats="unknown"),
        ),
        "new",
        language="en",
        name="Graham Wilson",
        phone="+44 20 7946 0958",
        call=DemoCall(CallOutcome.OUTSIDE_HOURS, 40),
    ),
)


@dataclass
class _Loaded:
    per_hotline: Counter[str]
    per_channel: dict[str, Counter[str]]
    states: Counter[str]
    acute: int = 0
    overdue: int = 0
    messages: int = 0
    replies: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    chats: Counter[str] = field(default_factory=Counter)
    chat_messages: int = 0


def load(settings: Settings, *, clock: Clock | None = None) -> str:
    """Load the demo data unless it is there already; returns what to tell the user."""
    deps = build_deps(settings, clock=clock)
    try:
        return _load(deps)
    finally:
        _close(deps)


def _load(deps: Deps) -> str:
    now = deps.clock.now()
    try:
        with deps.job_context().transaction() as session:
            exists = session.scalar(select(StaffUser.id).where(StaffUser.username == DEMO_USERNAME))
            if exists is not None:
                return _already_loaded(deps.settings)
            units = _create_units(session, now)
            staff = _create_staff(session, now, units)
            loaded = _load_contacts(session, deps, staff, units, now)
            _load_on_call(session, staff, now)
    except AccountExists:
        # Another `hotline demo` created the logins first; this transaction rolled back whole.
        return _already_loaded(deps.settings)
    return _report(loaded, deps.settings)


def _close(deps: Deps) -> None:
    """Release connections without an event loop: load runs in the CLI or in a test's thread."""
    deps.sync_engine.dispose()
    # The async engine was never used here, so its pool holds no connections to close.
    deps.engine.sync_engine.dispose()
    deps.redis.close()


def _create_units(session: Session, now: datetime) -> dict[int, PartnerUnit]:
    """The demo's partner units, by the municipality codes they cover."""
    covering: dict[int, PartnerUnit] = {}
    for name, kind, codes, email in DEMO_UNITS:
        unit = PartnerUnit(
            name=name,
            kind=kind,
            email=email,
            municipalities=list(codes),
            active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(unit)
        session.flush()
        covering.update(dict.fromkeys(codes, unit))
    return covering


def _create_staff(session: Session, now: datetime, units: dict[int, PartnerUnit]) -> dict[str, int]:
    coordinator_unit = next(u.id for u in units.values() if u.name == DEMO_COORDINATOR_UNIT)
    ids: dict[str, int] = {}
    for username, display_name, role in DEMO_STAFF:
        user = create_user(
            session,
            username=username,
            display_name=display_name,
            password=DEMO_PASSWORD,
            role=role,
            now=now,
            partner_unit_id=coordinator_unit if role is Role.COORDINATOR else None,
        )
        user.email = f"{username}@{DEMO_EMAIL_DOMAIN}"
        ids[username] = user.id
    return ids


def _load_on_call(session: Session, staff: dict[str, int], now: datetime) -> None:
    """A schedule per hotline, as an admin leaves it on /on-call: rotations that began three
    weeks ago, and an absence covered the day after tomorrow. Written as rows: the page's own
    checks would refuse people without a phone number, which is the point of the demo's."""
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    today = now.astimezone(zone).date()
    lead = staff[DEMO_TEAM_LEAD]
    for hotline in sorted(DEMO_ROTATIONS):
        order, weekday, hour = DEMO_ROTATIONS[hotline]
        schedule = OncallSchedule(
            hotline_id=hotline,
            name=f"Vagtplan {session.get_one(Hotline, hotline).name_da}",
            participants=[staff[username] for username in order],
            start_date=today - timedelta(days=today.weekday() + 21),
            handoff_weekday=weekday,
            handoff_time=time(hour, 0),
            timezone=DEFAULT_TIMEZONE,
            shift_days=7,
            team_lead_id=lead,
            active=True,
            updated_by=lead,
            updated_at=now,
        )
        session.add(schedule)
        session.flush()
        absent = datetime.combine(today + timedelta(days=2), time(0, 0), tzinfo=zone)
        session.add(
            OncallOverride(
                schedule_id=schedule.id,
                starts_at=absent,
                ends_at=absent + timedelta(days=1),
                staff_id=staff[order[-1]],
                reason=OverrideReason.ABSENCE,
                created_by=lead,
                created_at=now,
            )
        )


def _load_contacts(
    session: Session,
    deps: Deps,
    staff: dict[str, int],
    units: dict[int, PartnerUnit],
    now: datetime,
) -> _Loaded:
    loaded = _Loaded(Counter(), {}, Counter())
    hotlines = {h.id: h for h in session.scalars(select(Hotline)).all()}
    closed = opening_hours.closed_dates_for(
        now - OLDEST_CONTACT, closed_on_holidays=deps.settings.closed_on_holidays
    ) | opening_hours.closed_dates_for(now, closed_on_holidays=deps.settings.closed_on_holidays)
    for item in DEMO_CONTACTS:
        hotline = hotlines[item.hotline]
        received_at = _place(item, now - timedelta(hours=item.hours_ago), hotline, now, closed)
        contact = _contact(item, received_at, deps, hotline.phone_numbers[0])
        session.add(contact)
        session.flush()
        loaded.per_hotline[item.hotline] += 1
        loaded.per_channel.setdefault(item.hotline, Counter())[item.channel.value] += 1
        loaded.states[item.state] += 1
        loaded.acute += item.is_acute
        _call(
            session,
            contact,
            item=item,
            hotline=hotline,
            closed=closed,
            data_dir=deps.settings.data_dir,
            loaded=loaded,
        )
        # A call's contact is taken in during the call (after the menu); a chat's when it ends.
        chat_ended_at = _chat(
            session, contact, item=item, staff=staff, settings=deps.settings, loaded=loaded
        )
        if item.state == "waiting":
            _thread(session, contact, item, staff=staff, case=None, now=now, loaded=loaded)
            continue
        case_id = take_in_contact(
            session,
            contact.id,
            now=(chat_ended_at or received_at) + TAKEN_IN_AFTER,
            cipher=deps.cipher,
        )
        assert case_id is not None
        case = session.get_one(Case, case_id)
        events = _act_on_case(session, case, item, staff, now)
        events += _route(session, case, item, staff=staff, units=units, now=now)
        events += _thread(session, contact, item, staff=staff, case=case, now=now, loaded=loaded)
        # The timeline in the order things happened (staff actions and messages interleave).
        events.sort(key=lambda event: event.at)
        session.add_all(events)
        running = case.queue_deadline_kind is not None
        if case.closed_at is None and running and case.queue_due_at < now:
            loaded.overdue += 1
    return loaded


def _thread(
    session: Session,
    contact: Contact,
    item: DemoContact,
    *,
    staff: dict[str, int],
    case: Case | None,
    now: datetime,
    loaded: _Loaded,
) -> list[CaseEvent]:
    """The SMS/WhatsApp messages, stored as the webhook and the send job store them.

    Returns the timeline entries for messages that joined the thread after its case opened.
    """
    latest = now - LATEST_ACTION_BEFORE_NOW
    events: list[CaseEvent] = []
    for index, demo_message in enumerate(item.thread):
        at = min(contact.received_at + timedelta(minutes=demo_message.minutes), latest)
        status_at = min(at + timedelta(minutes=1), latest) if demo_message.outbound else at
        message = Message(
            contact_id=contact.id,
            direction=MessageDirection.OUTBOUND
            if demo_message.outbound
            else MessageDirection.INBOUND,
            body=demo_message.body,
            created_at=at,
            provider_id="SM" + secrets.token_hex(16),
            status=demo_message.status,
            status_at=status_at,
            error_code=demo_message.error[0] if demo_message.error else None,
            error_message=demo_message.error[1] if demo_message.error else None,
            staff_id=staff[item.assignee or DEMO_USERNAME] if demo_message.outbound else None,
            attempts=1 if demo_message.outbound else 0,
        )
        session.add(message)
        session.flush()
        loaded.messages += 1
        if demo_message.outbound:
            loaded.replies[demo_message.status] += 1
        elif index > 0 and case is not None and at > case.opened_at:
            events.append(
                CaseEvent(
                    case_id=case.id,
                    at=at,
                    actor_kind=ActorKind.REPORTER,
                    kind="message_received",
                    contact_id=contact.id,
                    detail={"channel": contact.channel.value, "message_id": message.id},
                )
            )
    return events


def _open(hotline: Hotline, moment: datetime, closed: frozenset[date]) -> bool:
    return opening_hours.is_open(
        hotline.opening_hours, hotline.timezone, moment, closed_dates=closed
    )


def _place(
    item: DemoContact, nominal: datetime, hotline: Hotline, now: datetime, closed: frozenset[date]
) -> datetime:
    """When a call or chat arrived: the moment nearest `nominal` when the hotline was open (for
    the outside-hours call: closed), so that the rows tell one story whenever the demo is run."""
    if item.call is not None:
        want_open = item.call.outcome is not CallOutcome.OUTSIDE_HOURS
    elif item.chat is not None:
        want_open = True
    else:
        return nominal
    earliest, latest = now - OLDEST_CONTACT, now - NEWEST_PLACED
    for step in range((latest - earliest) // PLACE_STEP + 1):
        for moment in (nominal - step * PLACE_STEP, nominal + step * PLACE_STEP):
            if earliest <= moment <= latest and _open(hotline, moment, closed) == want_open:
                return moment
    return nominal


def _sid(prefix: str) -> str:
    """A provider id as Twilio makes them: CA… (call), RE… (recording)."""
    return prefix + secrets.token_hex(16)


def _call(
    session: Session,
    contact: Contact,
    *,
    item: DemoContact,
    hotline: Hotline,
    closed: frozenset[date],
    data_dir: Path,
    loaded: _Loaded,
) -> None:
    """The ended call behind a phone contact, as intake/calls.py leaves it; a voicemail's audio
    as the fetch job stores it (and has deleted at the provider)."""
    demo_call = item.call
    if demo_call is None:
        return
    started_at = contact.received_at
    length = timedelta(seconds=demo_call.seconds)
    ended_at = started_at + length
    call = Call(
        contact_id=contact.id,
        provider_id=_sid("CA"),
        status="completed",
        started_at=started_at,
        outside_hours=not _open(hotline, started_at, closed),
        language=item.language,
        # A withheld number leaves nothing to forget: the menu does not ask.
        chose_anonymous=None if item.withheld else item.anonymous,
        chosen_role=CALLER_ROLES.get(item.role),
        outcome=demo_call.outcome,
        ended_at=ended_at,
        duration_seconds=demo_call.seconds,
    )
    if demo_call.outcome is CallOutcome.ANSWERED:
        call.answered_at = started_at + MENU + RINGING
        call.answered_by = demo_call.answered_by
        call.accepted_leg_id = _sid("CA")
        call.ended_at = ended_at = call.answered_at + length
    session.add(call)
    session.flush()
    loaded.calls[demo_call.outcome.value] += 1
    answers = dict(contact.answers)
    if demo_call.outcome in (CallOutcome.MISSED, CallOutcome.OUTSIDE_HOURS):
        # As calls.record_status: whether there is a number to call back.
        number = phone.normalise(None if item.withheld else item.phone)
        answers["call_back"] = number.kind is phone.PhoneKind.VALID
    if demo_call.outcome is CallOutcome.VOICEMAIL:
        answers["voicemail"] = True
        recording = Recording(
            contact_id=contact.id,
            call_id=call.id,
            provider_id=_sid("RE"),
            duration_seconds=VOICEMAIL_SECONDS,
            received_at=ended_at,
            content_type=VOICEMAIL_CONTENT_TYPE,
            fetched_at=ended_at + timedelta(seconds=20),
            deleted_at_provider=ended_at + timedelta(seconds=25),
            attempts=0,
        )
        recording.file_path = f"{RECORDINGS_FOLDER}/{recording.provider_id}.wav"
        _write_private(data_dir / recording.file_path, _tone(VOICEMAIL_SECONDS))
        session.add(recording)
    contact.answers = answers


def _tone(seconds: int, rate: int = 8000, pitch: float = 440.0) -> bytes:
    """A quiet tone with soft edges, as a 16-bit mono WAV file."""
    total = seconds * rate
    fade = rate // 20
    frames = bytearray()
    for i in range(total):
        envelope = min(1.0, i / fade, (total - 1 - i) / fade)
        sample = round(0.05 * 32767 * envelope * math.sin(2 * math.pi * pitch * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(bytes(frames))
    return buffer.getvalue()


def _write_private(path: Path, content: bytes) -> None:
    """Mode 0600 in a 0700 folder, as intake/recordings.py stores fetched audio."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.chmod(path, 0o600)


def _chat(
    session: Session,
    contact: Contact,
    *,
    item: DemoContact,
    staff: dict[str, int],
    settings: Settings,
    loaded: _Loaded,
) -> datetime | None:
    """A web chat and its transcript, as intake/chat.py stores them; returns when it ended."""
    demo_chat = item.chat
    if demo_chat is None:
        return None
    started_at = contact.received_at
    staff_id = staff[item.assignee or DEMO_USERNAME]
    last = started_at + timedelta(minutes=max(line.minutes for line in demo_chat.lines))
    chat = Chat(
        contact_id=contact.id,
        hotline_id=contact.hotline_id,
        token_hash=token_hash(secrets.token_urlsafe(32)),
        started_at=started_at,
    )
    if demo_chat.ended_by is None:
        # Nobody accepted in time; the visitor was offered to leave a number instead.
        chat.status = ChatStatus.MISSED.value
        chat.ended_at = started_at + timedelta(seconds=settings.chat_accept_seconds)
        chat.end_reason = "no_staff"
    else:
        first_reply = min(line.minutes for line in demo_chat.lines if line.outbound)
        chat.status = ChatStatus.ENDED.value
        chat.accepted_at = started_at + timedelta(minutes=first_reply, seconds=-20)
        chat.accepted_by = staff_id
        chat.ended_at = last + timedelta(minutes=1)
        chat.end_reason = demo_chat.ended_by
    session.add(chat)
    for line in demo_chat.lines:
        at = started_at + timedelta(minutes=line.minutes)
        session.add(
            Message(
                contact_id=contact.id,
                direction=MessageDirection.OUTBOUND if line.outbound else MessageDirection.INBOUND,
                body=line.body,
                created_at=at,
                status=line.status,
                status_at=at,
                staff_id=staff_id if line.outbound else None,
                attempts=0,
            )
        )
    session.flush()
    loaded.chats[chat.status] += 1
    loaded.chat_messages += len(demo_chat.lines)
    return max(chat.ended_at, last)


def _contact(item: DemoContact, received_at: datetime, deps: Deps, hotline_number: str) -> Contact:
    if item.anonymous and (item.name or item.organisation or item.phone or item.email):
        raise ValueError(f"anonymous demo contact with reporter details: {item}")
    if (item.channel is Channel.PHONE) != (item.call is not None):
        raise ValueError(f"a demo call needs the phone channel and the other way round: {item}")
    if (item.channel is Channel.WEB_CHAT) != (item.chat is not None):
        raise ValueError(f"a demo chat needs the web_chat channel and the other way round: {item}")
    if item.withheld:
        status = PhoneStatus.WITHHELD
    else:
        status = PhoneStatus.PENDING if item.phone else PhoneStatus.NONE
    email = item.email.lower() if item.email else None
    return Contact(
        hotline_id=item.hotline,
        channel=item.channel,
        received_at=received_at,
        language=item.language,
        reporter_role=item.role,
        anonymous=item.anonymous,
        is_acute=item.is_acute,
        reporter_name=item.name,
        reporter_organisation=item.organisation,
        reporter_phone_raw=None if item.withheld else item.phone,
        reporter_phone_status=status,
        reporter_email=email,
        reporter_email_lookup=deps.cipher.lookup_hash("email", email) if email else None,
        answers=item.answers,
        receipt_hash=receipts.code_hash(receipts.new_code()),
        # The hotline number an SMS or WhatsApp reporter wrote to; replies go from it.
        hotline_address=_hotline_address(item.channel, hotline_number),
    )


def _hotline_address(channel: Channel, number: str) -> str | None:
    if channel is Channel.SMS:
        return number
    if channel is Channel.WHATSAPP:
        return f"whatsapp:{number}"
    return None


def _act_on_case(
    session: Session, case: Case, item: DemoContact, staff: dict[str, int], now: datetime
) -> list[CaseEvent]:
    """What hotline staff have done so far: assign, start triage, close with an outcome.

    Returns the timeline entries for the caller to add in time order.
    """
    latest = max(now - LATEST_ACTION_BEFORE_NOW, case.opened_at)
    actor = staff[item.assignee or DEMO_USERNAME]
    events: list[CaseEvent] = []

    def event(at: datetime, kind: str, detail: dict[str, Any]) -> None:
        events.append(
            CaseEvent(
                case_id=case.id,
                at=at,
                actor_kind=ActorKind.STAFF,
                actor_id=actor,
                kind=kind,
                detail=detail,
            )
        )

    if item.assignee is not None:
        case.assignee_id = staff[item.assignee]
        event(
            min(case.received_at + ASSIGNED_AFTER, latest),
            "assigned",
            {"assignee_id": case.assignee_id},
        )
    if item.state == "new":
        return events
    staff_actor = workflow.Actor.staff(actor)
    triage_started_at = min(case.received_at + TRIAGE_STARTED_AFTER, latest)
    events.append(
        workflow.transition(
            case,
            CaseStatus.IN_TRIAGE,
            actor=staff_actor,
            now=triage_started_at,
            reason=None,
            detail=None,
        )
    )
    if item.state in ("in_triage", "justified", "routed", "acknowledged"):
        return events
    # A quick call can be closed soon after receipt, but never before its triage began.
    closed_at = max(
        case.received_at + timedelta(hours=item.closed_after_hours),
        triage_started_at + CLOSED_AFTER_TRIAGE_AT_LEAST,
    )
    closed_at = min(closed_at, latest)
    deadline = session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == DeadlineKind.TRIAGE)
    ).one()
    deadline.met_at = closed_at
    events.append(
        workflow.transition(
            case,
            CaseStatus.CLOSED,
            actor=staff_actor,
            now=closed_at,
            reason=CloseReason(item.state),
            detail=None,
        )
    )
    deadlines.refresh_queue_deadline(session, case)
    return events


def _route(
    session: Session,
    case: Case,
    item: DemoContact,
    *,
    staff: dict[str, int],
    units: dict[int, PartnerUnit],
    now: datetime,
) -> list[CaseEvent]:
    """Justify a triaged case and, for the later states, route it and acknowledge it, as
    triage/routing_service.py does (the notice shown as logged in console mode)."""
    if item.state not in ("justified", "routed", "acknowledged"):
        return []
    latest = max(now - LATEST_ACTION_BEFORE_NOW, case.opened_at)
    hotline_staff = workflow.Actor.staff(staff[item.assignee or DEMO_USERNAME])
    case.subject_municipality = int(item.answers["municipality"])
    justified_at = min(case.received_at + TRIAGE_STARTED_AFTER + JUSTIFIED_AFTER_TRIAGE, latest)
    deadline = session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == DeadlineKind.TRIAGE)
    ).one()
    deadline.met_at = justified_at
    events = [
        workflow.transition(
            case,
            CaseStatus.JUSTIFIED,
            actor=hotline_staff,
            now=justified_at,
            reason=None,
            detail=None,
        )
    ]
    # As workflow.change_status does: 48 hours from receipt, whatever happens next.
    deadlines.start_visitation(session, case)
    if item.state == "justified":
        return events
    unit = units[case.subject_municipality]
    routed_at = min(justified_at + ROUTED_AFTER_JUSTIFIED, latest)
    routing = Routing(
        case_id=case.id,
        unit_id=unit.id,
        municipality=case.subject_municipality,
        by_reporter_residence=False,
        legal_basis=DEMO_LEGAL_BASIS,
        sent_by=hotline_staff.staff_id,
        sent_at=routed_at,
        notice_status=NoticeStatus.NOT_SENT,
        notice_attempts=1,
        notice_sent_at=routed_at,
    )
    session.add(routing)
    session.flush()
    detail = {"routing_id": routing.id, "unit_id": unit.id}
    events.append(
        workflow.transition(
            case, CaseStatus.ROUTED, actor=hotline_staff, now=routed_at, reason=None, detail=detail
        )
    )
    if item.state == "routed":
        return events
    coordinator = staff["infohus"]
    acknowledged_at = min(routed_at + ACKNOWLEDGED_AFTER_ROUTED, latest)
    routing.acknowledged_by = coordinator
    routing.acknowledged_at = acknowledged_at
    events.append(
        workflow.transition(
            case,
            CaseStatus.ACKNOWLEDGED,
            actor=workflow.Actor.staff(coordinator),
            now=acknowledged_at,
            reason=None,
            detail=detail,
        )
    )
    return events


def _login_url(settings: Settings) -> str:
    if settings.public_base_url:
        return f"{settings.public_base_url}/login"
    # A server listening on every address is still reached on the loopback one.
    everywhere = ("0.0.0.0", "::", "")  # noqa: S104  (compared with, not bound to)
    host = "127.0.0.1" if settings.host in everywhere else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/login"


def _login_line(settings: Settings) -> str:
    return f"Log in at {_login_url(settings)} as {DEMO_USERNAME} / {DEMO_PASSWORD}"


def _staff_line() -> str:
    logins = ", ".join(f"{username} ({role.value})" for username, _, role in DEMO_STAFF)
    return f"Staff logins (all with password {DEMO_PASSWORD}): {logins}"


def _already_loaded(settings: Settings) -> str:
    return "\n".join(
        [
            "The demo data is already loaded; nothing was changed.",
            _staff_line(),
            _login_line(settings),
        ]
    )


def _report(loaded: _Loaded, settings: Settings) -> str:
    total = sum(loaded.per_hotline.values())
    waiting = loaded.states["waiting"]
    lines = [
        f"Demo data loaded: {total} contacts, {total - waiting} with a case "
        f"({waiting} left for the worker to take in when the server starts).",
    ]
    for hotline in sorted(loaded.per_hotline):
        channels = loaded.per_channel[hotline]
        by_channel = ", ".join(f"{c.value} {channels[c.value]}" for c in Channel)
        lines.append(f"  {hotline}: {loaded.per_hotline[hotline]} contacts ({by_channel})")
    closed = loaded.states["not_justified"] + loaded.states["advice_only"]
    replies = sum(loaded.replies.values())
    lines.append(
        f"SMS/WhatsApp threads: {loaded.messages} messages, {replies} of them staff replies "
        f"({loaded.replies['failed']} failed, shown with the reason)."
    )
    calls = loaded.calls
    by_outcome = ", ".join(f"{calls[o.value]} {o.value.replace('_', ' ')}" for o in CallOutcome)
    lines.append(
        f"Calls: {calls.total()} ({by_outcome}); voicemail audio in "
        f"{settings.data_dir / RECORDINGS_FOLDER}."
    )
    lines.append(
        f"Web chats: {loaded.chats.total()} ({loaded.chats[ChatStatus.ENDED.value]} ended, "
        f"{loaded.chats[ChatStatus.MISSED.value]} missed with a number to call back), "
        f"{loaded.chat_messages} messages."
    )
    lines.append(
        "Partner units: "
        + ", ".join(f"{name} ({', '.join(map(str, codes))})" for name, _, codes, _ in DEMO_UNITS)
        + f"; the coordinator login infohus belongs to {DEMO_COORDINATOR_UNIT}. Their mailboxes "
        "end in .invalid: nothing is ever mailed."
    )
    lines.append(
        "No on-duty phones are set by the demo; set real ones with "
        "`hotline duty set national …` before trying calls on a Twilio account."
    )
    lines.append(
        "On call: a weekly rotation per hotline with team lead lise (admin), see /on-call. Demo "
        "staff have no phone numbers (a demo must never ring a stranger), so alerts reach "
        "nobody until you set real ones: `hotline staff set USERNAME --phone …`."
    )
    lines += [
        f"Cases: {loaded.states['new']} new, {loaded.states['in_triage']} in triage, "
        f"{loaded.states['justified']} justified, {loaded.states['routed']} routed, "
        f"{loaded.states['acknowledged']} acknowledged by the unit, "
        f"{closed} closed ({loaded.states['not_justified']} not justified, "
        f"{loaded.states['advice_only']} advice only); "
        f"{loaded.acute} contacts acute, {loaded.overdue} open cases past a deadline (triage, "
        "or visitation 48 hours after receipt).",
        _staff_line(),
        _login_line(settings),
    ]
    return "\n".join(lines)
