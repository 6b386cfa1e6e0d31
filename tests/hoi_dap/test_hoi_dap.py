"""Hỏi đáp: questions typed as residents type them (no diacritics, "đ" as "d", misspellings,
words run together) answered from reviewed FAQ entries and lesson sections, with links."""

import re
import textwrap
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import paths
from lms.plugins.hoi_dap import faq, services
from lms.plugins.hoi_dap.fold import FILLER, fold, tokens
from lms.plugins.hoi_dap.models import FaqEntry, Passage
from tests.courses.packtools import sync_dirs
from tests.factories import fresh, login, make_places, make_user, text_of

PACK = """\
topic: thu
title: "Chủ đề thử"
entries:
  - slug: dang-ky-tai-khoan
    question: "Đăng ký tài khoản học trên trang này thế nào?"
    also_asked: ["tao tai khoan hoc"]
    answer: |
      Bấm **Đăng ký học miễn phí** ở trang chủ, nhập họ tên và số điện thoại, rồi đặt mật khẩu. Nếu
      không có mật khẩu, tổ công nghệ số của thôn giúp bạn đăng ký bằng mã QR ở buổi học.
    sources:
      - title: "Hướng dẫn của trang"
        url: "https://example.gov.vn/huong-dan"
    see_also: ["/courses/cach-hoc-tren-trang-nay/dang-ky-va-dang-nhap"]
    reviewed: 2026-12-03
  - slug: gio-lam-viec-xa
    question: "Bộ phận một cửa của xã làm việc giờ nào?"
    answer: |
      Bộ phận tiếp nhận và trả kết quả làm việc các ngày trong tuần theo giờ hành chính. Hãy mang theo
      căn cước và giấy tờ của thủ tục, hỏi cán bộ nếu chưa rõ cần những giấy tờ gì cho việc của mình.
    sources:
      - title: "Trang của xã"
        url: "https://example.gov.vn/xa"
    reviewed: 2026-12-01
"""


def _pack(tmp_path: Path, text: str = PACK) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir(exist_ok=True)
    (folder / "thu.yaml").write_text(textwrap.dedent(text), "utf-8")
    return folder


@pytest.fixture
def indexed(app, db, tmp_path):
    sync_dirs(db, [paths.courses_dir()])
    entries, problems = faq.load_pack(_pack(tmp_path))
    assert problems == []
    report = services.sync_pack(app.state.context, entries)
    assert report.created == ["dang-ky-tai-khoan", "gio-lam-viec-xa"] and report.passages > 100
    return report


def test_folding_drops_marks_and_reads_d_bar_as_d():
    assert fold("Đăng ký VNeID mức 2, được không?") == "dang ky vneid muc 2 duoc khong"
    assert fold("ĐƯỜNG DÂY NÓNG") == "duong day nong"
    # Each syllable folded, with its marks kept where they tell words apart; short forms read out.
    assert tokens("Giá lúa, dk VNeID") == [("gia", "giá"), ("lua", "lúa"), ("dang", None), ("ky", None),
                                          ("vneid", None)]
    assert {"toi", "lam", "sao"} <= FILLER and not {"dang", "cho", "lua"} & FILLER


def test_the_pack_checker_names_file_line_and_what_is_wrong(tmp_path):
    broken = PACK.replace('slug: gio-lam-viec-xa', 'slug: "Giờ làm việc"').replace(
        '        url: "https://example.gov.vn/xa"', '        url: "http://example.gov.vn/xa"')
    broken += textwrap.indent(textwrap.dedent("""\
        - slug: dang-ky-tai-khoan
          question: "Lặp mã"
          answer: "Ngắn quá."
          sources: []
          reviewed: "hôm qua"
        """), "  ")
    folder = _pack(tmp_path, broken)
    entries, problems = faq.load_pack(folder, known_lessons=set())
    assert [entry.slug for entry in entries] == []
    messages = [str(problem) for problem in problems]
    assert any(re.search(r"thu\.yaml:4: Mục “dang-ky-tai-khoan”: bài học /courses/cach-hoc-tren-trang-nay/"
                         r"dang-ky-va-dang-nhap không có", m) for m in messages), messages
    assert any("thu.yaml:15: Mục “Giờ làm việc”: “slug” phải là chữ thường" in m for m in messages), messages
    assert any("“url” bắt đầu bằng https://" in m for m in messages), messages
    assert any("thu.yaml:24: Mục “dang-ky-tai-khoan”: câu trả lời có 2 từ" in m for m in messages), messages
    assert any("cần ít nhất một nguồn" in m for m in messages) and any("“reviewed” phải là ngày" in m
                                                                     for m in messages)


