"""Sharing a certificate: Open Graph preview, LinkedIn, baked Open Badges images, a page in
plain words (the technical links kept for verifiers), revoked and reissued certificates, and
the print page's fonts."""

import io
import json
import re
import struct
import unicodedata
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit
from xml.etree import ElementTree

import pytest
import zxingcpp
from PIL import Image

from lms.plugins.certificates import services, sharing
from lms.plugins.certificates.credential import verify_credential
from lms.plugins.certificates.models import Certificate
from lms.templating import local
from lms.text import official_date
from tests.certificates.certtools import completed_course
from tests.certificates.credtools import issuer_documents, run_verifier
from tests.factories import fresh, login, make_user, post_form, text_of

FONTS = Path(sharing.__file__).parent / "fonts"
TECHNICAL = ("JSON có chữ ký", "Open Badges", "Ed25519", "/issuer", "JSON")
SVG_NS = "http://www.w3.org/2000/svg"
OB_NS = "https://purl.imsglobal.org/ob/v3p0"


# --- A small HTML reader: elements with attributes, text, and whether they sit in <details> ---


VOID = {"meta", "link", "input", "br", "img", "hr", "source", "area", "base", "col", "embed", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict, parent: "Element | None") -> None:
        self.tag, self.attrs, self.parent, self.children, self.texts = tag, attrs, parent, [], []

    def iter(self, tag: str | None = None):
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            yield from child.iter(tag)

    def text(self) -> str:
        parts: list[str] = []

        def walk(element: "Element") -> None:
            parts.extend(element.texts)
            for child in element.children:
                walk(child)

        walk(self)
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def inside(self, tag: str) -> bool:
        node = self.parent
        while node is not None:
            if node.tag == tag:
                return True
            node = node.parent
        return False


