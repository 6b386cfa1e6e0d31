"""Every form a staff member, administrator, team member or course editor fills explains its fields
in one line, linked for screen readers; every empty list says what to do first (#22).

The pages come from the app's own routes (team, staff and admin policies), so a new page without
help fails here until its fields have hints, or it joins a short list below with the reason."""

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

from fastapi.routing import APIRoute
from sqlalchemy import select

from lms.core.models import User
from lms.security import app_routes, route_policy
from tests.factories import csrf, fresh, login, make_places, make_user, post_form

# Pages under the staff, team and editor policies that are not checked, and why.
NOT_PAGES = {
    # Downloads and images: no HTML.
    "/stats/export.csv", "/stats/export.xlsx", "/staff/events/{event_id}/attendance.csv",
    "/staff/events/{event_id}/attendance.xlsx", "/staff/ke-hoach/{plan_id}/bao-cao.xlsx",
    "/mo-hinh-tong-hop/{year}.docx", "/mo-hinh-tong-hop/{year}.pdf", "/studio/{draft_id}/assets/{name}",
    "/studio/{draft_id}/export.zip", "/teams/{team_id}/import/template.{kind}", "/teams/{team_id}/residents.csv",
    # The learner's own quiz, answered with a team member beside them: each question is its fields' legend.
    "/quiz/{slug}/assisted/{learner_id}/attempts/{attempt_id}",
    # The preview of merging two villages: hidden fields and one button.
    "/staff/villages/gop",
}
# Lists that are empty on a fresh installation (one commune, one village, one administrator), each of
# which must say what to do first with a link or a button.
EMPTY_PAGES = ["/staff/events", "/teams", "/staff/tin-tuc", "/staff/certificates", "/stats", "/stats/targets",
               "/stats/tokens", "/staff/users", "/staff/data-requests", "/staff/sms", "/staff/ke-hoach",
               "/staff/quizzes", "/staff/pho-cap", "/studio", "/studio-editors", "/studio-bulletin",
               "/studio-bulletin/da-lam", "/hoi-dap-cua-xa", "/hoi-dap-tra-loi", "/mo-hinh-duyet"]
ROLES = {"team": {"admin", "staff", "team_member"}, "staff": {"admin", "staff"}, "admin": {"admin"}}

# --- A small HTML tree (the standard library's parser) ---------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    parent: "Node | None" = None
    children: list = field(default_factory=list)

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def text(self) -> str:
        return " ".join(c if isinstance(c, str) else c.text() for c in self.children).strip()

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def hidden(self) -> bool:
        node = self
        while node is not None:
            if "hidden" in node.attrs:
                return True
            node = node.parent
        return False

    def show(self) -> str:
        keys = ("type", "name", "id")
        return f"<{self.tag} " + " ".join(f'{k}="{self.attrs[k]}"' for k in keys if k in self.attrs) + ">"


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        if data.strip():
            self.current.children.append(data.strip())


def parse(page: str) -> Node:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return tree.root


def _is_field(node: Node) -> bool:
    if node.tag == "input":
        return node.attrs.get("type", "text").lower() not in {"hidden", "submit", "button", "reset", "image"}
    return node.tag in {"select", "textarea"}


def help_problems(page: str) -> list[str]:
    """Visible fields without a hint that exists and says something; hint ids used twice."""
    nodes = list(parse(page).walk())
    counts = Counter(n.attrs["id"] for n in nodes if n.attrs.get("id"))
    by_id = {n.attrs["id"]: n for n in nodes if n.attrs.get("id")}
    problems = []
    for node in nodes:
        if not _is_field(node) or node.hidden():
            continue
        refs = node.attrs.get("aria-describedby", "").split()
        if not refs:
            problems.append(f"{node.show()} has no aria-describedby")
        elif missing := [ref for ref in refs if ref not in by_id]:
            problems.append(f"{node.show()} points at missing {missing}")
        elif not any(by_id[ref].text() for ref in refs):
            problems.append(f"{node.show()} points at empty {refs}")
        problems += [f"{node.show()} points at id {ref!r} used {counts[ref]} times" for ref in refs
                     if counts[ref] > 1]
    problems += sorted({f"hint id {n.attrs['id']!r} used {counts[n.attrs['id']]} times" for n in nodes
                        if "hint" in n.classes() and n.attrs.get("id") and counts[n.attrs["id"]] > 1})
    return problems


def empty_messages(page: str) -> list[Node]:
    return [n for n in parse(page).walk() if "empty" in n.classes()]


def empty_problems(page: str) -> list[str]:
    """Empty-list messages that offer no first step (a link or a button)."""
    return [f"empty list without a link or button: {n.text()!r}" for n in empty_messages(page)
            if not any((d.tag == "a" and d.attrs.get("href")) or d.tag == "button" for d in n.walk())]