def test_a_slug_used_twice_in_the_pack_is_refused_once(tmp_path):
    folder = _pack(tmp_path)
    (folder / "khac.yaml").write_text(PACK.replace("topic: thu", "topic: khac"), "utf-8")
    entries, problems = faq.load_pack(folder)
    assert sorted(entry.slug for entry in entries) == ["dang-ky-tai-khoan", "gio-lam-viec-xa"]
    assert [p.message for p in problems] == [
        "Mục “dang-ky-tai-khoan” trùng mã với một mục của chủ đề “khac”.",
        "Mục “gio-lam-viec-xa” trùng mã với một mục của chủ đề “khac”."]


def test_the_shipped_pack_is_valid_sourced_and_large_enough():
    from lms.plugins.courses.plugin import course_pack_dirs
    from lms.plugins.hoi_dap.commands import known_lessons

    class _Hook:
        class hook:  # noqa: N801 - the shape of a plugin manager's hook relay
            @staticmethod
            def course_pack_dirs():
                return [course_pack_dirs()]

    entries, problems = faq.load_pack(known_lessons=known_lessons(_Hook))
    assert problems == [], "\n".join(map(str, problems))
    assert len(entries) >= 80
    topics = {entry.topic for entry in entries}
    assert {"vneid", "dich-vu-cong", "thanh-toan", "sinh-trac-hoc", "lua-dao", "mua-sam", "du-lieu-ca-nhan"} <= topics
    assert all(source.url.startswith("https://") for entry in entries for source in entry.sources)


@pytest.mark.parametrize(("question", "expected"), [
    ("dang ky tai khoan hoc o dau", "/hoi-dap/dang-ky-tai-khoan"),
    ("ĐĂNG KÝ TÀI KHOẢN", "/hoi-dap/dang-ky-tai-khoan"),
    ("bo phan mot cua lam viec may gio", "/hoi-dap/gio-lam-viec-xa"),
    ("kich hoat tai khoan dinh danh muc 2", "/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2"),
])
def test_questions_without_diacritics_find_their_answer_first(indexed, db, question, expected):
    answer = services.ask(db, question)
    assert answer.answered, answer
    assert answer.hits[0].url.split("#")[0] == expected, [hit.url for hit in answer.hits]


def test_misspelt_and_run_together_words_are_mended(indexed, db):
    answer = services.ask(db, "kich hoat tai khoan dinh dnah muc 2")
    assert ("dnah", "danh") in answer.mended
    assert answer.hits[0].url.startswith("/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2")
    joined = services.ask(db, "kichhoat tai khoan dinh danh")
    assert ("kichhoat", "kich hoat") in joined.mended
    assert joined.answered and "kich-hoat" in joined.hits[0].url
    # Short forms as people type them meet the words of the lessons.
    short = services.ask(db, "dk tk hoc o dau")
    assert short.words[:4] == ("dang", "ky", "tai", "khoan")
    assert short.hits[0].url == "/hoi-dap/dang-ky-tai-khoan"


def test_a_lesson_answer_points_at_its_section(indexed, db, client):
    answer = services.ask(db, "tin nhan that kich hoat vneid ten nguoi gui")
    hit = answer.hits[0]
    assert hit.kind == "lesson" and re.fullmatch(r"/courses/[a-z0-9-]+/[a-z0-9-]+#[a-z0-9-]+", hit.url), hit
    assert "tin nhắn thật" in hit.section.lower()
    path, anchor = hit.url.split("#")
    page = client.get(path).text
    assert f'<h2 id="{anchor}">{hit.section}</h2>' in page


def test_nothing_close_is_said_honestly(indexed, db, client):
    answer = services.ask(db, "giá lúa hôm nay bao nhiêu")
    assert not answer.answered
    page = text_of(client.get("/hoi-dap", params={"q": "giá lúa hôm nay bao nhiêu"}).text)
    assert "Chưa có câu trả lời" in page and "tổ công nghệ số" in page


def test_the_answers_page_lists_links_in_rank_order_with_their_source(indexed, db, client):
    response = client.get("/hoi-dap", params={"q": "dang ky tai khoan"})
    assert response.status_code == 200 and response.headers["x-robots-tag"] == "noindex"
    page = response.text
    links = re.findall(r'<h3 class="card-title"><a href="([^"]+)"', page)
    assert links[0] == "/hoi-dap/dang-ky-tai-khoan"
    assert links == [hit.url for hit in services.ask(db, "dang ky tai khoan").hits][:len(links)]
    assert "Hỏi đáp · Chủ đề thử · kiểm tra ngày 03/12/2026" in text_of(page)
    assert 'value="dang ky tai khoan"' in page  # the box keeps the question


