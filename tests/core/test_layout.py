"""Every learner and staff page on a 360×740 phone in real Chromium: nothing scrolls sideways,
reading text is at least 16 px, tap targets are at least 44 px high; the projector display
keeps to the content security policy and no page asks for a favicon that is not there.

The rules, as the measuring script applies them:
- Width: `document.documentElement.scrollWidth <= 360`. A wide table may scroll inside its own
  `.table-scroll` box; the page itself may not.
- Text: every visible element inside <main> (the whole body on pages without one) that has a
  text node of its own is rendered at 16 px or more. Text drawn in an SVG counts at its size on
  the screen (font size × the SVG's scale). Text shown only to screen readers (.sr-only,
  1 px boxes) is not seen and not measured.
- Tap targets: every visible a[href], button, input, select, textarea and summary inside <main>
  is at least 44 px high. A tick box or radio button counts as its <label>, which is what a
  finger taps. A link in running text is exempt (as in WCAG 2.5.8): one whose nearest block
  (p, li, dd, td, th, label, figcaption, …) has words outside the link, e.g. “hãy <a>đăng
  ký</a> hoặc <a>đăng nhập</a>”. A link alone in its block, such as “← Khóa học”, is a
  target on its own and must be 44 px high.
"""

import io
from urllib.parse import unquote, urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lms.core.models import User
from tests.certificates.certtools import completed_course
from tests.courses.packtools import FILLER, sync_dirs, write_pack
from tests.events.eventtools import register, staff_with_event
from tests.factories import PASSWORD, fresh, make_places, make_user
from tests.teams.teamtools import team_setup

LONG_WORD = "canhbao.khonggianmang.vn"
LONG_PROMPT = ("Bạn nhận được tin nhắn báo trúng thưởng kèm đường link lạ, yêu cầu đăng nhập tài khoản ngân hàng "
               "để nhận quà. Bạn nên báo cáo trang lừa đảo này ở đâu?")
QUIZ = {
    "pass_mark": 50,
    "questions": [
        {"id": "q1", "type": "single_choice", "lesson": "mot", "prompt": LONG_PROMPT,
         "options": [{"id": "a", "text": LONG_WORD}, {"id": "b", "text": "Bấm vào link để xem thử"},
                     {"id": "c", "text": "Chuyển tiếp cho người quen"}],
         "answer": "a", "explanation": f"Báo cáo tại {LONG_WORD} hoặc gọi 156."},
        {"id": "q2", "type": "ordering", "lesson": "hai", "prompt": "Sắp xếp các bước báo cáo.",
         "steps": [{"id": "s1", "text": f"Mở {LONG_WORD}"}, {"id": "s2", "text": "Dán đường link lạ"},
                   {"id": "s3", "text": "Bấm Gửi"}],
         "explanation": "Mở trang, dán link, rồi gửi."},
    ],
}
LESSON = (f"Gặp trang lạ, hãy báo cáo tại https://{LONG_WORD}/canh-bao-lua-dao-truc-tuyen-moi-nhat-2026 "
          "hoặc gọi đường dây nóng 156.\n\n" + FILLER + "## Nguồn tham khảo\n\n"
          f"- Cục An toàn thông tin: {LONG_WORD}\n")

MEASURE = r"""() => {
  const root = document.querySelector('main') || document.body;
  const seen = el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return box.width > 1 && box.height > 1 && style.visibility !== 'hidden' && !el.closest('.sr-only');
  };
  const describe = (el, value) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string'
    ? '.' + el.className.trim().replace(/\s+/g, '.') : ''} “${(el.textContent || el.value || '')
    .trim().replace(/\s+/g, ' ').slice(0, 40)}” ${value.toFixed(1)}px`;

  const small = [];
  for (const el of root.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!own || ['SCRIPT', 'STYLE', 'OPTION', 'NOSCRIPT'].includes(el.tagName) || !seen(el)) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement) {
      const m = el.getScreenCTM();
      size *= m ? Math.hypot(m.a, m.b) : 1;
    }
    if (size < 15.95) small.push(describe(el, size));
  }

  const runningText = link => {
    let block = link.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    if (!block) return false;
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!link.contains(n) && !n.parentElement.closest('a, button') && /\p{L}/u.test(n.textContent)) return true;
    }
    return false;
  };
  const low = [];
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of root.querySelectorAll(targets)) {
    const box = el.matches('[type=checkbox], [type=radio]') ? (el.closest('label') || el) : el;
    if (!seen(box) || (el.tagName === 'A' && runningText(el))) continue;
    const height = box.getBoundingClientRect().height;
    if (height < 43.5) low.push(describe(el, height));
  }
  return {width: document.documentElement.scrollWidth, small, low};
}"""