class Tree(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        if self.current.tag not in ("script", "style"):
            self.current.texts.append(data)


def meta(tree: Tree) -> dict[str, str]:
    return {(m.attrs.get("property") or m.attrs.get("name")): m.attrs.get("content", "")
            for m in tree.root.iter("meta") if m.attrs.get("property") or m.attrs.get("name")}


def main_text_outside_details(tree: Tree) -> str:
    main = next(tree.root.iter("main"))
    parts: list[str] = []

    def walk(element: Element) -> None:
        if element.tag == "details":
            return
        parts.extend(element.texts)
        for child in element.children:
            walk(child)

    walk(main)
    return re.sub(r"\s+", " ", " ".join(parts))


def links(element: Element) -> dict[str, str]:
    return {a.attrs["href"]: a.text() for a in element.iter("a") if "href" in a.attrs}


def _staff(client, db, settings, certificate):
    from lms.core.models import Place, User

    learner = db.get(User, certificate.user_id)
    staff = make_user(db, settings, role="staff", commune=db.get(Place, learner.commune_id), name="Trần Văn Cán")
    login(client, staff.phone)
    return staff


# --- The page and its preview picture ---------------------------------------------


def test_open_graph_tags_show_the_certificate(client, db, settings, tmp_path, make_client):
    _, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    browser = make_client()
    tree = Tree(browser.get(f"/c/{code}").text)
    tags = meta(tree)
    page_url = f"{settings.base_url.rstrip('/')}/c/{code}"
    assert "Nguyễn Thị Hồng Nhung" in tags["og:title"] and "An toàn trên mạng" in tags["og:title"]
    assert "Ủy ban nhân dân Xã Minh Châu" in tags["og:description"]
    assert tags["og:url"] == page_url and tags["og:type"]
    assert tags["og:image"] == f"{page_url}/og.png" and tags["og:image"].startswith("http://127.0.0.1:8000/")
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["description"] == tags["og:description"]

    picture = browser.get(urlsplit(tags["og:image"]).path)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert len(picture.content) < 150_000
    image = Image.open(io.BytesIO(picture.content))
    image.load()
    assert image.format == "PNG" and image.size == (1200, 630)
    # The QR code drawn on it leads back to the page.
    assert [r.text for r in zxingcpp.read_barcodes(image.convert("L"))] == [page_url]

    # Crawlers come back with the ETag: nothing is drawn or sent again.
    etag = picture.headers["etag"]
    assert "max-age" in picture.headers["cache-control"]
    again = browser.get(urlsplit(tags["og:image"]).path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag


def test_the_preview_is_drawn_the_same_every_time_and_with_every_vietnamese_mark(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path, name="Nguyễn Thị Ngọc Ánh")
    card = sharing.card_of(certificate, settings)
    first = sharing.open_graph_png(card)
    sharing.open_graph_png.cache_clear()
    assert sharing.open_graph_png(card) == first
    assert sharing.card_etag(card) == sharing.card_etag(sharing.card_of(certificate, settings))
    assert sharing.card_etag(replace(card, revoked=True)) != sharing.card_etag(card)

    # Every letter drawn has a glyph of its own in the font, not the "missing glyph" box,
    # and letters that differ only by their marks are drawn differently.
    drawn = card.learner_name + card.course_title + card.place_and_date + "GIẤY CHỨNG NHẬN ĐÃ THU HỒI Ủy ban"
    drawn += "ăâđêôơư ĂÂĐÊÔƠƯ áàảãạ ấầẩẫậ ắằẳẵặ éèẻẽẹ ếềểễệ íìỉĩị óòỏõọ ốồổỗộ ớờởỡợ úùủũụ ứừửữự ýỳỷỹỵ"
    for style in ("regular", "italic", "semibold", "bold"):
        face = sharing.font(style, 40)
        missing = bytes(face.getmask("\ue000"))  # a private-use letter no font has
        for letter in set(drawn) - {" "}:
            shape = bytes(face.getmask(letter))
            assert shape != missing and any(shape), (style, letter)
        shapes = {bytes(face.getmask(letter)) for letter in "EÉÈẺẼẸÊẾỀỂỄỆ"}
        assert len(shapes) == 12, style


def test_a_name_typed_with_combining_marks_is_drawn_composed(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path)
    certificate.learner_name = unicodedata.normalize("NFD", "Phạm Thị Hường")
    card = sharing.card_of(certificate, settings)
    assert card.learner_name == "Phạm Thị Hường" and unicodedata.is_normalized("NFC", card.learner_name)


# --- LinkedIn --------------------------------------------------------------------


def test_add_to_linkedin_profile(client, db, settings, tmp_path, make_client):
    _, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    browser = make_client()
    share = next(s for s in Tree(browser.get(f"/c/{code}").text).root.iter("section")
                 if "share" in s.attrs.get("class", ""))
    assert links(share)[f"/c/{code}/linkedin"] == "Thêm vào hồ sơ LinkedIn"

    answer = browser.get(f"/c/{code}/linkedin", follow_redirects=False)
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "www.linkedin.com", "/profile/add")
    query = parse_qs(target.query, strict_parsing=True)
    issued = local(certificate.issued_at)
    assert {key: values for key, values in query.items()} == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["An toàn trên mạng"],
        "organizationName": ["Ủy ban nhân dân Xã Minh Châu"],
        "issueYear": [str(issued.year)],
        "issueMonth": [str(issued.month)],
        "certUrl": [f"{settings.base_url.rstrip('/')}/c/{code}"],
        "certId": [code],
    }


# --- Baked badges (OB 3.0 baking) ---------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, read by the PNG specification (CRCs checked), not by Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append((kind, body))
        offset += 12 + length
    assert chunks[-1][0] == b"IEND"
    return chunks


def itxt(body: bytes) -> dict:
    keyword, rest = body.split(b"\0", 1)
    compressed, method, rest = rest[0], rest[1], rest[2:]
    language, rest = rest.split(b"\0", 1)
    translated, text = rest.split(b"\0", 1)
    return {"keyword": keyword.decode("latin-1"), "compressed": compressed, "method": method,
            "language": language, "translated": translated, "text": text.decode("utf-8")}


def _public_key(client):
    return services.issuer_key(client.app.state.settings).public_key


