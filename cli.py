"""`hotline`: the one command to run, migrate, administer and demonstrate the service."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import OperationalError

from settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from notifications.problems import Invalid
    from triage.deadline_settings import HotlineDeadlines
    from triage.models import DeadlineKind

DESCRIPTION = """\
hotline: intake and triage for a hotline about radicalisation and extremism concerns.

With no configuration everything runs in one process on embedded defaults (SQLite under ./var/,
an in-process job queue). Set HOTLINE_DATABASE_URL and HOTLINE_REDIS_URL to run on PostgreSQL and
Redis with separate `hotline worker` processes. `hotline config` lists every setting.
"""


def _serve(settings: Settings, _args: argparse.Namespace) -> int:
    import server

    server.main(settings)
    return 0


def _worker(settings: Settings, _args: argparse.Namespace) -> int:
    import worker

    worker.main(settings)
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from migrations import runner

    if settings.embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    runner.upgrade(settings.resolved_database_url, args.revision)
    print(f"database schema upgraded to {args.revision}")
    return 0


def _staff_add(settings: Settings, args: argparse.Namespace) -> int:
    from access.models import Role
    from access.passwords import MIN_PASSWORD_LENGTH
    from access.service import AccountExists, create_user
    from bootstrap import build_deps
    from notifications.problems import Invalid
    from notifications.staff_contacts import check, set_contact

    if args.role == Role.COORDINATOR.value and args.unit is None:
        print(
            "error: a coordinator belongs to a partner unit: give --unit ID "
            "(an administrator adds units under /admin/partner-units)",
            file=sys.stderr,
        )
        return 2
    contact = _contact_changes(args)
    try:
        check(contact)  # before the password is asked for: nothing is created if they are wrong
    except Invalid as invalid:
        print(f"error: {_invalid_text(invalid)}; nothing created", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(
            f"Password for {args.username} (at least {MIN_PASSWORD_LENGTH} characters): "
        )
        if password != getpass.getpass("Repeat the password: "):
            print("error: the passwords differ", file=sys.stderr)
            return 2
    deps = build_deps(settings)
    context = deps.job_context()
    try:
        with context.transaction() as session:
            user = create_user(
                session,
                username=args.username,
                display_name=args.name or args.username,
                password=password,
                role=Role(args.role),
                now=deps.clock.now(),
                partner_unit_id=args.unit,
            )
            if contact:
                set_contact(session, user.id, contact, actor_id=None, now=deps.clock.now())
    except AccountExists:
        print(f"error: a staff account named {args.username!r} already exists", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        deps.sync_engine.dispose()
    print(f"staff account {args.username!r} created with role {args.role}")
    return 0


def _contact_changes(args: argparse.Namespace) -> dict[str, str | None]:
    """The contact fields given on the command line ("" clears one)."""
    return {
        name: getattr(args, name) for name in ("phone", "email") if getattr(args, name) is not None
    }


def _invalid_text(invalid: Invalid) -> str:
    return "; ".join(f"--{name}: {problem.text()}" for name, problem in invalid.problems.items())


def _staff_set(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from access.models import StaffUser
    from access.service import normalise_username
    from bootstrap import build_deps
    from notifications.problems import Invalid
    from notifications.staff_contacts import set_contact

    contact = _contact_changes(args)
    if not contact:
        print("error: give --phone and/or --email (an empty value clears it)", file=sys.stderr)
        return 2
    deps = build_deps(settings)
    try:
        with deps.job_context().transaction() as session:
            user_id = session.scalar(
                select(StaffUser.id).where(StaffUser.username == normalise_username(args.username))
            )
            if user_id is None:
                print(f"error: no staff account is called {args.username!r}", file=sys.stderr)
                return 2
            person = set_contact(session, user_id, contact, actor_id=None, now=deps.clock.now())
    except Invalid as invalid:
        print(f"error: {_invalid_text(invalid)}; nothing changed", file=sys.stderr)
        return 2
    finally:
        deps.sync_engine.dispose()
    print(
        f"staff account {args.username!r}: phone {person.phone_e164 or '(none)'}, "
        f"e-mail {person.email or '(none)'}"
    )
    return 0


def _duty_set(settings: Settings, args: argparse.Namespace) -> int:
    from bootstrap import build_deps
    from intake.duty import InvalidDutyNumbers, UnknownHotline, set_duty_numbers

    deps = build_deps(settings)
    try:
        with deps.job_context().transaction() as session:
            numbers = set_duty_numbers(session, args.hotline, args.numbers)
    except InvalidDutyNumbers as exc:
        print(f"error: {exc}; nothing changed", file=sys.stderr)
        return 2
    except UnknownHotline:
        print(f"error: no hotline is called {args.hotline!r}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}; nothing changed", file=sys.stderr)
        return 2
    finally:
        deps.sync_engine.dispose()
    labels = ", ".join(f"duty-{i + 1}" for i in range(len(numbers)))
    print(f"hotline {args.hotline!r}: {len(numbers)} on-duty number(s) set ({labels})")
    return 0


def _duty_record(settings: Settings, args: argparse.Namespace) -> int:
    from bootstrap import build_deps
    from intake.duty import UnknownHotline, set_call_recording

    deps = build_deps(settings)
    try:
        with deps.job_context().transaction() as session:
            set_call_recording(session, args.hotline, record=args.switch == "on")
    except UnknownHotline:
        print(f"error: no hotline is called {args.hotline!r}", file=sys.stderr)
        return 2
    finally:
        deps.sync_engine.dispose()
    state = "recorded" if args.switch == "on" else "not recorded (voicemail still is)"
    print(f"hotline {args.hotline!r}: answered calls are {state}")
    return 0


# Which option each field of triage.deadline_config.check comes from.
_DEADLINE_OPTIONS = {
    "triage_hours": "--triage-hours",
    "visitation_hours": "--visitation-hours",
    "clock_mode": "--clock",
    "business_hours": "--hours",
    "closed_on": "--closed-on",
    "policies": "--policy",
}


def _deadline_option(field: str) -> str:
    head, _, rest = field.partition(".")
    option = _DEADLINE_OPTIONS.get(head, head)
    return f"{option} ({rest})" if rest and head != "business_hours" else option


def _deadline_problems(invalid: Invalid) -> str:
    return "; ".join(
        f"{_deadline_option(name)}: {problem.text()}" for name, problem in invalid.problems.items()
    )


def _deadlines_show(settings: Settings, args: argparse.Namespace) -> int:
    from bootstrap import build_deps
    from triage import deadline_settings

    deps = build_deps(settings)
    try:
        with deps.job_context().transaction() as session:
            loaded = deadline_settings.load(session, args.hotline)
            print(_deadlines_text(loaded))
    except deadline_settings.UnknownHotline:
        print(f"error: no hotline is called {args.hotline!r}", file=sys.stderr)
        return 2
    finally:
        deps.sync_engine.dispose()
    return 0


def _deadlines_text(loaded: HotlineDeadlines) -> str:
    import json

    from notifications.escalation import policy_to_data
    from triage.deadline_config import format_closures, format_hours, format_week

    values, config = loaded.values, loaded.config
    lines = [
        f"hotline {loaded.hotline.id!r}",
        f"  triage:      {format_hours(values.triage_minutes)} h from receipt",
        f"  visitation:  {format_hours(values.visitation_minutes)} h from receipt",
        f"  clock:       {values.clock_mode.value}",
        f"  hours:       {format_week(values.business_hours)} ({loaded.hotline.timezone}; "
        "used in business_hours mode, Danish public holidays closed)",
        f"  closed on:   {format_closures(values.closures)}",
    ]
    for kind in (config.triage.kind, config.visitation.kind):
        rule = config.rule(kind)
        origin = "default" if rule.default_policy else "the hotline's own"
        lines.append(f"  {kind.value} policy ({origin}): {json.dumps(policy_to_data(rule.policy))}")
    return "\n".join(lines)


def _deadlines_set(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bootstrap import build_deps
    from notifications.problems import Invalid
    from triage import deadline_settings
    from triage.deadline_config import DeadlineDraft, draft_of, parse_closures, parse_week

    options = ("triage_hours", "visitation_hours", "clock", "hours", "closed_on", "policy")
    if all(getattr(args, name) is None for name in options):
        print("error: give at least one option to change (see --help)", file=sys.stderr)
        return 2
    try:
        hours = None if args.hours is None else parse_week(args.hours)
        closures = None if args.closed_on is None else parse_closures(args.closed_on)
        policies = None if args.policy is None else _policy_file(args.policy)
    except Invalid as invalid:
        print(f"error: {_deadline_problems(invalid)}; nothing changed", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        print(f"error: --policy: {exc}; nothing changed", file=sys.stderr)
        return 2
    deps = build_deps(settings)
    try:
        with deps.job_context().transaction() as session:
            now = draft_of(deadline_settings.load(session, args.hotline).values)
            draft = DeadlineDraft(
                triage_hours=_given(args.triage_hours, now.triage_hours),
                visitation_hours=_given(args.visitation_hours, now.visitation_hours),
                clock_mode=_given(args.clock, now.clock_mode),
                business_hours=now.business_hours if hours is None else hours,
                closures=now.closures if closures is None else closures,
                policies=now.policies if policies is None else policies,
            )
            loaded = deadline_settings.change(
                session, args.hotline, draft, actor=None, now=deps.clock.now()
            )
            text = _deadlines_text(loaded)
    except deadline_settings.UnknownHotline:
        print(f"error: no hotline is called {args.hotline!r}", file=sys.stderr)
        return 2
    except Invalid as invalid:
        print(f"error: {_deadline_problems(invalid)}; nothing changed", file=sys.stderr)
        return 2
    finally:
        deps.sync_engine.dispose()
    print(text)
    print("Deadlines already running keep their due time; new ones follow these settings.")
    return 0


def _given(value: object, current: object) -> object:
    return current if value is None else value


def _policy_file(path: str) -> dict[DeadlineKind, object]:
    """--policy FILE.json: {"triage": {…} or null, "visitation": {…} or null}; a kind left out
    gets the default; "default" resets both."""
    import json
    from pathlib import Path

    from triage.models import DeadlineKind

    if path == "default":
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError('expected a JSON object like {"visitation": {"steps": […]}}')
    known = {kind.value: kind for kind in DeadlineKind}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(f"unknown deadline kind {unknown[0]!r} (known: {', '.join(known)})")
    return {known[key]: value for key, value in data.items()}


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    import demo
    from migrations import runner

    if not settings.embedded_database and not args.yes_this_database:
        print(
            "error: refusing to load demo data into PostgreSQL without --yes-this-database",
            file=sys.stderr,
        )
        return 2
    if settings.embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        runner.upgrade(settings.resolved_database_url)
    print(demo.load(settings))
    return 0


def _keys(_settings: Settings | None, _args: argparse.Namespace) -> int:
    import secrets

    from crypto import new_data_key

    print(f"HOTLINE_SECRET_KEY={secrets.token_urlsafe(48)}")
    print(f"HOTLINE_DATA_KEY={new_data_key()}")
    return 0


def _config(_settings: Settings | None, _args: argparse.Namespace) -> int:
    for name, field in Settings.model_fields.items():
        default = "(empty)" if field.default is None else field.default
        print(f"HOTLINE_{name.upper():<26} default {default!s:<12} {field.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the web server (and, on embedded defaults, the jobs too)",
        description="Run the web server. On embedded defaults it also migrates the SQLite "
        "database and runs jobs in-process; on PostgreSQL run `hotline db upgrade` first and "
        "start `hotline worker` processes beside it.",
    )
    serve.set_defaults(handler=_serve)

    work = commands.add_parser(
        "worker",
        help="run background jobs and the sweeper (needs HOTLINE_REDIS_URL)",
        description="Run rq jobs from Redis and the sweeper that re-enqueues work Redis lost. "
        "Start as many as you like; they take turns sweeping.",
    )
    work.set_defaults(handler=_worker)

    db = commands.add_parser(
        "db", help="database schema", description="Manage the database schema."
    )
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade",
        help="apply migrations up to the newest (or --revision)",
        description="Apply Alembic migrations.",
    )
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=_db_upgrade)

    staff = commands.add_parser(
        "staff", help="staff accounts", description="Manage staff accounts."
    )
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="COMMAND")
    add = staff_commands.add_parser(
        "add",
        help="create a staff account",
        description="Create a staff account; the password is asked for.",
    )
    add.add_argument("username")
    add.add_argument("--name", help="display name shown to colleagues")
    add.add_argument(
        "--role",
        choices=["hotline", "coordinator", "admin"],
        default="hotline",
        help="default: hotline",
    )
    add.add_argument(
        "--unit",
        type=int,
        metavar="ID",
        help="coordinators: the id of their partner unit (see /admin/partner-units); they see "
        "only its routings",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from one line of standard input",
    )
    _contact_arguments(add)
    add.set_defaults(handler=_staff_add)
    staff_set = staff_commands.add_parser(
        "set",
        help="set a staff member's phone number and/or e-mail address",
        description="Set the contact details on-call alerts use. The phone number is "
        "normalised to E.164 (Danish numbers may leave out +45); an invalid value is refused "
        "by name and nothing is changed. An empty value (--phone '') clears it.",
    )
    staff_set.add_argument("username")
    _contact_arguments(staff_set)
    staff_set.set_defaults(handler=_staff_set)

    duty = commands.add_parser(
        "duty",
        help="on-duty phones calls are put through to",
        description="Manage each hotline's on-duty phones.",
    )
    duty_commands = duty.add_subparsers(dest="duty_command", required=True, metavar="COMMAND")
    duty_set = duty_commands.add_parser(
        "set",
        help="set a hotline's on-duty phone numbers (replaces the list)",
        description="Set the numbers a hotline's calls ring at once during opening hours (up to "
        "10, e.g. +4520123456 or 20 12 34 56). Invalid numbers are refused by name.",
    )
    duty_set.add_argument("hotline", help="hotline id: national or copenhagen")
    duty_set.add_argument("numbers", nargs="+", metavar="NUMBER")
    duty_set.set_defaults(handler=_duty_set)
    duty_record = duty_commands.add_parser(
        "record",
        help="record a hotline's answered calls, or stop (off by default)",
        description="Switch recording of answered calls on or off for a hotline. Off by "
        "default; voicemail is always recorded. Recordings are fetched into the data folder "
        "and deleted at Twilio.",
    )
    duty_record.add_argument("hotline", help="hotline id: national or copenhagen")
    duty_record.add_argument("switch", choices=["on", "off"])
    duty_record.set_defaults(handler=_duty_record)

    _deadline_commands(commands)

    demo = commands.add_parser(
        "demo",
        help="load demo data (a few dozen contacts, and a demo login)",
        description="Load realistic demo contacts in Danish and English across both hotlines and "
        "all channels, and create the staff login `demo`. Safe to run twice.",
    )
    demo.add_argument(
        "--yes-this-database", action="store_true", help="allow loading into a PostgreSQL database"
    )
    demo.set_defaults(handler=_demo)

    keys = commands.add_parser(
        "keys",
        help="print new secret and data keys",
        description="Print a new HOTLINE_SECRET_KEY and HOTLINE_DATA_KEY.",
    )
    keys.set_defaults(handler=_keys, needs_settings=False)

    config = commands.add_parser(
        "config",
        help="list every setting with its default",
        description="List every HOTLINE_* setting.",
    )
    config.set_defaults(handler=_config, needs_settings=False)
    return parser


def _deadline_commands(commands: Any) -> None:
    deadlines = commands.add_parser(
        "deadlines",
        help="each hotline's deadlines: durations, clock, business hours, escalation",
        description="Show or change a hotline's deadlines. Deadlines already running keep "
        "their due time; a change applies to deadlines started afterwards.",
    )
    deadline_commands = deadlines.add_subparsers(
        dest="deadlines_command", required=True, metavar="COMMAND"
    )
    deadlines_show = deadline_commands.add_parser(
        "show", help="show a hotline's deadlines", description="Show a hotline's deadlines."
    )
    deadlines_show.add_argument("hotline", help="hotline id: national or copenhagen")
    deadlines_show.set_defaults(handler=_deadlines_show)
    deadlines_set = deadline_commands.add_parser(
        "set",
        help="change a hotline's deadlines (options not given stay as they are)",
        description="Change a hotline's deadlines. Options not given stay as they are; an "
        "invalid value is refused by the option's name and nothing is changed.",
    )
    deadlines_set.add_argument("hotline", help="hotline id: national or copenhagen")
    deadlines_set.add_argument(
        "--triage-hours", metavar="H", help="time to triage from receipt, e.g. 24 or 1:30"
    )
    deadlines_set.add_argument(
        "--visitation-hours", metavar="H", help="time to visitation from receipt, e.g. 48"
    )
    deadlines_set.add_argument(
        "--clock",
        help="calendar (every hour counts; the default) or business_hours (only --hours count)",
    )
    deadlines_set.add_argument(
        "--hours",
        metavar="WEEK",
        help="business hours, local time: 'mon-fri=08:00-16:00,sat=10:00-14:00' (a second span "
        "after ';': 'mon=08:00-12:00;13:00-16:00'); days not named are closed",
    )
    deadlines_set.add_argument(
        "--closed-on",
        metavar="DAYS",
        help="customary closures in business hours besides the public holidays: any of "
        "5jun,24dec,31dec, or none",
    )
    deadlines_set.add_argument(
        "--policy",
        metavar="FILE.json",
        help='escalation policies: a JSON file {"triage": {…} or null, "visitation": {…} or '
        'null} (a kind left out: the default); "default" for the defaults of both',
    )
    deadlines_set.set_defaults(handler=_deadlines_set)


def _contact_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--phone", help="phone number for on-call alerts, e.g. 20 12 34 56 or +4520123456"
    )
    parser.add_argument("--email", help="e-mail address for on-call alerts")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not getattr(args, "needs_settings", True):
        return int(args.handler(None, args))
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    from logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    try:
        return int(args.handler(settings, args))
    except SettingsError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        # Name the server, not the URL: the URL may hold a password.
        reason = str(exc.orig or exc).strip().splitlines()[0][:200]
        print(
            f"hotline: cannot use the database at {_database_location(settings)} ({reason}); "
            "is it running and reachable?",
            file=sys.stderr,
        )
        return 3


def _database_location(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


if __name__ == "__main__":
    sys.exit(main())
