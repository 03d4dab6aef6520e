"""Bad input at the public form and the follow-up page: a clear 4xx, and nothing stored."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import func, select

from bootstrap import Deps
from intake.models import Contact, PhoneStatus
from settings import Settings
from tests.support.forms import csrf_token, open_form, receipt_code, valid_answers
from tests.support.jobs import run_jobs
from triage.models import Case

pytestmark = pytest.mark.asyncio

# Text only a user could have typed: when it shows up in a re-rendered form, the input was kept.
OBSERVED = "Han har vist mig videoer fra et træningslejr og taler om at rejse i april."
RELATION = "min fætters søn"

REQUIRED_DA = "Besvar venligst dette spørgsmål."
REQUIRED_EN = "Please answer this question."
INVALID_PHONE_DA = (
    "Telefonnummeret er ikke gyldigt. Skriv det som 20 12 34 56 eller +45 20 12 34 56."
)
CSRF_NOTICE_DA = "Formularen havde været åben længe, så vi kunne ikke modtage den sikkert."


async def contacts_stored(deps: Deps) -> int:
    async with deps.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Contact))
    return int(count or 0)


def incomplete_answers() -> dict[str, str]:
    """What someone sends who answered the free-text questions but skipped every choice."""
    return {"relation": RELATION, "observed": OBSERVED, "phone": "20 12 34 56"}


def page_text(page: str) -> str:
    return html.unescape(page)


async def test_missing_fields_rerender_the_form_with_danish_messages_and_the_input(
    client: Any, deps: Deps
) -> None:
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **incomplete_answers()}
    )
    page = page_text(await response.text())

    assert response.status == 400
    assert response.headers["Content-Language"] == "da"
    assert REQUIRED_DA in page
    assert REQUIRED_EN not in page
    # Each skipped question is marked; the user's own text is still in the form.
    for name in ("reporter_role", "person_age", "municipality", "safety_threats"):
        assert f'id="{name}-error"' in page, name
    assert f">{OBSERVED}</textarea>" in page
    assert f'value="{RELATION}"' in page
    assert 'value="20 12 34 56"' in page
    assert await contacts_stored(deps) == 0


async def test_missing_fields_in_english_when_the_form_says_lang_en(
    client: Any, deps: Deps
) -> None:
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, "lang": "en", **incomplete_answers()}
    )
    page = page_text(await response.text())

    assert response.status == 400
    assert REQUIRED_EN in page
    assert REQUIRED_DA not in page
    assert f">{OBSERVED}</textarea>" in page
    assert await contacts_stored(deps) == 0


async def test_missing_fields_in_english_with_lang_en_in_the_query(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    response = await client.post(
        "/report/national?lang=en", data={"csrf_token": token, **incomplete_answers()}
    )
    page = page_text(await response.text())

    assert response.status == 400
    assert response.headers["Content-Language"] == "en"
    assert REQUIRED_EN in page
    assert REQUIRED_DA not in page
    assert await contacts_stored(deps) == 0


async def test_an_over_long_text_names_the_limit(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    too_long = "a" * 4001
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(observed=too_long)}
    )
    page = page_text(await response.text())

    assert response.status == 400
    assert "Teksten er for lang: højst 4000 tegn." in page
    assert 'id="observed-error"' in page
    assert too_long in page  # kept, so the user can shorten it
    assert await contacts_stored(deps) == 0


async def test_text_at_the_limit_is_accepted(client: Any, deps: Deps) -> None:
    """The other side of the limit: 4000 characters is fine (so the 400 above is about length)."""
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(observed="a" * 4000)}
    )
    assert response.status == 200
    assert await contacts_stored(deps) == 1


async def test_a_body_over_the_size_limit_is_refused_with_413(
    client: Any, deps: Deps, settings: Settings
) -> None:
    assert settings.max_body_kib == 64
    token = await open_form(client)
    huge = "x" * (settings.max_body_kib * 1024 + 1)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(observed=huge)}
    )
    page = page_text(await response.text())

    assert response.status == 413
    assert "Det, du sendte, er for stort." in page
    assert "Traceback" not in page
    assert await contacts_stored(deps) == 0


async def test_a_json_body_is_refused_with_415(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    # A valid CSRF header, so the only thing wrong is the content type.
    response = await client.post(
        "/report/national", json=valid_answers(), headers={"X-CSRF-Token": token}
    )
    page = page_text(await response.text())

    assert response.status == 415
    assert "application/x-www-form-urlencoded" in page
    assert await contacts_stored(deps) == 0


async def test_an_invalid_phone_number_is_named(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(phone="12 34")}
    )
    page = page_text(await response.text())

    assert response.status == 400
    assert INVALID_PHONE_DA in page
    assert 'id="phone-error"' in page
    assert 'value="12 34"' in page
    assert await contacts_stored(deps) == 0


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "forged"])
async def test_a_missing_or_invalid_csrf_token_keeps_the_input(
    client: Any, deps: Deps, token: str | None
) -> None:
    await open_form(client)  # the browser has the CSRF cookie, but not a matching token
    data = valid_answers(observed=OBSERVED, relation=RELATION)
    if token is not None:
        data["csrf_token"] = token
    response = await client.post("/report/national", data=data)
    page = page_text(await response.text())

    assert response.status == 403
    assert CSRF_NOTICE_DA in page
    assert f">{OBSERVED}</textarea>" in page
    assert f'value="{RELATION}"' in page
    # A fresh token to send again with.
    assert csrf_token(page) != token
    assert await contacts_stored(deps) == 0


async def test_a_csrf_token_without_its_cookie_is_refused(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    client.session.cookie_jar.clear()
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(observed=OBSERVED)}
    )
    assert response.status == 403
    assert f">{OBSERVED}</textarea>" in page_text(await response.text())
    assert await contacts_stored(deps) == 0


async def test_a_foreign_origin_is_refused(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    data = {"csrf_token": token, **valid_answers()}
    response = await client.post(
        "/report/national", data=data, headers={"Origin": "https://evil.example"}
    )
    assert response.status == 403
    assert await contacts_stored(deps) == 0

    # Control: the same request from our own origin goes through.
    own_origin = str(client.make_url("/")).rstrip("/")
    response = await client.post("/report/national", data=data, headers={"Origin": own_origin})
    assert response.status == 200
    assert await contacts_stored(deps) == 1


async def test_an_unknown_hotline_is_404(client: Any, deps: Deps) -> None:
    response = await client.get("/report/nowhere")
    assert response.status == 404
    assert "Siden findes ikke." in page_text(await response.text())

    token = await open_form(client)
    response = await client.post("/report/nowhere", data={"csrf_token": token, **valid_answers()})
    assert response.status == 404
    assert await contacts_stored(deps) == 0


async def follow_up_token(client: Any) -> str:
    response = await client.get("/follow-up")
    assert response.status == 200
    return csrf_token(await response.text())


@pytest.mark.parametrize("code", ["ABCD", "ABCD-EFGH-JKMN-PQRS-TVW0", "x" * 80, ""])
async def test_follow_up_with_a_malformed_code_names_the_format(
    client: Any, deps: Deps, code: str
) -> None:
    token = await follow_up_token(client)
    response = await client.post("/follow-up", data={"csrf_token": token, "code": code})
    page = page_text(await response.text())

    assert response.status == 400
    assert "En kvitteringskode har 20 bogstaver og tal" in page
    assert 'aria-invalid="true"' in page


async def test_follow_up_with_an_unknown_code_is_404(client: Any, deps: Deps) -> None:
    token = await follow_up_token(client)
    response = await client.post(
        "/follow-up", data={"csrf_token": token, "code": "ABCD-EFGH-JKMN-PQRS-TVWX"}
    )
    page = page_text(await response.text())

    assert response.status == 404
    assert "Der findes ingen henvendelse med denne kvitteringskode." in page


async def test_follow_up_with_a_real_code_shows_received_time_and_progress(
    client: Any, deps: Deps
) -> None:
    token = await open_form(client)
    response = await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    assert response.status == 200
    code = receipt_code(await response.text())

    token = await follow_up_token(client)
    # Received 09:30 UTC on 2 March: 10.30 Danish (winter) time. Lower case and without dashes
    # is the same code.
    typed = code.replace("-", " ").lower()
    response = await client.post("/follow-up", data={"csrf_token": token, "code": typed})
    page = page_text(await response.text())
    assert response.status == 200
    assert "Din henvendelse blev modtaget 02.03.2026 10.30." in page
    assert "Den er ved at blive registreret." in page

    await run_jobs(deps)
    response = await client.post("/follow-up", data={"csrf_token": token, "code": code})
    page = page_text(await response.text())
    assert response.status == 200
    assert "Den ligger i hotlinemedarbejdernes kø." in page
    assert "Din henvendelse blev modtaget 02.03.2026 10.30." in page


async def test_follow_up_in_english(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    response = await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    code = receipt_code(await response.text())
    await run_jobs(deps)

    token = await follow_up_token(client)
    response = await client.post("/follow-up?lang=en", data={"csrf_token": token, "code": code})
    page = page_text(await response.text())
    assert response.status == 200
    assert "Your report was received on 02/03/2026, 10:30." in page
    assert "It is in the queue of the hotline staff." in page


async def test_anonymous_reports_store_no_way_to_identify_the_reporter(
    client: Any, deps: Deps
) -> None:
    token = await open_form(client)
    answers = valid_answers(
        anonymous="yes",
        name="Karen Jensen",
        phone="20 12 34 56",
        email="karen@example.dk",
        relation=RELATION,
    )
    response = await client.post("/report/national", data={"csrf_token": token, **answers})
    page = await response.text()
    assert response.status == 200
    assert receipt_code(page)
    assert "Karen" not in page

    await run_jobs(deps)
    async with deps.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
        cases = await session.scalar(select(func.count()).select_from(Case))
    assert contact.anonymous is True
    assert contact.reporter_name is None
    assert contact.reporter_phone_raw is None
    assert contact.reporter_phone_e164 is None
    assert contact.reporter_phone_lookup is None
    assert contact.reporter_email is None
    assert contact.reporter_email_lookup is None
    assert contact.reporter_phone_status is PhoneStatus.NONE
    assert "Karen" not in str(contact.answers)
    assert cases == 1


async def test_anonymous_reports_ignore_an_invalid_phone(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    response = await client.post(
        "/report/national",
        data={"csrf_token": token, **valid_answers(anonymous="yes", phone="not a number")},
    )
    assert response.status == 200
    async with deps.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert contact.reporter_phone_raw is None
    assert contact.reporter_phone_status is PhoneStatus.NONE
