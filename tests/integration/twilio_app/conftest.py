"""For the tests in this folder: the app with a configured Twilio account and a recording SMS
sender (anything sent would show). These `deps` and `client` replace the plain ones here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bootstrap import Deps, build_deps
from clock import FrozenClock
from server import create_app
from settings import load_settings
from tests.support.messaging import RecordingSender
from tests.support.twilio_signing import twilio_environ


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest_asyncio.fixture
async def deps(
    test_environ: dict[str, str],
    clock: FrozenClock,
    clean_database: None,
    sender: RecordingSender,
) -> AsyncIterator[Deps]:
    """A configured Twilio account with the recording sender: anything sent would show."""
    settings = load_settings({**test_environ, **twilio_environ()})
    built = build_deps(settings, clock=clock, sms=sender)
    yield built
    await built.aclose()


@pytest_asyncio.fixture
async def client(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(deps, in_process_worker=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
