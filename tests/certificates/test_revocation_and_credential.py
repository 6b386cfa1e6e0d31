"""The signed credential as published, the status list, the CLI verifier, and staff revocation and reissue."""

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lms.cli import build_cli
from lms.core.models import User
from lms.plugins.certificates import services
from lms.plugins.certificates.commands import verify_file
from lms.plugins.certificates.credential import (
    check_proofs,
    decode_status_list,
    did_web_url,
    public_key_from_multibase,
    status_bit,
    verify_credential,
)
from lms.plugins.certificates.models import Certificate, CertificateAudit
from tests.certificates.certtools import completed_course
from tests.certificates.credtools import client_fetch, issuer_documents, path_of, schema_errors
from tests.factories import PASSWORD, fresh, login, make_places, make_user, post_form, text_of

BASE = "http://127.0.0.1:8000"


def _public_key(client, credential):
    did = credential["issuer"]["id"]
    document = client.get(path_of(did)).json()
    [method] = document["verificationMethod"]
    assert method["id"] == f"{did}#key-1" and method["type"] == "Multikey" and method["controller"] == did
    assert document["assertionMethod"] == [method["id"]]
    return public_key_from_multibase(method["publicKeyMultibase"])


def _revoke(client, db, settings, certificate, reason="Cấp nhầm người"):
    fresh(db)  # no read snapshot of the test's session may stand in the way of its write
    staff = make_user(db, settings, role="staff", commune=_commune(db, db.get(User, certificate.user_id)))
    login(client, staff.phone)
    done = post_form(client, f"/staff/certificates/{certificate.id}/revoke", {"reason": reason},
                     page=f"/staff/certificates/{certificate.id}")
    assert done.status_code == 303
    return staff


def test_the_credential_verifies_and_any_change_breaks_it(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path, name="Nguyễn Văn Ánh")
    code = services.display_code(certificate.code)
    response = client.get(f"/c/{code.lower()}.json")
    assert response.headers["content-type"].startswith("application/vc+ld+json")
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["id"] == f"{BASE}/c/{code}"
    assert document["credentialSubject"]["identifier"][0]["identityHash"] == "Nguyễn Văn Ánh"
    assert [p["cryptosuite"] for p in document["proof"]] == ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
    assert schema_errors(document) == []
    key = _public_key(client, document)
    assert verify_credential(document, key)
    renamed = json.loads(json.dumps(document, ensure_ascii=False).replace("Nguyễn Văn Ánh", "Nguyễn Văn Anh"))
    assert renamed["credentialSubject"]["identifier"][0]["identityHash"] == "Nguyễn Văn Anh"
    assert not verify_credential(renamed, key)
    redated = json.loads(json.dumps(document))
    redated["validFrom"] = redated["validFrom"].replace("20", "19", 1)
    assert not verify_credential(redated, key)
    assert client.get("/c/HVS-2222-2222-2222-2222-2222.json").status_code == 404
    # Published as issued: the same bytes every time.
    assert client.get(f"/c/{code}.json").content == response.content