def check(page, problems: dict, *, fonts: bool = True, taps: bool = True) -> None:
    """Measure the page now shown; collect what is wrong under its path."""
    found = page.evaluate(MEASURE)
    wrong = []
    if found["width"] > 360:
        wrong.append(f"scrollWidth {found['width']}")
    if fonts:
        wrong += [f"text {s}" for s in found["small"]]
    if taps:
        wrong += [f"tap {s}" for s in found["low"]]
    if wrong:
        url = urlsplit(page.url)
        problems[url.path + (f"?{url.query}" if url.query else "")] = wrong


def visit(page, base: str, path: str, problems: dict, **kw) -> None:
    response = page.goto(f"{base}{path}")
    assert response.ok, (path, response.status)
    check(page, problems, **kw)


def log_in(page, base: str, phone: str, then: str) -> None:
    page.goto(f"{base}/login?next={then}")
    page.get_by_label("Số điện thoại").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**{then}")


@pytest.mark.browser
def test_learner_pages_fit_a_phone(live_server, phone_page, client, db, settings, tmp_path):
    places = make_places(db)
    user, certificate = completed_course(client, db, settings, tmp_path, places=places)
    write_pack(tmp_path / "packs", "bao-cao-lua-dao", lessons=["mot", "hai"], quiz=QUIZ,
               title="Báo cáo trang lừa đảo trên mạng", bodies={"mot": LESSON})
    sync_dirs(db, [tmp_path / "packs"])
    _, _, event = staff_with_event(client, db, settings, places=places)
    client.cookies.clear()
    ticket = register(client, event, name="Trần Thị Bích Ngọc", phone="0903111222", village=places.villages[1])
    assert ticket.status_code == 303, ticket.text
    base = live_server(workers=1)
    page, problems = phone_page, {}

    # Before signing in.
    for path in ("/", "/signup", "/login", "/courses", "/courses/bao-cao-lua-dao",
                 "/courses/bao-cao-lua-dao/mot", f"/e/{event.code}", ticket.headers["location"],
                 f"/c/{certificate.code}", f"/c/{certificate.code}/print", "/forgot"):
        visit(page, base, path, problems)
    # The code page, and claiming the account made at the event (its password page).
    page.goto(f"{base}/forgot")
    page.get_by_label("Số điện thoại").fill("0903111222")
    page.get_by_role("button", name="Gửi mã").click()
    page.get_by_label("Mã gồm 6 chữ số").wait_for()
    check(page, problems)
    page.goto(f"{base}{ticket.headers['location']}")
    page.get_by_role("button", name="Đặt mật khẩu để học tiếp").click()
    page.wait_for_url("**/password/*")
    check(page, problems)

    # The certificate, printed from the preview just visited, is one A4 sheet with 12pt text at least.
    page.emulate_media(media="print")
    assert page.evaluate(MEASURE)["small"] == []
    assert len(PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages) == 1
    page.emulate_media(media="screen")

    log_in(page, base, user.phone, "/account")
    check(page, problems)
    for path in ("/account/password", "/courses/bao-cao-lua-dao", "/courses/bao-cao-lua-dao/mot",
                 "/courses/bao-cao-lua-dao/hai", "/my/courses", "/my/certificates", "/quiz/bao-cao-lua-dao"):
        visit(page, base, path, problems)
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url("**/attempts/*")
    check(page, problems)
    page.screenshot(path=str(tmp_path / "quiz.png"), full_page=True)

    # The long option wraps inside its label and the question's text stays below the box's border.
    option = page.locator("#cau-1 label", has_text=LONG_WORD).bounding_box()
    assert option["x"] + option["width"] <= 360
    box = page.locator("#cau-1")
    legend = box.locator("legend").bounding_box()
    border_top = box.evaluate("el => el.getBoundingClientRect().top + parseFloat(getComputedStyle(el).borderTopWidth)")
    assert legend["height"] > 60, "the long question should take several lines"
    assert legend["y"] >= border_top - 0.5, (legend, border_top)

    page.locator("#cau-1").get_by_label(LONG_WORD).check()
    for position, step in enumerate(QUIZ["questions"][1]["steps"], 1):
        page.get_by_label(f"Thứ tự của bước: {step['text']}").select_option(str(position))
    page.get_by_role("button", name="Nộp bài").click()
    page.get_by_role("heading", name="Kết quả bài kiểm tra").wait_for()
    check(page, problems)
    assert problems == {}, "\n".join(f"{path}: {wrong}" for path, wrong in problems.items())


