"""Questions the assistant cannot answer go to the commune's team: sent without a phone, read
back at a private address, answered by the team, promoted by staff into the commune's FAQ."""

import re

import pytest
from sqlalchemy import func, select

from lms.plugins.hoi_dap import faq, services
from lms.plugins.hoi_dap.models import FaqEntry, Question
from tests.factories import csrf, fresh, login, make_places, make_user, text_of
from tests.hoi_dap.test_hoi_dap import _pack

UNANSWERED = "Xã mình có lớp học điện thoại cho người già vào tối thứ mấy?"


@pytest.fixture
def commune(app, db, tmp_path):
    entries, _ = faq.load_pack(_pack(tmp_path))
    services.sync_pack(app.state.context, entries)
    return make_places(db), make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))


def _count(db) -> int:
    fresh(db)
    return db.execute(select(func.count()).select_from(Question)).scalar()


def _send(client, **fields):
    page = client.get("/hoi-dap", params={"q": UNANSWERED})
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1), "q": UNANSWERED,
            **fields}
    return client.post("/hoi-dap/gui", data=data, follow_redirects=False)


def test_a_visitor_sends_a_question_without_a_phone_and_reads_the_answer_later(commune, client, make_client, db,
                                                                               settings):
    places, other = commune
    page = text_of(client.get("/hoi-dap", params={"q": UNANSWERED}).text)
    assert "Chưa có câu trả lời" in page and "Gửi câu hỏi cho tổ công nghệ số" in page

    # No commune chosen, or a contact without consent: said why, the question kept, nothing stored.
    missing = _send(client)
    assert missing.status_code == 422 and "Hãy chọn xã, phường của bạn" in text_of(missing.text)
    assert UNANSWERED in missing.text
    no_consent = _send(client, commune_id=str(places.commune.id), contact="Bác Tư 0912345678")
    assert no_consent.status_code == 422 and "đánh dấu đồng ý" in text_of(no_consent.text)
    assert 'value="Bác Tư 0912345678"' in no_consent.text
    empty = _send(client, q="   ", commune_id=str(places.commune.id))
    assert empty.status_code == 422 and "Hãy viết câu hỏi của bạn." in text_of(empty.text)
    assert '<form method="post" action="/hoi-dap/gui">' in empty.text  # the form is there to try again
    long = _send(client, q="Hỏi " * 100, commune_id=str(places.commune.id), contact="Chị Ba")
    assert long.status_code == 422 and "Câu hỏi dài tối đa 300 ký tự." in text_of(long.text)
    assert 'value="Chị Ba"' in long.text
    forged = client.post("/hoi-dap/gui", data={"q": UNANSWERED, "commune_id": str(places.commune.id)})
    assert forged.status_code == 403 and UNANSWERED in forged.text
    assert _count(db) == 0

    sent = _send(client, q=UNANSWERED + " Gọi tôi 0912 345 678", commune_id=str(places.commune.id))
    assert sent.status_code == 303
    token = re.fullmatch(r"/hoi-dap/cau-hoi/([\w-]+)\?gui=1", sent.headers["location"]).group(1)
    assert len(token) >= 20
    mine = client.get(sent.headers["location"])
    assert mine.headers["cache-control"] == "private, no-store" and mine.headers["x-robots-tag"] == "noindex"
    assert "Đã gửi câu hỏi cho tổ công nghệ số Xã Minh Châu" in text_of(mine.text)
    assert "Chưa có câu trả lời" in text_of(mine.text)
    fresh(db)
    stored = db.execute(select(Question)).scalars().one()
    assert stored.text == UNANSWERED + " Gọi tôi [số]" and stored.asker_id is None and stored.contact == ""

    # The commune's team member answers; another commune's does not even see it.
    member = make_client()
    login(member, make_user(db, settings, role="team_member", commune=places.commune).phone)
    queue = member.get("/hoi-dap-tra-loi")
    assert queue.status_code == 200 and UNANSWERED in text_of(queue.text)
    stranger = make_client()
    login(stranger, make_user(db, settings, role="team_member", commune=other.commune).phone)
    assert UNANSWERED not in text_of(stranger.get("/hoi-dap-tra-loi").text)
    token_other = csrf(stranger, "/hoi-dap-tra-loi")
    assert stranger.post(f"/hoi-dap-tra-loi/{stored.id}", data={"csrf_token": token_other,
                                                                "answer": "Sai xã."}).status_code == 404
    empty = member.post(f"/hoi-dap-tra-loi/{stored.id}", data={"csrf_token": csrf(member, "/hoi-dap-tra-loi"),
                                                               "answer": "  "})
    assert empty.status_code == 422 and "Hãy viết câu trả lời" in text_of(empty.text)
    answer = "Lớp học tối thứ Năm hằng tuần ở nhà văn hóa thôn Đông, tổ công nghệ số hướng dẫn."
    done = member.post(f"/hoi-dap-tra-loi/{stored.id}", data={"csrf_token": csrf(member, "/hoi-dap-tra-loi"),
                                                              "answer": answer})
    assert done.status_code == 303
    assert answer in text_of(client.get(f"/hoi-dap/cau-hoi/{token}").text)
    assert make_client().get("/hoi-dap/cau-hoi/khong-dung-ma-nay").status_code == 404