def test_the_issuer_is_the_communes_peoples_committee_everywhere(client, db, settings, tmp_path):
    places = make_places(db)
    user, certificate = completed_course(client, db, settings, tmp_path, places=places)
    document = client.get(f"/c/{certificate.code}.json").json()
    commune = _commune(db, user)
    did = f"did:web:127.0.0.1%3A8000:issuer:{commune.id}"
    assert document["issuer"] == {"id": did, "type": ["Profile"], "name": "Ủy ban nhân dân Xã Minh Châu",
                                  "url": f"{BASE}/issuer/{commune.id}"}
    assert did_web_url(did) == f"{BASE}/issuer/{commune.id}/did.json"
    profile = client.get(f"/issuer/{commune.id}")
    assert profile.json()["name"] == document["issuer"]["name"] and profile.json()["id"] == did
    # The paper names the same People's Committee.
    assert "Ủy ban nhân dân Xã Minh Châu" in text_of(client.get(f"/c/{certificate.code}").text)
    for path in (f"/issuer/{commune.id}", f"/issuer/{commune.id}/did.json", f"/issuer/{commune.id}/status-list",
                 "/issuer", "/.well-known/did.json", "/issuer/status-list"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["access-control-allow-origin"] == "*", path
    assert client.get("/issuer").json()["id"] == "did:web:127.0.0.1%3A8000"
    assert client.get("/.well-known/did.json").json()["id"] == "did:web:127.0.0.1%3A8000"
    # Only communes issue.
    for missing in ("/issuer/999999", "/issuer/999999/did.json", "/issuer/999999/status-list",
                    f"/issuer/{places.villages[0].id}", f"/issuer/{places.province.id}", "/issuer/0", "/issuer/abc"):
        assert client.get(missing).status_code == 404, missing


def test_the_status_list_has_room_and_random_distinct_places(client, db, settings, tmp_path):
    import time

    places = make_places(db)
    _, first = completed_course(client, db, settings, tmp_path, places=places)
    _, second = completed_course(client, db, settings, tmp_path, name="Lê Thị Hoa", places=places)
    indices = {c.status_index for c in (first, second)}
    assert len(indices) == 2 and None not in indices
    documents = [client.get(f"/c/{c.code}.json").json() for c in (first, second)]
    entries = [d["credentialStatus"] for d in documents]
    assert {int(e["statusListIndex"]) for e in entries} == indices
    assert len({e["statusListCredential"] for e in entries}) == 1  # one list per issuer
    response = client.get(path_of(entries[0]["statusListCredential"]))
    assert response.headers["cache-control"] == "public, max-age=60"
    status_list = response.json()
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["issuer"] == documents[0]["issuer"]["id"]
    bits = decode_status_list(status_list["credentialSubject"]["encodedList"])
    assert len(bits) * 8 >= 131_072
    assert not any(bits)
    assert verify_credential(status_list, _public_key(client, documents[0]))
    # Revoking flips the certificate's bit at once, and only its bit.
    _revoke(client, db, settings, first)
    started = time.monotonic()
    bits = decode_status_list(client.get(path_of(entries[0]["statusListCredential"])).json()
                              ["credentialSubject"]["encodedList"])
    assert time.monotonic() - started < 2
    assert status_bit(bits, first.status_index) and not status_bit(bits, second.status_index)
    assert sum(bin(b).count("1") for b in bits) == 1


def test_indices_are_drawn_at_random():
    from lms.plugins.certificates.credential import STATUS_LIST_SIZE

    assert STATUS_LIST_SIZE >= 131_072

    class Empty:
        def exec(self, statement):
            class Rows:
                def first(self):
                    return None
            return Rows()

    drawn = [services._draw_status_index(Empty()) for _ in range(200)]
    assert len(set(drawn)) > 190 and all(0 <= i < STATUS_LIST_SIZE for i in drawn)
    assert max(drawn) > STATUS_LIST_SIZE // 2 > min(drawn)


def test_every_host_publishes_the_same_list_from_the_database(make_settings, engine, db, tmp_path):
    from fastapi.testclient import TestClient

    from lms.app import create_app

    settings = make_settings()
    host_a, host_b = create_app(settings), create_app(settings)
    with TestClient(host_a, follow_redirects=False) as a, TestClient(host_b, follow_redirects=False) as b:
        _, certificate = completed_course(a, db, settings, tmp_path)
        url = path_of(a.get(f"/c/{certificate.code}.json").json()["credentialStatus"]["statusListCredential"])
        assert a.get(url).content == b.get(url).content
        _revoke(a, db, settings, certificate)
        seen_by_b = b.get(url).json()
        assert a.get(url).content == b.get(url).content
    bits = decode_status_list(seen_by_b["credentialSubject"]["encodedList"])
    assert status_bit(bits, certificate.status_index)


def test_a_revoked_certificate_keeps_its_credential_and_its_pdf_says_so(client, db, settings, tmp_path):
    import io

    from pypdf import PdfReader

    _, certificate = completed_course(client, db, settings, tmp_path)
    before = client.get(f"/c/{certificate.code}.json").content
    clean = PdfReader(io.BytesIO(client.get(f"/c/{certificate.code}.pdf").content)).pages[0].extract_text()
    assert "THU HỒI" not in clean
    _revoke(client, db, settings, certificate)
    assert client.get(f"/c/{certificate.code}.json").content == before  # the status list tells
    response = client.get(f"/c/{certificate.code}.pdf")
    assert "da-thu-hoi" in response.headers["content-disposition"]
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "ĐÃ THU HỒI" in text and "không còn giá trị" in text


def test_a_credential_from_before_status_lists_is_signed_once_more(client, db, settings, tmp_path, engine):
    from sqlalchemy import update

    from lms.db import write_session

    _, certificate = completed_course(client, db, settings, tmp_path)
    # As 0014 leaves a certificate issued before it: no index, the credential in the old form.
    legacy = json.loads(json.dumps(certificate.credential))
    legacy.pop("credentialStatus")
    with write_session(engine) as session:
        session.execute(update(Certificate).where(Certificate.id == certificate.id).values(
            status_index=None, credential=legacy))
    first = client.get(f"/c/{certificate.code}.json").json()
    assert "credentialStatus" in first and verify_credential(first, _public_key(client, first))
    assert first["validFrom"] == legacy["validFrom"]  # still awarded when it was
    fresh(db)
    stored = db.get(Certificate, certificate.id)
    assert stored.status_index == int(first["credentialStatus"]["statusListIndex"])
    assert stored.credential == first
    assert client.get(f"/c/{certificate.code}.json").json() == first  # and never again


def test_cli_verifies_over_http_and_offline(client, db, settings, tmp_path, capsys):
    user, certificate = completed_course(client, db, settings, tmp_path, name="Phạm Thu Trang")
    document = client.get(f"/c/{certificate.code}.json").json()
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    tampered = json.loads(json.dumps(document))
    tampered["credentialSubject"]["identifier"][0]["identityHash"] = "Người Khác"
    bad.write_text(json.dumps(tampered, ensure_ascii=False), "utf-8")
    fetch = client_fetch(client)

    assert verify_file(str(good), fetch=fetch) == 0
    said = capsys.readouterr().out
    assert "HỢP LỆ" in said and "Phạm Thu Trang" in said and "chưa bị thu hồi" in said
    assert "Ủy ban nhân dân Xã Minh Châu" in said and "(giờ Việt Nam)" in said
    assert verify_file(str(bad), fetch=fetch) == 1 and "BỊ SỬA ĐỔI" in capsys.readouterr().out

    # Offline: the issuer's document and the status list as files; nothing is fetched.
    documents = issuer_documents(client, document)
    issuer_file, status_file = tmp_path / "issuer.json", tmp_path / "status.json"
    issuer_file.write_text(json.dumps(documents[document["issuer"]["id"]]), "utf-8")
    status_file.write_text(json.dumps(documents[document["credentialStatus"]["statusListCredential"]]), "utf-8")

    def no_network(url):
        raise AssertionError(f"fetched {url}")

    assert verify_file(str(good), issuer_file=str(issuer_file), status_file=str(status_file), fetch=no_network) == 0
    assert "HỢP LỆ" in capsys.readouterr().out
    # The profile at /issuer/<commune> will do as well as the DID document.
    issuer_file.write_text(client.get(f"/issuer/{user.commune_id}").text, "utf-8")
    assert verify_file(str(good), issuer_file=str(issuer_file), status_file=str(status_file), fetch=no_network) == 0
    capsys.readouterr()

    _revoke(client, db, settings, certificate)
    assert verify_file(str(good), fetch=fetch) == 2
    assert "ĐÃ THU HỒI" in capsys.readouterr().out
    # The old status list file still says valid; a fresh one says revoked.
    assert verify_file(str(good), issuer_file=str(issuer_file), status_file=str(status_file), fetch=no_network) == 0
    capsys.readouterr()
    status_file.write_text(client.get(path_of(document["credentialStatus"]["statusListCredential"])).text, "utf-8")
    assert verify_file(str(good), issuer_file=str(issuer_file), status_file=str(status_file), fetch=no_network) == 2
    capsys.readouterr()


def test_cli_refuses_a_key_that_is_not_the_issuers(client, db, settings, tmp_path, capsys):
    from lms.keys import new_signing_key
    from lms.plugins.certificates.credential import IssuerKey, did_document, sign_credential

    _, certificate = completed_course(client, db, settings, tmp_path)
    document = client.get(f"/c/{certificate.code}.json").json()
    impostor = IssuerKey.from_pem(new_signing_key())
    forged = sign_credential(document, key=impostor, verification_method="did:web:ke-mao.example#key-1",
                             created=services.utcnow())
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged), "utf-8")
    served = {"https://ke-mao.example/.well-known/did.json": did_document("did:web:ke-mao.example", impostor)}
    # Signed well, but by someone who is not the issuer the credential names.
    assert check_proofs(forged, lambda _m: impostor.public_key)[0].valid
    assert verify_file(str(path), fetch=served.__getitem__) == 1
    assert "BỊ SỬA ĐỔI" in capsys.readouterr().out


