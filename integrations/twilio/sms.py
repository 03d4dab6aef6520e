"""The SMS/WhatsApp port (notifications.ports.SmsSender) on Twilio's Messages API."""

from __future__ import annotations

from requests.exceptions import RequestException
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.rest import Client

from notifications.ports import SendFailed, SentMessage

# Twilio answers these when the request itself is wrong or the number cannot be reached: retrying
# the same request cannot help (21211 invalid number, 21610 opted out, 21408 region not enabled,
# 63016 WhatsApp outside the 24-hour window, …). Server errors and timeouts are worth a retry.
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class TwilioSmsSender:
    def __init__(self, client: Client) -> None:
        self._client = client

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        try:
            message = self._client.messages.create(
                to=to, from_=from_, body=body, status_callback=status_callback
            )
        except TwilioRestException as exc:
            raise SendFailed(
                str(exc.code or exc.status),
                str(exc.msg)[:255],
                retryable=exc.status in _RETRYABLE_STATUS,
            ) from exc
        except TwilioServiceException as exc:
            # The RFC 9457 shape some Twilio APIs answer with: a refusal, not an outage. It is
            # not a TwilioRestException, so without this it would count as "unreachable" and be
            # retried forever.
            raise SendFailed(
                str(exc.code or exc.status),
                str(exc.detail or exc.title)[:255],
                retryable=exc.status in _RETRYABLE_STATUS,
            ) from exc
        except (RequestException, TwilioException) as exc:
            # Timeouts, refused connections: Twilio did not answer, so try again later.
            raise SendFailed("unreachable", type(exc).__name__, retryable=True) from exc
        except ValueError as exc:
            # An answer that is not Twilio's JSON. The message may or may not have gone out, so
            # it is not retried blindly: staff see the failure and can send again.
            raise SendFailed(
                "bad_response", "unexpected answer from Twilio", retryable=False
            ) from exc
        return SentMessage(provider_id=message.sid, status=str(message.status or "queued"))
