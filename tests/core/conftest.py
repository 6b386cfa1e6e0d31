"""Fixtures of the pages that send SMS codes (recovery, phone change)."""

import pytest

from lms.app import create_app
from lms.core import recovery_services as recovery


@pytest.fixture
def fresh_timing(monkeypatch):
    """Each test starts without what earlier sends taught the gateway timing."""
    monkeypatch.setattr(recovery, "timing", recovery._GatewayTiming())


@pytest.fixture
def make_app(make_settings, engine):
    apps = []

    def factory(**overrides):
        app = create_app(make_settings(**overrides))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.state.engine.dispose()