def test_cli_says_when_it_cannot_tell(client, db, settings, tmp_path, capsys):
    _, certificate = completed_course(client, db, settings, tmp_path)
    good = tmp_path / "good.json"
    good.write_text(client.get(f"/c/{certificate.code}.json").text, "utf-8")
    fetch = client_fetch(client)

    def down(url):
        from lms.plugins.certificates.commands import Unresolved

        raise Unresolved(f"Không tải được {url}: hết thời gian chờ")

    assert verify_file(str(good), fetch=down) == 3
    assert "KHÔNG KIỂM TRA ĐƯỢC" in capsys.readouterr().err

    def keys_only(url):
        if "status-list" in url:
            return down(url)
        return fetch(url)

    assert verify_file(str(good), fetch=keys_only) == 4
    assert "CHƯA RÕ TÌNH TRẠNG" in capsys.readouterr().out
    missing = tmp_path / "khong-co.json"
    assert verify_file(str(missing), fetch=fetch) == 3
    assert "Không đọc được tệp" in capsys.readouterr().err


def test_cli_flags_work_from_the_command_line(client, db, settings, tmp_path):
    """The command's options (--issuer, --status), as the `lms` command declares them."""
    import typer

    from lms.plugins.certificates.commands import verify_command

    _, certificate = completed_course(client, db, settings, tmp_path)
    document = client.get(f"/c/{certificate.code}.json").json()
    documents = issuer_documents(client, document)
    good, issuer_file, status_file = tmp_path / "good.json", tmp_path / "issuer.json", tmp_path / "status.json"
    good.write_text(json.dumps(document), "utf-8")
    issuer_file.write_text(json.dumps(documents[document["issuer"]["id"]]), "utf-8")
    status_file.write_text(json.dumps(documents[document["credentialStatus"]["statusListCredential"]]), "utf-8")
    app = typer.Typer()
    app.command()(verify_command)
    result = CliRunner().invoke(app, [str(good), "--issuer", str(issuer_file), "--status", str(status_file)])
    assert result.exit_code == 0 and "HỢP LỆ" in result.output


