"""Staff API for voicemails: play one (audited).

GET /api/v1/recordings/{id}/audio  the stored audio file, with its content type; 404 until the
                                  fetch job has stored it.
"""

from __future__ import annotations

from aiohttp import web

from access.models import Role
from access.service import audit
from intake.models import Recording
from web.api import operation
from web.appkeys import deps_key, staff_key
from web.path_ids import path_id
from web.policy import requires_role


# A voicemail is the caller's own voice: hotline staff only, every play audited.
@operation(
    "Play a voicemail or recorded call (audited)",
    tag="calls",
    content_type="audio/*",
    errors=(404,),
    description="The stored audio file in the type the provider gave it (e.g. audio/x-wav). "
    "404 until the fetch job has stored it.",
)
@requires_role(Role.HOTLINE)
async def recording_audio(request: web.Request) -> web.StreamResponse:
    recording_id = path_id(request, "recording_id", missing="no recording has this id")
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        recording = await session.get(Recording, recording_id)
        if recording is None:
            raise web.HTTPNotFound(reason="no recording has this id")
        if recording.file_path is None:
            raise web.HTTPNotFound(reason="the recording has not been fetched yet")
        audit(
            session,
            at=deps.clock.now(),
            actor=request[staff_key],
            action="play_recording",
            subject_kind="recording",
            subject_id=recording.id,
            detail={"contact_id": recording.contact_id},
        )
    path = (deps.settings.data_dir / recording.file_path).resolve()
    folder = (deps.settings.data_dir / "recordings").resolve()
    if folder not in path.parents or not path.is_file():
        raise web.HTTPNotFound(reason="the recording's file is missing")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": recording.content_type or "audio/wav",
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="recording-{recording.id}.wav"',
        },
    )


def register(app: web.Application) -> None:
    app.router.add_get(
        r"/api/v1/recordings/{recording_id:\d+}/audio", recording_audio, name="api_recording_audio"
    )
