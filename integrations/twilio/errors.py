"""Twilio's REST failures as the ports' `SendFailed`: the one place that decides what is retried."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from requests.exceptions import RequestException
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)

from notifications.ports import SendFailed

# Twilio answers these when the request itself is wrong or the number cannot be reached: retrying
# the same request cannot help (21211 invalid number, 21610 opted out, 21408 region not enabled,
# 63016 WhatsApp outside the 24-hour window, 21215 calls to that country not enabled, …). Server
# errors, throttling and timeouts are worth a retry.
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@contextmanager
def send_failures() -> Iterator[None]:
    """Run one REST request; any failure leaves as SendFailed(code, message, retryable=…)."""
    try:
        yield
    except TwilioRestException as exc:
        raise SendFailed(
            str(exc.code or exc.status),
            str(exc.msg)[:255],
            retryable=exc.status in RETRYABLE_STATUS,
        ) from exc
    except TwilioServiceException as exc:
        # The RFC 9457 shape some Twilio APIs answer with: a refusal, not an outage. It is
        # not a TwilioRestException, so without this it would count as "unreachable" and be
        # retried forever.
        raise SendFailed(
            str(exc.code or exc.status),
            str(exc.detail or exc.title)[:255],
            retryable=exc.status in RETRYABLE_STATUS,
        ) from exc
    except (RequestException, TwilioException) as exc:
        # Timeouts, refused connections: Twilio did not answer, so try again later.
        raise SendFailed("unreachable", type(exc).__name__, retryable=True) from exc
    except ValueError as exc:
        # An answer that is not Twilio's JSON. The request may or may not have been carried
        # out, so it is not retried blindly: the caller records the failure (staff can send
        # again; an alert moves on to its next channel).
        raise SendFailed("bad_response", "unexpected answer from Twilio", retryable=False) from exc