def test_baked_png_carries_the_credential_the_json_route_publishes(client, db, settings, tmp_path, make_client):
    _, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    browser = make_client()
    published = browser.get(f"/c/{code}.json")
    badge = browser.get(f"/c/{code}/badge.png")
    assert badge.status_code == 200 and badge.headers["content-type"] == "image/png"
    assert "attachment" in badge.headers["content-disposition"]
    entries = [itxt(body) for kind, body in png_chunks(badge.content) if kind == b"iTXt"]
    baked = [e for e in entries if e["keyword"] == "openbadgecredential"]
    assert len(baked) == 1
    assert (baked[0]["compressed"], baked[0]["language"], baked[0]["translated"]) == (0, b"", b"")
    assert json.loads(baked[0]["text"]) == published.json()
    assert baked[0]["text"].encode("utf-8") == published.content
    # Still the signed document: Digital Bazaar's verifier accepts what comes out of the picture.
    extracted = json.loads(baked[0]["text"])
    [result] = run_verifier({"credentials": [extracted], "documents": issuer_documents(browser, extracted),
                             "checkStatus": True})["results"]
    assert result["verified"], result["errors"]
    assert {p["cryptosuite"] for p in result["proofs"] if p["verified"]} >= {"eddsa-jcs-2022"}
    assert result["status"]["revoked"] == [False]
    image = Image.open(io.BytesIO(badge.content))
    assert image.size == (sharing.BADGE_SIZE, sharing.BADGE_SIZE)


def test_baked_svg_carries_the_credential_as_its_first_child(client, db, settings, tmp_path, make_client):
    _, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    browser = make_client()
    published = browser.get(f"/c/{code}.json").json()
    badge = browser.get(f"/c/{code}/badge.svg")
    assert badge.status_code == 200 and badge.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in badge.headers["content-security-policy"]
    assert f'xmlns:openbadges="{OB_NS}"' in badge.text and "<![CDATA[" in badge.text
    root = ElementTree.fromstring(badge.content)  # noqa: S314 - our own output, under test
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root[0].tag == f"{{{OB_NS}}}credential" and "verify" not in root[0].attrib
    assert len(root.findall(f".//{{{OB_NS}}}credential")) == 1
    assert json.loads(root[0].text) == published
    assert verify_credential(json.loads(root[0].text), _public_key(client))
    assert "An toàn trên mạng" in "".join(root.itertext())


def test_a_credential_containing_the_cdata_end_still_bakes_into_valid_svg(settings):
    certificate = Certificate(code="2" * 20, user_id=1, course_id=1, learner_name="Lê Văn Tám",
                              course_slug="k", course_title="Mã nguồn ]]> và <thẻ> & ký tự",
                              commune_name="Phường 12", issued_at=datetime(2026, 1, 2, tzinfo=UTC))
    credential = {"name": "a]]>b", "nested": {"list": ["]]>", "<x>"]}}
    root = ElementTree.fromstring(sharing.baked_svg(certificate, credential, settings).encode("utf-8"))  # noqa: S314
    assert json.loads(root[0].text) == credential
    assert "Mã nguồn ]]> và <thẻ> & ký tự" in "".join(root.itertext())


# --- Plain words, revocation, reissue ----------------------------------------------


def test_the_page_speaks_plainly_and_keeps_technical_links_for_verifiers(client, db, settings, tmp_path,
                                                                        make_client):
    _, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    tree = Tree(make_client().get(f"/c/{code}").text)
    plain = main_text_outside_details(tree)
    assert "HỢP LỆ" in plain and "Nguyễn Thị Hồng Nhung" in plain
    for words in TECHNICAL:
        assert words not in plain, words
    main = next(tree.root.iter("main"))
    issuer = f"/issuer/{certificate.commune_id}"
    outside = {a.attrs["href"] for a in main.iter("a") if "href" in a.attrs and not a.inside("details")}
    assert outside >= {f"/c/{code}/print", f"/c/{code}.pdf", f"/c/{code}/linkedin"}
    assert not outside & {f"/c/{code}.json", issuer, f"/c/{code}/badge.png", f"/c/{code}/badge.svg"}

    (details,) = list(main.iter("details"))
    assert next(details.iter("summary")).text() == "Dành cho đơn vị kiểm tra"
    technical = links(details)
    assert set(technical) == {f"/c/{code}.json", issuer, f"/c/{code}/badge.png", f"/c/{code}/badge.svg"}
    assert "Open Badges 3.0" in details.text() and "Ed25519" in details.text()
    # The issuer link is the profile of the commune that signed, as the credential names it.
    profile = client.get(issuer).json()
    assert profile["name"] == "Ủy ban nhân dân Xã Minh Châu"


