"""Staff API for link proposals: list a case's open proposals, confirm or reject one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from triage import linking
from triage.models import LinkProposal as ProposalRow
from triage.models import LinkReason, LinkStatus
from web.api import operation
from web.appkeys import deps_key, staff_key
from web.path_ids import path_id


class LinkProposal(BaseModel):
    """A proposal that a contact joins another open case (same phone or e-mail)."""

    id: int
    contact_id: int = Field(description="The contact that would move.")
    case_id: int = Field(description="The open case it would join.")
    reason: LinkReason
    status: LinkStatus
    created_at: datetime
    decided_at: datetime | None = Field(description="When staff confirmed or rejected it.")


class LinkProposalList(BaseModel):
    items: list[LinkProposal]


def _as_json(proposal: ProposalRow) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "contact_id": proposal.contact_id,
        "case_id": proposal.case_id,
        "reason": proposal.reason.value,
        "status": proposal.status.value,
        "created_at": proposal.created_at.isoformat(),
        "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None,
    }


@operation(
    "List the open link proposals that involve a case, either way round",
    tag="linking",
    response=LinkProposalList,
)
async def list_proposals(request: web.Request) -> web.Response:
    case_id = path_id(request, "case_id", missing="no case has this id")
    async with request.app[deps_key].sessions() as session:
        proposals = await linking.proposals_for_case(session, case_id)
    return web.json_response({"items": [_as_json(p) for p in proposals]})


async def _decide(request: web.Request, *, confirm: bool) -> web.Response:
    deps = request.app[deps_key]
    staff = request[staff_key]
    assert staff is not None  # the access guard lets only staff reach here
    try:
        async with deps.sessions() as session, session.begin():
            proposal = await linking.decide(
                session,
                path_id(request, "proposal_id", missing="no such link proposal"),
                confirm=confirm,
                staff_id=staff.id,
                now=deps.clock.now(),
            )
    except linking.LinkNotPossible as exc:
        raise web.HTTPConflict(reason=str(exc)) from None
    if proposal is None:
        raise web.HTTPNotFound(reason="no such link proposal")
    return web.json_response(_as_json(proposal))


@operation(
    "Confirm a link proposal: the contact moves into the proposed case",
    tag="linking",
    response=LinkProposal,
    errors=(404, 409),
    description="A case left without contacts is closed as merged.",
)
async def confirm(request: web.Request) -> web.Response:
    return await _decide(request, confirm=True)


@operation(
    "Reject a link proposal: nothing moves",
    tag="linking",
    response=LinkProposal,
    errors=(404, 409),
)
async def reject(request: web.Request) -> web.Response:
    return await _decide(request, confirm=False)


def register(app: web.Application) -> None:
    app.router.add_get(
        r"/api/v1/cases/{case_id:\d+}/link-proposals", list_proposals, name="api_link_proposals"
    )
    app.router.add_post(
        r"/api/v1/link-proposals/{proposal_id:\d+}/confirm", confirm, name="api_link_confirm"
    )
    app.router.add_post(
        r"/api/v1/link-proposals/{proposal_id:\d+}/reject", reject, name="api_link_reject"
    )