def test_cli_against_a_live_server(live_server, db, settings, tmp_path, monkeypatch):
    """`lms certificates verify` in another installation: keys and status over real HTTP."""
    import httpx2 as httpx

    from tests.courses.packtools import sync_dirs, write_pack

    base = live_server()
    write_pack(tmp_path / "packs", "khoa-that", lessons=["mot"], title="Dịch vụ công trực tuyến")
    sync_dirs(db, [tmp_path / "packs"])
    places = make_places(db)
    user = make_user(db, settings, village=places.villages[0], name="Vũ Minh Khôi")
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as browser:
        browser.post("/login", data={"phone": user.phone, "password": PASSWORD,
                                     "csrf_token": _csrf(browser, "/login")})
        browser.post("/courses/khoa-that/mot/done", data={"csrf_token": _csrf(browser, "/courses/khoa-that/mot")})
        fresh(db)
        certificate = db.exec(select(Certificate).where(Certificate.user_id == user.id)).scalars().one()
        db.commit()
        credential = browser.get(f"/c/{certificate.code}.json")
    assert credential.status_code == 200
    path = tmp_path / "chung-nhan.json"
    path.write_bytes(credential.content)
    # Another installation's settings: nothing of the issuing one.
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(tmp_path / "somewhere-else"))
    runner = CliRunner()
    valid = runner.invoke(build_cli(settings), ["certificates", "verify", str(path)])
    assert valid.exit_code == 0, valid.output
    assert "HỢP LỆ" in valid.output and "Vũ Minh Khôi" in valid.output and "(giờ Việt Nam)" in valid.output
    assert not (tmp_path / "somewhere-else").exists()

    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as staff_browser:
        staff = make_user(db, settings, role="staff", commune=places.commune)
        staff_browser.post("/login", data={"phone": staff.phone, "password": PASSWORD,
                                           "csrf_token": _csrf(staff_browser, "/login")})
        page = f"/staff/certificates/{certificate.id}"
        done = staff_browser.post(f"{page}/revoke",
                                  data={"reason": "Cấp nhầm", "csrf_token": _csrf(staff_browser, page)})
        assert done.status_code == 303
    revoked = runner.invoke(build_cli(settings), ["certificates", "verify", str(path)])
    assert revoked.exit_code == 2 and "ĐÃ THU HỒI" in revoked.output