def test_a_revoked_certificate_says_so_and_offers_nothing_to_share(client, db, settings, tmp_path, make_client):
    _, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    browser = make_client()
    before = browser.get(f"/c/{code}/og.png")
    _staff(client, db, settings, certificate)
    done = post_form(client, f"/staff/certificates/{certificate.id}/revoke", {"reason": "Cấp nhầm người"},
                     page=f"/staff/certificates/{certificate.id}")
    assert done.status_code == 303
    fresh(db)
    revoked = db.get(Certificate, certificate.id)

    tree = Tree(browser.get(f"/c/{code}").text)
    plain = main_text_outside_details(tree)
    assert "ĐÃ THU HỒI" in plain and "Cấp nhầm người" in plain
    assert local(revoked.revoked_at).strftime("%d/%m/%Y") in plain
    assert "HỢP LỆ" not in plain and "Chia sẻ" not in plain and "LinkedIn" not in plain
    hrefs = set(links(next(tree.root.iter("main"))))
    assert hrefs == {f"/c/{code}.json", f"/issuer/{certificate.commune_id}"}  # no PDF, print, share or badge
    assert meta(tree)["og:title"].startswith("ĐÃ THU HỒI")

    for path in (f"/c/{code}/linkedin", f"/c/{code}/badge.png", f"/c/{code}/badge.svg"):
        refused = browser.get(path, follow_redirects=False)
        assert refused.status_code == 410, path
        assert "đã bị thu hồi" in text_of(refused.text)
    after = browser.get(f"/c/{code}/og.png")
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert after.content != before.content


def test_after_a_name_correction_the_old_page_leads_to_the_new_one(client, db, settings, tmp_path, make_client):
    _, certificate = completed_course(client, db, settings, tmp_path, name="Nguyen Thi Hong")
    old_code = services.display_code(certificate.code)
    _staff(client, db, settings, certificate)
    post_form(client, f"/staff/certificates/{certificate.id}/reissue", {"full_name": "Nguyễn Thị Hồng"},
              page=f"/staff/certificates/{certificate.id}")
    fresh(db)
    new = db.get(Certificate, db.get(Certificate, certificate.id).replaced_by_id)
    browser = make_client()

    tree = Tree(browser.get(f"/c/{old_code}").text)
    assert "ĐÃ THU HỒI" in main_text_outside_details(tree)
    new_page = f"/c/{services.display_code(new.code)}"
    assert links(next(tree.root.iter("main")))[new_page] == "Xem chứng nhận mới"
    landed = text_of(browser.get(new_page).text)
    assert "HỢP LỆ" in landed and "Nguyễn Thị Hồng" in landed


def test_unknown_codes_have_no_pictures(make_client):
    browser = make_client()
    for path in ("og.png", "badge.png", "badge.svg", "linkedin"):
        assert browser.get(f"/c/HVS-2222-2222-2222-2222-2222/{path}", follow_redirects=False).status_code == 404


# --- Print page --------------------------------------------------------------------


