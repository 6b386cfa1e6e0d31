"""A course lesson shows a published model where its text says `[[mo-hinh:<address>]]`; the
card goes when the model is withdrawn, the machine voice never reads the marker, and a lesson
with a card is made again for each visitor (the card changes without the catalog)."""

from tests.courses.packtools import BODY, sync_dirs, write_pack
from tests.factories import text_of
from tests.mo_hinh.conftest import only_model, signed_in, submit


def _review(client, model_id: int, action: str, note: str = ""):
    from tests.factories import csrf

    token = csrf(client, f"/mo-hinh-duyet/{model_id}")
    return client.post(f"/mo-hinh-duyet/{model_id}/{action}", data={"csrf_token": token, "note": note})


def test_a_lesson_shows_a_published_model_and_drops_it_when_withdrawn(client, make_client, db, people, tmp_path):
    author = signed_in(make_client, people.learner)
    assert submit(author).status_code == 303
    staff = signed_in(make_client, people.staff)
    model = only_model(db)
    assert _review(staff, model.id, "cong-bo").status_code == 303
    model = only_model(db)
    body = BODY.format(n=1).replace("## Nguồn tham khảo", f"[[mo-hinh:{model.slug}]]\n\n## Nguồn tham khảo")
    write_pack(tmp_path / "packs", "mo-hinh-trong-bai", lessons=["bai-mot"], bodies={"bai-mot": body})
    sync_dirs(db, [tmp_path / "packs"])

    page = client.get("/courses/mo-hinh-trong-bai/bai-mot")
    assert page.status_code == 200
    assert '<aside class="card mohinh-embed"' in page.text and "[[mo-hinh:" not in page.text
    shown = text_of(page.text)
    assert "Ứng dụng mã QR giới thiệu nông sản của hợp tác xã" in shown
    assert "Hội Liên hiệp Phụ nữ xã Minh Châu" in shown
    assert f'href="/mo-hinh/{model.slug}"' in page.text
    # Never the contact: the card is for every reader.
    assert "Trần Thị Hường" not in shown and "0912" not in shown

    assert _review(staff, model.id, "go-xuong").status_code == 303
    again = client.get("/courses/mo-hinh-trong-bai/bai-mot")
    assert "mohinh-embed" not in again.text and "[[mo-hinh:" not in again.text
    assert "Đây là nội dung bài học 1" in text_of(again.text)


def test_an_unknown_model_leaves_nothing_and_the_voice_skips_the_marker(client, db, tmp_path):
    from lms.plugins.courses.speech import markdown_text

    body = BODY.format(n=1).replace("## Nguồn tham khảo", "[[mo-hinh:khong-co]]\n\n## Nguồn tham khảo")
    write_pack(tmp_path / "packs", "mo-hinh-trong-bai", lessons=["bai-mot"], bodies={"bai-mot": body})
    sync_dirs(db, [tmp_path / "packs"])
    page = client.get("/courses/mo-hinh-trong-bai/bai-mot").text
    assert "[[mo-hinh" not in page and "mohinh-embed" not in page
    assert "mo-hinh" not in markdown_text(body) and "Đây là nội dung bài học 1" in markdown_text(body)


def test_the_review_page_tells_staff_the_line_to_put_in_a_lesson(make_client, db, people):
    author = signed_in(make_client, people.learner)
    submit(author)
    staff = signed_in(make_client, people.staff)
    model = only_model(db)
    _review(staff, model.id, "cong-bo")
    model = only_model(db)
    assert f"[[mo-hinh:{model.slug}]]" in text_of(staff.get(f"/mo-hinh-duyet/{model.id}").text)
