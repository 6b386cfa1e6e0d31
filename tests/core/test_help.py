"""The help pages ("Hướng dẫn"): who reads which, the header link, what every page says (real
addresses, real button labels, NFC text, its own pictures) and that each prints on one A4 sheet."""

import html
import io
import re
import unicodedata
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from lms import help as help_pages
from lms.help import HelpPage
from lms.plugin_host import PluginError
from lms.security import ROLES, app_routes
from tests.factories import login, make_places, make_user

ROOT = Path(__file__).resolve().parents[2]
HEADER_LINK = '<li><a href="/huong-dan">Hướng dẫn</a></li>'
# One page of each role, to name in the assertions (the full lists come from the hook).
LEARNER_PAGES = {"tai-khoan", "hoc-mot-bai", "chung-nhan", "vao-hoc-bang-the", "dang-ky-su-kien"}
TEAM_PAGES = {"ghi-danh", "in-the-dang-nhap", "hoc-truc-tiep", "diem-danh"}
STAFF_PAGES = {"tao-su-kien", "thong-ke", "soan-bai-hoc"}
ADMIN_PAGES = {"cai-dat-ban-dau", "sao-luu"}
GROUP_OF = {None: "Người học", "learner": "Người học", "team_member": "Tổ công nghệ số cộng đồng",
            "staff": "Cán bộ xã/phường", "admin": "Quản trị hệ thống"}


def _signed_in(client, db, settings, role):
    if role is not None:
        places = make_places(db)
        user = make_user(db, settings, role=role, commune=places.commune, village=places.villages[0])
        login(client, user.phone)


def _listed(page: str) -> list[str]:
    return re.findall(r'<a class="choice" href="/huong-dan/([a-z0-9-]+)">', page)


def _article(page: str) -> str:
    return page[page.index('<article class="help"'):page.index("</article>")]


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_reads_its_own_pages_and_those_below(app, client, db, settings, role):
    _signed_in(client, db, settings, role)
    index = client.get("/huong-dan")
    assert index.status_code == 200
    header = index.text[index.text.index("<header"):index.text.index("</header>")]
    assert HEADER_LINK in header
    listed = set(_listed(index.text))
    rank = ROLES.index(role) if role else 0
    expected = [LEARNER_PAGES, TEAM_PAGES, STAFF_PAGES, ADMIN_PAGES]
    for level, pages in enumerate(expected):
        assert (pages <= listed) == (level <= rank), (role, pages)
        assert not (pages & listed) or level <= rank, (role, pages)
    # The reader's own role comes first, then each role below it.
    headings = re.findall(r'<h2 id="nhom-\d+">([^<]+)</h2>', index.text)
    assert headings == [GROUP_OF[r] for r in reversed(ROLES[:rank + 1])]

    pages = help_pages.collect(app.state.pm)
    assert listed == {slug for slug, page in pages.items() if ROLES.index(page.role) <= rank}
    for slug, page in pages.items():
        answer = client.get(f"/huong-dan/{slug}")
        if ROLES.index(page.role) <= rank:
            assert answer.status_code == 200, (role, slug)
            assert HEADER_LINK in answer.text
            assert f'<h1 id="help-title">{page.title}</h1>' in answer.text
        elif role is None:
            # A visitor is asked to log in, as on any protected page, and comes back to it.
            assert answer.status_code == 303, slug
            assert answer.headers["location"] == f"/login?next=/huong-dan/{slug}"
        else:
            assert answer.status_code == 403, (role, slug)
            assert "Không có quyền truy cập" in answer.text
            assert page.title not in answer.text


def test_a_resident_cannot_open_a_staff_page(client, db, settings):
    visitor = client.get("/huong-dan/tao-su-kien")
    assert visitor.status_code == 303 and visitor.headers["location"] == "/login?next=/huong-dan/tao-su-kien"
    _signed_in(client, db, settings, "learner")
    refused = client.get("/huong-dan/tao-su-kien")
    assert refused.status_code == 403
    assert "Tạo sự kiện" not in refused.text and "/staff/events/new" not in refused.text
    assert client.get("/huong-dan/sao-luu").status_code == 403
    assert client.get("/huong-dan/hoc-mot-bai").status_code == 200


