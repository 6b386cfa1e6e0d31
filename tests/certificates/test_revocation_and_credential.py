"""The signed credential, offline verification, and staff revocation and reissue."""

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lms.cli import build_cli
from lms.core.models import User
from lms.plugins.certificates import services
from lms.plugins.certificates.credential import public_key_from_multibase, verify_credential
from lms.plugins.certificates.models import Certificate, CertificateAudit
from tests.certificates.certtools import completed_course
from tests.factories import fresh, login, make_places, make_user, post_form, text_of


def _public_key(client):
    profile = client.get("/issuer").json()
    method = profile["verificationMethod"][0]
    assert method["id"] == "http://127.0.0.1:8000/issuer#key-1" and method["type"] == "Multikey"
    return public_key_from_multibase(method["publicKeyMultibase"])


def test_the_credential_verifies_and_any_change_breaks_it(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path, name="Nguyễn Văn Ánh")
    code = services.display_code(certificate.code)
    response = client.get(f"/c/{code.lower()}.json")
    assert response.headers["content-type"].startswith("application/vc+ld+json")
    document = response.json()
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["id"] == f"http://127.0.0.1:8000/c/{code}"
    assert document["credentialSubject"]["name"] == "Nguyễn Văn Ánh"
    assert document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    key = _public_key(client)
    assert verify_credential(document, key)
    renamed = json.loads(json.dumps(document, ensure_ascii=False).replace("Nguyễn Văn Ánh", "Nguyễn Văn Anh"))
    assert renamed["credentialSubject"]["name"] == "Nguyễn Văn Anh"
    assert not verify_credential(renamed, key)
    redated = json.loads(json.dumps(document))
    redated["validFrom"] = redated["validFrom"].replace("2026", "2025")
    assert not verify_credential(redated, key)
    assert client.get("/c/HVS-2222-2222-2222-2222-2222.json").status_code == 404


def test_cli_verifies_offline(client, db, settings, tmp_path, monkeypatch):
    user, certificate = completed_course(client, db, settings, tmp_path)
    document = client.get(f"/c/{certificate.code}.json").json()
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    tampered = json.loads(json.dumps(document))
    tampered["credentialSubject"]["name"] = "Người Khác"
    bad.write_text(json.dumps(tampered, ensure_ascii=False), "utf-8")
    # The command runs with the installation's settings, as the server does (on PostgreSQL
    # the keys are checked against the ones the database keeps).
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    valid = runner.invoke(build_cli(settings), ["certificates", "verify", str(good)])
    assert valid.exit_code == 0 and "HỢP LỆ" in valid.output and user.full_name in valid.output
    tamper = runner.invoke(build_cli(settings), ["certificates", "verify", str(bad)])
    assert tamper.exit_code == 1 and "BỊ SỬA ĐỔI" in tamper.output

    staff = make_user(db, settings, role="staff", commune=_commune(db, user))
    login(client, staff.phone)
    post_form(client, f"/staff/certificates/{certificate.id}/revoke", {"reason": "Cấp nhầm người"},
              page=f"/staff/certificates/{certificate.id}")
    revoked = runner.invoke(build_cli(settings), ["certificates", "verify", str(good)])
    assert revoked.exit_code == 2 and "ĐÃ THU HỒI" in revoked.output and "Cấp nhầm người" in revoked.output


def _commune(db, user):
    from lms.core.models import Place

    return db.get(Place, user.commune_id)


def test_staff_revoke_with_reason_and_audit(client, db, settings, tmp_path, make_client):
    user, certificate = completed_course(client, db, settings, tmp_path)
    staff = make_user(db, settings, role="staff", commune=_commune(db, user), name="Trần Văn Cán")
    login(client, staff.phone)
    empty = post_form(client, f"/staff/certificates/{certificate.id}/revoke", {"reason": "  "},
                      page=f"/staff/certificates/{certificate.id}")
    assert empty.status_code == 422 and "Vui lòng ghi lý do thu hồi" in text_of(empty.text)
    done = post_form(client, f"/staff/certificates/{certificate.id}/revoke",
                     {"reason": "Hồ sơ khai sai"}, page=f"/staff/certificates/{certificate.id}")
    assert done.status_code == 303
    detail = text_of(client.get(done.headers["location"]).text)
    assert "Đã thu hồi chứng nhận" in detail and "Thu hồi · Trần Văn Cán: Hồ sơ khai sai" in detail
    public = text_of(make_client().get(f"/c/{certificate.code}").text)
    assert "ĐÃ THU HỒI" in public and "không còn giá trị" in public
    fresh(db)
    audit = db.exec(select(CertificateAudit).order_by(CertificateAudit.id)).scalars().all()
    assert [(a.action, a.actor_id) for a in audit] == [("issued", None), ("revoked", staff.id)]


