"""What a submission refuses: each problem told in Vietnamese, the input kept, nothing written."""

import re

from tests.factories import csrf_from, text_of
from tests.mo_hinh.conftest import SUBMISSION, counts, only_model, photo_bytes, signed_in, submit


def test_an_empty_title_and_missing_confirmation_are_told_and_the_input_kept(people, make_client, db):
    learner = signed_in(make_client, people.learner)
    refused = submit(learner, {"title": "   ", "rights_confirmed": "", "contact_phone": "", "contact_email": ""},
                     photos=[("photo_1", photo_bytes())])
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert "Vui lòng nhập tên mô hình" in shown
    assert "Vui lòng xác nhận bạn được phép chia sẻ nội dung và ảnh" in shown
    assert "Vui lòng để lại số điện thoại hoặc thư điện tử" in shown
    assert 'value="Hội Liên hiệp Phụ nữ xã Minh Châu"' in refused.text
    assert "Người mua quét mã để xem nguồn gốc" in refused.text  # the description kept
    assert re.search(r'name="sector" value="kinh-te-so" checked', refused.text)
    assert "Nếu đã chọn ảnh, vui lòng chọn lại" in shown
    assert counts(db) == (0, 0, 0)


def test_a_file_renamed_jpg_that_is_no_image_is_refused_by_its_content(people, make_client, db):
    learner = signed_in(make_client, people.learner)
    fake = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n" * 20
    refused = submit(learner, photos=[("photo_1", photo_bytes()), ("photo_2", fake)])
    assert refused.status_code == 422
    assert "Tệp này không phải là ảnh, hoặc là loại ảnh chưa hỗ trợ" in text_of(refused.text)
    assert 'id="photo_2-error"' in refused.text and 'id="photo_1-error"' not in refused.text
    assert f'value="{SUBMISSION["title"]}"' in refused.text
    assert counts(db) == (0, 0, 0)  # not even the good photo


def test_more_than_four_photos_are_refused(people, make_client, db):
    learner = signed_in(make_client, people.learner)
    photos = [(f"photo_{n}", photo_bytes((n * 40, 90, 90))) for n in (1, 2, 3, 4)] + [("photo_4", photo_bytes())]
    refused = submit(learner, photos=photos)
    assert refused.status_code == 422
    assert "Mỗi mô hình có tối đa 4 ảnh" in text_of(refused.text)
    assert counts(db) == (0, 0, 0)

    # Editing: three kept and two new are five.
    assert submit(learner, photos=photos[:3]).status_code == 303
    model = only_model(db)
    before = counts(db)
    page = learner.get(f"/mo-hinh/cua-toi/{model.id}").text
    keys = re.findall(r'name="keep_photo" value="([0-9a-f]{64})"', page)
    assert len(keys) == 3
    files = [("photo_1", ("a.jpg", photo_bytes((1, 2, 3)), "image/jpeg")),
             ("photo_2", ("b.jpg", photo_bytes((9, 8, 7)), "image/jpeg"))]
    edited = learner.post(f"/mo-hinh/cua-toi/{model.id}", files=files,
                          data={**SUBMISSION, "title": "Tên đã sửa", "keep_photo": keys, "csrf_token": csrf_from(page)})
    assert edited.status_code == 422 and "Mỗi mô hình có tối đa 4 ảnh" in text_of(edited.text)
    assert 'value="Tên đã sửa"' in edited.text
    assert counts(db) == before and only_model(db).title == SUBMISSION["title"]


def test_bad_contact_details_are_told(people, make_client, db):
    learner = signed_in(make_client, people.learner)
    refused = submit(learner, {"contact_phone": "12345", "contact_email": "khong-phai-thu", "contact_name": "1",
                               "sector": "khong-co", "results": ""})
    shown = text_of(refused.text)
    assert refused.status_code == 422
    for message in ("Số điện thoại di động phải có 10 chữ số", "Thư điện tử chưa đúng",
                    "Vui lòng chọn lĩnh vực của mô hình", "Vui lòng nêu kết quả đạt được"):
        assert message in shown, message
    assert counts(db) == (0, 0, 0)
    # An over-long description is refused, not cut.
    long = submit(learner, {"description": "Mô hình " * 600})
    assert long.status_code == 422 and "tối đa 4000 ký tự" in text_of(long.text)
    assert counts(db) == (0, 0, 0)


def test_a_person_without_a_commune_chooses_one(people, make_client, db, settings):
    from tests.factories import make_user

    wanderer = make_user(db, settings, name="Người Chưa Chọn Xã")
    client = signed_in(make_client, wanderer)
    page = client.get("/mo-hinh/gui").text
    assert "Xã, phường của mô hình" in page and "Phường Hòa Bình" in page
    refused = submit(client)
    assert refused.status_code == 422 and "Vui lòng chọn xã, phường của mô hình" in text_of(refused.text)
    assert submit(client, {"commune_id": str(people.other.commune.id)}).status_code == 303
    assert only_model(db).commune_id == people.other.commune.id


def test_control_characters_are_dropped_not_stored(people, make_client, db):
    learner = signed_in(make_client, people.learner)
    sent = submit(learner, {"title": "Mô hình\x00 số\x07", "results": "Kết quả\r\ntốt\x00", "alt_1": "Ảnh\x00"},
                  photos=[("photo_1", photo_bytes())])
    assert sent.status_code == 303
    model = only_model(db)
    assert model.title == "Mô hình số" and model.results_md == "Kết quả\ntốt"
    assert model.photos[0]["alt"] == "Ảnh"
