"""The development gateway's outbox, /staff/sms: admins see every message, staff those to the
learners and team members of their commune, nobody else any."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms.core import recovery_services as recovery
from lms.plugins.sms.models import SmsMessage
from tests.factories import fresh, login, make_places, make_user, post_form, text_of


@pytest.fixture(autouse=True)
def fresh_timing(monkeypatch):
    monkeypatch.setattr(recovery, "timing", recovery._GatewayTiming())


def ask_code(make_client, phone: str) -> None:
    with make_client() as client:
        assert post_form(client, "/forgot", {"phone": phone}, page="/forgot").status_code == 200


@pytest.fixture
def world(db, settings, make_client):
    here = make_places(db)
    there = make_places(db, commune_name="Xã Tân Lập", villages=("Thôn Bắc",))
    people = {
        "learner": make_user(db, settings, village=here.villages[0], name="Trần Thị Bình"),
        "member": make_user(db, settings, role="team_member", commune=here.commune),
        "staff": make_user(db, settings, role="staff", commune=here.commune),
        "colleague": make_user(db, settings, role="staff", commune=here.commune, name="Lê Văn Cường"),
        "other_staff": make_user(db, settings, role="staff", commune=there.commune),
        "admin": make_user(db, settings, role="admin"),
        "elsewhere": make_user(db, settings, village=there.villages[0], name="Phạm Văn Dũng"),
    }
    for key in ("learner", "colleague", "elsewhere"):
        ask_code(make_client, people[key].phone)
    fresh(db)
    codes = {}
    for message in db.exec(select(SmsMessage)).scalars():
        codes[message.phone] = re.search(r"\b\d{6}\b", message.text).group(0)
    return people, codes


def outbox_as(make_client, user):
    client = make_client()
    if user is not None:
        login(client, user.phone)
    return client.get("/staff/sms")


def test_admin_sees_every_message(make_client, world):
    people, codes = world
    page = outbox_as(make_client, people["admin"])
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = text_of(page.text)
    for key in ("learner", "colleague", "elsewhere"):
        assert codes[people[key].phone] in text
    assert "Trần Thị Bình" in text


def test_staff_see_their_communes_residents_only(make_client, world):
    people, codes = world
    text = text_of(outbox_as(make_client, people["staff"]).text)
    assert codes[people["learner"].phone] in text
    # Not a fellow staff member's code (that would open their account), nor another commune's.
    assert codes[people["colleague"].phone] not in text
    assert codes[people["elsewhere"].phone] not in text
    other = text_of(outbox_as(make_client, people["other_staff"]).text)
    assert codes[people["elsewhere"].phone] in other and codes[people["learner"].phone] not in other


@pytest.mark.parametrize("who", ["learner", "member"])
def test_learners_and_team_members_are_refused(make_client, world, who):
    people, codes = world
    page = outbox_as(make_client, people[who])
    assert page.status_code == 403
    assert not any(code in page.text for code in codes.values())


def test_anonymous_visitors_are_sent_to_log_in(make_client, world):
    page = outbox_as(make_client, None)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


def test_the_staff_area_links_to_the_outbox(make_client, world):
    people, _ = world
    client = make_client()
    login(client, people["staff"].phone)
    assert 'href="/staff/sms"' in client.get("/staff").text


def test_messages_are_kept_a_week(make_client, world, db):
    people, _ = world
    db.execute(update(SmsMessage).values(created_at=SmsMessage.created_at - timedelta(days=8)))
    db.commit()
    ask_code(make_client, people["learner"].phone)
    fresh(db)
    assert db.exec(select(func.count()).select_from(SmsMessage)).one()[0] == 1


def test_nothing_reaches_the_logs(make_client, db, settings, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    user = make_user(db, settings)
    ask_code(make_client, user.phone)
    fresh(db)
    [text] = db.exec(select(SmsMessage.text)).scalars().all()
    assert user.phone not in caplog.text and text not in caplog.text
    assert re.search(r"\b\d{6}\b", text).group(0) not in caplog.text
