"""Mức phổ cập kỹ năng số cơ bản: the installation's set of courses per audience, the record a
learner gets on completing them, its public check, and the statistics figure."""

import re

from sqlalchemy import select

from lms.plugins.courses.models import Course
from lms.plugins.programmes.models import ProgrammeCompletion
from tests.courses.packtools import sync_dirs, write_pack
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of


def _finish(client, slug):
    for lesson in ("mot", "hai"):
        path = f"/courses/{slug}/{lesson}"
        assert client.post(f"{path}/done", data={"csrf_token": csrf(client, path)}).status_code == 303


def test_completing_the_set_gives_a_record_anyone_can_check(client, make_client, db, settings, tmp_path):
    for slug in ("khoa-mot", "khoa-hai", "khoa-khac"):
        write_pack(tmp_path / "packs", slug, lessons=["mot", "hai"], title=f"Khóa {slug}")
    sync_dirs(db, [tmp_path / "packs"])
    ids = {c.slug: c.id for c in db.exec(select(Course)).scalars().all()}
    places = make_places(db)
    early = make_user(db, settings, village=places.villages[0], name="Lê Văn Sớm")
    learner = make_user(db, settings, village=places.villages[0], name="Phạm Thị Học")
    db.commit()
    login(client, early.phone)
    _finish(client, "khoa-mot")
    _finish(client, "khoa-hai")

    admin = make_client()
    login(admin, make_user(db, settings, role="admin", name="Quản Trị").phone)
    staff = make_client()
    login(staff, make_user(db, settings, role="staff", commune=places.commune).phone)
    assert staff.get("/staff/pho-cap").status_code == 403
    assert post_form(staff, "/staff/pho-cap/nguoi-dan", {"course_ids": [str(ids["khoa-mot"])]},
                     page="/account").status_code == 403
    # Someone who already finished both is recorded as soon as the set is saved.
    saved = post_form(admin, "/staff/pho-cap/nguoi-dan", {"course_ids": [str(ids["khoa-mot"]), str(ids["khoa-hai"])]},
                      page="/staff/pho-cap")
    assert saved.status_code == 303 and "reached=1" in saved.headers["location"]

    browser = make_client()
    login(browser, learner.phone)
    section = text_of(browser.get("/account").text)
    assert "Học xong các khóa dưới đây là hoàn thành mức phổ cập" in section and "Khóa khoa-hai" in section
    _finish(browser, "khoa-mot")
    assert "Bạn đã hoàn thành mức phổ cập" not in text_of(browser.get("/account").text)
    _finish(browser, "khoa-hai")
    account = browser.get("/account").text
    assert "Bạn đã hoàn thành mức phổ cập kỹ năng số cơ bản (nhóm người dân)" in text_of(account)
    code = re.search(r'href="/pho-cap/(PC-[A-Z0-9-]+)"', account).group(1)
    # The paper's page answers anyone, with the name and the commune; a wrong code is not found.
    paper = make_client().get(f"/pho-cap/{code}")
    assert paper.status_code == 200
    assert "Phạm Thị Học" in text_of(paper.text) and "Ủy ban nhân dân Xã Minh Châu" in text_of(paper.text)
    assert "<svg" in paper.text
    assert make_client().get("/pho-cap/PC-2222-2222-2222").status_code == 404
    fresh(db)
    rows = db.exec(select(ProgrammeCompletion).order_by(ProgrammeCompletion.id)).scalars().all()
    assert [(r.user_id, r.audience) for r in rows] == [(early.id, "nguoi-dan"), (learner.id, "nguoi-dan")]
    db.commit()
    # Finishing again (a retried event) records nothing twice.
    from lms.plugins.programmes import services

    with client.app.state.context.transaction() as session:
        assert services.check_learner(session, user_id=learner.id) is False


def test_the_statistics_count_who_reached_the_level(client, make_client, db, settings, tmp_path):
    write_pack(tmp_path / "packs", "khoa-mot", lessons=["mot", "hai"], title="Khóa một")
    sync_dirs(db, [tmp_path / "packs"])
    course_id = db.exec(select(Course.id)).scalars().first()
    places = make_places(db)
    admin = make_client()
    login(admin, make_user(db, settings, role="admin", name="Quản Trị").phone)
    assert post_form(admin, "/staff/pho-cap/nguoi-dan", {"course_ids": [str(course_id)]},
                     page="/staff/pho-cap").status_code == 303
    learner = make_user(db, settings, village=places.villages[1])
    login(client, learner.phone)
    _finish(client, "khoa-mot")
    page = text_of(admin.get(f"/stats?commune={places.commune.id}").text)
    assert "Người hoàn thành mức phổ cập kỹ năng số cơ bản 1 " in page
