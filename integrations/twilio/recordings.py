"""The RecordingStore port (notifications.ports) on Twilio's Recordings API.

The audio is fetched from the recording's media URL, built from its SID on the client's own API
host (region and edge applied, HOTLINE_TWILIO_API_URL honoured), never from a URL a webhook sent,
with the REST client's credentials and HTTP session. Then the recording is deleted at Twilio.
"""

from __future__ import annotations

import re

import requests
from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from integrations.twilio.client import RedirectingHttpClient
from notifications.ports import RecordingAudio, RecordingUnavailable

_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
API_VERSION = "2010-04-01"


class TwilioRecordingStore:
    def __init__(self, client: Client, *, timeout: float = 30) -> None:
        self._client = client
        self._timeout = timeout

    def _media_url(self, recording_id: str) -> str:
        if not _SID.match(recording_id):
            raise RecordingUnavailable("bad_id", "not a Twilio recording SID")
        path = f"/{API_VERSION}/Accounts/{self._client.account_sid}/Recordings/{recording_id}.wav"
        url = str(self._client.get_hostname(self._client.api.base_url + path))
        http_client = self._client.http_client
        if isinstance(http_client, RedirectingHttpClient):
            url = http_client.target(url)
        return url

    def download(self, recording_id: str) -> RecordingAudio:
        url = self._media_url(recording_id)
        session = getattr(self._client.http_client, "session", None) or requests.Session()
        try:
            response = session.get(url, auth=self._client.auth, timeout=self._timeout)
        except RequestException as exc:
            raise RecordingUnavailable("unreachable", type(exc).__name__) from exc
        if response.status_code != 200:
            raise RecordingUnavailable(str(response.status_code), "Twilio did not hand it over")
        content_type = response.headers.get("Content-Type", "audio/x-wav").split(";")[0]
        if not content_type.startswith("audio/") or not response.content:
            raise RecordingUnavailable("bad_response", "the answer was not audio")
        return RecordingAudio(content=response.content, content_type=content_type)

    def delete(self, recording_id: str) -> None:
        if not _SID.match(recording_id):
            raise RecordingUnavailable("bad_id", "not a Twilio recording SID")
        try:
            self._client.recordings(recording_id).delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return  # already gone: deleted is what we wanted
            raise RecordingUnavailable(str(exc.code or exc.status), str(exc.msg)[:200]) from exc
        except (RequestException, TwilioException) as exc:
            raise RecordingUnavailable("unreachable", type(exc).__name__) from exc
