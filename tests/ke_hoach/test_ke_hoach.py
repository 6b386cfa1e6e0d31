"""Following up the commune plan through the staff pages: the example imported once, tasks with
evidence offered by other plugins (and only that), late ones first, the report on paper and in
Excel with the commune's learning figures, and who may open what."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from lms.channels import EvidenceChoice
from lms.cli import build_cli
from lms.hookspecs import hookimpl
from lms.plugin_host import flatten
from lms.plugins.ke_hoach.models import Change, Evidence, Plan, Task
from lms.security import app_routes
from lms.stats_scope import local_today
from tests.factories import csrf, fresh, login, make_places, make_user, text_of

BASE = "/staff/ke-hoach"


class EvidenceSource:
    """A tiny plugin offering what "the commune did", as events or news would."""

    def __init__(self) -> None:
        self.choices: list[EvidenceChoice] = []

    @hookimpl
    def evidence_choices(self, db, user):
        return [c for c in self.choices if user.role == "admin" or c.commune_id == user.commune_id]


@pytest.fixture
def town(app, db, settings, make_client):
    places = make_places(db)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    people = {
        "staff": make_user(db, settings, role="staff", commune=places.commune, name="Trần Văn Phòng"),
        "other_staff": make_user(db, settings, role="staff", commune=other.commune, name="Lê Thị Khác"),
        "admin": make_user(db, settings, role="admin", name="Quản Trị Viên"),
        "learner": make_user(db, settings, village=places.villages[0], name="Phạm Thị Học"),
        "team_member": make_user(db, settings, role="team_member", village=places.villages[0], name="Đỗ Văn Tổ"),
    }
    clients = {}
    for role, person in people.items():
        clients[role] = make_client()
        login(clients[role], person.phone)
    clients["anonymous"] = make_client()
    source = EvidenceSource()
    app.state.pm.register(source, name="kehoach-test-evidence")
    yield type("Town", (), {"places": places, "other": other, "people": people, "clients": clients,
                            "source": source})
    app.state.pm.unregister(name="kehoach-test-evidence")


def _post(client, path, data=None, page=BASE):
    return client.post(path, data={**(data or {}), "csrf_token": csrf(client, page)})


def _import(client, commune_id=None):
    return _post(client, f"{BASE}/nhap-mau", {"commune_id": str(commune_id or "")})


def _plan(db, commune_id):
    fresh(db)
    plan = db.exec(select(Plan).where(Plan.commune_id == commune_id)).scalars().one()
    db.commit()
    return plan


def _task(db, plan, key):
    fresh(db)
    task = db.exec(select(Task).where(Task.plan_id == plan.id, Task.source_key == key)).scalars().one()
    db.commit()
    return task


def _count(db, model, *where):
    fresh(db)
    value = db.exec(select(func.count()).select_from(model).where(*where)).scalar()
    db.commit()
    return value


TASK_FORM = {"title": "Việc thử", "section": "II.2.3", "details": "", "body": "van-phong", "partners": "",
             "deadline": "", "recurrence": "", "starts_on": "", "status": "chua-bat-dau", "notes": ""}


def _form_of(task, **changes):
    """The task form as the task page fills it, with some fields changed."""
    return {**TASK_FORM, "title": task.title, "section": task.section, "details": task.details, "body": task.body,
            "partners": task.partners, "recurrence": task.recurrence,
            "starts_on": task.starts_on.isoformat() if task.starts_on else "", "status": task.status, **changes}


# --- The example ---------------------------------------------------------------------------


def test_the_example_imports_once_with_the_plans_sections(town, db):
    staff = town.clients["staff"]
    page = text_of(staff.get(BASE).text)
    assert "Xã chưa có kế hoạch nào" in page and "Nhập kế hoạch mẫu vào Xã Minh Châu" in page
    first = _import(staff)
    assert first.status_code == 303
    plan = _plan(db, town.places.commune.id)
    assert first.headers["location"] == f"{BASE}/{plan.id}?da=nhap&them=24"
    shown = text_of(staff.get(first.headers["location"]).text)
    assert "Đã nhập kế hoạch mẫu: thêm 24 nhiệm vụ" in shown
    assert "II.2.1. Đăng tải tin tức, bài viết về đột phá phát triển KHCN, ĐMST và CĐS" in shown
    assert "Phòng Kinh tế (1)" in shown and "Phòng Văn hóa - Xã hội (1)" in shown
    fresh(db)
    sections = set(db.exec(select(Task.section).where(Task.plan_id == plan.id)).scalars())
    db.commit()
    assert sections == {"II.2.1", "II.2.2", "II.2.3", "II.2.4", "II.2.5", "III.1", "III.2", "III.3", "III.4"}
    weekly = _task(db, plan, "ii-2-1-ban-tin")
    assert (weekly.recurrence, weekly.starts_on, weekly.status) == ("weekly", local_today(), "chua-bat-dau")

    # The commune changes a task; importing again adds nothing and keeps the change.
    changed = _post(staff, f"{BASE}/viec/{weekly.id}", _form_of(weekly, title="Bản tin hằng tuần của xã",
                                                                status="dang-lam"), page=f"{BASE}/viec/{weekly.id}")
    assert changed.status_code == 303
    again = _import(staff)
    assert again.headers["location"] == f"{BASE}/{plan.id}?da=nhap&them=0"
    assert "không tạo bản trùng" in text_of(staff.get(again.headers["location"]).text)
    assert _count(db, Plan) == 1 and _count(db, Task) == 24
    assert _task(db, plan, "ii-2-1-ban-tin").title == "Bản tin hằng tuần của xã"


def test_the_import_command(town, db, settings, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("LMS_SECRET_KEY", settings.secret_key)
    cli, runner = build_cli(settings), CliRunner()
    commune = town.other.commune.id
    result = runner.invoke(cli, ["ke-hoach", "import-example", "--commune", str(commune)])
    assert result.exit_code == 0, result.output
    assert "đã tạo kế hoạch; thêm 24 nhiệm vụ, giữ nguyên 0" in result.output
    again = runner.invoke(cli, ["ke-hoach", "import-example", "--commune", str(commune)])
    assert again.exit_code == 0 and "kế hoạch đã có; thêm 0 nhiệm vụ, giữ nguyên 24" in again.output
    assert _count(db, Task) == 24 and _plan(db, commune).source_key == "nghi-quyet-57"
    missing = runner.invoke(cli, ["ke-hoach", "import-example", "--commune", str(town.places.villages[0].id)])
    assert missing.exit_code == 1 and "Không có xã/phường này." in missing.output
    assert _count(db, Plan) == 1


# --- Evidence -----------------------------------------------------------------------------


def _choice(commune, key="su-kien:7", title="Lễ phát động phong trào Bình dân học vụ số tại hội trường xã",
            at=None):
    return EvidenceChoice(key=key, group="Sự kiện đã tổ chức", title=title, url=f"/staff/events/{key[-1]}",
                          at=at or datetime.now(UTC) - timedelta(minutes=5), commune_id=commune.id)


def test_a_task_linked_to_an_event_is_done_in_the_report(town, db):
    staff = town.clients["staff"]
    _import(staff)
    plan = _plan(db, town.places.commune.id)
    launch = _task(db, plan, "ii-2-5-le-phat-dong")
    event = _choice(town.places.commune)
    elsewhere = _choice(town.other.commune, key="su-kien:8", title="Sự kiện của phường khác")
    town.source.choices = [event, elsewhere]
    page = staff.get(f"{BASE}/viec/{launch.id}").text
    assert f'value="{event.key}"' in page and event.title in page and elsewhere.title not in page

    # A key not offered (typed in, or another commune's) is refused and nothing is written.
    for key in ("su-kien:999", elsewhere.key):
        refused = _post(staff, f"{BASE}/viec/{launch.id}/minh-chung", {"key": key}, page=f"{BASE}/viec/{launch.id}")
        assert refused.status_code == 422
        assert "không có trong danh sách minh chứng của xã" in text_of(refused.text)
    admin_refused = _post(town.clients["admin"], f"{BASE}/viec/{launch.id}/minh-chung", {"key": elsewhere.key},
                          page=f"{BASE}/viec/{launch.id}")
    assert admin_refused.status_code == 422  # offered to the administrator, but not this commune's
    assert _count(db, Evidence) == 0

    for _ in range(2):  # sent twice (a phone retrying): attached once
        linked = _post(staff, f"{BASE}/viec/{launch.id}/minh-chung", {"key": event.key},
                       page=f"{BASE}/viec/{launch.id}")
        assert linked.status_code == 303
    assert _count(db, Evidence) == 1
    done = _post(staff, f"{BASE}/viec/{launch.id}", _form_of(launch, status="hoan-thanh"),
                 page=f"{BASE}/viec/{launch.id}")
    assert done.status_code == 303
    task_page = text_of(staff.get(f"{BASE}/viec/{launch.id}").text)
    assert "Tình trạng: Hoàn thành" in task_page and f"Sự kiện đã tổ chức: {event.title}" in task_page
    assert "Trần Văn Phòng: Tình trạng: Chưa bắt đầu → Hoàn thành" in task_page
    assert f"Trần Văn Phòng: Thêm minh chứng: {event.title}" in task_page

    # The event goes from its plugin: the report still reads from the copy.
    town.source.choices = []
    today = local_today()
    query = f"ky=thang&thang={today:%Y-%m}"
    report = staff.get(f"{BASE}/{plan.id}/bao-cao?{query}")
    assert report.status_code == 200
    text = text_of(report.text)
    assert "BÁO CÁO Kết quả thực hiện kế hoạch tuyên truyền" in text
    assert f"Kỳ báo cáo: tháng {today:%m/%Y} (từ ngày {today.replace(day=1):%d/%m/%Y}" in text
    assert "ỦY BAN NHÂN DÂN XÃ MINH CHÂU VĂN PHÒNG HĐND VÀ UBND" in text
    row = re.search(r"II\.2\.5\. Tổ chức Lễ phát động Phong trào “Bình dân học vụ số”(.*?)</tr>", report.text, re.S)
    assert row, "the launch ceremony's row"
    cells = text_of(row.group(1))
    assert f"Hoàn thành ngày {today:%d/%m/%Y}" in cells and f"{today:%d/%m/%Y}: {event.title}" in cells
    assert "Tổng số 24 nhiệm vụ; hoàn thành 1;" in text
    assert "1 nhiệm vụ có minh chứng trong kỳ (1 minh chứng)" in text
    # The learning figures of the commune for the same period, from the statistics plugin.
    assert "II. Kết quả học tập của người dân trong kỳ" in text and "Người học đã đăng ký" in text

    xlsx = staff.get(f"{BASE}/{plan.id}/bao-cao.xlsx?{query}")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["Báo cáo"]
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "ỦY BAN NHÂN DÂN XÃ MINH CHÂU" and rows[3][0] == "BÁO CÁO"
    launch_row = next(r for r in rows if r[2] == "Tổ chức Lễ phát động Phong trào “Bình dân học vụ số”")
    assert launch_row[1] == "II.2.5" and launch_row[3] == "Văn phòng HĐND và UBND"
    assert launch_row[5] == f"Hoàn thành ngày {today:%d/%m/%Y}" and launch_row[6] == f"{today:%d/%m/%Y}: {event.title}"
    learners = next(r for r in rows if r[1] == "Người học đã đăng ký")
    assert learners[2] == "người" and learners[3] >= 1
    proofs = list(book["Minh chứng"].iter_rows(values_only=True))
    assert proofs[1][:2] == ("II.2.5", launch.title) and proofs[1][3] == event.title

    # Removed from the task: gone from the next report.
    evidence_id = db.exec(select(Evidence.id)).scalars().one()
    db.commit()
    gone = _post(staff, f"{BASE}/viec/{launch.id}/minh-chung/{evidence_id}/go", page=f"{BASE}/viec/{launch.id}")
    assert gone.status_code == 303 and _count(db, Evidence) == 0
    assert event.title not in staff.get(f"{BASE}/{plan.id}/bao-cao?{query}").text


def test_an_event_held_through_the_events_plugin(town, db, app):
    from lms.context import Context
    from lms.plugins.events import services as events

    staff = town.people["staff"]
    made = events.save_event(Context(app.state.engine, app.state.pm, app.state.settings), actor=staff,
                             known_course_ids=set(), commune_id=town.places.commune.id, data=events.EventInput(
                                 title="Hội nghị triển khai Nghị quyết số 57-NQ/TW", kind="hoi-nghi",
                                 place_text="Hội trường UBND xã", starts_at="2026-11-10T08:00",
                                 ends_at="2026-11-10T11:00"))
    with Session(app.state.engine) as session:
        offered = [c for c in flatten(app.state.pm.hook.evidence_choices(db=session, user=staff))
                   if isinstance(c, EvidenceChoice) and c.key == f"su-kien:{made.code}"]
    assert offered and offered[0].title.startswith(made.title)
    client = town.clients["staff"]
    _import(client)
    conference = _task(db, _plan(db, town.places.commune.id), "ii-2-3-hoi-nghi")
    linked = _post(client, f"{BASE}/viec/{conference.id}/minh-chung", {"key": offered[0].key},
                   page=f"{BASE}/viec/{conference.id}")
    assert linked.status_code == 303
    fresh(db)
    proof = db.exec(select(Evidence)).scalars().one()
    db.commit()
    assert (proof.key, proof.title, proof.url) == (offered[0].key, offered[0].title, f"/e/{made.code}")


def test_an_outside_link_is_checked(town, db):
    staff = town.clients["staff"]
    _import(staff)
    portal = _task(db, _plan(db, town.places.commune.id), "ii-2-2-cong-thong-tin")
    path = f"{BASE}/viec/{portal.id}/lien-ket"
    tomorrow = local_today() + timedelta(days=1)
    for url, day, message in (("http://namsach.vn/bai", "", "bắt đầu bằng https://"),
                              ("javascript:alert(1)", "", "bắt đầu bằng https://"),
                              ("https://namsach.vn/bai viet", "", "bắt đầu bằng https://"),
                              ("https://namsach.vn/bai", tomorrow.isoformat(), "không được sau hôm nay"),
                              ("https://namsach.vn/bai", "31/02/2026", "Ngày không hợp lệ")):
        refused = _post(staff, path, {"url": url, "label": "Bài đăng trên Cổng thông tin", "day": day},
                        page=f"{BASE}/viec/{portal.id}")
        assert refused.status_code == 422, url
        assert message in text_of(refused.text), url
        assert 'value="Bài đăng trên Cổng thông tin"' in refused.text  # input kept
    no_label = _post(staff, path, {"url": "https://namsach.vn/bai", "label": " ", "day": local_today().isoformat()},
                     page=f"{BASE}/viec/{portal.id}")
    assert no_label.status_code == 422 and "Hãy ghi tên của minh chứng" in text_of(no_label.text)
    assert 'value="https://namsach.vn/bai"' in no_label.text
    assert _count(db, Evidence) == 0
    good = _post(staff, path, {"url": "https://namsach.vn/tin/57", "label": "Bài đăng trên Cổng thông tin",
                               "day": "02/11/2026"}, page=f"{BASE}/viec/{portal.id}")
    assert good.status_code == 303
    page = text_of(staff.get(f"{BASE}/viec/{portal.id}").text)
    assert "02/11/2026 · Liên kết bên ngoài: Bài đăng trên Cổng thông tin" in page
    assert 'href="https://namsach.vn/tin/57" rel="noopener noreferrer nofollow"' in staff.get(
        f"{BASE}/viec/{portal.id}").text


# --- Tasks --------------------------------------------------------------------------------


def test_late_tasks_are_listed_first_in_words(town, db):
    staff = town.clients["staff"]
    made = _post(staff, BASE, {"commune_id": "", "title": "Kế hoạch chuyển đổi số năm nay", "year": "2026",
                               "document_number": "15/KH-UBND", "document_date": "20/8/2025"})
    assert made.status_code == 303
    plan = _plan(db, town.places.commune.id)
    today = local_today()
    yesterday, soon, earlier = today - timedelta(days=1), today + timedelta(days=10), today - timedelta(days=30)
    for title, deadline, status in (("Việc còn hạn", soon, "dang-lam"), ("Việc đã xong", earlier, "hoan-thanh"),
                                    ("Việc tạm dừng", earlier, "tam-dung"), ("Việc quá hạn", yesterday, "dang-lam")):
        added = _post(staff, f"{BASE}/{plan.id}/viec-moi", {**TASK_FORM, "title": title,
                                                           "deadline": deadline.isoformat(), "status": status},
                      page=f"{BASE}/{plan.id}/viec-moi")
        assert added.status_code == 303, added.text
    page = text_of(staff.get(f"{BASE}/{plan.id}").text)
    assert "4 nhiệm vụ · 1 hoàn thành · 1 trễ hạn hoặc bỏ lỡ kỳ" in page
    late_part = page[page.index("Việc trễ hạn, bỏ lỡ kỳ (1)"):page.index("Nhiệm vụ theo đơn vị chủ trì")]
    assert "Việc quá hạn" in late_part and f"TRỄ HẠN: hạn {yesterday:%d/%m/%Y}, chưa hoàn thành" in late_part
    assert "Việc còn hạn" not in late_part and "Việc đã xong" not in late_part and "Việc tạm dừng" not in late_part
    group = page[page.index("Văn phòng HĐND và UBND (4)"):]
    order = [group.index(title) for title in ("Việc quá hạn", "Việc còn hạn", "Việc đã xong", "Việc tạm dừng")]
    assert order == sorted(order)  # added last, the late one leads its body's list too


def test_bad_task_input_is_explained_kept_and_writes_nothing(town, db):
    staff = town.clients["staff"]
    _import(staff)
    plan = _plan(db, town.places.commune.id)
    before = _count(db, Change)
    page = f"{BASE}/{plan.id}/viec-moi"
    bad = _post(staff, page, {**TASK_FORM, "title": "  ", "deadline": "2026-12-01", "recurrence": "weekly",
                              "starts_on": "32/13/2026", "notes": "Ghi chú cần giữ lại", "body": "ban-khac"},
                page=page)
    assert bad.status_code == 422
    shown = text_of(bad.text)
    for message in ("Vui lòng nhập tên nhiệm vụ.", "Nhiệm vụ định kỳ không có hạn riêng", "Ngày không hợp lệ",
                    "Vui lòng chọn đơn vị chủ trì."):
        assert message in shown
    assert "Ghi chú cần giữ lại" in bad.text and 'value="32/13/2026"' in bad.text
    assert _count(db, Task) == 24 and _count(db, Change) == before
    long = _post(staff, page, {**TASK_FORM, "title": "Dài " * 100}, page=page)
    assert long.status_code == 422 and "Tối đa 300 ký tự." in text_of(long.text)
    bad_plan = _post(staff, f"{BASE}/{plan.id}", {"title": "Kế hoạch mới", "year": "năm nay"},
                     page=f"{BASE}/{plan.id}")
    assert bad_plan.status_code == 422 and "Năm là số có 4 chữ số" in text_of(bad_plan.text)
    assert 'value="Kế hoạch mới"' in bad_plan.text and _plan(db, town.places.commune.id).title == plan.title


def test_report_periods(town, db):
    staff = town.clients["staff"]
    _import(staff)
    plan = _plan(db, town.places.commune.id)
    chooser = staff.get(f"{BASE}/{plan.id}/bao-cao")
    assert chooser.status_code == 200 and "Kỳ báo cáo" in text_of(chooser.text)
    bad = staff.get(f"{BASE}/{plan.id}/bao-cao?ky=thang&thang=13/2026")
    assert bad.status_code == 422 and "Tháng phải từ 1 đến 12." in text_of(bad.text)
    assert 'value="13/2026"' in bad.text
    backwards = staff.get(f"{BASE}/{plan.id}/bao-cao?ky=khoang&from=2026-11-30&to=2026-11-01")
    assert backwards.status_code == 422 and "Ngày kết thúc phải trùng hoặc sau ngày bắt đầu." in backwards.text
    file = staff.get(f"{BASE}/{plan.id}/bao-cao.xlsx?ky=quy&quy=5&nam=2026")
    assert file.status_code == 303 and file.headers["location"] == f"{BASE}/{plan.id}/bao-cao?ky=quy&quy=5&nam=2026"
    year = local_today().year
    quarter = text_of(staff.get(f"{BASE}/{plan.id}/bao-cao?ky=quy&quy=1&nam={year + 1}").text)
    assert f"Kỳ báo cáo: quý I/{year + 1} (từ ngày 01/01/{year + 1} đến hết ngày 31/03/{year + 1})" in quarter
    assert "Kỳ báo cáo chưa bắt đầu nên chưa có số liệu học tập." in quarter
    whole = text_of(staff.get(f"{BASE}/{plan.id}/bao-cao?ky=nam&nam={year}").text)
    assert f"Kỳ báo cáo: năm {year}" in whole and "Tổng số 24 nhiệm vụ" in whole


def test_missed_weeks_of_the_bulletin_on_the_staff_page_and_in_the_report(town, db):
    from lms.plugins.ke_hoach.periods import period_of

    staff = town.clients["staff"]
    _import(staff)
    plan = _plan(db, town.places.commune.id)
    bulletin = _task(db, plan, "ii-2-1-ban-tin")
    today = local_today()
    weeks = [period_of("weekly", today - timedelta(weeks=n)) for n in (3, 2, 1)]
    counted = _post(staff, f"{BASE}/viec/{bulletin.id}", _form_of(bulletin, starts_on=weeks[0].start.isoformat(),
                                                                  status="dang-lam"),
                    page=f"{BASE}/viec/{bulletin.id}")
    assert counted.status_code == 303
    aired = _post(staff, f"{BASE}/viec/{bulletin.id}/lien-ket", {
        "url": "https://namsach.vn/ban-tin", "label": "Bản tin phát thanh", "day": weeks[0].end.isoformat()},
        page=f"{BASE}/viec/{bulletin.id}")
    assert aired.status_code == 303
    missed = f"BỎ LỠ 2 KỲ: {weeks[1].label}; {weeks[2].label}"
    board = text_of(staff.get(f"{BASE}/{plan.id}").text)
    late_part = board[board.index("Việc trễ hạn, bỏ lỡ kỳ (1)"):board.index("Nhiệm vụ theo đơn vị chủ trì")]
    assert "II.2.1. Đăng tải tin tức" in late_part and missed in late_part
    query = f"ky=khoang&from={weeks[0].start.isoformat()}&to={today.isoformat()}"
    report = text_of(staff.get(f"{BASE}/{plan.id}/bao-cao?{query}").text)
    assert f"Thực hiện 1/3 kỳ ({weeks[0].label}). Bỏ lỡ 2 kỳ: {weeks[1].label}; {weeks[2].label}" in report
    assert "trễ hạn hoặc bỏ lỡ kỳ 1 (bỏ lỡ 2 kỳ)" in report
    assert f"{weeks[0].end:%d/%m/%Y}: Bản tin phát thanh" in report


# --- Who may open what --------------------------------------------------------------------


def _routes(db, town):
    _import(town.clients["staff"])
    plan = _plan(db, town.places.commune.id)
    task = _task(db, plan, "ii-2-2-cong-thong-tin")
    town.source.choices = [_choice(town.places.commune, key="tin-tuc:1", title="Tin về Nghị quyết 57")]
    link = {"url": "https://namsach.vn/tin/1", "label": "Bài đăng", "day": local_today().isoformat()}
    with Session(db.get_bind()) as session:
        session.add(Evidence(task_id=task.id, key="lien-ket:cu", title="Minh chứng cũ", url="https://a.vn/x",
                             at=datetime.now(UTC)))
        session.commit()
    fresh(db)
    evidence_id = db.exec(select(Evidence.id)).scalars().one()
    db.commit()
    own = [
        ("GET", f"{BASE}/{plan.id}", None), ("POST", f"{BASE}/{plan.id}", {"title": plan.title}),
        ("GET", f"{BASE}/{plan.id}/viec-moi", None), ("POST", f"{BASE}/{plan.id}/viec-moi", TASK_FORM),
        ("GET", f"{BASE}/{plan.id}/bao-cao?ky=nam&nam=2026", None),
        ("GET", f"{BASE}/{plan.id}/bao-cao.xlsx?ky=nam&nam=2026", None),
        ("GET", f"{BASE}/viec/{task.id}", None), ("POST", f"{BASE}/viec/{task.id}", {**TASK_FORM, "notes": "x"}),
        ("POST", f"{BASE}/viec/{task.id}/minh-chung", {"key": "tin-tuc:1"}),
        ("POST", f"{BASE}/viec/{task.id}/lien-ket", link),
        ("POST", f"{BASE}/viec/{task.id}/minh-chung/{evidence_id}/go", None),
    ]
    shared = [("GET", BASE, None), ("POST", BASE, {"title": "Kế hoạch khác"}),
              ("POST", f"{BASE}/nhap-mau", {})]
    return plan, own, shared


def _call(client, method, path, data, form_page="/"):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={**(data or {}), "csrf_token": csrf(client, form_page)})


def test_access_per_role_on_every_route(town, db, app):
    plan, own, shared = _routes(db, town)
    declared = {(method, route.path) for route in app_routes(app) if route.path.startswith(BASE)
                for method in route.methods}
    templated = {(m, re.sub(r"/\d+", "/{}", p.split("?")[0])) for m, p, _ in own + shared}
    assert {(m, re.sub(r"\{\w+\}", "{}", p)) for m, p in declared} == templated, "a route without a test"
    for method, path, data in own + shared:
        anonymous = _call(town.clients["anonymous"], method, path, data, form_page="/login")
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login"), path
        for role in ("learner", "team_member"):
            denied = _call(town.clients[role], method, path, data)
            assert denied.status_code == 403, (role, path)
    before = (_count(db, Change), _count(db, Evidence), _count(db, Task))
    for method, path, data in own:
        assert _call(town.clients["other_staff"], method, path, data).status_code == 404, path
    assert (_count(db, Change), _count(db, Evidence), _count(db, Task)) == before
    # Staff of another commune asking for this commune's list by its id: not found either.
    assert town.clients["other_staff"].get(f"{BASE}?commune={town.places.commune.id}").status_code == 404
    assert _call(town.clients["other_staff"], "POST", f"{BASE}/nhap-mau",
                 {"commune_id": str(town.places.commune.id)}).status_code == 404
    for role in ("staff", "admin"):
        for method, path, data in own:
            if role == "admin" and path.endswith("/go"):
                continue  # removed by staff already
            answer = _call(town.clients[role], method, path, data)
            assert answer.status_code in (200, 303), (role, path, answer.status_code)
    assert town.clients["staff"].get(BASE).status_code == 200
    admin_list = text_of(town.clients["admin"].get(f"{BASE}?commune={town.places.commune.id}").text)
    assert "Kế hoạch của Xã Minh Châu" in admin_list and plan.title[:40] in admin_list
    assert "Chọn một xã/phường" in text_of(town.clients["admin"].get(BASE).text)
    assert town.clients["admin"].get(f"{BASE}?commune={town.places.villages[0].id}").status_code == 404
    # The staff area lists the page for staff and administrators only.
    assert f'href="{BASE}"' in town.clients["staff"].get("/staff").text
    assert f'href="{BASE}"' in town.clients["admin"].get("/staff").text


def test_staff_without_a_commune_are_told_why(db, settings, make_client):
    loose = make_client()
    login(loose, make_user(db, settings, role="staff", name="Cán Bộ Mới").phone)
    page = loose.get(BASE)
    assert page.status_code == 200 and "chưa thuộc xã/phường nào" in text_of(page.text)


# --- The staff member who changed a task --------------------------------------------------


def test_who_changed_a_task_is_exported_erased_and_merged(town, db, app):
    staff = town.clients["staff"]
    _import(staff)
    task = _task(db, _plan(db, town.places.commune.id), "iii-1-bao-cao")
    _post(staff, f"{BASE}/viec/{task.id}", _form_of(task, status="dang-lam", notes="Đã nhắc các phòng"),
          page=f"{BASE}/viec/{task.id}")
    person, pm = town.people["staff"], app.state.pm
    keep = make_user(db, app.state.settings, name="Tài Khoản Giữ")
    with Session(app.state.engine) as session:
        sections = [s for s in flatten(pm.hook.personal_data_export(db=session, user=person))
                    if s.table == "kehoach_change"]
        assert len(sections) == 1 and len(sections[0].rows) == 2
        assert {row["Thay đổi"] for row in sections[0].rows} == {
            "Nhập 24 nhiệm vụ từ kế hoạch mẫu", "Tình trạng: Chưa bắt đầu → Đang làm; Sửa ghi chú"}
        # The merge hook of this plugin alone: the others' need the merge's own transaction.
        ours = pm.get_plugin("ke_hoach")
        preview = ours.merge_accounts(db=session, keep=keep, drop=person, apply=False)
        assert [(i.label, i.count) for i in preview] == [("Thay đổi trong kế hoạch tuyên truyền", 2)]
        assert session.exec(select(func.count()).select_from(Change).where(
            Change.changed_by_id == keep.id)).scalar() == 0
        ours.merge_accounts(db=session, keep=keep, drop=person, apply=True)
        assert session.exec(select(func.count()).select_from(Change).where(
            Change.changed_by_id == keep.id)).scalar() == 2
        notes = ours.personal_data_erase(db=session, user=keep, actor=town.people["admin"])
        assert (notes[0].action, notes[0].count) == ("anonymised", 2)
        assert session.exec(select(func.count()).select_from(Change).where(
            Change.changed_by_id.is_not(None))).scalar() == 0
        assert session.exec(select(func.count()).select_from(Change)).scalar() == 2  # what changed stays
        session.rollback()