def test_an_unknown_page_is_not_found(client):
    for slug in ("khong-co", "Tai-Khoan", "tai-khoan.html"):
        page = client.get(f"/huong-dan/{slug}")
        assert page.status_code == 404, slug
        assert "Không tìm thấy trang" in page.text


def _route_patterns(app) -> list[re.Pattern]:
    patterns = []
    for route in app_routes(app):
        if isinstance(route.original_route, APIRoute) and "GET" in route.methods:
            parts = re.split(r"\{[^}]+\}", route.path)
            patterns.append(re.compile("".join(re.escape(p) + "[^/]+" for p in parts[:-1]) + re.escape(parts[-1])
                                       + "$"))
    return patterns


def _labels_corpus() -> str:
    """What the site's own pages and plugins show (templates and Python), help pages left out."""
    texts = [path.read_text() for path in (ROOT / "templates").rglob("*.html") if "help" not in path.parts]
    for path in (ROOT / "lms").rglob("*.py"):
        if path.name != "help.py":
            # The help pages' own titles and summaries are not what a page shows.
            texts.append(re.sub(r"def help_pages\(\).*?(?=\n\n\n|\Z)", "", path.read_text(), flags=re.S))
    return "\n".join(texts)


def _label_found(label: str, corpus: str) -> bool:
    """`label` as the site shows it: a whole text or string in a template or in Python, "…" standing
    for what the page fills in (a lesson's title); each piece must be there, whole at its ends."""
    pieces = [p.strip() for p in label.split("…")]
    for n, piece in enumerate(pieces):
        if not piece or piece in "()":
            continue
        starts, ends = n == 0, n == len(pieces) - 1
        piece = piece if ends else piece.rstrip(":").strip()
        pattern = ((r"[>\"'}]\s*" if starts else "") + re.escape(piece) + (r"\s*[<\"'{]" if ends else ""))
        if not re.search(pattern, corpus):
            return False
    return True


def test_every_page_names_real_addresses_and_buttons_in_nfc_text(app, client, db, settings):
    _signed_in(client, db, settings, "admin")
    pages = help_pages.collect(app.state.pm)
    assert set(pages) >= LEARNER_PAGES | TEAM_PAGES | STAFF_PAGES | ADMIN_PAGES
    patterns = _route_patterns(app)
    corpus = _labels_corpus()
    checked = 0
    for slug in pages:
        answer = client.get(f"/huong-dan/{slug}")
        assert answer.status_code == 200, slug
        assert len(answer.content) < 25_000, (slug, len(answer.content))
        text = answer.text
        assert unicodedata.is_normalized("NFC", text), slug
        article = _article(text)
        addresses = re.findall(r'href="(/[^"]*)"', article) + \
            [html.unescape(a) for a in re.findall(r'<code class="addr">([^<]+)</code>', article)]
        checked += len(addresses)
        for address in addresses:
            path = re.split(r"[?#]", address)[0]
            assert any(p.match(path) for p in patterns), (slug, address)
            if path.startswith("/huong-dan/"):
                assert path.removeprefix("/huong-dan/") in pages, (slug, address)
        labels = [html.unescape(k) for k in re.findall(r"<kbd>([^<]+)</kbd>", article)]
        checked += len(labels)
        missing = [label for label in labels if not _label_found(label, corpus)]
        assert not missing, (slug, missing)
        # Its own pictures: drawn inline with a Vietnamese name, nothing fetched.
        pictures = re.findall(r'<svg class="help-pic"([^>]*)>\s*<title>([^<]+)</title>', article)
        assert pictures and len(pictures) == article.count("<svg class=\"help-pic\""), slug
        for attributes, title in pictures:
            assert len(title) > 20 and f'role="img" aria-label="{title}"' in attributes, (slug, title)
        assert not re.search(r"<img|<image|xlink:href|\bsrc=|href=\"https?:|url\(", article), slug
    assert checked > 150  # the walk really finds the addresses and labels