def test_reissue_after_a_name_correction(client, db, settings, tmp_path, make_client):
    user, certificate = completed_course(client, db, settings, tmp_path, name="Nguyen Thi Hong")
    staff = make_user(db, settings, role="staff", commune=_commune(db, user))
    login(client, staff.phone)
    response = post_form(client, f"/staff/certificates/{certificate.id}/reissue",
                         {"full_name": "Nguyễn Thị Hồng"}, page=f"/staff/certificates/{certificate.id}")
    assert response.status_code == 303
    fresh(db)
    old = db.get(Certificate, certificate.id)
    new = db.get(Certificate, old.replaced_by_id)
    assert old.revoked_at is not None and "Cấp lại" in old.revoked_reason
    assert new.learner_name == "Nguyễn Thị Hồng" and new.code != old.code and new.revoked_at is None
    assert db.get(User, user.id).full_name == "Nguyễn Thị Hồng"
    assert "Nguyễn Thị Hồng" in text_of(make_client().get(f"/c/{new.code}").text)
    bad = post_form(client, f"/staff/certificates/{new.id}/reissue", {"full_name": "X"},
                    page=f"/staff/certificates/{new.id}")
    assert bad.status_code == 422 and "Họ và tên quá ngắn" in text_of(bad.text)


def test_other_communes_certificates_are_not_found(client, db, settings, tmp_path):
    user, certificate = completed_course(client, db, settings, tmp_path)
    elsewhere = make_places(db, commune_name="Xã Xa Xôi", villages=("Thôn Cuối",))
    staff = make_user(db, settings, role="staff", commune=elsewhere.commune)
    login(client, staff.phone)
    assert client.get(f"/staff/certificates/{certificate.id}").status_code == 404
    assert post_form(client, f"/staff/certificates/{certificate.id}/revoke", {"reason": "x"},
                     page="/staff").status_code == 404
    assert user.full_name not in client.get("/staff/certificates").text


@pytest.mark.parametrize(("role", "status"), [("learner", 403), ("team_member", 403), ("staff", 200),
                                              ("admin", 200)])
def test_certificate_staff_pages_per_role(client, db, settings, tmp_path, role, status):
    _, certificate = completed_course(client, db, settings, tmp_path)
    someone = make_user(db, settings, role=role, commune=_commune(db, db.get(User, certificate.user_id)))
    login(client, someone.phone)
    assert client.get("/staff/certificates").status_code == status
    assert client.get(f"/staff/certificates/{certificate.id}").status_code == status


def _cli_env(monkeypatch, settings, **extra):
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_SECRET_KEY", settings.secret_key)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def test_cli_without_any_key_makes_none(engine, settings, tmp_path, monkeypatch):
    from sqlmodel import Session

    from lms.core.models import SharedKey
    from tests.conftest import ON_POSTGRES

    document = tmp_path / "c.json"
    document.write_text(json.dumps({"id": "http://127.0.0.1:8000/c/HVS-2222"}), "utf-8")
    _cli_env(monkeypatch, settings)
    result = CliRunner().invoke(build_cli(settings), ["certificates", "verify", str(document)])
    assert result.exit_code == 3
    expected = "chưa đặt LMS_SIGNING_KEY" if ON_POSTGRES else "Không có khóa của đơn vị cấp trong thư mục instance/"
    assert expected in result.output
    # A key made now would call every genuine credential tampered.
    assert not (settings.instance_dir / "issuer_ed25519.pem").exists()
    with Session(engine) as db:
        assert db.get(SharedKey, "signing_key") is None


def test_cli_uses_the_installations_key_not_another(client, db, settings, tmp_path, monkeypatch):
    from lms.keys import new_signing_key
    from tests.conftest import ON_POSTGRES

    _, certificate = completed_course(client, db, settings, tmp_path)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(client.get(f"/c/{certificate.code}.json").json(), ensure_ascii=False), "utf-8")
    _cli_env(monkeypatch, settings, LMS_SIGNING_KEY=new_signing_key())
    result = CliRunner().invoke(build_cli(settings), ["certificates", "verify", str(good)])
    if ON_POSTGRES:  # several hosts: a host with its own key is refused, as the server would be
        assert result.exit_code == 3 and "LMS_SIGNING_KEY của máy này khác" in result.output
    else:  # one host: the key set in the settings is the installation's, and it did not sign this
        assert result.exit_code == 1 and "BỊ SỬA ĐỔI" in result.output