@pytest.mark.browser
def test_staff_pages_fit_a_phone(live_server, phone_page, client, db, settings, make_client, tmp_path):
    setup = team_setup(client, db, settings, make_client)
    write_pack(tmp_path / "packs", "bao-cao-lua-dao", lessons=["mot", "hai"], quiz=QUIZ)
    sync_dirs(db, [tmp_path / "packs"])
    _, _, event = staff_with_event(client, db, settings, places=setup.places)
    register(client, event, name="Trần Thị Bích Ngọc", phone="0903111222", village=setup.places.villages[1])
    fresh(db)
    same_person = make_user(db, settings, village=setup.places.villages[1], name="Trần Thị Bích Ngọc")
    from_event = db.exec(select(User).where(User.phone == "0903111222")).scalars().one()
    db.commit()
    base = live_server(workers=1, LMS_SMS_GATEWAY="dev")
    page, problems = phone_page, {}

    log_in(page, base, setup.staff.phone, "/staff")
    check(page, problems)
    for path in ("/staff/accounts/new", f"/staff/users/{same_person.id}", "/staff/sms",
                 f"/staff/users/{same_person.id}/merge?q=ngoc", f"/staff/users/{same_person.id}/merge/{from_event.id}"):
        visit(page, base, path, problems)
    # The printable reset link and invitation (A6 cards handed over).
    page.goto(f"{base}/staff/users/{same_person.id}")
    page.get_by_role("button", name="In mã đặt lại mật khẩu").click()
    page.wait_for_load_state()
    check(page, problems)
    page.goto(f"{base}/staff/accounts/new")
    page.get_by_label("Họ và tên").fill("Lê Văn Tổ Viên")
    page.get_by_label("Số điện thoại").fill("0966555444")
    page.get_by_role("button", name="Tạo tài khoản và in lời mời").click()
    page.wait_for_load_state()
    assert "/password/" in page.content()
    check(page, problems)
    for path in ("/staff/events", "/staff/events/new", f"/staff/events/{event.id}",
                 f"/staff/events/{event.id}/checkin", f"/staff/events/{event.id}/attendance",
                 "/stats", "/stats/targets", "/staff/quizzes", "/staff/certificates", "/staff/users",
                 "/teams", f"/teams/{setup.team.id}", f"/teams/{setup.team.id}/residents",
                 f"/teams/{setup.team.id}/residents/new", f"/teams/{setup.team.id}/import"):
        visit(page, base, path, problems)
    # Printed sheets and the projector: they must fit, and the poster's sizes are for paper.
    visit(page, base, f"/staff/events/{event.id}/poster", problems, fonts=False)
    assert len(PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages) == 1
    visit(page, base, "/stats/report", problems, fonts=False)
    visit(page, base, f"/staff/events/{event.id}/display", problems, fonts=False, taps=False)
    # On the projector (landscape) the whole display is on one screen, as before.
    page.set_viewport_size({"width": 1280, "height": 720})
    assert page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]") == [1280, 720]
    page.set_viewport_size({"width": 360, "height": 740})

    # A team member enrols a resident and prints the login card, read by elderly people.
    page.context.clear_cookies()
    log_in(page, base, setup.member.phone, f"/teams/{setup.team.id}/residents/new")
    page.get_by_label("Họ và tên").fill("Bùi Thị Gái")
    page.get_by_label("Thôn/tổ dân phố").select_option(label="Thôn Đoài")
    page.get_by_label("Năm sinh").fill("1946")
    page.get_by_label("xác nhận người dân đã nghe và đồng ý").check()
    page.get_by_role("button", name="Ghi danh").click()
    page.wait_for_url("**/residents/*?new=1")
    check(page, problems)
    page.get_by_role("button", name="In thẻ đăng nhập").click()
    page.locator(".card-print svg").wait_for()
    check(page, problems)
    page.screenshot(path=str(tmp_path / "card.png"), full_page=True)
    # On paper too: 12pt (16 px) at least, and the card is still one A6 sheet.
    page.emulate_media(media="print")
    assert page.evaluate(MEASURE)["small"] == []
    assert len(PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages) == 1
    page.emulate_media(media="screen")
    assert problems == {}, "\n".join(f"{path}: {wrong}" for path, wrong in problems.items())


@pytest.mark.browser
def test_display_page_keeps_to_the_policy_and_has_a_favicon(live_server, phone_page, client, db, settings):
    _, staff, event = staff_with_event(client, db, settings)
    base = live_server(workers=1)
    page = phone_page
    log_in(page, base, staff.phone, f"/staff/events/{event.id}")
    messages, failed = [], []
    page.on("console", lambda message: messages.append(message.text))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))

    # htmx polls the count every 5 s: wait for one round so its scripts and swaps have run.
    with page.expect_response(lambda r: r.url.endswith("/display") and r.request.headers.get("hx-request"),
                              timeout=15_000):
        page.goto(f"{base}/staff/events/{event.id}/display")
    page.wait_for_timeout(300)
    assert [m for m in messages if "Content Security Policy" in m] == []
    icons = page.evaluate("[...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    # Inlined: no request for it on a first visit.
    assert len(icons) == 1 and icons[0].startswith("data:image/svg+xml,"), icons
    for path in (f"/staff/events/{event.id}/poster", f"/staff/events/{event.id}", "/"):
        page.goto(f"{base}{path}")
        assert page.evaluate("[...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)") == icons
    assert unquote(icons[0]).startswith("data:image/svg+xml,<svg xmlns=")
    assert failed == [], failed


def test_favicon_ico_answers(client):
    """Browsers ask for /favicon.ico wherever no icon is linked: PDF, JSON and CSV views."""
    response = client.get("/favicon.ico", follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.content.startswith(b"<svg")
