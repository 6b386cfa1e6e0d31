"""Certificates and the outbox (`certificates.issued`, at-least-once `courses.completed`), the
reissue as one unit of work, the verification limit, and the hooks the teams plugin calls."""

from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lms.app import create_app
from lms.core.models import OutboxEvent, Place, User
from lms.errors import ServiceError
from lms.events import record
from lms.plugins.certificates import plugin, services
from lms.plugins.certificates.models import Certificate, CertificateAudit
from lms.plugins.courses.events import CourseCompleted
from lms.templating import local
from tests.certificates.certtools import completed_course
from tests.factories import fresh, login, make_user, post_form, text_of


def _outbox(db, name: str) -> list[OutboxEvent]:
    fresh(db)
    rows = db.exec(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id)).scalars().all()
    db.commit()
    return list(rows)


def test_issuing_records_certificates_issued_once(client, db, settings, tmp_path):
    user, certificate = completed_course(client, db, settings, tmp_path)
    [issued] = _outbox(db, "certificates.issued")
    assert issued.payload == {"certificate_id": certificate.id, "user_id": user.id,
                              "course_id": certificate.course_id}
    [completed] = _outbox(db, "courses.completed")
    assert completed.delivered_at is not None and "certificates" in completed.handled

    # The outbox delivers at least once: the same completion arriving again changes nothing.
    with client.app.state.context.transaction() as tx:
        record(tx, CourseCompleted(user_id=user.id, course_id=certificate.course_id))
    again = _outbox(db, "courses.completed")
    assert len(again) == 2 and again[1].delivered_at is not None and "certificates" in again[1].handled
    assert len(_outbox(db, "certificates.issued")) == 1
    fresh(db)
    assert db.exec(select(func.count()).select_from(Certificate)).one()[0] == 1


def _staff_for(db, settings, user):
    return make_user(db, settings, role="staff", commune=db.get(Place, user.commune_id), name="Trần Văn Cán")


def test_reissue_records_the_new_certificate(client, db, settings, tmp_path):
    user, certificate = completed_course(client, db, settings, tmp_path, name="Nguyen Thi Hong")
    login(client, _staff_for(db, settings, user).phone)
    done = post_form(client, f"/staff/certificates/{certificate.id}/reissue", {"full_name": "Nguyễn Thị Hồng"},
                     page=f"/staff/certificates/{certificate.id}")
    assert done.status_code == 303
    fresh(db)
    new = db.get(Certificate, db.get(Certificate, certificate.id).replaced_by_id)
    db.commit()
    assert [e.payload for e in _outbox(db, "certificates.issued")] == [
        {"certificate_id": certificate.id, "user_id": user.id, "course_id": certificate.course_id},
        {"certificate_id": new.id, "user_id": user.id, "course_id": certificate.course_id},
    ]
    assert "Đã cấp lại chứng nhận với họ tên mới" in text_of(client.get(done.headers["location"]).text)


def test_reissue_is_all_or_nothing(client, db, settings, tmp_path, monkeypatch):
    user, certificate = completed_course(client, db, settings, tmp_path, name="Nguyen Thi Hong")
    login(client, _staff_for(db, settings, user).phone)

    def broken(*_args, **_kwargs):  # signing the new certificate fails after the rename and the revocation
        raise ServiceError("signing_failed", "Chưa ký được chứng nhận, vui lòng thử lại.")

    monkeypatch.setattr(services, "sign_credential", broken)
    refused = post_form(client, f"/staff/certificates/{certificate.id}/reissue", {"full_name": "Nguyễn Thị Hồng"},
                        page=f"/staff/certificates/{certificate.id}")
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "Chưa ký được chứng nhận" in text and "Hợp lệ" in text
    fresh(db)
    assert db.get(User, user.id).full_name == "Nguyen Thi Hong"
    old = db.get(Certificate, certificate.id)
    assert old.revoked_at is None and old.replaced_by_id is None
    assert db.exec(select(func.count()).select_from(Certificate)).one()[0] == 1
    assert [a.action for a in db.exec(select(CertificateAudit)).scalars().all()] == ["issued"]
    db.commit()
    assert len(_outbox(db, "certificates.issued")) == 1


def test_a_revocation_twice_says_so(client, db, settings, tmp_path, make_client):
    user, certificate = completed_course(client, db, settings, tmp_path)
    staff = _staff_for(db, settings, user)
    login(client, staff.phone)
    page = f"/staff/certificates/{certificate.id}"
    first = post_form(client, f"{page}/revoke", {"reason": "Cấp nhầm"}, page=page)
    assert first.status_code == 303
    # Another device still showing the form posts it again.
    other = make_client()
    login(other, staff.phone)
    again = post_form(other, f"{page}/revoke", {"reason": "Cấp nhầm lần hai"}, page="/staff")
    assert again.status_code == 422
    text = text_of(again.text)
    assert "đã bị thu hồi trước đó" in text and "Đã thu hồi ngày" in text
    fresh(db)
    assert db.get(Certificate, certificate.id).revoked_reason == "Cấp nhầm"


def test_count_verification_is_a_unit_of_work_per_client(make_settings, engine):
    app = create_app(make_settings(verify_rate_limit=3))
    context = app.state.context
    assert [services.count_verification(context, "may-a") for _ in range(4)] == [True, True, True, False]
    assert services.count_verification(context, "may-b") is True
    app.state.engine.dispose()


def test_resident_section_lists_the_persons_certificates(client, db, settings, tmp_path):
    user, certificate = completed_course(client, db, settings, tmp_path)
    request = SimpleNamespace(app=client.app)
    helper = make_user(db, settings, role="team_member", commune=db.get(Place, user.commune_id))
    code = services.display_code(certificate.code)
    [section] = plugin.resident_sections(request=request, db=db, person=user, helper=helper)
    text = text_of(str(section))
    assert text.startswith("Chứng nhận") and "An toàn trên mạng" in text and code in text
    assert f"cấp ngày {local(certificate.issued_at):%d/%m/%Y}" in text
    assert f'href="/c/{code}"' in str(section) and "đã thu hồi" not in text
    assert plugin.resident_credentials(db=db, user_ids=[user.id, helper.id]) == {user.id: 1}

    login(client, _staff_for(db, settings, user).phone)
    post_form(client, f"/staff/certificates/{certificate.id}/revoke", {"reason": "Cấp nhầm"},
              page=f"/staff/certificates/{certificate.id}")
    fresh(db)
    [section] = plugin.resident_sections(request=request, db=db, person=user, helper=helper)
    assert "(đã thu hồi)" in text_of(str(section))
    assert plugin.resident_credentials(db=db, user_ids=[user.id]) == {}
    [empty] = plugin.resident_sections(request=request, db=db, person=helper, helper=helper)
    assert "Chưa có." in text_of(str(empty))


def test_certificates_run_without_the_teams_plugin(make_settings, engine, db, tmp_path):
    app = create_app(make_settings(plugins_disable=["teams"]))
    assert "teams" not in {name for name, _ in app.state.pm.list_name_plugin()}
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
        user, certificate = completed_course(browser, db, app.state.settings, tmp_path)
        assert certificate is not None and certificate.user_id == user.id
        assert "HỢP LỆ" in text_of(browser.get(f"/c/{certificate.code}").text)
    app.state.engine.dispose()
