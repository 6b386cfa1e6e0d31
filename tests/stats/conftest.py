"""The statistics tests count every figure by hand: they run with the plugins those counts know.
A plugin added later shows its own figure in its own tests (e.g. tests/programmes)."""

import pytest

from lms.settings import Settings


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings(plugins_disable=["programmes"])
