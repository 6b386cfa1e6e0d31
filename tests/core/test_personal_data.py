"""A person's data rights through every plugin: what is held (export), and erasure that leaves
no name or phone anywhere except where a plugin declared why, with statistics unchanged."""

import json

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from lms.core.models import User
from lms.personal_data import ERASED_NAME, DataSection, ErasureNote
from lms.plugin_host import flatten
from lms.plugins.certificates.models import Certificate
from lms.plugins.events.models import Registration
from lms.plugins.quiz.models import QuizAttempt
from lms.plugins.teams.models import LoginCard
from tests.certificates.certtools import completed_course
from tests.events.eventtools import register, staff_with_event
from tests.factories import fresh, login, make_places, make_user, post_form, text_of

PERSONAL_COLUMNS = {"user_id", "phone", "full_name", "learner_name"}


def _personal_tables() -> set[str]:
    return {table.name for table in SQLModel.metadata.sorted_tables
            if PERSONAL_COLUMNS & {column.name for column in table.columns}}


def test_every_table_with_personal_data_is_exported_and_erased(install_plugins, make_settings, engine):
    from lms.app import create_app
    from tests.core.test_plugins import EVERYTHING
    from tests.plugins.everything import plugin

    install_plugins(EVERYTHING)
    settings = make_settings()
    app = create_app(settings)
    plugin.NOTES.create(app.state.engine, checkfirst=True)
    with Session(app.state.engine, expire_on_commit=False) as db:
        person, actor = make_user(db, settings), make_user(db, settings, role="admin")
    pm = app.state.pm
    with Session(app.state.engine) as db:
        exported = {s.table for s in flatten(pm.hook.personal_data_export(db=db, user=person))
                    if isinstance(s, DataSection)}
        erased = {n.table for n in flatten(pm.hook.personal_data_erase(db=db, user=person, actor=actor))
                  if isinstance(n, ErasureNote)}
        db.rollback()
    wanted = _personal_tables() | {"everything_note"}
    assert wanted - exported == set(), "tables with personal data that no plugin exports"
    assert wanted - erased == set(), "tables with personal data that no plugin erases"


def test_download_then_erasure_leaves_counts_but_not_the_person(client, make_client, db, settings, tmp_path):
    learner_client = make_client()
    places = make_places(db)
    user, certificate = completed_course(learner_client, db, settings, tmp_path, places=places)
    _, staff, event = staff_with_event(client, db, settings, places=places)
    assert register(make_client(), event, name=user.full_name, phone=user.phone,
                    village=places.villages[0]).status_code == 303
    fresh(db)
    registration = db.exec(select(Registration).where(Registration.user_id == user.id)).scalars().one()
    registration.checked_in_at = registration.registered_at
    db.add(registration)
    db.add(QuizAttempt(user_id=user.id, course_id=certificate.course_id, submitted_at=registration.registered_at,
                       score=90, passed=True))
    db.add(LoginCard(user_id=user.id, token_digest="e" * 64, created_by_id=staff.id))
    db.commit()

    # The person sees and downloads everything held about them.
    page = text_of(learner_client.get("/account/data").text)
    for item in (user.full_name, user.phone, "Bài học đã học xong", "Bài kiểm tra đã làm", "Đăng ký sự kiện",
                 "Chứng nhận", "Thẻ đăng nhập đã in", "Các lần đồng ý xử lý dữ liệu"):
        assert item in page, item
    download = learner_client.get("/account/data.json")
    assert download.headers["content-disposition"].startswith("attachment")
    data = {section["bang"]: section["dong"] for section in json.loads(download.text)["du_lieu"]}
    assert data["core_user"][0]["Số điện thoại"] == user.phone
    assert len(data["courses_lesson_progress"]) == 2 and len(data["quiz_attempt"]) == 1
    assert data["events_registration"][0]["Điểm danh lúc"] and len(data["certificates_certificate"]) == 1
    assert len(data["teams_login_card"]) == 1

    def count(model) -> int:
        fresh(db)
        value = db.exec(select(func.count()).select_from(model)).scalar()
        db.commit()
        return value

    counts = {model: count(model) for model in (Registration, QuizAttempt, Certificate)}
    # Staff erase at the person's request; without the confirmation nothing happens.
    login(client, staff.phone)
    refused = post_form(client, f"/staff/users/{user.id}/erase", {}, page=f"/staff/users/{user.id}")
    assert refused.status_code == 422 and count(LoginCard) == 1
    receipt = post_form(client, f"/staff/users/{user.id}/erase", {"confirm": "1"}, page=f"/staff/users/{user.id}")
    assert receipt.status_code == 200
    shown = text_of(receipt.text)
    assert "Biên nhận xoá dữ liệu cá nhân" in shown and "certificates_certificate" not in shown
    assert "Chứng nhận Đã bỏ tên, số điện thoại 1" in shown
    assert "để ai đã nhận bản in hoặc tệp chứng nhận kiểm tra được" in shown

    # No table holds the phone or the name any more; the counts are kept.
    with Session(db.get_bind()) as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(sa.select(table)).all():
                text = json.dumps([str(v) for v in row], ensure_ascii=False)
                assert user.phone not in text, table.name
                assert user.full_name not in text, table.name
    assert {model: count(model) for model in counts} == counts
    fresh(db)
    erased = db.get(User, user.id)
    assert (erased.full_name, erased.phone, erased.active) == (ERASED_NAME, None, False)
    db.commit()
    page = text_of(make_client().get(f"/c/{certificate.code}").text)
    assert "ĐÃ THU HỒI" in page.upper() and ERASED_NAME in page
    gone = make_client().get(f"/c/{certificate.code}.json")
    assert gone.status_code == 410 and "đã được xoá theo yêu cầu" in gone.json()["detail"]
    assert learner_client.get("/account").status_code == 303  # signed out everywhere
    again = post_form(client, f"/staff/users/{user.id}/erase", {"confirm": "1"}, page=f"/staff/users/{user.id}")
    assert again.status_code == 409
