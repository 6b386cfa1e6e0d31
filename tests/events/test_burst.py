"""A burst of registrations against a real server process loses and duplicates nothing."""

from sqlalchemy import func, select

from bench.event_burst import burst
from lms.plugins.events.models import Registration
from tests.events.eventtools import staff_with_event
from tests.factories import fresh


def test_burst_of_100_from_20_clients(live_server, client, db, settings):
    _, _, event = staff_with_event(client, db, settings)
    base = live_server(workers=2)
    result = burst(base, event.code, total=100, concurrency=20, retry_every=5)
    assert result.errors == [] and result.server_errors == 0, (result.errors[:3], result.statuses)
    assert result.statuses == {303: 120}  # 100 people + 20 retries, each answered with a ticket
    fresh(db)
    rows, phones = db.exec(select(func.count(), func.count(func.distinct(Registration.phone)))
                           .where(Registration.event_id == event.id)).one()
    assert rows == phones == 100
