"""A model from submission to the yearly compilation: changes asked for, resubmitted, published,
shown with its photos, in the commune's feed and in the DOCX and PDF; the contact only where the
submitter agreed."""

import io
import re
import unicodedata
from datetime import datetime

from sqlalchemy import select

from lms.plugins.mo_hinh.models import Transition
from lms.templating import VIETNAM
from tests.factories import csrf, fresh, post_form, text_of
from tests.mo_hinh.conftest import SUBMISSION, counts, only_model, photo_bytes, signed_in, submit

YEAR = datetime.now(VIETNAM).year


def _docx_text(content: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(content))
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def _docx_pictures(content: bytes) -> int:
    from docx import Document

    return len(Document(io.BytesIO(content)).inline_shapes)


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _pdf_images(content: bytes) -> int:
    from pypdf import PdfReader

    return sum(len(page.images) for page in PdfReader(io.BytesIO(content)).pages)


def _folded(text: str) -> str:
    return " ".join(text.split())


def test_submission_changes_resubmission_publication_and_compilation(people, make_client, db, client):
    learner = signed_in(make_client, people.learner)
    sent = submit(learner, photos=[("photo_1", photo_bytes()), ("photo_2", photo_bytes((200, 60, 30)))])
    assert sent.status_code == 303 and sent.headers["location"] == "/mo-hinh/cua-toi?da=gui"
    model = only_model(db)
    assert (model.status, model.commune_id, model.submitter_id) == ("submitted", people.places.commune.id,
                                                                    people.learner.id)
    assert len(model.photos) == 2 and model.contact_phone == "0912345678" and not model.show_contact
    mine = text_of(learner.get("/mo-hinh/cua-toi").text)
    assert SUBMISSION["title"] in mine and "Chờ duyệt" in mine
    # Not public before review.
    assert client.get(f"/mo-hinh/{model.id}").status_code == 404
    assert SUBMISSION["title"] not in client.get("/mo-hinh").text

    staff = signed_in(make_client, people.staff)
    queue = text_of(staff.get("/mo-hinh-duyet").text)
    assert "Chờ duyệt (1)" in queue and SUBMISSION["title"] in queue
    review = staff.get(f"/mo-hinh-duyet/{model.id}").text
    assert "0912345678" in review and "Trần Thị Hường" in review  # reviewers see the contact
    assert review.count("<img ") == 2
    # Asking for changes needs a note.
    empty = post_form(staff, f"/mo-hinh-duyet/{model.id}/yeu-cau-sua", {"note": "  "},
                      page=f"/mo-hinh-duyet/{model.id}")
    assert empty.status_code == 422 and "Vui lòng ghi rõ cần sửa, bổ sung những gì" in text_of(empty.text)
    note = "Vui lòng bổ sung số hộ tham gia và ảnh buổi tập huấn."
    asked = post_form(staff, f"/mo-hinh-duyet/{model.id}/yeu-cau-sua", {"note": note},
                      page=f"/mo-hinh-duyet/{model.id}")
    assert asked.status_code == 303
    assert only_model(db).status == "changes_requested"

    # The submitter sees the note, edits (one photo dropped, one added) and sends it again.
    mine = text_of(learner.get("/mo-hinh/cua-toi").text)
    assert "Cần sửa, bổ sung" in mine and note in mine
    edit = learner.get(f"/mo-hinh/cua-toi/{model.id}")
    assert note in text_of(edit.text) and 'value="Hội Liên hiệp Phụ nữ xã Minh Châu"' in edit.text
    first_key = re.search(r'name="keep_photo" value="([0-9a-f]{64})"', edit.text).group(1)
    results = "Ứng dụng được 150 hộ tham gia; doanh thu bán hàng trực tuyến tăng gấp đôi."
    again = learner.post(f"/mo-hinh/cua-toi/{model.id}", data={
        **SUBMISSION, "results": results, "keep_photo": first_key, "csrf_token": csrf_of(edit.text)},
        files=[("photo_1", ("tap-huan.jpg", photo_bytes((20, 160, 90)), "image/jpeg"))])
    assert again.status_code == 303, again.text
    model = only_model(db)
    assert model.status == "submitted" and len(model.photos) == 2 and "150 hộ" in model.results_md
    assert model.photos[0]["variants"][-1][2] == first_key

    published = post_form(staff, f"/mo-hinh-duyet/{model.id}/cong-bo", {}, page=f"/mo-hinh-duyet/{model.id}")
    assert published.status_code == 303
    model = only_model(db)
    assert model.status == "published" and model.slug.startswith("ung-dung-ma-qr-gioi-thieu-nong-san")
    # Sent twice (a phone's retry), done once.
    assert post_form(staff, f"/mo-hinh-duyet/{model.id}/cong-bo", {}, page=f"/mo-hinh-duyet/{model.id}"
                     ).status_code == 303
    fresh(db)
    steps = db.execute(select(Transition.from_status, Transition.to_status, Transition.actor_id)
                       .order_by(Transition.id)).all()
    db.commit()
    assert steps == [("", "submitted", people.learner.id),
                     ("submitted", "changes_requested", people.staff.id),
                     ("changes_requested", "submitted", people.learner.id),
                     ("submitted", "published", people.staff.id)]
    history = text_of(staff.get(f"/mo-hinh-duyet/{model.id}").text)
    assert "Cán Bộ Văn Hóa · Chờ duyệt → Cần sửa, bổ sung. " + note in history
    assert "Lê Văn Bình · Cần sửa, bổ sung → Chờ duyệt" in history

    # The public showcase: photos, results, no contact (not agreed).
    listing = client.get("/mo-hinh")
    assert SUBMISSION["title"] in text_of(listing.text) and f'href="/mo-hinh/{model.slug}"' in listing.text
    page = client.get(f"/mo-hinh/{model.slug}")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert results in shown and "Hội Liên hiệp Phụ nữ xã Minh Châu" in shown and "Kinh tế số" in shown
    assert page.text.count("srcset=") == 2 and "<strong>Hội Liên hiệp Phụ nữ</strong>" in page.text
    for private in ("0912345678", "Trần Thị Hường", "huong.hlhpn@example.vn", "Liên hệ"):
        assert private not in page.text
    assert client.get(f"/mo-hinh/{model.id}").status_code == 200  # the id works too

    # The commune's feed announces it, without the contact.
    feed = client.get(f"/xa/{people.places.commune.id}/feed.atom").text
    assert SUBMISSION["title"] in feed and "0912345678" not in feed and "Trần Thị Hường" not in feed
    assert "Ứng dụng mã QR" not in client.get(f"/xa/{people.other.commune.id}/feed.atom").text

    # The yearly compilation, in Word and PDF, with its Vietnamese exactly, and no contact.
    compile_page = text_of(staff.get("/mo-hinh-tong-hop").text)
    assert f"Năm {YEAR}" in compile_page and "Xã Minh Châu" in compile_page
    docx = staff.get(f"/mo-hinh-tong-hop/{YEAR}.docx")
    assert docx.status_code == 200 and docx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert f'filename="tong-hop-mo-hinh-{YEAR}-xa-minh-chau.docx"' in docx.headers["content-disposition"]
    text = _docx_text(docx.content)
    assert unicodedata.is_normalized("NFC", text)
    for expected in (f"Tổng hợp mô hình tiêu biểu năm {YEAR} — Xã Minh Châu", "1. " + SUBMISSION["title"],
                     "Đơn vị, cá nhân: Hội Liên hiệp Phụ nữ xã Minh Châu", "Lĩnh vực: Kinh tế số",
                     "Hội viên Hội Liên hiệp Phụ nữ dán mã QR lên từng gói nông sản.",
                     "• Người mua quét mã để xem nguồn gốc", results):
        assert expected in text.split("\n"), expected
    assert "0912345678" not in text and "Trần Thị Hường" not in text
    assert _docx_pictures(docx.content) == 1  # the first photo

    pdf = staff.get(f"/mo-hinh-tong-hop/{YEAR}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = _pdf_text(pdf.content)
    assert unicodedata.is_normalized("NFC", text)
    flat = _folded(text)
    for expected in (f"Tổng hợp mô hình tiêu biểu năm {YEAR} — Xã Minh Châu", SUBMISSION["title"],
                     "Đơn vị, cá nhân: Hội Liên hiệp Phụ nữ xã Minh Châu", "Ứng dụng được 150 hộ tham gia"):
        assert expected in flat, expected
    assert "0912345678" not in flat and "Trần Thị Hường" not in flat
    assert _pdf_images(pdf.content) == 1
    # Another year holds nothing of it.
    assert SUBMISSION["title"] not in _docx_text(staff.get(f"/mo-hinh-tong-hop/{YEAR - 1}.docx").content)

    # Unpublished: gone from the public pages and from the compilation.
    assert post_form(staff, f"/mo-hinh-duyet/{model.id}/go-xuong", {"note": "Cần cập nhật số liệu."},
                     page=f"/mo-hinh-duyet/{model.id}").status_code == 303
    assert client.get(f"/mo-hinh/{model.slug}").status_code == 404
    assert SUBMISSION["title"] not in _docx_text(staff.get(f"/mo-hinh-tong-hop/{YEAR}.docx").content)
    assert "Đã gỡ khỏi trang công khai" in text_of(learner.get("/mo-hinh/cua-toi").text)


def csrf_of(page: str) -> str:
    from tests.factories import csrf_from

    return csrf_from(page)


def test_a_consented_contact_is_shown_and_compiled_but_never_in_the_feed(people, make_client, db, client):
    learner = signed_in(make_client, people.learner)
    assert submit(learner, {"show_contact": "on", "show_photos": ""},
                  photos=[("photo_1", photo_bytes())]).status_code == 303
    model = only_model(db)
    staff = signed_in(make_client, people.staff)
    assert post_form(staff, f"/mo-hinh-duyet/{model.id}/cong-bo", {}, page="/mo-hinh-duyet").status_code == 303
    page = client.get(f"/mo-hinh/{model.id}").text
    assert "Trần Thị Hường" in page and 'href="tel:0912345678"' in page and "huong.hlhpn@example.vn" in page
    assert "<img " not in text_of(page) and "srcset=" not in page  # photos not agreed
    assert "srcset=" not in client.get("/mo-hinh").text
    feed = client.get(f"/xa/{people.places.commune.id}/feed.atom").text
    assert SUBMISSION["title"] in feed and "0912345678" not in feed and "Trần Thị Hường" not in feed
    docx = staff.get(f"/mo-hinh-tong-hop/{YEAR}.docx").content
    assert "Liên hệ: Trần Thị Hường, 0912345678, huong.hlhpn@example.vn" in _docx_text(docx).split("\n")
    assert _docx_pictures(docx) == 0
    pdf = staff.get(f"/mo-hinh-tong-hop/{YEAR}.pdf").content
    assert "Liên hệ: Trần Thị Hường, 0912345678" in _folded(_pdf_text(pdf)) and _pdf_images(pdf) == 0


def test_a_declined_model_is_never_public_and_its_reason_reaches_the_submitter(people, make_client, db, client):
    learner = signed_in(make_client, people.learner)
    submit(learner)
    model = only_model(db)
    staff = signed_in(make_client, people.staff)
    missing = post_form(staff, f"/mo-hinh-duyet/{model.id}/tu-choi", {}, page="/mo-hinh-duyet")
    assert missing.status_code == 422 and "Vui lòng ghi lý do không duyệt" in text_of(missing.text)
    reason = "Mô hình chưa triển khai trên địa bàn xã."
    assert post_form(staff, f"/mo-hinh-duyet/{model.id}/tu-choi", {"note": reason},
                     page="/mo-hinh-duyet").status_code == 303
    assert only_model(db).status == "declined"
    mine = text_of(learner.get("/mo-hinh/cua-toi").text)
    assert "Không được duyệt" in mine and reason in mine and "Sửa và gửi lại" not in mine
    # Declined cannot be published, nor edited by the submitter.
    refused = post_form(staff, f"/mo-hinh-duyet/{model.id}/cong-bo", {}, page="/mo-hinh-duyet")
    assert refused.status_code == 409 and "nên không thể công bố" in text_of(refused.text)
    assert client.get(f"/mo-hinh/{model.id}").status_code == 404
    token = csrf(learner, "/mo-hinh/cua-toi")
    edited = learner.post(f"/mo-hinh/cua-toi/{model.id}", data={**SUBMISSION, "csrf_token": token})
    assert edited.status_code == 409 and "không sửa được nữa" in text_of(edited.text)
    assert only_model(db).status == "declined"


def test_staff_enter_a_model_directly_and_the_same_form_twice_makes_one(people, make_client, db, client):
    staff = signed_in(make_client, people.staff)
    page = staff.get("/mo-hinh-duyet/moi").text
    key = re.search(r'name="submit_key" value="([^"]+)"', page).group(1)
    data = {**SUBMISSION, "title": "Chính quyền số: tra cứu hồ sơ một cửa bằng mã QR", "sector": "chinh-quyen-so",
            "unit": "Văn phòng HĐND và UBND xã", "publish": "on", "submit_key": key, "csrf_token": csrf_of(page)}
    first = staff.post("/mo-hinh-duyet/moi", data=data)
    second = staff.post("/mo-hinh-duyet/moi", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    model = only_model(db)
    assert model.status == "published" and model.submitter_id == people.staff.id
    assert counts(db)[1] == 2  # submitted, then published: recorded once
    assert "Chính quyền số: tra cứu hồ sơ" in text_of(client.get(f"/mo-hinh/{model.slug}").text)
    # A learner's form with the same key is a new model, not someone else's.
    learner = signed_in(make_client, people.learner)
    assert submit(learner, {"submit_key": key}).status_code == 303
    assert counts(db)[0] == 2