def test_who_may_see_and_answer_the_queue(commune, client, make_client, db, settings):
    places, _ = commune
    anonymous = make_client()
    assert anonymous.get("/hoi-dap-tra-loi", follow_redirects=False).status_code == 303
    learner = make_client()
    login(learner, make_user(db, settings, village=places.villages[0]).phone)
    assert learner.get("/hoi-dap-tra-loi").status_code == 403
    for role in ("team_member", "staff", "admin"):
        person = make_client()
        login(person, make_user(db, settings, role=role, commune=places.commune).phone)
        assert person.get("/hoi-dap-tra-loi").status_code == 200, role


def test_a_signed_in_resident_asks_for_their_commune_and_staff_promote_the_answer(commune, app, make_client, db,
                                                                                  settings):
    places, other = commune
    resident_user = make_user(db, settings, village=places.villages[0])
    resident = make_client()
    login(resident, resident_user.phone)
    # A resident's commune is theirs: a commune typed into the form does not move the question.
    sent = _send(resident, commune_id=str(other.commune.id), contact="Zalo của cháu", consent="1")
    assert sent.status_code == 303
    fresh(db)
    question = db.execute(select(Question)).scalars().one()
    assert (question.commune_id, question.asker_id, question.contact) == (
        places.commune.id, resident_user.id, "Zalo của cháu")

    staff = make_client()
    login(staff, make_user(db, settings, role="staff", commune=places.commune).phone)
    member = make_client()
    login(member, make_user(db, settings, role="team_member", commune=places.commune).phone)
    token = csrf(member, "/hoi-dap-tra-loi")
    early = staff.post(f"/hoi-dap-tra-loi/{question.id}/dua-vao-hoi-dap",
                       data={"csrf_token": csrf(staff, "/hoi-dap-tra-loi")})
    assert early.status_code == 422 and "chưa có câu trả lời" in text_of(early.text)
    member.post(f"/hoi-dap-tra-loi/{question.id}", data={
        "csrf_token": token, "answer": "Lớp học điện thoại cho người cao tuổi vào tối thứ Năm ở nhà văn hóa."})
    # A team member answers; publishing into the commune's FAQ is for staff.
    assert member.post(f"/hoi-dap-tra-loi/{question.id}/dua-vao-hoi-dap",
                       data={"csrf_token": token}).status_code == 403
    promoted = staff.post(f"/hoi-dap-tra-loi/{question.id}/dua-vao-hoi-dap",
                          data={"csrf_token": csrf(staff, "/hoi-dap-tra-loi")}, follow_redirects=False)
    assert promoted.status_code == 303
    entry_path = promoted.headers["location"]
    fresh(db)
    entry = db.execute(select(FaqEntry).where(FaqEntry.origin == "editor")).scalars().one()
    assert entry.commune_id == places.commune.id and entry_path == f"/hoi-dap/{entry.slug}"
    assert "Tổ công nghệ số và cán bộ Xã Minh Châu" in text_of(resident.get(entry_path).text)

    # From now on the assistant answers it for the commune's people, not for others.
    assert services.ask(db, "lop hoc dien thoai nguoi cao tuoi toi thu may", commune_id=places.commune.id
                        ).hits[0].url == entry_path
    assert all(hit.url != entry_path for hit in services.ask(db, "lop hoc dien thoai nguoi cao tuoi").hits)


def test_the_same_question_asked_often_is_shown_to_staff(commune, make_client, db, settings):
    places, _ = commune
    for _ in range(3):
        visitor = make_client()
        assert _send(visitor, commune_id=str(places.commune.id)).status_code == 303
    staff = make_client()
    login(staff, make_user(db, settings, role="staff", commune=places.commune).phone)
    page = text_of(staff.get("/hoi-dap-tra-loi").text)
    assert f"Hỏi nhiều lần {UNANSWERED} · 3 lần" in page
    # And in the commune's statistics, asked and still waiting.
    stats = text_of(staff.get("/stats").text)
    assert "3 Câu hỏi gửi tổ công nghệ số 3 Câu hỏi chưa được trả lời" in stats


def test_a_residents_questions_are_in_their_data_and_leave_with_them(commune, app, make_client, db, settings):
    from lms.plugins.hoi_dap.plugin import personal_data_erase, personal_data_export

    places, _ = commune
    person = make_user(db, settings, village=places.villages[0])
    browser = make_client()
    login(browser, person.phone)
    assert _send(browser, contact="Số nhà 5", consent="1").status_code == 303
    fresh(db)
    section = personal_data_export(db, person)[0]
    assert section.rows[0]["Câu hỏi"] == UNANSWERED and section.rows[0]["Cách liên lạc"] == "Số nhà 5"
    note = personal_data_erase(db, person, person)[0]
    db.commit()
    assert note.count == 1
    fresh(db)
    question = db.execute(select(Question)).scalars().one()
    assert (question.asker_id, question.contact, question.text) == (None, "", UNANSWERED)
