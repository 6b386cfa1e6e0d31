"""What the SMS tests share: a real local HTTP server playing the provider, and gateway timing
that starts fresh in every test (a failure measured in one test would slow the next)."""

import pytest

from lms.core import recovery_services as recovery
from tests.sms.provider import start_provider


@pytest.fixture(autouse=True)
def fresh_timing(monkeypatch):
    monkeypatch.setattr(recovery, "timing", recovery._GatewayTiming())


@pytest.fixture
def provider():
    provider, server = start_provider()
    yield provider
    server.shutdown()
    server.server_close()
