"""A commune's first run on a 360 px phone, in real Chromium against the real server: the set-up
link, the first administrator, then the guide — Hải Phòng and Xã Nam Sách from the national
list, five villages pasted, the signer, one staff member invited — until the check page says
nothing is missing."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from lms.core.models import InstallationSetting, Place, User
from lms.core.services import create_setup_token
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

VILLAGES = ["Thôn An Điền", "Thôn Bích Nham", "Thôn Đông Ngô", "Thôn Cổ Pháp", "Thôn Thượng Đạt"]


def _fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def test_the_first_run_on_a_phone(live_server, phone_page, db, settings, tmp_path):
    # `make run` loads the course packs before serving: every audience has a course.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_DATABASE_URL=settings.resolved_database_url, LMS_INSTANCE_DIR=str(settings.instance_dir),
               LMS_SECRET_KEY=settings.secret_key)
    subprocess.run([sys.executable, "-m", "lms", "courses", "sync"], env=env, check=True, capture_output=True)
    token = create_setup_token(db)
    db.commit()
    base = live_server(workers=1, LMS_BASE_URL="http://hocso.namsach.test")
    page = phone_page

    page.goto(f"{base}/setup/{token}")
    page.get_by_label("Họ và tên").fill("Phạm Văn Quản")
    page.get_by_label("Số điện thoại di động").fill("0913 222 111")
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Tạo quản trị viên").click()
    page.wait_for_url("**/staff/bat-dau?moi=1")
    assert page.get_by_text("Đã tạo tài khoản quản trị").is_visible()
    _fits_the_screen(page)

    page.get_by_role("link", name="Bắt đầu").click()
    page.wait_for_url("**/staff/bat-dau/ten")
    page.get_by_label("Tên hệ thống").fill("Bình dân học vụ số xã Nam Sách")
    page.get_by_label("Chức danh người ký").fill("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH")
    page.get_by_label("Họ tên người ký").fill("Nguyễn Văn Bình")
    _fits_the_screen(page)
    page.get_by_role("button", name="Lưu và tiếp tục").click()

    page.wait_for_url("**/staff/bat-dau/dia-ban")
    assert page.locator("a.brand").inner_text() == "Bình dân học vụ số xã Nam Sách"
    page.get_by_label("Tỉnh, thành phố").select_option(label="Thành phố Hải Phòng")
    page.get_by_label("Tìm xã, phường").fill("nam sach")
    page.get_by_role("button", name="Xem xã, phường").click()
    page.wait_for_url("**/staff/bat-dau/dia-ban?tinh=31&q=nam+sach")
    page.get_by_label("Xã Nam Sách").check()
    _fits_the_screen(page)
    page.get_by_role("button", name="Lưu và tiếp tục").click()

    page.wait_for_url("**/staff/bat-dau/thon")
    assert page.get_by_role("heading", name="Xã Nam Sách").is_visible()
    page.get_by_label("Danh sách thôn, tổ dân phố").fill("\n".join(VILLAGES))
    page.get_by_role("button", name="Thêm các thôn").click()
    assert page.get_by_text("Đã thêm 5 thôn, tổ dân phố").is_visible()
    _fits_the_screen(page)
    page.get_by_role("link", name="Bỏ qua bước này, sang “Tài khoản cán bộ” →").click()

    page.wait_for_url("**/staff/bat-dau/can-bo")
    page.get_by_label("Họ và tên").fill("Trần Thị Mai")
    page.get_by_label("Số điện thoại").fill("0912 000 111")
    _fits_the_screen(page)
    page.get_by_role("button", name="Tạo tài khoản và liên kết mời").click()
    assert page.get_by_role("heading", name="Lời mời đặt mật khẩu").is_visible()
    assert "http://hocso.namsach.test/password/" in page.locator("code.link-text").inner_text()
    page.get_by_role("link", name="← Cài đặt ban đầu: tài khoản cán bộ").click()
    page.wait_for_url("**/staff/bat-dau/can-bo")
    assert page.get_by_role("link", name="Trần Thị Mai").is_visible()

    page.get_by_role("link", name="Kiểm tra").click()
    page.wait_for_url("**/staff/bat-dau/kiem-tra")
    assert page.get_by_text("Không còn thiếu gì.").is_visible()
    assert page.get_by_role("heading", name="Còn thiếu").count() == 0
    done = page.locator("ul.checklist.done").inner_text()
    assert "Phục vụ 1 xã, phường" in done and "Xã Nam Sách" in done and "5 thôn, tổ dân phố" in done
    assert "CHỦ TỊCH: Nguyễn Văn Bình" in done and "1 tài khoản cán bộ" in done
    _fits_the_screen(page)
    page.screenshot(path=str(tmp_path / "check.png"), full_page=True)

    db.rollback()
    commune = db.exec(select(Place).where(Place.kind == "commune")).scalars().one()
    assert (commune.name, commune.code) == ("Xã Nam Sách", "10606")
    villages = db.exec(select(Place.name).where(Place.parent_id == commune.id)).scalars().all()
    assert sorted(villages) == sorted(VILLAGES)
    staff = db.exec(select(User).where(User.role == "staff")).scalars().one()
    assert (staff.full_name, staff.commune_id) == ("Trần Thị Mai", commune.id)
    assert db.get(InstallationSetting, "certificate_signer_name").value == "Nguyễn Văn Bình"