# --- The checker itself --------------------------------------------------------------------------


def test_the_checker_finds_fields_without_help_and_empty_lists_without_a_first_step():
    good = ('<label for="a">Tên</label><span class="hint" id="a-hint">Ví dụ: Thôn Đông</span>'
            '<input id="a" name="a" aria-describedby="a-hint"><input type="hidden" name="csrf_token">'
            '<div hidden><input name="later"></div><button type="submit">Lưu</button>'
            '<p class="muted empty">Chưa có sự kiện nào — <a href="/staff/events/new">Tạo sự kiện</a></p>')
    assert help_problems(good) == [] and empty_problems(good) == [] and len(empty_messages(good)) == 1
    assert help_problems('<select name="s"></select>') == ['<select name="s"> has no aria-describedby']
    assert help_problems('<textarea name="t" aria-describedby="t-hint"></textarea>') == [
        "<textarea name=\"t\"> points at missing ['t-hint']"]
    assert "points at empty" in help_problems('<span class="hint" id="h"> </span>'
                                              '<input type="checkbox" name="c" aria-describedby="h">')[0]
    twice = ('<span class="hint" id="h">Một</span><input name="a" aria-describedby="h">'
             '<span class="hint" id="h">Hai</span>')
    assert help_problems(twice) == ["<input name=\"a\"> points at id 'h' used 2 times", "hint id 'h' used 2 times"]
    assert empty_problems('<p class="muted empty">Chưa có sự kiện nào.</p>') == [
        "empty list without a link or button: 'Chưa có sự kiện nào.'"]


# --- The pages -----------------------------------------------------------------------------------


def _routes(app) -> dict[str, set[str]]:
    """Each GET page of the team, staff and admin policies, with the roles that may open it."""
    found = {}
    for route in app_routes(app):
        if isinstance(route.original_route, APIRoute) and "GET" in route.methods:
            policy = route_policy(route)
            if policy is not None and policy.name in ROLES:
                found[route.path] = ROLES[policy.name]
    return found


def _check(browser, url: str, problems: dict[str, list[str]], label: str = "") -> str:
    """The page's help and empty-list problems go to `problems` under `label` (the URL by default)."""
    response = browser.get(url)
    assert response.status_code == 200, (label or url, response.status_code)
    assert response.headers["content-type"].startswith("text/html"), label or url
    found = help_problems(response.text) + empty_problems(response.text)
    if found:
        problems[label or url] = found
    return response.text


def _no_problems(problems: dict[str, list[str]]) -> None:
    found = [f"{url}: {problem}" for url, listed in problems.items() for problem in listed]
    assert found == [], "\n".join(found)


def test_a_fresh_installation_explains_every_field_and_every_empty_list(app, client, db, settings):
    places = make_places(db, villages=("Thôn Đông",))
    admin = make_user(db, settings, role="admin", name="Quản Trị Viên")
    login(client, admin.phone)
    routes = _routes(app)
    pages = [path for path in routes if "{" not in path and path not in NOT_PAGES]
    assert len(pages) > 30 and set(EMPTY_PAGES) <= set(pages)
    problems: dict[str, list[str]] = {}
    urls = {path: path for path in pages} | _for_commune(places.commune.id)
    shown = {path: _check(client, url, problems) for path, url in urls.items()}
    _no_problems(problems)
    without = [path for path in EMPTY_PAGES if not empty_messages(shown[path])]
    assert without == [], f"no empty-list message with a first step on {without}"


def _for_commune(commune: int) -> dict[str, str]:
    """Pages an administrator opens for one commune, where its lists and forms are (staff: their own)."""
    return {path: f"{path}?commune={commune}" for path in (
        "/staff/users", "/stats/targets", "/staff/ke-hoach", "/staff/villages", "/staff/man-hinh")}


@dataclass
class Site:
    editor: User  # a commune's staff member who edits its courses
    member: User  # a member of the commune's team
    urls: dict[str, str]  # route → a page of it, for each route with a path parameter


def _location_id(response, pattern: str) -> str:
    assert response.status_code == 303, response.text
    return re.search(pattern, response.headers["location"]).group(1)


