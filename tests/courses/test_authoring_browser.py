"""A commune's culture officer writes a course in the browser, with a picture and a quiz, on a
360 px phone without JavaScript; a resident of the commune completes it and gets a certificate;
another commune does not see it; version 2 keeps progress; the pack moves to another commune."""

import io
import re

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from lms.plugins.certificates.models import Certificate
from lms.plugins.courses.models import ContentEditor, Course, CourseDraft
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.courses.test_authoring import SOURCES, WORDS
from tests.factories import PASSWORD, fresh, make_places, make_user

pytestmark = pytest.mark.browser
SLUG = "cho-so-xa-minh-chau"


def _phone(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  java_script_enabled=False, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return browser, page


def _log_in(page, base, phone):
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def _write_lesson(page, title, text):
    page.get_by_label("Tên bài học").fill(title)
    page.get_by_label("Nội dung (Markdown)").fill(text)
    page.get_by_role("button", name="Lưu bài học").click()
    page.get_by_text("Đã lưu bài học").wait_for()


def _true_false(page, base, draft_url, lesson_title, prompt, truth):
    page.goto(f"{base}{draft_url}/quiz")
    page.get_by_role("link", name="Đúng hay sai").click()
    page.get_by_label("Câu hỏi kiểm tra bài").select_option(label=lesson_title)
    page.get_by_label("Câu hỏi", exact=True).fill(prompt)
    page.get_by_label(truth, exact=True).check()
    page.get_by_label("Giải thích đáp án (hiện sau khi nộp bài)").fill("Vì tên người nhận phải đúng.")
    page.get_by_role("button", name="Lưu câu hỏi").click()
    page.get_by_text("Đã lưu câu hỏi").wait_for()


def test_a_commune_course_from_the_browser_to_a_certificate(live_server, db, settings, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    places = make_places(db)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    editor = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Văn Hóa")
    other_editor = make_user(db, settings, role="staff", commune=other.commune, name="Cán Bộ Phường")
    resident = make_user(db, settings, village=places.villages[0], name="Nguyễn Thị Mận")
    stranger = make_user(db, settings, village=other.villages[0], name="Trần Văn Lạ")
    db.add_all([ContentEditor(user_id=editor.id), ContentEditor(user_id=other_editor.id)])
    db.commit()
    photo = io.BytesIO()
    picture = PILImage.new("RGB", (1200, 800))
    picture.putdata([((x * 3) % 256, (y * 2) % 256, (x + y) % 256) for y in range(800) for x in range(1200)])
    picture.save(photo, "JPEG", quality=90)
    (tmp_path / "quay-rau.jpg").write_bytes(photo.getvalue())
    base = live_server(workers=1)

    with sync_playwright() as playwright:
        browser, page = _phone(playwright)
        _log_in(page, base, editor.phone)
        page.goto(f"{base}/studio")
        page.get_by_role("link", name="Tạo khóa học mới").click()
        page.get_by_label("Tên khóa học").fill("Chợ số xã Minh Châu")
        page.get_by_label("Giới thiệu ngắn (hiện trong danh mục)").fill("Mua bán bằng mã QR ở chợ xã.")
        page.get_by_label("Mã khóa học (trong đường dẫn; để trống để tạo từ tên)").fill(SLUG)
        page.get_by_role("button", name="Tạo khóa học (bản nháp)").click()
        page.get_by_text("Đã tạo bản nháp").wait_for()
        draft_url = re.search(r"/studio/\d+", page.url).group(0)
        _fits(page)

        page.get_by_role("link", name="Thêm bài học").click()
        _write_lesson(page, "Quét mã ở quầy rau", "Chị Mận bán rau ở chợ xã.\n\n" + WORDS + SOURCES)
        _fits(page)
        # A picture, uploaded from the phone, with its description.
        page.get_by_label("Tệp ảnh").set_input_files(str(tmp_path / "quay-rau.jpg"))
        page.get_by_label("Mô tả ảnh (cho người không xem được ảnh)").fill("Quầy rau có bảng mã QR")
        page.get_by_role("button", name="Tải ảnh lên").click()
        snippet = page.locator("code.snippet").inner_text()
        assert snippet.startswith("![Quầy rau có bảng mã QR](assets/quay-rau.")
        page.get_by_role("link", name="← Quét mã ở quầy rau").click()
        text = page.get_by_label("Nội dung (Markdown)").input_value()
        _write_lesson(page, "Quét mã ở quầy rau", text.replace("\n\n## Nguồn", f"\n\n{snippet}\n\n## Nguồn", 1))
        page.goto(f"{base}{draft_url}/lessons/new")
        _write_lesson(page, "Kiểm tra tên người nhận", "Trước khi chuyển, đọc tên người nhận.\n\n" + WORDS + SOURCES)
        _true_false(page, base, draft_url, "Quét mã ở quầy rau", "Quét mã xong có thể bấm chuyển ngay.", "Sai")
        _true_false(page, base, draft_url, "Kiểm tra tên người nhận", "Tên người nhận phải khớp tên chủ quầy.",
                    "Đúng")

        # As a learner would see it, before anyone can.
        page.goto(f"{base}{draft_url}")
        page.get_by_role("link", name="Xem như người học").click()
        page.wait_for_url("**/preview")
        page.get_by_role("link", name="Quét mã ở quầy rau").click()
        image = page.locator('img[alt="Quầy rau có bảng mã QR"]')
        assert image.evaluate("el => el.naturalWidth") > 0 and image.get_attribute("srcset")
        _fits(page)
        page.goto(f"{base}{draft_url}")
        page.get_by_role("button", name="Xuất bản phiên bản 1").click()
        page.get_by_text("Đã xuất bản. Người học thấy").wait_for()
        browser.close()

        # A resident of the commune finds it, learns, passes the quiz and gets a certificate.
        browser, page = _phone(playwright)
        _log_in(page, base, resident.phone)
        page.goto(f"{base}/courses")
        page.get_by_role("link", name="Chợ số xã Minh Châu").first.click()
        _fits(page)
        for lesson in ("quet-ma-o-quay-rau", "kiem-tra-ten-nguoi-nhan"):
            page.goto(f"{base}/courses/{SLUG}/{lesson}")
            _fits(page)
            page.get_by_role("button", name="Đã học xong bài này").click()
            page.wait_for_load_state()
        page.goto(f"{base}/quiz/{SLUG}")
        page.get_by_role("button", name="Bắt đầu làm bài").click()
        page.wait_for_url("**/attempts/*")
        for index in range(2):
            question = page.locator("fieldset").nth(index)
            question.get_by_label("Sai" if "bấm chuyển ngay" in question.inner_text() else "Đúng").check()
        page.get_by_role("button", name="Nộp bài").click()
        page.get_by_role("heading", name="Kết quả bài kiểm tra").wait_for()
        assert "Đạt" in page.content()
        browser.close()

        # Another commune's resident does not see it.
        browser, page = _phone(playwright)
        _log_in(page, base, stranger.phone)
        page.goto(f"{base}/courses")
        assert "Chợ số xã Minh Châu" not in page.content()
        assert page.goto(f"{base}/courses/{SLUG}").status == 404
        browser.close()

        # Version 2: a lesson edited; the resident's progress stays.
        browser, page = _phone(playwright)
        _log_in(page, base, editor.phone)
        page.goto(f"{base}{draft_url}/lessons/kiem-tra-ten-nguoi-nhan")
        _write_lesson(page, "Kiểm tra kỹ tên người nhận", page.get_by_label("Nội dung (Markdown)").input_value())
        page.goto(f"{base}{draft_url}")
        page.get_by_role("button", name="Xuất bản phiên bản 2").click()
        page.get_by_text("Đã xuất bản. Người học thấy").wait_for()
        with page.expect_download() as download:
            page.get_by_role("link", name="Tải gói .zip").click()
        pack = tmp_path / "goi.zip"
        download.value.save_as(pack)
        browser.close()

        browser, page = _phone(playwright)
        _log_in(page, base, resident.phone)
        page.goto(f"{base}/courses/{SLUG}")
        assert "Kiểm tra kỹ tên người nhận" in page.content() and "Đã học 2/2 bài" in page.content()
        browser.close()

        # The other commune's editor imports the pack as its own course.
        browser, page = _phone(playwright)
        _log_in(page, base, other_editor.phone)
        page.goto(f"{base}/studio")
        page.get_by_label("Tệp .zip").set_input_files(str(pack))
        page.get_by_label("Mã mới cho khóa học (nếu mã trong gói đã có người dùng)").fill("cho-so-phuong-hoa-binh")
        page.get_by_role("button", name="Nhập gói").click()
        page.get_by_text("Đã nhập gói thành bản nháp").wait_for()
        page.get_by_role("button", name="Xuất bản phiên bản 1").click()
        page.get_by_text("Đã xuất bản. Người học thấy").wait_for()
        browser.close()

    fresh(db)
    course = db.exec(select(Course).where(Course.slug == SLUG)).scalars().one()
    assert (course.version, course.commune_id) == (2, places.commune.id)
    assert db.exec(select(Certificate).where(Certificate.user_id == resident.id,
                                             Certificate.course_id == course.id)).scalars().first() is not None
    copy = db.exec(select(Course).where(Course.slug == "cho-so-phuong-hoa-binh")).scalars().one()
    assert copy.commune_id == other.commune.id
    imported = db.exec(select(CourseDraft).where(CourseDraft.slug == "cho-so-phuong-hoa-binh")).scalars().one()
    assert any(name.startswith("quay-rau.") for name in imported.assets)
    db.commit()