def test_print_page_loads_the_pdfs_dejavu_fonts_and_puts_the_date_in_italics(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path)
    code = services.display_code(certificate.code)
    page = client.get(f"/c/{code}/print")
    tree = Tree(page.text)
    sheets = [link.attrs["href"] for link in tree.root.iter("link") if link.attrs.get("rel") == "stylesheet"]
    own = next(href for href in sheets if "print-sheet" in href)
    css = client.get(own)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")

    faces = re.findall(r"@font-face\{([^}]*)\}", css.text)
    families = {re.search(r'font-family:"([^"]+)"', face).group(1) for face in faces}
    assert families == {"DejaVu Sans"}
    sources = {re.search(r'src:url\("([^"]+)"\)', face).group(1): re.search(r"font-weight:(\d+)", face).group(1)
               for face in faces}
    assert sorted(sources.values()) == ["400", "700"]
    for source in sources:
        font = client.get(urljoin(own, source))
        assert font.status_code == 200 and font.headers["content-type"] == "font/ttf"
        assert font.content == (FONTS / Path(source).name).read_bytes()  # the PDF's own files
    assert re.search(r'body,[^{]*\{font-family:"DejaVu Sans"', css.text)

    (nation,) = [d for d in tree.root.iter("div") if d.attrs.get("class") == "nation"]
    (date_line,) = [p for p in nation.iter("p") if p.attrs.get("class") == "place-date"]
    issued = local(certificate.issued_at).date()
    assert list(date_line.iter("em"))[0].text() == f"Xã Minh Châu, {official_date(issued)}"
    assert re.search(r"\.place-date\{[^}]*font-style:italic", css.text)


def test_revoked_print_page_is_marked_across_the_sheet(client, db, settings, tmp_path):
    _, certificate = completed_course(client, db, settings, tmp_path)
    _staff(client, db, settings, certificate)
    post_form(client, f"/staff/certificates/{certificate.id}/revoke", {"reason": "Hồ sơ khai sai"},
              page=f"/staff/certificates/{certificate.id}")
    tree = Tree(client.get(f"/c/{services.display_code(certificate.code)}/print").text)
    marks = [d for d in tree.root.iter("div") if d.attrs.get("class") == "revoked-mark"]
    assert len(marks) == 1 and marks[0].text() == "ĐÃ THU HỒI" and marks[0].inside("article")
    assert "Lý do: Hồ sơ khai sai" in tree.root.text()


# --- On a phone, in a real browser ------------------------------------------------


@pytest.mark.browser
def test_certificate_pages_fit_a_phone(live_server, phone_page, client, db, settings, tmp_path):
    from pypdf import PdfReader

    from tests.core.test_layout import MEASURE

    _, certificate = completed_course(client, db, settings, tmp_path, name="Tôn Nữ Thị Phương Thảo")
    _, other = completed_course(client, db, settings, tmp_path, name="Đỗ Văn Bảy")
    _staff(client, db, settings, other)
    post_form(client, f"/staff/certificates/{other.id}/revoke", {"reason": "Cấp nhầm người"},
              page=f"/staff/certificates/{other.id}")
    base = live_server(workers=1)
    page = phone_page
    problems = {}
    for item in (certificate, other):
        code = services.display_code(item.code)
        page.goto(f"{base}/c/{code}")
        page.locator("summary", has_text="Dành cho đơn vị kiểm tra").click()
        assert page.get_by_role("link", name="Chứng nhận số (JSON có chữ ký)").is_visible()
        found = page.evaluate(MEASURE)
        wrong = ([f"scrollWidth {found['width']}"] if found["width"] > 360 else []) + found["small"] + found["low"]
        if wrong:
            problems[code] = wrong
        page.screenshot(path=str(tmp_path / f"{code}.png"), full_page=True)
    assert not problems, problems

    for item in (certificate, other):  # the preview, then the printed sheet: one A4 page each
        page.goto(f"{base}/c/{services.display_code(item.code)}/print")
        page.screenshot(path=str(tmp_path / f"print-{item.id}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.emulate_media(media="print")
        sheet = page.pdf(prefer_css_page_size=True)
        assert len(PdfReader(io.BytesIO(sheet)).pages) == 1
        (tmp_path / f"print-{item.id}.pdf").write_bytes(sheet)
        page.emulate_media(media="screen")

    page.goto(f"{base}/c/{services.display_code(certificate.code)}/print")
    fonts = page.evaluate("""async () => { await document.fonts.ready;
        return [...document.fonts].filter(f => f.family.replace(/"/g, '') === 'DejaVu Sans')
                                  .map(f => [f.weight, f.status]); }""")
    assert sorted(fonts) == [["400", "loaded"], ["700", "loaded"]]
    style = page.locator(".place-date em").evaluate("e => getComputedStyle(e).fontStyle")
    assert style == "italic"
