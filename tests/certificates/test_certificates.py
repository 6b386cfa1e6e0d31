"""Issuing once, codes, the public verification page, rate limit, learner's list, print and PDF."""

import re
import threading

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlmodel import Session

from lms.app import create_app
from lms.core.models import OutboxEvent
from lms.db import write_session
from lms.plugins.certificates import services
from lms.plugins.certificates.models import Certificate, CertificateAudit
from tests.certificates.certtools import completed_course
from tests.factories import fresh, text_of

CODE_PATTERN = re.compile(r"^HVS(-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}){5}$")


def test_completing_a_course_issues_one_certificate(client, db, settings, tmp_path):
    user, certificate = completed_course(client, db, settings, tmp_path)
    assert certificate is not None
    assert certificate.learner_name == "Nguyễn Thị Hồng Nhung"
    assert certificate.course_title == "An toàn trên mạng"
    assert certificate.commune_name == "Xã Minh Châu" and certificate.province_name == "Thành phố Hà Nội"
    # Marking lessons again, or the event arriving twice, issues nothing more.
    with client.app.state.context.transaction() as other:
        again = services.issue(other, settings=client.app.state.settings, user_id=user.id,
                               course_id=certificate.course_id)
    assert again.id == certificate.id
    fresh(db)
    assert db.exec(select(func.count()).select_from(Certificate)).one()[0] == 1
    audit = db.exec(select(CertificateAudit)).scalars().all()
    assert [a.action for a in audit] == ["issued"]


def test_concurrent_issue_makes_one_certificate(client, db, settings, tmp_path, engine):
    user, certificate = completed_course(client, db, settings, tmp_path)
    with write_session(engine) as session:
        session.delete(session.get(CertificateAudit, 1))
        session.delete(session.get(Certificate, certificate.id))
        session.execute(delete(OutboxEvent).where(OutboxEvent.name == "certificates.issued"))
    results, errors = [], []
    context = client.app.state.context

    def issue() -> None:
        try:
            with context.transaction() as session:
                results.append(services.issue(session, settings=context.settings, user_id=user.id,
                                              course_id=certificate.course_id).code)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(set(results)) == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Certificate)).one()[0] == 1
        # Only the winner recorded the event; the others returned its certificate.
        issued = session.exec(select(OutboxEvent).where(OutboxEvent.name == "certificates.issued")).scalars().all()
        assert [e.payload["user_id"] for e in issued] == [user.id]


def test_codes_are_long_random_and_readable():
    codes = {services.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 20 for code in codes)
    assert all(CODE_PATTERN.match(services.display_code(code)) for code in codes)
    assert not set("".join(codes)) & set("0O1IL")


def test_a_typed_code_is_found_whatever_its_case_and_dashes(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path)
    shown = services.display_code(certificate.code)
    for typed in (shown, shown.lower(), shown.replace("-", ""), certificate.code.lower(),
                  " ".join(shown.split("-"))):
        assert services.find(db, typed).id == certificate.id, typed
    page = client.get(f"/c/{certificate.code.lower()}")
    assert page.status_code == 200 and "HỢP LỆ" in text_of(page.text)
    typed = client.get(f"/c?code={shown.lower().replace('-', ' ')}")
    assert typed.headers["location"] == f"/c/{shown}"


def test_verification_page_shows_only_what_it_should(client, db, settings, tmp_path, make_client):
    user, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    page = make_client().get(f"/c/{code}")
    text = text_of(page.text)
    assert "HỢP LỆ" in text and "Nguyễn Thị Hồng Nhung" in text and "An toàn trên mạng" in text
    assert "Ủy ban nhân dân Xã Minh Châu" in text and code in text
    assert user.phone not in page.text and "Thôn Đông" not in page.text
    assert 'name="robots" content="noindex"' in page.text


def test_unknown_codes_get_the_same_not_found_page(client, db, settings, tmp_path, make_client):
    _, certificate = completed_course(client, db, settings, tmp_path)
    near = certificate.code[:-1] + ("2" if certificate.code[-1] != "2" else "3")
    browser = make_client()
    answers = [browser.get(f"/c/{typed}") for typed in (near, "HVS-2222-2222-2222-2222-2222", "xyz")]
    assert {a.status_code for a in answers} == {404}
    bodies = {re.sub(r'value="[0-9a-f]{64}"|"X-CSRF-Token": "[0-9a-f]{64}"', "", a.text) for a in answers}
    assert len(bodies) == 1  # nothing in the page differs for a near match
    assert "Không tìm thấy chứng nhận" in text_of(answers[0].text)
    assert certificate.learner_name not in answers[0].text


def test_verification_is_rate_limited_across_workers(make_settings, engine, db):
    import time

    settings = make_settings(verify_rate_limit=5)
    worker_a, worker_b = create_app(settings), create_app(settings)
    # The limit counts in fixed minutes: start early in one, so the eight requests share it.
    while time.time() % 60 > 45:
        time.sleep(0.5)
    with TestClient(worker_a) as a, TestClient(worker_b) as b:
        statuses = [(a if i % 2 else b).get("/c/HVS-2222-2222-2222-2222-2222").status_code for i in range(7)]
        blocked = a.get("/c/HVS-2222-2222-2222-2222-2222")
    assert statuses[:5] == [404] * 5 and statuses[5:] == [429, 429]
    assert blocked.headers["retry-after"] == "60"
    assert "Quá nhiều yêu cầu" in text_of(blocked.text)


def test_my_certificates(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path)
    page = text_of(client.get("/my/certificates").text)
    assert "An toàn trên mạng" in page and services.display_code(certificate.code) in page
    assert "Chứng nhận của tôi" in text_of(client.get("/account").text)


def test_print_page_and_pdf(client, db, settings, tmp_path):
    import io

    from pypdf import PdfReader

    _, certificate = completed_course(client, db, settings, tmp_path, name="Đặng Quốc Vượng")
    code = services.display_code(certificate.code)
    printed = client.get(f"/c/{code}/print").text
    assert "Đặng Quốc Vượng" in printed and "<svg" in printed and "GIẤY CHỨNG NHẬN" in printed
    assert "TM. ỦY BAN NHÂN DÂN" in printed and "CHỦ TỊCH" in printed
    assert "size:A4 landscape" in client.get(client.app.state.static.url("certificates/print.css")).text
    response = client.get(f"/c/{code}.pdf")
    assert response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Đặng Quốc Vượng" in text and "An toàn trên mạng" in text and code in text


def test_passing_the_quiz_last_issues_the_certificate(client, db, settings, tmp_path):
    from tests.factories import csrf, login, make_places, make_user, post_form
    from tests.quiz.quiztools import answers_for, latest_attempt, quiz_course

    slug = quiz_course(db, tmp_path)
    user = make_user(db, settings, village=make_places(db).villages[0], name="Hà Văn Lộc")
    login(client, user.phone)
    for lesson in ("bai-mot", "bai-hai"):
        post_form(client, f"/courses/{slug}/{lesson}/done", {}, page=f"/courses/{slug}/{lesson}")
    fresh(db)
    assert db.exec(select(Certificate)).scalars().first() is None  # quiz not passed yet
    db.commit()
    start = client.post(f"/quiz/{slug}/start", data={"csrf_token": csrf(client, f"/quiz/{slug}")})
    url = start.headers["location"]
    client.post(url, data={**answers_for(latest_attempt(db, user.id)), "action": "submit",
                           "csrf_token": csrf(client, url)})
    fresh(db)
    certificate = db.exec(select(Certificate)).scalars().one()
    assert certificate.learner_name == "Hà Văn Lộc" and certificate.course_slug == slug