def test_an_entry_has_its_own_page_with_sources_and_date(indexed, client):
    page = client.get("/hoi-dap/dang-ky-tai-khoan")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Đăng ký tài khoản học trên trang này thế nào?" in text
    assert '<strong>Đăng ký học miễn phí</strong>' in page.text
    assert '<a href="https://example.gov.vn/huong-dan" rel="noopener noreferrer">Hướng dẫn của trang</a>' in page.text
    assert "kiểm tra với nguồn ngày 03/12/2026" in text
    assert client.get("/hoi-dap/khong-co-muc-nay").status_code == 404
    assert client.head("/hoi-dap/dang-ky-tai-khoan").status_code == 200


def test_a_communes_own_entry_is_seen_only_by_its_people(indexed, app, db, settings, make_client):
    places = make_places(db)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    db.add(FaqEntry(slug="dien-thoai-xa-minh-chau", topic="xa", topic_title="Xã Minh Châu",
                    question="Số điện thoại của bộ phận một cửa xã Minh Châu?",
                    answer_md="Gọi bộ phận một cửa trong giờ hành chính.", answer_html="<p>Gọi.</p>",
                    sources=[], reviewed=date(2026, 12, 3), commune_id=places.commune.id, origin="editor"))
    db.commit()
    services.rebuild_index(app.state.context)
    question = "so dien thoai bo phan mot cua xa minh chau"
    assert all("dien-thoai-xa-minh-chau" not in hit.url for hit in services.ask(db, question).hits)
    assert all("dien-thoai" not in hit.url for hit in services.ask(db, question, commune_id=other.commune.id).hits)
    assert services.ask(db, question, commune_id=places.commune.id).hits[0].url == "/hoi-dap/dien-thoai-xa-minh-chau"
    resident = make_client()
    login(resident, make_user(db, settings, village=places.villages[0]).phone)
    assert resident.get("/hoi-dap/dien-thoai-xa-minh-chau").status_code == 200
    assert make_client().get("/hoi-dap/dien-thoai-xa-minh-chau").status_code == 404


def test_hostile_and_overlong_questions_are_harmless(indexed, client):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    page = client.get("/hoi-dap", params={"q": hostile}).text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    long = client.get("/hoi-dap", params={"q": "vneid " * 100})
    assert long.status_code == 200 and "dài quá 300 ký tự" in text_of(long.text)


def test_one_client_asking_without_pause_is_slowed(indexed, client):
    answers = [client.get("/hoi-dap", params={"q": f"vneid {n}"}).status_code for n in range(40)]
    assert answers[:30] == [200] * 30 and answers[-1] == 429
    assert client.get("/hoi-dap").status_code == 200  # the empty box is never limited


def test_the_box_is_on_the_home_page_and_every_lesson_with_no_cookie(indexed, client):
    for path in ("/", "/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2"):
        response = client.get(path)
        assert re.search(r'<form class="ask" method="get" action="/hoi-dap" role="search">', response.text), path
        assert 'name="q"' in response.text and "set-cookie" not in response.headers


def test_the_index_follows_a_course_published_later(indexed, app, db, tmp_path):
    from lms.events import deliver
    from tests.courses.packtools import write_pack

    folder = write_pack(tmp_path / "packs", "khoa-moi", lessons=["trong-rau-thuy-canh"],
                        bodies={"trong-rau-thuy-canh": "## Trồng rau thủy canh\n\nCách trồng rau thủy canh trên "
                                "sân thượng bằng ống nhựa và dung dịch dinh dưỡng.\n\n" + "Nội dung thêm. " * 60
                                + "\n\n## Nguồn tham khảo\n\n- Tài liệu thử.\n"})
    assert not services.ask(db, "rau thủy canh").answered
    fresh(db)
    sync_dirs(db, [paths.courses_dir(), folder.parent])
    # Heard as the event `courses.content_changed`, delivered once the sync has committed.
    deliver(app.state.context)
    fresh(db)
    answer = services.ask(db, "rau thủy canh")
    assert answer.answered and answer.hits[0].url == "/courses/khoa-moi/trong-rau-thuy-canh#trong-rau-thuy-canh"
    assert db.execute(select(func.count()).select_from(Passage).where(Passage.kind == "faq")).scalar() == 2


def test_two_rebuilds_at_once_take_turns(indexed, app, db):
    import threading

    from lms.plugins.hoi_dap.models import IndexState, Word

    errors, barrier = [], threading.Barrier(3)

    def rebuild():
        barrier.wait()
        try:
            services.rebuild_index(app.state.context)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=rebuild) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    fresh(db)
    state = db.get(IndexState, 1)
    assert state.passages == indexed.passages == db.execute(select(func.count()).select_from(Passage)).scalar()
    assert state.version >= 4
    assert db.execute(select(func.count()).select_from(Word).where(Word.term == "vneid")).scalar() == 1
