"""Events as units of work: the domain events they record, the expired registration form,
walk-in all or nothing, and capacity under concurrent registrations."""

import re
import threading

from sqlalchemy import func, select

from lms.core.models import Consent, OutboxEvent, User
from lms.errors import ServiceError
from lms.plugins.events import services
from lms.plugins.events.models import Registration
from lms.security import EXPIRED_FORM
from tests.events.eventtools import event_form, register, registrations, staff_with_event
from tests.factories import csrf, fresh, post_form, text_of


def _outbox(db, name: str) -> list[dict]:
    fresh(db)
    rows = db.exec(select(OutboxEvent.payload).where(OutboxEvent.name == name).order_by(OutboxEvent.id)).all()
    db.commit()
    return [row[0] for row in rows]


def _count(db, model, *where) -> int:
    fresh(db)
    value = db.exec(select(func.count()).select_from(model).where(*where)).one()[0]
    db.commit()
    return value


def test_a_new_registration_records_events_registered_once(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    attendee = make_client()
    register(attendee, event, village=places.villages[0], key="khoa-1")
    register(attendee, event, village=places.villages[0], key="khoa-1")  # double tap
    register(make_client(), event, phone="+84 912 000 111", village=places.villages[1])  # same phone
    [registration] = registrations(db, event.id)
    assert _outbox(db, "events.registered") == [{"registration_id": registration.id, "event_id": event.id,
                                                 "user_id": registration.user_id, "by_helper": False}]


def test_the_first_check_in_records_events_checked_in(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    location = register(make_client(), event, village=places.villages[0]).headers["location"]
    token = location.split("/t/")[1].split("?")[0]
    checkin = f"/staff/events/{event.id}/checkin"
    for nonce in ("n1", "n1", "n2"):  # a retried scan, then a second scan of the same ticket
        answer = post_form(client, checkin, {"scan": token, "nonce": nonce}, page=checkin)
        assert answer.status_code == 200
    assert "đã điểm danh lúc" in text_of(answer.text)
    [registration] = registrations(db, event.id)
    assert _outbox(db, "events.checked_in") == [{"registration_id": registration.id, "event_id": event.id,
                                                 "user_id": registration.user_id}]


def test_walk_in_records_both_events(client, db, settings):
    places, staff, event = staff_with_event(client, db, settings)
    checkin = f"/staff/events/{event.id}/checkin"
    done = post_form(client, f"/staff/events/{event.id}/walk-in", {
        "full_name": "Bà Cụ Đến Muộn", "phone": "", "village_id": str(places.villages[0].id),
        "audience": "nguoi-dan", "consent": "on", "idempotency_key": "walk-9"}, page=checkin)
    assert "Đã đăng ký và điểm danh: Bà Cụ Đến Muộn" in text_of(done.text)
    [registration] = registrations(db, event.id)
    assert _outbox(db, "events.registered") == [{"registration_id": registration.id, "event_id": event.id,
                                                 "user_id": registration.user_id, "by_helper": True}]
    assert _outbox(db, "events.checked_in") == [{"registration_id": registration.id, "event_id": event.id,
                                                 "user_id": registration.user_id}]
    assert registration.registered_by_id == staff.id and registration.checked_in_by_id == staff.id


def test_walk_in_is_all_or_nothing(client, db, settings, monkeypatch):
    places, _, event = staff_with_event(client, db, settings)
    users_before = _count(db, User)

    def broken(*_args, **_kwargs):  # the check-in fails after the account and ticket were made
        raise ServiceError("checkin_failed", "Chưa điểm danh được, vui lòng thử lại.")

    monkeypatch.setattr(services, "_check_in", broken)
    checkin = f"/staff/events/{event.id}/checkin"
    refused = post_form(client, f"/staff/events/{event.id}/walk-in", {
        "full_name": "Ông Ba Không Kịp", "phone": "0912777888", "village_id": str(places.villages[0].id),
        "audience": "nguoi-dan", "consent": "on", "idempotency_key": "walk-x"}, page=checkin)
    assert refused.status_code == 422 and "Chưa điểm danh được" in text_of(refused.text)
    assert registrations(db, event.id) == []
    assert _count(db, User) == users_before and _count(db, User, User.phone == "0912777888") == 0
    assert _count(db, Consent, Consent.purpose == "event") == 0
    assert _outbox(db, "events.registered") == []

    monkeypatch.undo()  # the same form posted again, once the trouble is over, does it all
    again = post_form(client, f"/staff/events/{event.id}/walk-in", {
        "full_name": "Ông Ba Không Kịp", "phone": "0912777888", "village_id": str(places.villages[0].id),
        "audience": "nguoi-dan", "consent": "on", "idempotency_key": "walk-x"}, page=checkin)
    assert "Đã đăng ký và điểm danh: Ông Ba Không Kịp" in text_of(again.text)
    [registration] = registrations(db, event.id)
    assert registration.checked_in_at is not None


def _typed(event, village, **extra):
    return {"idempotency_key": "khoa-het-han", "full_name": "Lê Thị Hoa", "phone": "0912 000 111",
            "village_id": str(village.id), "audience": "nguoi-dan", "consent": "on", **extra}


def test_an_expired_registration_form_comes_back_with_what_was_typed(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    users_before = _count(db, User)
    attendee = make_client()
    attendee.get(f"/e/{event.code}")  # the page was opened, then the token went stale
    for extra in ({}, {"csrf_token": "0" * 64}):
        answer = attendee.post(f"/e/{event.code}", data=_typed(event, places.villages[1], **extra))
        assert answer.status_code == 403
        assert EXPIRED_FORM in text_of(answer.text)
        assert 'value="Lê Thị Hoa"' in answer.text and 'value="0912 000 111"' in answer.text
        assert re.search(rf'<option value="{places.villages[1].id}" selected>', answer.text)
        assert 'value="khoa-het-han"' in answer.text
    assert registrations(db, event.id) == []
    assert _count(db, User) == users_before and _outbox(db, "events.registered") == []

    # The page it came back with carries a good token: sending it again registers.
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', answer.text).group(1)
    done = attendee.post(f"/e/{event.code}", data=_typed(event, places.villages[1], csrf_token=token))
    assert done.status_code == 303 and done.headers["location"].endswith("?new=1")
    assert len(registrations(db, event.id)) == 1


def test_a_staff_form_without_token_is_still_refused(client, db, settings):
    _, _, event = staff_with_event(client, db, settings)
    refused = client.post(f"/staff/events/{event.id}/checkin", data={"scan": "x", "nonce": "n"})
    assert refused.status_code == 403
    assert "Biểu mẫu đã hết hạn" in text_of(refused.text)


def test_capacity_holds_when_people_register_at_once(client, db, settings):
    places, _, event = staff_with_event(client, db, settings, capacity="3")
    context = client.app.state.context
    village_id = str(places.villages[0].id)  # read here: the test's session is not for threads
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def person(i: int) -> None:
        data = services.RegistrationInput(full_name="Người Thứ Hai", phone=f"09130000{i:02d}",
                                          village_id=village_id, audience="nguoi-dan",
                                          consent=True, idempotency_key=f"cung-luc-{i}")
        start.wait()
        try:
            services.register(context, event_id=event.id, data=data)
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=person, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full"] * 5 + ["ok"] * 3
    assert _count(db, Registration, Registration.event_id == event.id) == 3
    assert len(_outbox(db, "events.registered")) == 3


def test_a_typo_is_refused_before_any_write(client, db, settings, make_client, monkeypatch):
    places, _, event = staff_with_event(client, db, settings)
    context = client.app.state.context
    opened: list[str] = []
    real = type(context).transaction

    def watched(self):
        opened.append("write")
        return real(self)

    monkeypatch.setattr(type(context), "transaction", watched)
    bad = register(make_client(), event, phone="091200011", village=places.villages[0])
    assert bad.status_code == 422 and "10 chữ số" in text_of(bad.text)
    assert opened == []
    good = register(make_client(), event, village=places.villages[0])
    assert good.status_code == 303 and opened == ["write"]


def test_out_of_range_ids_name_nothing(client, db, settings):
    places, _, event = staff_with_event(client, db, settings)
    big = "9" * 25
    assert client.get(f"/staff/events/{big}").status_code == 404
    checkin = f"/staff/events/{event.id}/checkin"
    answer = client.post(checkin, data={"registration_id": big, "nonce": "x", "csrf_token": csrf(client, checkin)})
    assert answer.status_code == 422 and "Không đọc được vé" in text_of(answer.text)
    typo = register(client, event, village=places.villages[0], village_id=big)
    assert typo.status_code == 422 and "Vui lòng chọn thôn/tổ dân phố" in text_of(typo.text)
    # "²" is a digit to str.isdigit() but not a number to int().
    odd = post_form(client, checkin, {"registration_id": "²", "nonce": "y"}, page=checkin)
    assert odd.status_code == 422 and "Không đọc được vé" in text_of(odd.text)
    capacity = post_form(client, "/staff/events/new", event_form(capacity="²"), page="/staff/events/new")
    assert capacity.status_code == 422 and "Sức chứa là số người" in text_of(capacity.text)
