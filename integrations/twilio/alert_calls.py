"""The alert-call port (notifications.ports.AlertCaller) on Twilio's Calls API.

When the call is answered Twilio fetches its TwiML from `twiml_url`
(integrations/twilio/alert_webhooks.py): the case reference and the kind of alert, "press 1 to
acknowledge". Status callbacks (initiated, ringing, answered, completed — the last carrying busy,
no-answer, failed or canceled when the call was not answered) go to `status_callback`.

No answering-machine detection (`MachineDetection`), on purpose: the acknowledgement is the
keypress, which a voicemail box cannot give, so a voicemail that answers hears the message, ends
as "completed" and acknowledges nothing. Detection would instead keep a person who answers
waiting in silence for seconds, costs per call, and takes a person with a long "hello" for a
machine — hanging up on exactly whom the alert must reach.
"""

from __future__ import annotations

from twilio.rest import Client

from integrations.twilio.errors import send_failures
from notifications.ports import PlacedCall

# How long the phone rings before Twilio gives up (no-answer). Long enough to wake up and find
# the phone; a carrier's voicemail often answers earlier, which is harmless (see above).
RING_SECONDS = 30
# The longest an answered call may last: the message twice with its pauses, then goodbye.
# Without a limit a call stuck in a voicemail box could run for hours (Twilio's default 4 h).
TIME_LIMIT_SECONDS = 180
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


class TwilioAlertCaller:
    def __init__(self, client: Client) -> None:
        self._client = client

    def place_call(
        self, *, to: str, from_: str, attempt_token: str, status_callback: str, twiml_url: str
    ) -> PlacedCall:
        # The token travels inside both URLs; Twilio needs nothing else from it.
        with send_failures():
            call = self._client.calls.create(
                to=to,
                from_=from_,
                url=twiml_url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=list(STATUS_EVENTS),
                timeout=RING_SECONDS,
                time_limit=TIME_LIMIT_SECONDS,
            )
        return PlacedCall(provider_id=call.sid, status=str(call.status or "queued"))
