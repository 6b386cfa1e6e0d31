"""Following up the commune's plan: plans and tasks, their evidence, what is late, and the example."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlmodel import Session

from lms.channels import EvidenceChoice
from lms.context import Context
from lms.core.models import Place, User
from lms.db import insert_ignore, utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.plugins.ke_hoach import example
from lms.plugins.ke_hoach.example import BODIES
from lms.plugins.ke_hoach.models import Change, Evidence, Plan, Task
from lms.plugins.ke_hoach.periods import RECURRENCES, Tally, tally
from lms.plugins.stats.services import parse_day
from lms.stats_scope import VIETNAM, local_today
from lms.text import InvalidInput, clean_text, nfc

STATUSES = {
    "chua-bat-dau": "Chưa bắt đầu",
    "dang-lam": "Đang làm",
    "hoan-thanh": "Hoàn thành",
    "tam-dung": "Tạm dừng",
}
# Neither late nor missing periods: the task is over, or stopped on purpose.
SETTLED = ("hoan-thanh", "tam-dung")
NOTES_MAX, DETAILS_MAX, WHAT_MAX = 3000, 3000, 500


def local_day(moment: datetime) -> date:
    """The day in Vietnam of a stored (UTC) time."""
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).date()


# --- Who sees what ----------------------------------------------------------------------------


def commune_for(db: Session, user: User, requested: Any) -> Place | None:
    """Whose plans: staff their own commune's; an administrator the commune asked for (None
    until one is chosen). Another commune asked for by staff: NotFound."""
    requested = str(requested or "").strip()
    if user.role != "admin":
        commune = db.get(Place, user.commune_id) if user.commune_id else None
        if commune is None or (requested and requested != str(commune.id)):
            raise NotFound()
        return commune
    if not requested:
        return None
    commune = db.get(Place, int(requested)) if requested.isascii() and requested.isdigit() and len(
        requested) < 10 else None
    if commune is None or commune.kind != "commune":
        raise NotFound()
    return commune


def communes(db: Session) -> list[Place]:
    return list(db.exec(select(Place).where(Place.kind == "commune").order_by(Place.name)).scalars().all())


def _may_see(user: User, plan: Plan) -> bool:
    return user.role == "admin" or (user.role == "staff" and user.commune_id == plan.commune_id)


def plan_for(db: Session, user: User, plan_id: int) -> Plan:
    plan = db.get(Plan, plan_id)
    if plan is None or not _may_see(user, plan):
        raise NotFound()
    return plan


def task_for(db: Session, user: User, task_id: int) -> tuple[Task, Plan]:
    task = db.get(Task, task_id)
    plan = db.get(Plan, task.plan_id) if task is not None else None
    if task is None or plan is None or not _may_see(user, plan):
        raise NotFound()
    return task, plan


def plans_of(db: Session, commune_id: int) -> list[Plan]:
    return list(db.exec(select(Plan).where(Plan.commune_id == commune_id)
                        .order_by(Plan.year.desc(), Plan.id.desc())).scalars().all())


def task_counts(db: Session, plan_ids: list[int]) -> dict[int, int]:
    if not plan_ids:
        return {}
    rows = db.exec(select(Task.plan_id, func.count()).where(Task.plan_id.in_(plan_ids)).group_by(Task.plan_id))
    return dict(rows.all())


# --- What is late -----------------------------------------------------------------------------


@dataclass
class TaskState:
    task: Task
    evidence: list[Evidence]
    late: bool
    late_text: str  # what makes it late, in words: never only a colour
    periods: Tally | None  # recurring tasks
    timing: str  # "Hạn 30/09/2026", "Hằng tuần (từ 01/12/2026)", "Không có hạn"

    @property
    def body_label(self) -> str:
        return BODIES.get(self.task.body, self.task.body)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.task.status, self.task.status)

    @property
    def done(self) -> bool:
        if self.periods is not None:
            return self.task.status == "hoan-thanh" or (self.periods.due > 0 and not self.periods.missed)
        return self.task.status == "hoan-thanh"


def timing_text(task: Task) -> str:
    if task.recurrence:
        start = f" (từ {task.starts_on:%d/%m/%Y})" if task.starts_on else ""
        return RECURRENCES.get(task.recurrence, task.recurrence) + start
    if task.deadline:
        return f"Hạn {task.deadline:%d/%m/%Y}"
    return "Không có hạn"


def assess(task: Task, evidence: list[Evidence], *, today: date,
           window: tuple[date, date] | None = None) -> TaskState:
    """Where a task stands today; with `window` (a report's days), the periods due within it
    and, for a one-off task, whether it was late at the window's end."""
    periods = None
    late, late_text = False, ""
    if task.recurrence:
        periods = tally(task.recurrence, starts_on=task.starts_on or today,
                        days_done={local_day(e.at) for e in evidence}, today=today, window=window)
        if periods.missed and task.status not in SETTLED:
            late = True
            late_text = f"BỎ LỠ {len(periods.missed)} KỲ: " + "; ".join(p.label for p in periods.missed)
    elif task.deadline:
        as_of = min(today, window[1]) if window else today
        done_by = task.status == "hoan-thanh" and (task.done_at is None or local_day(task.done_at) <= as_of)
        if task.deadline < as_of and not done_by and task.status != "tam-dung":
            late = True
            late_text = f"TRỄ HẠN: hạn {task.deadline:%d/%m/%Y}, chưa hoàn thành"
    return TaskState(task, evidence, late, late_text, periods, timing_text(task))


def evidence_of(db: Session, task_ids: list[int]) -> dict[int, list[Evidence]]:
    out: dict[int, list[Evidence]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        for row in db.exec(select(Evidence).where(Evidence.task_id.in_(task_ids))
                           .order_by(Evidence.at, Evidence.id)).scalars():
            out[row.task_id].append(row)
    return out


def tasks_of(db: Session, plan_id: int) -> list[Task]:
    return list(db.exec(select(Task).where(Task.plan_id == plan_id).order_by(Task.position, Task.id)).scalars())


def _late_first(state: TaskState) -> tuple[Any, ...]:
    """Late ones first, then the plan's order."""
    return (not state.late, state.task.position, state.task.id)


def _longest_late_first(state: TaskState) -> tuple[Any, ...]:
    deadline = state.task.deadline or date.max
    missed = len(state.periods.missed) if state.periods else 0
    return (deadline, -missed, state.task.position, state.task.id)


@dataclass
class Board:
    plan: Plan
    late: list[TaskState]
    groups: list[tuple[str, list[TaskState]]]  # body label, its tasks (late ones first)
    total: int
    done: int


def board(db: Session, plan: Plan, *, today: date | None = None) -> Board:
    today = today or local_today()
    tasks = tasks_of(db, plan.id)
    evidence = evidence_of(db, [t.id for t in tasks])
    states = [assess(t, evidence[t.id], today=today) for t in tasks]
    order = list(BODIES)
    by_body: dict[str, list[TaskState]] = {}
    for state in states:
        by_body.setdefault(state.task.body, []).append(state)
    groups = [(BODIES.get(body, body), sorted(rows, key=_late_first))
              for body, rows in sorted(by_body.items(), key=lambda item: order.index(item[0])
                                       if item[0] in order else len(order))]
    late = sorted((s for s in states if s.late), key=_longest_late_first)
    return Board(plan, late, groups, len(states), sum(1 for s in states if s.done))


@dataclass(frozen=True)
class ChangeLine:
    what: str
    at: datetime
    who: str


def changes_of(db: Session, *, task_id: int, limit: int = 30) -> list[ChangeLine]:
    rows = db.exec(select(Change, User.full_name).join(User, User.id == Change.changed_by_id, isouter=True)
                   .where(Change.task_id == task_id).order_by(Change.changed_at.desc(), Change.id.desc())
                   .limit(limit)).all()
    return [ChangeLine(change.what, change.changed_at, name or "Không rõ (lệnh hoặc tài khoản đã xoá)")
            for change, name in rows]


def _record(db: Session, *, plan_id: int, task_id: int | None, actor: User | None, what: str) -> None:
    db.add(Change(plan_id=plan_id, task_id=task_id, changed_by_id=actor.id if actor else None,
                  what=what[:WHAT_MAX]))


# --- Plans --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    title: str = ""
    year: str = ""
    document_number: str = ""
    document_date: str = ""


def _plan_values(data: PlanInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, limit, empty in (("title", 300, "Vui lòng nhập tên kế hoạch."), ("document_number", 60, ""),
                               ("document_date", 40, "")):
        try:
            values[name] = clean_text(getattr(data, name), max_length=limit)
        except InvalidInput as exc:
            errors[name] = str(exc)
            continue
        if empty and not values[name]:
            errors[name] = empty
    year = data.year.strip()
    values["year"] = None
    if year:
        if not (year.isascii() and year.isdigit()) or not 2000 <= int(year) <= 2100:
            errors["year"] = "Năm là số có 4 chữ số, từ 2000 đến 2100 (hoặc để trống)."
        else:
            values["year"] = int(year)
    if errors:
        raise FormErrors(errors)
    return values


def save_plan(ctx: Context, *, actor: User, data: PlanInput, commune_id: int | None = None,
              plan_id: int | None = None) -> Plan:
    """A new plan of `commune_id`, or `plan_id` changed; FormErrors lists every problem."""
    values = _plan_values(data)
    with ctx.transaction() as db:
        if plan_id is not None:
            plan = plan_for(db, actor, plan_id)
            changed = [name for name, value in values.items() if getattr(plan, name) != value]
            if not changed:
                return plan
            for name in changed:
                setattr(plan, name, values[name])
            plan.updated_at = utcnow()
            db.add(plan)
            _record(db, plan_id=plan.id, task_id=None, actor=actor, what="Sửa thông tin kế hoạch")
            return plan
        commune = db.get(Place, commune_id) if commune_id else None
        if commune is None or commune.kind != "commune" or (actor.role != "admin" and commune.id != actor.commune_id):
            raise NotFound()
        plan = Plan(commune_id=commune.id, **values)
        db.add(plan)
        db.flush()
        _record(db, plan_id=plan.id, task_id=None, actor=actor, what="Tạo kế hoạch")
        return plan


# --- Tasks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskInput:
    title: str = ""
    section: str = ""
    details: str = ""
    body: str = ""
    partners: str = ""
    deadline: str = ""
    recurrence: str = ""
    starts_on: str = ""
    status: str = ""
    notes: str = ""


FIELD_LABELS = {"title": "tên", "section": "mục", "details": "nội dung", "body": "đơn vị chủ trì",
                "partners": "đơn vị phối hợp", "deadline": "hạn", "recurrence": "định kỳ",
                "starts_on": "ngày bắt đầu tính kỳ", "notes": "ghi chú"}


def _text(errors: dict[str, str], name: str, raw: str, limit: int) -> str:
    try:
        return clean_text(raw, max_length=limit)
    except InvalidInput as exc:
        errors[name] = str(exc)
        return ""


def _long_text(errors: dict[str, str], name: str, raw: str, limit: int) -> str:
    value = nfc(raw or "").replace("\r\n", "\n").strip()
    if len(value) > limit:
        errors[name] = f"Tối đa {limit} ký tự."
    return value


def _task_values(data: TaskInput, *, today: date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "title": _text(errors, "title", data.title, 300),
        "section": _text(errors, "section", data.section, 20),
        "partners": _text(errors, "partners", data.partners, 300),
        "details": _long_text(errors, "details", data.details, DETAILS_MAX),
        "notes": _long_text(errors, "notes", data.notes, NOTES_MAX),
    }
    if not values["title"] and "title" not in errors:
        errors["title"] = "Vui lòng nhập tên nhiệm vụ."
    if data.body not in BODIES:
        errors["body"] = "Vui lòng chọn đơn vị chủ trì."
    values["body"] = data.body
    if data.status not in STATUSES:
        errors["status"] = "Vui lòng chọn tình trạng."
    values["status"] = data.status
    if data.recurrence and data.recurrence not in RECURRENCES:
        errors["recurrence"] = "Định kỳ không hợp lệ."
    values["recurrence"] = data.recurrence if data.recurrence in RECURRENCES else ""
    for name in ("deadline", "starts_on"):
        try:
            values[name] = parse_day(getattr(data, name))
        except InvalidInput as exc:
            errors[name] = str(exc)
            values[name] = None
    if values["recurrence"] and values["deadline"]:
        errors["deadline"] = "Nhiệm vụ định kỳ không có hạn riêng: để trống hạn, hoặc chọn “Không định kỳ”."
    if values["recurrence"]:
        values["starts_on"] = values["starts_on"] or today
    else:
        values["starts_on"] = None
    if errors:
        raise FormErrors(errors)
    return values


def _describe(task: Task, values: dict[str, Any]) -> tuple[list[str], str]:
    changed = [name for name, value in values.items() if getattr(task, name) != value]
    parts = []
    if "status" in changed:
        parts.append(f"Tình trạng: {STATUSES.get(task.status, task.status)} → {STATUSES[values['status']]}")
    others = [FIELD_LABELS[name] for name in changed if name in FIELD_LABELS]
    if others:
        parts.append("Sửa " + ", ".join(others))
    return changed, "; ".join(parts)


def save_task(ctx: Context, *, actor: User, data: TaskInput, plan_id: int | None = None,
              task_id: int | None = None) -> Task:
    """A new task of `plan_id`, or `task_id` changed, with who and when; one unit of work."""
    today = local_today()
    values = _task_values(data, today=today)
    with ctx.transaction() as db:
        if task_id is not None:
            task, plan = task_for(db, actor, task_id)
            if task.recurrence and values["recurrence"] == task.recurrence and not data.starts_on.strip():
                values["starts_on"] = task.starts_on  # an emptied field keeps the counted periods
            changed, what = _describe(task, values)
            if not changed:
                return task
        else:
            plan = plan_for(db, actor, plan_id or 0)
            position = db.exec(select(func.max(Task.position)).where(Task.plan_id == plan.id)).scalar() or 0
            task, what = Task(plan_id=plan.id, position=position + 1, **values), "Thêm nhiệm vụ"
        if values["status"] == "hoan-thanh" and task.status != "hoan-thanh":
            task.done_at = utcnow()
        elif values["status"] != "hoan-thanh":
            task.done_at = None
        for name, value in values.items():
            setattr(task, name, value)
        task.updated_at = utcnow()
        db.add(task)
        db.flush()
        _record(db, plan_id=plan.id, task_id=task.id, actor=actor, what=what)
        return task


# --- Evidence ----------------------------------------------------------------------------------


def choices_for(plan: Plan, offered: list[Any]) -> list[EvidenceChoice]:
    """What may be linked to a task of `plan`: choices the hook offered this person, of the
    plan's commune or of the whole installation."""
    return [c for c in offered if isinstance(c, EvidenceChoice) and c.commune_id in (None, plan.commune_id)]


EVIDENCE_ERRORS = {
    "not_offered": "Mục đã chọn không có trong danh sách minh chứng của xã (có thể đã bị gỡ). Hãy chọn lại.",
    "no_choice": "Hãy chọn một việc xã đã làm để làm minh chứng.",
    "url": "Địa chỉ phải là một trang web đầy đủ, bắt đầu bằng https:// (ví dụ https://namsach.haiphong.gov.vn/…).",
    "label": "Hãy ghi tên của minh chứng (tối đa 300 ký tự), ví dụ “Bài đăng trên trang Fanpage của xã”.",
    "day": "Hãy nhập ngày thực hiện (ngày/tháng/năm).",
    "future": "Ngày thực hiện không được sau hôm nay.",
}


def _add_evidence(db: Session, task: Task, plan: Plan, actor: User, values: dict[str, Any]) -> Evidence:
    inserted = insert_ignore(db, Evidence, {"task_id": task.id, "added_at": utcnow(), **values}, ["task_id", "key"])
    row = db.exec(select(Evidence).where(Evidence.task_id == task.id, Evidence.key == values["key"])).scalars().one()
    if inserted:
        # The same link sent twice (a phone retrying) is attached once and noted once.
        _record(db, plan_id=plan.id, task_id=task.id, actor=actor,
                what=f"Thêm minh chứng: {row.title} ({local_day(row.at):%d/%m/%Y})")
        task.updated_at = utcnow()
        db.add(task)
    return row


def attach_choice(ctx: Context, *, actor: User, task_id: int, key: str, offered: list[Any]) -> Evidence:
    """Link what the commune did (an EvidenceChoice offered now) to the task, copied as it is."""
    key = (key or "").strip()
    if not key:
        raise FormErrors({"key": EVIDENCE_ERRORS["no_choice"]})
    with ctx.transaction() as db:
        task, plan = task_for(db, actor, task_id)
        choice = next((c for c in choices_for(plan, offered) if c.key == key), None)
        if choice is None:
            raise FormErrors({"key": EVIDENCE_ERRORS["not_offered"]}, code="not_offered")
        return _add_evidence(db, task, plan, actor, {
            "key": choice.key[:120], "group": choice.group[:120], "title": choice.title[:300],
            "url": choice.url[:500], "at": choice.at})


def check_link(url: str) -> str:
    """An https address on another site, as typed (trimmed); InvalidInput otherwise."""
    url = nfc(url or "").strip()
    parts = urlsplit(url) if len(url) <= 500 and not any(c.isspace() for c in url) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or "." not in parts.hostname \
            or parts.username or parts.password:
        raise InvalidInput(EVIDENCE_ERRORS["url"])
    return url


def attach_link(ctx: Context, *, actor: User, task_id: int, url: str, label: str, day: str) -> Evidence:
    errors: dict[str, str] = {}
    try:
        url = check_link(url)
    except InvalidInput as exc:
        errors["url"] = str(exc)
    try:
        label = clean_text(label, max_length=300)
    except InvalidInput:
        label = ""
    if not label:
        errors["label"] = EVIDENCE_ERRORS["label"]
    when = None
    try:
        when = parse_day(day)
        if when is None:
            errors["day"] = EVIDENCE_ERRORS["day"]
        elif when > local_today():
            errors["day"] = EVIDENCE_ERRORS["future"]
    except InvalidInput as exc:
        errors["day"] = str(exc)
    if errors:
        raise FormErrors(errors)
    # Noon of that day in Vietnam: the day stays the same whatever the time zone it is read in.
    at = datetime.combine(when, time(12), tzinfo=VIETNAM)
    digest = hashlib.sha256(url.encode()).hexdigest()[:40]
    with ctx.transaction() as db:
        task, plan = task_for(db, actor, task_id)
        return _add_evidence(db, task, plan, actor, {
            "key": f"lien-ket:{digest}", "group": "Liên kết bên ngoài", "title": label, "url": url, "at": at})


def remove_evidence(ctx: Context, *, actor: User, task_id: int, evidence_id: int) -> None:
    with ctx.transaction() as db:
        task, plan = task_for(db, actor, task_id)
        row = db.get(Evidence, evidence_id)
        if row is None or row.task_id != task.id:
            raise NotFound()
        db.execute(delete(Evidence).where(Evidence.id == row.id))
        _record(db, plan_id=plan.id, task_id=task.id, actor=actor, what=f"Gỡ minh chứng: {row.title}")
        task.updated_at = utcnow()
        db.add(task)


# --- The plan's example ------------------------------------------------------------------------


@dataclass
class ImportReport:
    plan: Plan
    created_plan: bool
    added: list[str] = field(default_factory=list)  # task keys
    kept: int = 0  # already there (imported before): left as the commune changed them


def import_example(ctx: Context, *, commune_id: int, actor: User | None,
                   source: example.ExamplePlan | None = None) -> ImportReport:
    """The example plan's tasks into the commune: the plan once, each task once, whatever ran
    before (a unique key decides); tasks imported earlier are left as the commune changed them."""
    source = source or example.load()
    today = local_today()
    with ctx.transaction() as db:
        commune = db.get(Place, commune_id)
        if commune is None or commune.kind != "commune":
            raise ServiceError("no_commune", "Không có xã/phường này.", 404)
        if actor is not None and actor.role != "admin" and actor.commune_id != commune.id:
            raise NotFound()
        created = insert_ignore(db, Plan, {
            "commune_id": commune.id, "source_key": source.key, "title": source.title, "year": None,
            "document_number": "", "document_date": "", "created_at": utcnow(), "updated_at": utcnow()},
            ["commune_id", "source_key"])
        plan = db.exec(select(Plan).where(Plan.commune_id == commune.id, Plan.source_key == source.key)).scalars().one()
        report = ImportReport(plan, created)
        for position, item in enumerate(source.tasks, 1):
            added = insert_ignore(db, Task, {
                "plan_id": plan.id, "source_key": item.key, "position": position, "section": item.section,
                "title": item.title, "details": item.details, "body": item.body, "partners": item.partners,
                "deadline": None, "recurrence": item.recurrence, "starts_on": today if item.recurrence else None,
                "status": "chua-bat-dau", "done_at": None, "notes": "", "updated_at": utcnow()},
                ["plan_id", "source_key"])
            if added:
                report.added.append(item.key)
            else:
                report.kept += 1
        if report.added:
            _record(db, plan_id=plan.id, task_id=None, actor=actor,
                    what=f"Nhập {len(report.added)} nhiệm vụ từ kế hoạch mẫu")
        return report
