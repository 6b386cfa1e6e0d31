"""Events for tests: created as staff do it, registered as attendees do it."""

from datetime import timedelta

from sqlalchemy import select

from lms.db import utcnow
from lms.plugins.events.models import Event, Registration
from lms.plugins.events.services import local
from tests.factories import csrf, fresh, login, make_places, make_user, post_form


def when(delta_hours: float) -> str:
    return local(utcnow() + timedelta(hours=delta_hours)).strftime("%Y-%m-%dT%H:%M")


def event_form(**overrides):
    data = {"title": "Lễ phát động Bình dân học vụ số", "kind": "le-phat-dong",
            "place_text": "Hội trường UBND xã", "starts_at": when(48), "ends_at": when(52), "capacity": ""}
    data.update(overrides)
    return data


def staff_with_event(client, db, settings, *, places=None, **overrides):
    places = places or make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Văn Hóa")
    login(client, staff.phone)
    response = post_form(client, "/staff/events/new", event_form(**overrides), page="/staff/events/new")
    assert response.status_code == 303, response.text
    fresh(db)
    event = db.exec(select(Event).order_by(Event.id.desc())).scalars().first()
    db.commit()
    return places, staff, event


def register(client, event, *, name="Lê Thị Hoa", phone="0912000111", village=None, key=None, **extra):
    page = client.get(f"/e/{event.code}").text
    import re

    key = key or re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf(client, f"/e/{event.code}"), "idempotency_key": key, "full_name": name,
            "phone": phone, "village_id": str(village.id) if village else "", "audience": "nguoi-dan",
            "consent": "on", **extra}
    return client.post(f"/e/{event.code}", data=data)


def registrations(db, event_id):
    fresh(db)
    rows = db.exec(select(Registration).where(Registration.event_id == event_id)).scalars().all()
    db.commit()
    return rows
