"""Consent by purpose: each purpose given, refused or withdrawn on its own, and withdrawing one
stops only that processing (events: tickets and copies; statistics: the counts; learning: erasure)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from lms.core.models import Consent, DataRequest, User
from lms.db import utcnow
from lms.errors import NotFound
from lms.personal_data import ERASED_NAME
from lms.plugins.events.models import Registration
from lms.plugins.stats import summary
from lms.plugins.stats.models import OptedOut, VillageTotal
from tests.events.eventtools import register, staff_with_event, when
from tests.factories import fresh, login, make_places, make_user, post_form, text_of


def _ledger(db, user_id):
    fresh(db)
    rows = db.exec(select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)).scalars().all()
    db.commit()
    return [(r.purpose, r.granted, r.method) for r in rows]


def _withdraw(client, purpose, **extra):
    return post_form(client, f"/account/consents/{purpose}", {"granted": "0", **extra}, page="/account")


def test_each_purpose_shows_its_text_what_withdrawing_stops_and_who_recorded_it(client, db, settings):
    places = make_places(db)
    person = make_user(db, settings, village=places.villages[0], name="Phạm Thị Đồng Ý")
    with Session(db.get_bind()) as session:
        session.add(Consent(user_id=person.id, purpose="learning", text_version="dang-ky-2026-11", method="self"))
        session.commit()
    login(client, person.phone)
    page = text_of(client.get("/account").text)
    # The first, combined text covered statistics and events: taken as given, and said so.
    assert "Học tập và chứng nhận: đã đồng ý" in page
    assert "Tính vào số liệu thống kê gửi lên cấp trên: đã đồng ý" in page
    assert "văn bản chung phiên bản dang-ky-2026-11, có bao gồm mục đích này" in page
    assert "Nhận tin nhắn của xã: chưa đồng ý" in page
    assert "Nếu rút lại: Vé các sự kiện chưa diễn ra bị huỷ" in page

    post_form(client, "/account/consents/sms", {"granted": "1"}, page="/account")
    assert "Nhận tin nhắn của xã: đã đồng ý" in text_of(client.get("/account").text)
    assert _withdraw(client, "sms").headers["location"] == "/account?saved=withdrawn#dong-y"
    assert _ledger(db, person.id)[-2:] == [("sms", True, "self"), ("sms", False, "self")]
    # Unknown purposes and a forged "give learning" change nothing.
    assert post_form(client, "/account/consents/marketing", {"granted": "1"}, page="/account").status_code == 404
    assert post_form(client, "/account/consents/learning", {"granted": "1"}, page="/account").status_code == 409
    assert len(_ledger(db, person.id)) == 3


def test_withdrawing_learning_needs_a_confirmation_and_files_an_erasure_request(client, db, settings):
    places = make_places(db)
    person = make_user(db, settings, village=places.villages[0])
    login(client, person.phone)
    unconfirmed = _withdraw(client, "learning")
    assert unconfirmed.headers["location"] == "/account?saved=confirm#dong-y"
    assert "Hãy đánh dấu ô xác nhận" in text_of(client.get(unconfirmed.headers["location"]).text)
    fresh(db)
    assert db.exec(select(func.count()).select_from(DataRequest)).scalar() == 0
    db.commit()
    done = _withdraw(client, "learning", confirm="1")
    assert done.headers["location"] == "/account?saved=erase_filed#dong-y"
    fresh(db)
    [request] = db.exec(select(DataRequest)).scalars().all()
    assert (request.kind, request.user_id, request.filed_by_id) == ("erase", person.id, person.id)
    db.commit()
    assert _ledger(db, person.id) == [("learning", False, "self")]


def test_withdrawing_events_cancels_tickets_to_come_and_blanks_earlier_registrations(
        client, db, settings, make_client):
    places, staff, coming = staff_with_event(client, db, settings)
    _, _, past = staff_with_event(client, db, settings, places=places, title="Hội thi tin học",
                                  starts_at=when(2), ends_at=when(3))
    attendee = make_client()
    for event in (coming, past):
        assert register(attendee, event, name="Lê Thị Rút", phone="0912000222",
                        village=places.villages[0]).status_code == 303
    fresh(db)
    person = db.exec(select(User).where(User.phone == "0912000222")).scalars().one()
    # The second event has started: its registration stays, as a count.
    with Session(db.get_bind()) as session:
        row = session.exec(select(Registration).where(Registration.event_id == past.id)).scalars().one()
        started = session.get(type(past), past.id)
        started.starts_at = utcnow() - timedelta(hours=1)
        row.checked_in_at = utcnow()
        session.add_all([started, row])
        session.commit()
    db.commit()
    # The account made at the event has no password: it reaches /account with one set.
    with Session(db.get_bind()) as session:
        from lms.core.services import password_context
        from tests.factories import PASSWORD

        account = session.get(User, person.id)
        account.password_hash = password_context(settings).hash(PASSWORD)
        session.add(account)
        session.commit()
    login(attendee, "0912000222")
    assert "Đăng ký và điểm danh sự kiện: đã đồng ý" in text_of(attendee.get("/account").text)
    assert _withdraw(attendee, "events").status_code == 303
    fresh(db)
    rows = db.exec(select(Registration).where(Registration.user_id == person.id)).scalars().all()
    assert [(r.event_id, r.full_name, r.phone) for r in rows] == [(past.id, ERASED_NAME, None)]
    assert rows[0].checked_in_at is not None  # attendance still counts
    assert db.get(User, person.id).full_name == "Lê Thị Rút"  # only the events purpose stopped
    db.commit()
    page = text_of(attendee.get("/account").text)
    assert "Đăng ký và điểm danh sự kiện: chưa đồng ý" in page and "Học tập và chứng nhận: đã đồng ý" in page


def _learners(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.sum(VillageTotal.value)).where(
            VillageTotal.key == "learners.registered")).scalar() or 0


def test_withdrawing_statistics_takes_the_person_out_of_every_count_and_giving_it_back_returns_them(
        client, app, db, settings, engine):
    places = make_places(db)
    person = make_user(db, settings, village=places.villages[0], name="Đỗ Văn Thống Kê")
    others = [make_user(db, settings, village=places.villages[1], name=f"Người Học {i}") for i in range(2)]
    with Session(engine) as session:
        for user in [person, *others]:
            row = session.get(User, user.id)
            row.created_at = utcnow() - timedelta(days=5)
            session.add(row)
        session.commit()
    pm = app.state.pm
    summary.refresh(engine, pm, rebuild=True)
    assert _learners(engine) == 3
    login(client, person.phone)
    assert _withdraw(client, "stats").status_code == 303
    # Delivered after commit: the summed days were summed again without them.
    assert _learners(engine) == 2
    fresh(db)
    assert db.get(OptedOut, person.id) is not None
    db.commit()
    with Session(engine) as session:
        recounted = sorted(tuple(r) for r in session.execute(select(VillageTotal.__table__)).all() if r[-1])
    summary.refresh(engine, pm, rebuild=True)
    with Session(engine) as session:
        rebuilt = sorted(tuple(r) for r in session.execute(select(VillageTotal.__table__)).all() if r[-1])
    assert recounted == rebuilt and _learners(engine) == 2
    # The person changed their mind at the commune office: staff record it for them.
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    assert post_form(client, f"/staff/users/{person.id}/consents/stats", {"granted": "1"},
                     page=f"/staff/users/{person.id}").status_code == 303
    assert _learners(engine) == 3
    assert _ledger(db, person.id) == [("stats", False, "self"), ("stats", True, "staff")]


def test_the_signup_asks_the_optional_purposes_unticked_and_records_what_was_ticked(client, db, settings, engine):
    places = make_places(db)
    form = {"full_name": "Hồ Thị Chọn", "phone": "0912 000 333", "village_id": str(places.villages[0].id),
            "audience": "nguoi-dan", "password": "mật khẩu dài 2026", "password_confirm": "mật khẩu dài 2026",
            "consent": "on", "consent_sms": "on"}
    assert post_form(client, "/signup", form, page="/signup").status_code == 303
    fresh(db)
    person = db.exec(select(User).where(User.phone == "0912000333")).scalars().one()
    assert db.get(OptedOut, person.id) is not None  # statistics not ticked: not counted
    db.commit()
    assert _ledger(db, person.id) == [("learning", True, "self"), ("stats", False, "self"), ("sms", True, "self")]


def test_sms_is_contact_only_for_those_who_said_yes(app, db, settings):
    from lms.core import consent_services

    places = make_places(db)
    person = make_user(db, settings, village=places.villages[0])
    pm = app.state.pm
    assert not consent_services.granted(db, pm, person.id, "sms")  # never asked: no
    consent_services.change(app.state.context, person_id=person.id, purpose="sms", granted=True, actor=person)
    fresh(db)
    assert consent_services.granted(db, pm, person.id, "sms")
    db.commit()
    consent_services.change(app.state.context, person_id=person.id, purpose="sms", granted=False, actor=person)
    fresh(db)
    assert not consent_services.granted(db, pm, person.id, "sms")
    db.commit()
    # Someone of another commune cannot decide for them.
    stranger = make_user(db, settings, role="staff", commune=make_places(db, commune_name="Xã Khác").commune)
    with pytest.raises(NotFound):
        consent_services.change(app.state.context, person_id=person.id, purpose="sms", granted=True, actor=stranger)