def _build(app, client, make_client, db, settings) -> Site:
    """One of each object the pages with a path parameter show, made through the pages themselves."""
    from lms import paths
    from lms.plugins.certificates import services as certificates
    from lms.plugins.courses.models import Course
    from tests.courses.packtools import sync_dirs
    from tests.events.eventtools import event_form
    from tests.mo_hinh.conftest import submit

    sync_dirs(db, [paths.courses_dir()])
    places = make_places(db)  # two villages: the villages page offers to merge them
    village = places.villages[0]
    admin = make_user(db, settings, role="admin", name="Quản Trị Viên")
    editor = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Văn Hóa")
    member = make_user(db, settings, village=village, name="Đoàn Viên Thanh")
    other = make_user(db, settings, village=village, name="Lê Thị Hoa")
    login(client, admin.phone)
    granted = post_form(client, f"/studio-editors/{editor.id}", {"allowed": "1"}, page="/studio-editors")
    assert granted.status_code == 303
    staff = make_client()
    login(staff, editor.phone)

    event = _location_id(post_form(staff, "/staff/events/new", event_form(), page="/staff/events/new"),
                         r"/staff/events/(\d+)")
    made = post_form(staff, "/teams", {"name": "Tổ công nghệ số thôn Đông", "villages": [str(village.id)]},
                     page="/teams")
    team = _location_id(made, r"/teams/(\d+)")
    assert post_form(staff, f"/teams/{team}/members", {"phone": member.phone},
                     page=f"/teams/{team}").status_code == 303
    helper = make_client()
    login(helper, member.phone)
    enrolled = post_form(helper, f"/teams/{team}/residents/new",
                         {"full_name": "Nguyễn Thị Tư", "phone": "", "village_id": str(village.id),
                          "audience": "nguoi-dan", "birth_year": "1948", "consent": "on"},
                         page=f"/teams/{team}/residents/new")
    resident = _location_id(enrolled, r"/residents/(\d+)")
    sheet = "Họ và tên,Số điện thoại,Thôn/tổ dân phố,Nhóm,Năm sinh\nTrần Văn Ba,,Thôn Đông,Người dân,1950\n"
    uploaded = helper.post(f"/teams/{team}/import", data={"csrf_token": csrf(helper, f"/teams/{team}/import")},
                           files={"file": ("danh-sach.csv", sheet.encode(), "text/csv")})
    batch = _location_id(uploaded, r"/import/(\d+)")

    draft = _location_id(post_form(staff, "/studio/new", {
        "title": "Mô hình số của xã Minh Châu", "summary": "Những cách làm hay ở xã mình.",
        "audiences": ["nguoi-dan"], "domains": ["an-toan"], "estimated_minutes": "20", "slug": ""},
        page="/studio/new"), r"/studio/(\d+)")
    lesson_page = f"/studio/{draft}/lessons/new"
    lesson = _location_id(post_form(staff, lesson_page, {"title": "Quét mã để trả tiền", "body": "Nội dung.",
                                                         "action": "save"}, page=lesson_page),
                          r"/lessons/([\w-]+)")
    question = f"/studio/{draft}/quiz/new/true_false"
    asked = post_form(staff, question, {"lesson": lesson, "prompt": "Có nên đọc mã OTP cho người khác không?",
                                        "truth": "false", "explanation": "Không bao giờ."}, page=question)
    assert asked.status_code == 303

    news = staff.post("/staff/tin-tuc/new", data={"title": "Thôn Đông mở lớp VNeID", "summary": "",
                                                  "body": "Bà con đến nhà văn hóa thôn.", "image_alt": "",
                                                  "link_key": "", "csrf_token": csrf(staff, "/staff/tin-tuc/new")})
    item = _location_id(news, r"/staff/tin-tuc/(\d+)")
    plan = _location_id(post_form(staff, "/staff/ke-hoach/nhap-mau", {"commune_id": str(places.commune.id)},
                                  page="/staff/ke-hoach"), r"/staff/ke-hoach/(\d+)")
    task = re.search(r"/staff/ke-hoach/viec/(\d+)", staff.get(f"/staff/ke-hoach/{plan}").text).group(1)
    entry_form = {"question": "Bộ phận một cửa của xã mở cửa giờ nào?", "also_asked": "",
                  "answer": "Từ 7 giờ 30 đến 17 giờ, thứ Hai đến thứ Sáu.",
                  "source_title": "Thông báo của UBND xã", "source_url": ""}
    assert post_form(staff, "/hoi-dap-cua-xa", entry_form, page="/hoi-dap-cua-xa").status_code == 303
    entry = re.search(r'href="/hoi-dap-cua-xa/(\d+)"', staff.get("/hoi-dap-cua-xa").text).group(1)
    model = _location_id(submit(staff, path="/mo-hinh-duyet/moi"), r"/mo-hinh-duyet/(\d+)")

    fresh(db)
    course = db.exec(select(Course).where(Course.slug == "vneid-va-dich-vu-cong")).scalars().one()
    with app.state.context.transaction() as session:
        certificate = certificates.issue(session, settings=app.state.context.settings, user_id=int(resident),
                                         course_id=course.id).id
    db.commit()
    urls = {
        "/staff/events/{event_id}": f"/staff/events/{event}",
        "/staff/events/{event_id}/attendance": f"/staff/events/{event}/attendance",
        "/staff/events/{event_id}/checkin": f"/staff/events/{event}/checkin",
        "/staff/events/{event_id}/display": f"/staff/events/{event}/display",
        "/staff/events/{event_id}/poster": f"/staff/events/{event}/poster",
        "/staff/events/{event_id}/slideshow": f"/staff/events/{event}/slideshow",
        "/teams/{team_id}": f"/teams/{team}",
        "/teams/{team_id}/import": f"/teams/{team}/import",
        "/teams/{team_id}/import/{batch_id}": f"/teams/{team}/import/{batch}",
        "/teams/{team_id}/residents": f"/teams/{team}/residents",
        "/teams/{team_id}/residents/new": f"/teams/{team}/residents/new",
        "/teams/{team_id}/residents/{user_id}": f"/teams/{team}/residents/{resident}",
        "/studio/{draft_id}": f"/studio/{draft}",
        "/studio/{draft_id}/lessons/new": lesson_page,
        "/studio/{draft_id}/lessons/{slug}": f"/studio/{draft}/lessons/{lesson}",
        "/studio/{draft_id}/preview": f"/studio/{draft}/preview",
        "/studio/{draft_id}/preview/{slug}": f"/studio/{draft}/preview/{lesson}",
        "/studio/{draft_id}/quiz": f"/studio/{draft}/quiz",
        "/studio/{draft_id}/quiz/{number}": f"/studio/{draft}/quiz/1",
        "/studio-audio/{course_slug}": "/studio-audio/vneid-va-dich-vu-cong",
        "/staff/users/{user_id}": f"/staff/users/{resident}",
        "/staff/users/{user_id}/merge": f"/staff/users/{resident}/merge?q=Hoa",
        "/staff/users/{keep_id}/merge/{drop_id}": f"/staff/users/{resident}/merge/{other.id}",
        "/staff/certificates/{certificate_id}": f"/staff/certificates/{certificate}",
        "/staff/tin-tuc/{item_id}": f"/staff/tin-tuc/{item}",
        "/staff/ke-hoach/{plan_id}": f"/staff/ke-hoach/{plan}",
        "/staff/ke-hoach/{plan_id}/viec-moi": f"/staff/ke-hoach/{plan}/viec-moi",
        "/staff/ke-hoach/{plan_id}/bao-cao": f"/staff/ke-hoach/{plan}/bao-cao",
        "/staff/ke-hoach/viec/{task_id}": f"/staff/ke-hoach/viec/{task}",
        "/hoi-dap-cua-xa/{entry_id}": f"/hoi-dap-cua-xa/{entry}",
        "/mo-hinh-duyet/{model_id}": f"/mo-hinh-duyet/{model}",
    }
    # Each kind of question has its own form.
    for kind in ("single_choice", "multiple_choice", "true_false", "ordering"):
        urls[f"/studio/{{draft_id}}/quiz/new/{{type_id}}#{kind}"] = f"/studio/{draft}/quiz/new/{kind}"
    urls.update(_for_commune(places.commune.id))
    fresh(db)
    member = db.get(User, member.id)
    db.commit()
    return Site(editor, member, urls)


def test_every_staff_team_and_editor_page_explains_its_fields(app, client, make_client, db, settings):
    site = _build(app, client, make_client, db, settings)
    routes = _routes(app)
    checked = {key.split("#")[0] for key in site.urls}
    unchecked = sorted(path for path in routes if "{" in path and path not in NOT_PAGES | checked)
    assert unchecked == [], f"pages with a path parameter neither checked nor in NOT_PAGES: {unchecked}"
    assert site.member.role == "team_member"
    browsers = {"admin": client}
    for role, person in (("staff", site.editor), ("team_member", site.member)):
        browsers[role] = make_client()
        login(browsers[role], person.phone)
    problems: dict[str, list[str]] = {}
    opened = 0
    for key, url in sorted({**{p: p for p in routes if "{" not in p}, **site.urls}.items()):
        path = key.split("#")[0]
        if path in NOT_PAGES:
            continue
        for role in sorted(routes[path]):
            if role != "admin" and path == "/studio-audio/{course_slug}":
                continue  # a course of the installation: only an administrator records its lessons
            _check(browsers[role], url, problems, f"{role} {url}")
            opened += 1
    assert opened > 100  # the walk really opens the pages, as each role
    _no_problems(problems)