def test_a_page_that_names_a_button_the_site_has_not_is_caught():
    corpus = _labels_corpus()
    assert _label_found("Đã học xong bài này", corpus)
    assert _label_found("Bắt đầu học: …", corpus) and _label_found("Xuất bản phiên bản …", corpus)
    assert _label_found("Tôi (…) xác nhận người dân đã nghe và đồng ý với nội dung trên.", corpus)
    assert not _label_found("Học xong bài này", corpus)  # a piece of a label is not a label
    assert not _label_found("Đã học xong bài", corpus)
    assert not _label_found("In thẻ ngay", corpus)


class _PluginManager:
    """Just enough of a plugin manager for `collect`: one plugin answering these pages."""

    def __init__(self, *pages):
        self.hook = type("Hook", (), {"help_pages": lambda _self: [list(pages)]})()


def test_pages_that_cannot_be_told_apart_stop_the_help():
    one = HelpPage("mot", "Một", "Trang một.", "a.html")
    assert list(help_pages.collect(_PluginManager(one))) == ["mot"]
    for bad, message in (((one, HelpPage("mot", "Hai", "Trùng tên.", "b.html")), "Two help pages"),
                         ((HelpPage("Hai Ba", "Hai", "Sai.", "b.html"),), "slug"),
                         ((HelpPage("hai", "Hai", "Sai.", "b.html", role="mayor"),), "unknown role"),
                         (("không phải trang",), "not lms.help.HelpPage")):
        with pytest.raises(PluginError, match=message):
            help_pages.collect(_PluginManager(*bad))


def test_the_index_lists_each_role_in_order_of_its_pages():
    pages = help_pages.collect(_PluginManager(
        HelpPage("b", "B", ".", "b.html", role="staff", order=20), HelpPage("a", "A", ".", "a.html", order=90),
        HelpPage("c", "C", ".", "c.html", role="staff", order=10), HelpPage("d", "D", ".", "d.html", role="admin")))
    staff = type("User", (), {"role": "staff"})()
    assert [(label, [p.slug for p in shown]) for label, shown in help_pages.groups_for(pages, staff)] == [
        ("Cán bộ xã/phường", ["c", "b"]), ("Người học", ["a"])]
    assert [label for label, _ in help_pages.groups_for(pages, None)] == ["Người học"]


@pytest.mark.browser
def test_each_page_prints_on_one_a4_sheet_and_fits_a_phone(live_server, phone_page, app, db, settings):
    from pypdf import PdfReader

    from tests.core.test_layout import check, log_in

    admin = make_user(db, settings, role="admin", commune=make_places(db).commune)
    pages = help_pages.collect(app.state.pm)
    base = live_server(workers=1)
    log_in(phone_page, base, admin.phone, "/huong-dan")
    problems: dict = {}
    check(phone_page, problems)
    for slug, page in pages.items():
        response = phone_page.goto(f"{base}/huong-dan/{slug}")
        assert response.ok, slug
        check(phone_page, problems)
        pdf = PdfReader(io.BytesIO(phone_page.pdf(format="A4", print_background=True)))
        words = re.sub(r"\s+", " ", unicodedata.normalize("NFC", " ".join(p.extract_text() for p in pdf.pages)))
        assert len(pdf.pages) == 1, (slug, len(pdf.pages))
        assert page.title in words, slug
        # On paper: the page alone, without the site's header, footer or links back.
        assert "← Hướng dẫn" not in words and "Khu vực cán bộ" not in words, slug
        assert "phong trào học kỹ năng số cho mọi người dân" not in words, slug
    assert not problems, problems
