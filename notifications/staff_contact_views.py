"""Staff contact details (phone, e-mail) as pages and as JSON: admins edit anyone's, every staff
member their own.

GET  /profile                          my contact details (any staff member)
GET  /staff                            every staff account with its contact details (admin)
GET  /staff/{staff_id}/contact         one staff member's contact details (admin, or self)
POST /staff/{staff_id}/contact         save them → 303 back; invalid → the form again, 400
GET  /api/v1/staff                     every staff account (admin)
GET  /api/v1/staff/{staff_id}/contact  (admin, or self)
PUT  /api/v1/staff/{staff_id}/contact  {phone, email}: both replaced; "" or null clears one
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from access.models import Role
from notifications import staff_contacts
from notifications.problems import Invalid, Problem
from notifications.staff_contacts import StaffContact, StaffNotFound
from web.api import operation, read_body
from web.appkeys import deps_key
from web.handlers import current_staff, json_model
from web.i18n import N_
from web.middleware import FieldError
from web.path_ids import path_id
from web.policy import or_self, requires_role
from web.rendering import gettext_for, render, see_other

SAVED = N_("Your changes are saved.")
LIMITS = {"phone": staff_contacts.PHONE_LIMIT, "email": staff_contacts.EMAIL_LIMIT}


def _staff_id(request: web.Request) -> int:
    return path_id(request, "staff_id", missing="no such staff member")


async def _contact(request: web.Request, staff_id: int) -> StaffContact:
    async with request.app[deps_key].sessions() as session:
        found = await session.run_sync(staff_contacts.contacts, [staff_id])
    if staff_id not in found:
        raise web.HTTPNotFound(reason="no such staff member")
    return found[staff_id]


async def _show_form(
    request: web.Request,
    staff_id: int,
    *,
    status: int = 200,
    errors: Mapping[str, Problem] | None = None,
    values: Mapping[str, str] | None = None,
) -> web.Response:
    person = await _contact(request, staff_id)
    _ = gettext_for(request)
    context = {
        "person": person,
        "own": staff_id == current_staff(request).id,
        "values": values
        if values is not None
        else {"phone": person.phone_e164 or "", "email": person.email or ""},
        "errors": {name: problem.text(_) for name, problem in (errors or {}).items()},
        "limits": LIMITS,
        "notice": SAVED if request.query.get("saved") == "1" else None,
    }
    return render(request, "notifications/contact.html", context, status=status)


async def profile_page(request: web.Request) -> web.Response:
    return await _show_form(request, current_staff(request).id)


@requires_role(Role.ADMIN)
async def staff_page(request: web.Request) -> web.Response:
    async with request.app[deps_key].sessions() as session:
        people = await session.run_sync(staff_contacts.everyone)
    return render(request, "notifications/staff.html", {"people": people})


@requires_role(Role.ADMIN)
@or_self("staff_id")
async def contact_page(request: web.Request) -> web.Response:
    return await _show_form(request, _staff_id(request))


@requires_role(Role.ADMIN)
@or_self("staff_id")
async def contact_post(request: web.Request) -> web.Response:
    staff_id = _staff_id(request)
    form = await request.post()
    values = {name: str(form.get(name, ""))[: LIMITS[name] * 2] for name in staff_contacts.FIELDS}
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            await session.run_sync(
                staff_contacts.set_contact,
                staff_id,
                values,
                actor_id=current_staff(request).id,
                now=deps.clock.now(),
            )
    except StaffNotFound:
        raise web.HTTPNotFound(reason="no such staff member") from None
    except Invalid as invalid:
        return await _show_form(
            request, staff_id, status=400, errors=invalid.problems, values=values
        )
    if staff_id == current_staff(request).id and form.get("from") == "profile":
        return see_other("/profile?saved=1")
    return see_other(f"/staff/{staff_id}/contact?saved=1")


# --- the API -------------------------------------------------------------------------------------


class ContactOut(BaseModel):
    id: int
    username: str
    display_name: str
    active: bool
    phone_e164: str | None = Field(description="E.164, e.g. +4520123456; null: none given.")
    email: str | None
    pageable: bool = Field(
        description="An active account with a phone number: on-call alerts can reach them."
    )


class StaffListing(BaseModel):
    staff: list[ContactOut]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(
        max_length=64,
        description="As typed (20 12 34 56, +45 20 12 34 56, +46 …); stored in E.164. "
        '"" or null clears it.',
    )
    email: str | None = Field(max_length=512, description='"" or null clears it.')


def _out(person: StaffContact) -> ContactOut:
    return ContactOut(
        id=person.id,
        username=person.username,
        display_name=person.display_name,
        active=person.active,
        phone_e164=person.phone_e164,
        email=person.email,
        pageable=person.pageable,
    )


@requires_role(Role.ADMIN)
@operation("Every staff account with its contact details", tag="staff", response=StaffListing)
async def staff_api(request: web.Request) -> web.Response:
    async with request.app[deps_key].sessions() as session:
        people = await session.run_sync(staff_contacts.everyone)
    return json_model(StaffListing(staff=[_out(p) for p in people]))


@requires_role(Role.ADMIN)
@or_self("staff_id")
@operation(
    "A staff member's contact details",
    tag="staff",
    response=ContactOut,
    errors=(404,),
    description="Also open to the staff member themselves.",
)
async def contact_api(request: web.Request) -> web.Response:
    return json_model(_out(await _contact(request, _staff_id(request))))


@requires_role(Role.ADMIN)
@or_self("staff_id")
@operation(
    "Replace a staff member's phone number and e-mail address",
    tag="staff",
    body=ContactIn,
    response=ContactOut,
    errors=(400, 404),
    description="Also open to the staff member themselves. The phone number is normalised to "
    "E.164 (Danish numbers may leave out +45); an invalid one is refused, naming the field.",
)
async def contact_put_api(request: web.Request) -> web.Response:
    staff_id = _staff_id(request)
    body = await read_body(request, ContactIn)
    deps = request.app[deps_key]
    try:
        async with deps.sessions() as session, session.begin():
            person = await session.run_sync(
                staff_contacts.set_contact,
                staff_id,
                {"phone": body.phone, "email": body.email},
                actor_id=current_staff(request).id,
                now=deps.clock.now(),
            )
    except StaffNotFound:
        raise web.HTTPNotFound(reason="no such staff member") from None
    except Invalid as invalid:
        first = next(iter(invalid.problems))
        message = "; ".join(f"{name}: {p.text()}" for name, p in invalid.problems.items())
        raise FieldError(first, message) from None
    return json_model(_out(person))


def register(app: web.Application) -> None:
    app.router.add_get("/profile", profile_page, name="profile")
    app.router.add_get("/staff", staff_page, name="staff")
    app.router.add_get(r"/staff/{staff_id:\d+}/contact", contact_page)
    app.router.add_post(r"/staff/{staff_id:\d+}/contact", contact_post)
    app.router.add_get("/api/v1/staff", staff_api)
    app.router.add_get(r"/api/v1/staff/{staff_id:\d+}/contact", contact_api)
    app.router.add_put(r"/api/v1/staff/{staff_id:\d+}/contact", contact_put_api)