def _csrf(browser, page: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', browser.get(page).text).group(1)


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


def test_cli_checks_a_file_downloaded_before_0014(client, db, settings, tmp_path, capsys):
    from datetime import UTC, datetime

    from lms.plugins.certificates.credential import JCS, OB_CONTEXT, sign_credential

    key = services.issuer_key(client.app.state.settings)
    old = {"@context": OB_CONTEXT, "id": f"{BASE}/c/HVS-2222-3333-4444-5555-6666",
           "type": ["VerifiableCredential", "OpenBadgeCredential"],
           "issuer": {"id": f"{BASE}/issuer", "type": ["Profile"], "name": "Ủy ban nhân dân Xã Minh Châu"},
           "validFrom": "2026-11-30T02:00:00Z", "name": "An toàn trên mạng",
           "credentialSubject": {"type": ["AchievementSubject"], "name": "Đỗ Văn Cường", "achievement": {
               "id": f"{BASE}/courses/an-toan", "type": ["Achievement"], "name": "An toàn trên mạng",
               "description": "…", "criteria": {"narrative": "Hoàn thành tất cả bài học."}}}}
    # Signed as before 0014: hashed with the @context, published without it.
    signed = sign_credential(old, key=key, verification_method=f"{BASE}/issuer#key-1",
                             created=datetime(2026, 11, 30, 2, tzinfo=UTC), cryptosuites=[JCS])
    signed["proof"].pop("@context")
    path = tmp_path / "cu.json"
    path.write_text(json.dumps(signed, ensure_ascii=False), "utf-8")
    assert verify_file(str(path), fetch=client_fetch(client)) == 0
    said = capsys.readouterr().out
    assert "HỢP LỆ" in said and "Đỗ Văn Cường" in said and "định dạng cũ" in said
    assert "09:00 ngày 30/11/2026 (giờ Việt Nam)" in said
    signed["credentialSubject"]["name"] = "Đỗ Văn Cương"
    path.write_text(json.dumps(signed, ensure_ascii=False), "utf-8")
    assert verify_file(str(path), fetch=client_fetch(client)) == 1
