"""Teams, assisted enrolment with duplicate checks, in-person learning, login cards, bulk import."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from lms.core import services as core
from lms.core.models import Place, User
from lms.db import utcnow
from lms.plugins.certificates import services as certificates
from lms.plugins.courses import services as courses
from lms.plugins.teams.models import (
    AssistedResident,
    ImportBatch,
    LoginCard,
    Team,
    TeamMember,
    TeamVillage,
)
from lms.security import new_token, token_digest
from lms.spreadsheet import safe_cell, with_bom
from lms.text import InvalidInput, clean_text, fold, normalize_name, normalize_phone, parse_field


@dataclass
class FormProblems(Exception):
    errors: dict[str, str] = field(default_factory=dict)


class TeamError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# --- Teams and who may see what ---------------------------------------------------


def teams_visible_to(db: Session, user: User) -> list[Team]:
    statement = select(Team).order_by(Team.name)
    if user.role == "admin":
        return list(db.exec(statement).scalars().all())
    if user.role == "staff":
        return list(db.exec(statement.where(Team.commune_id == user.commune_id)).scalars().all())
    member_of = select(TeamMember.team_id).where(TeamMember.user_id == user.id)
    return list(db.exec(statement.where(Team.id.in_(member_of))).scalars().all())


def team_for(db: Session, user: User, team_id: int) -> Team | None:
    """The team if this user may work with it: its members, its commune's staff, admins."""
    team = db.get(Team, team_id)
    if team is None:
        return None
    if user.role == "admin" or (user.role == "staff" and team.commune_id == user.commune_id):
        return team
    is_member = db.exec(select(TeamMember).where(TeamMember.team_id == team_id,
                                                 TeamMember.user_id == user.id)).first()
    return team if is_member else None


def village_ids(db: Session, team_id: int) -> list[int]:
    return list(db.exec(select(TeamVillage.village_id).where(TeamVillage.team_id == team_id)).scalars().all())


def villages_of(db: Session, team_id: int) -> list[Place]:
    ids = village_ids(db, team_id)
    return list(db.exec(select(Place).where(Place.id.in_(ids)).order_by(Place.name)).scalars().all())


def members_of(db: Session, team_id: int) -> list[User]:
    return list(db.exec(select(User).join(TeamMember, TeamMember.user_id == User.id)
                        .where(TeamMember.team_id == team_id).order_by(User.full_name)).scalars().all())


def save_team(db: Session, *, commune: Place, name: str, village_ids_raw: list[str],
              team: Team | None = None) -> Team:
    errors: dict[str, str] = {}
    try:
        name = clean_text(name, max_length=120)
    except InvalidInput as exc:
        errors["name"] = str(exc)
    if not name and "name" not in errors:
        errors["name"] = "Vui lòng đặt tên tổ, ví dụ Tổ công nghệ số thôn Đông."
    chosen = []
    for raw in village_ids_raw:
        village = core.active_village(db, raw)
        if village is None or village.parent_id != commune.id:
            errors["villages"] = "Thôn/tổ dân phố đã chọn không thuộc xã/phường này."
        else:
            chosen.append(village.id)
    if not chosen and "villages" not in errors:
        errors["villages"] = "Chọn ít nhất một thôn/tổ dân phố tổ phụ trách."
    if errors:
        raise FormProblems(errors)
    team = team or Team(commune_id=commune.id, name=name)
    team.name = name
    db.add(team)
    db.flush()
    db.execute(delete(TeamVillage).where(TeamVillage.team_id == team.id))
    for village_id in sorted(set(chosen)):
        db.add(TeamVillage(team_id=team.id, village_id=village_id))
    return team


def add_member(db: Session, *, team: Team, actor: User, phone_raw: str) -> User:
    try:
        phone = normalize_phone(phone_raw)
    except InvalidInput as exc:
        raise FormProblems({"phone": str(exc)}) from exc
    person = db.exec(select(User).where(User.phone == phone)).scalars().first()
    if person is None or (person.commune_id != team.commune_id and person.role != "admin"):
        raise FormProblems({"phone": "Không có tài khoản nào với số này ở xã/phường. "
                                     "Người đó cần đăng ký tài khoản trước."})
    if person.role == "learner":
        core.set_role(db, actor=actor, target=person, role="team_member", commune_id=team.commune_id)
    db.merge(TeamMember(team_id=team.id, user_id=person.id))
    return person


def remove_member(db: Session, *, team: Team, user_id: int) -> None:
    db.execute(delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id))


# --- Residents ----------------------------------------------------------------------


def resident_in_team(db: Session, team: Team, user_id: int) -> User | None:
    person = db.get(User, user_id)
    if person is None or person.village_id not in village_ids(db, team.id):
        return None
    return person


@dataclass
class ResidentInput:
    full_name: str = ""
    phone: str = ""
    village_id: str = ""
    audience: str = ""
    birth_year: str = ""
    consent: bool = False


@dataclass
class Checked:
    name: str
    phone: str | None
    village: Place
    audience: str
    birth_year: int | None


def check_resident(db: Session, team: Team, data: ResidentInput) -> Checked:
    errors: dict[str, str] = {}
    name = parse_field(errors, "full_name", normalize_name, data.full_name)
    phone = parse_field(errors, "phone", normalize_phone, data.phone) if data.phone.strip() else None
    village = core.active_village(db, data.village_id)
    if village is None or village.id not in village_ids(db, team.id):
        errors["village_id"] = "Chọn một thôn/tổ dân phố do tổ phụ trách."
    if data.audience not in core.AUDIENCES:
        errors["audience"] = "Chọn nhóm của người dân."
    birth_year = parse_field(errors, "birth_year", core.parse_birth_year, data.birth_year) \
        if data.birth_year.strip() else None
    if not data.consent:
        errors["consent"] = "Cần xác nhận người dân đã đồng ý cho lưu thông tin."
    if errors:
        raise FormProblems(errors)
    return Checked(name, phone, village, data.audience, birth_year)


def possible_duplicates(db: Session, *, name: str, phone: str | None, village_id: int,
                        birth_year: int | None) -> list[User]:
    """Same phone, or the same name (diacritics and case aside), birth year and village."""
    found: list[User] = []
    if phone:
        found += db.exec(select(User).where(User.phone == phone)).scalars().all()
    if birth_year:
        same = db.exec(select(User).where(User.name_folded == fold(name), User.birth_year == birth_year,
                                          User.village_id == village_id)).scalars().all()
        found += [u for u in same if u not in found]
    return found


def enrol_resident(db: Session, *, team: Team, member: User, checked: Checked) -> User:
    person = User(full_name=checked.name, phone=checked.phone, role="learner", audience=checked.audience,
                  village_id=checked.village.id, commune_id=checked.village.parent_id,
                  birth_year=checked.birth_year)
    db.add(person)
    db.flush()
    core.record_consent(db, user=person, purpose="account", method="helper", helper=member)
    db.add(AssistedResident(user_id=person.id, team_id=team.id, registered_by_id=member.id))
    return person


@dataclass
class ResidentRow:
    user: User
    village: str
    done: int
    total: int
    completed: int
    certificates: int

    @property
    def status(self) -> str:
        if self.certificates:
            return "certified"
        if self.completed:
            return "completed"
        if self.done:
            return "in_progress"
        return "not_started"


STATUS_LABELS = {"not_started": "Chưa bắt đầu", "in_progress": "Đang học", "completed": "Đã hoàn thành",
                 "certified": "Đã có chứng nhận"}


def residents(db: Session, *, team: Team, status: str = "", sort: str = "name") -> list[ResidentRow]:
    """Everyone living in the team's villages, with progress: a fixed number of queries."""
    ids = village_ids(db, team.id)
    people = db.exec(select(User).where(User.village_id.in_(ids), User.role != "admin")).scalars().all()
    names = {p.id: p.name for p in db.exec(select(Place).where(Place.id.in_(ids))).scalars().all()}
    person_ids = [p.id for p in people]
    progress = courses.progress_of_learners(db, user_ids=person_ids)
    certified = certificates.valid_counts(db, user_ids=person_ids)
    rows = [ResidentRow(p, names.get(p.village_id, ""), progress[p.id].lessons_done,
                        progress[p.id].lessons_total, progress[p.id].courses_completed,
                        certified.get(p.id, 0)) for p in people]
    if status in STATUS_LABELS:
        rows = [r for r in rows if r.status == status]
    keys = {"name": lambda r: fold(r.user.full_name),
            "village": lambda r: (fold(r.village), fold(r.user.full_name)),
            "progress": lambda r: (-(r.done / r.total if r.total else 0), fold(r.user.full_name))}
    return sorted(rows, key=keys.get(sort, keys["name"]))


def residents_csv(rows: list[ResidentRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Họ và tên", "Thôn/tổ dân phố", "Năm sinh", "Nhóm", "Bài đã học", "Khóa hoàn thành",
                     "Chứng nhận", "Trạng thái"])
    for r in rows:
        writer.writerow([safe_cell(r.user.full_name), safe_cell(r.village), r.user.birth_year or "",
                         core.AUDIENCES.get(r.user.audience or "", ""), r.done, r.completed, r.certificates,
                         STATUS_LABELS[r.status]])
    return with_bom(buffer.getvalue())


@dataclass
class TeamFigures:
    enrolled_week: int
    enrolled_month: int
    completions: int
    by_village: list[tuple[str, int, int]]


def figures(db: Session, *, team: Team, now: datetime | None = None) -> TeamFigures:
    now = now or utcnow()
    base = select(func.count()).select_from(AssistedResident).where(AssistedResident.team_id == team.id)
    week = db.exec(base.where(AssistedResident.registered_at >= now - timedelta(days=7))).one()[0]
    month = db.exec(base.where(AssistedResident.registered_at >= now - timedelta(days=30))).one()[0]
    rows = residents(db, team=team)
    by_village: dict[str, list[int]] = {}
    for r in rows:
        counts = by_village.setdefault(r.village, [0, 0])
        counts[0] += 1
        counts[1] += r.completed > 0
    return TeamFigures(week, month, sum(r.completed for r in rows),
                       sorted((k, v[0], v[1]) for k, v in by_village.items()))


# --- In-person learning ---------------------------------------------------------------


def confirm_lessons(db: Session, *, pm: Any, member: User, resident: User, course: courses.CourseOutline,
                    lesson_ids: list[int]) -> list[Any]:
    """Lessons learned in person, recorded as confirmed by the member."""
    events: list[Any] = []
    for lesson_id in lesson_ids:
        if lesson_id in course.lesson_ids:
            events += courses.complete_lesson(db, pm=pm, user_id=resident.id, course=course,
                                              lesson_id=lesson_id, confirmed_by_id=member.id)
    return events


# --- Login cards -------------------------------------------------------------------


def issue_card(db: Session, *, resident: User, member: User) -> str:
    """A new card (the old ones stop working at once); returns the token to print."""
    if resident.role != "learner":
        raise TeamError("not_learner", "Chỉ cấp thẻ đăng nhập cho người học.")
    revoke_cards(db, resident_id=resident.id)
    token = new_token(24)
    db.add(LoginCard(user_id=resident.id, token_digest=token_digest(token), created_by_id=member.id))
    return token


def revoke_cards(db: Session, *, resident_id: int) -> int:
    result = db.execute(update(LoginCard).where(LoginCard.user_id == resident_id,
                                                LoginCard.revoked_at.is_(None)).values(revoked_at=utcnow()))
    return result.rowcount or 0


def active_card(db: Session, resident_id: int) -> LoginCard | None:
    return db.exec(select(LoginCard).where(LoginCard.user_id == resident_id,
                                           LoginCard.revoked_at.is_(None))).scalars().first()


def card_user(db: Session, token: str) -> User | None:
    """The learner a card signs in, or None (unknown, revoked, or not a learner)."""
    if not token or len(token) > 64:
        return None
    card = db.exec(select(LoginCard).where(LoginCard.token_digest == token_digest(token),
                                           LoginCard.revoked_at.is_(None))).scalars().first()
    if card is None:
        return None
    person = db.get(User, card.user_id)
    return person if person and person.active and person.role == "learner" else None


# --- Bulk import ----------------------------------------------------------------------

IMPORT_HEADERS = ["Họ và tên", "Số điện thoại", "Thôn/tổ dân phố", "Nhóm", "Năm sinh"]
AUDIENCE_BY_LABEL = {fold(label): slug for slug, label in core.AUDIENCES.items()}
AUDIENCE_BY_LABEL.update({fold(slug): slug for slug in core.AUDIENCES})
AUDIENCE_BY_LABEL.update({"can bo": "can-bo", "doanh nghiep": "doanh-nghiep", "to cong nghe": "to-cong-nghe",
                          "nguoi dan": "nguoi-dan"})
MAX_IMPORT_ROWS = 10_000


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(IMPORT_HEADERS)
    writer.writerow(["Nguyễn Thị Lan", "0912 345 678", "Thôn Đông", "Người dân", "1958"])
    return with_bom(buffer.getvalue())


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(IMPORT_HEADERS)
    sheet.append(["Nguyễn Thị Lan", "0912 345 678", "Thôn Đông", "Người dân", 1958])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """Rows of an uploaded CSV or XLSX, header first, as text."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same to the user
            raise TeamError("bad_file", "Không đọc được tệp Excel này.") from exc
        sheet = book.worksheets[0]
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TeamError("bad_encoding", "Tệp CSV cần lưu với mã UTF-8 (trong Excel: CSV UTF-8).") from exc
    return [row for row in csv.reader(io.StringIO(text))]


def preview(db: Session, *, team: Team, table: list[list[str]]) -> list[dict[str, Any]]:
    """Each row as will-create, duplicate-of or error, with the reason; nothing is written."""
    if not table:
        raise TeamError("empty", "Tệp không có dòng nào.")
    header = [fold(h.strip()) for h in table[0]]
    wanted = [fold(h) for h in IMPORT_HEADERS]
    if header[: len(wanted)] != wanted:
        raise TeamError("bad_header", "Dòng đầu phải là: " + ", ".join(IMPORT_HEADERS) + " (dùng tệp mẫu).")
    body = [row for row in table[1:] if any(cell.strip() for cell in row)]
    if len(body) > MAX_IMPORT_ROWS:
        raise TeamError("too_many", f"Mỗi lần nhập tối đa {MAX_IMPORT_ROWS} dòng.")
    villages = {fold(v.name): v for v in villages_of(db, team.id)}
    # Existing people loaded once, so 5,000 rows need no query each.
    people = db.exec(select(User.id, User.full_name, User.phone, User.name_folded, User.birth_year,
                            User.village_id).where(User.village_id.in_([v.id for v in villages.values()])
                                                   | User.phone.is_not(None))).all()
    by_phone = {p.phone: p for p in people if p.phone}
    by_identity = {(p.name_folded, p.birth_year, p.village_id): p for p in people if p.birth_year}
    seen_phones: dict[str, int] = {}
    seen_identity: dict[tuple, int] = {}
    out = []
    for number, raw in enumerate(body, start=2):
        cells = (raw + [""] * 5)[:5]
        row: dict[str, Any] = {"line": number, "cells": [c.strip() for c in cells], "status": "create",
                               "reason": ""}
        problems = []
        try:
            name = normalize_name(cells[0])
        except InvalidInput as exc:
            name = ""
            problems.append(f"Họ tên: {exc}")
        phone = None
        if cells[1].strip():
            try:
                phone = normalize_phone(cells[1])
            except InvalidInput as exc:
                problems.append(f"Số điện thoại: {exc}")
        village = villages.get(fold(cells[2].strip()))
        if village is None:
            problems.append(f"Thôn/tổ “{cells[2].strip()}” không do tổ phụ trách.")
        audience = AUDIENCE_BY_LABEL.get(fold(cells[3].strip())) if cells[3].strip() else "nguoi-dan"
        if audience is None:
            problems.append(f"Nhóm “{cells[3].strip()}” không hợp lệ.")
        birth_year = None
        if cells[4].strip():
            try:
                birth_year = core.parse_birth_year(cells[4].strip().split(".")[0])
            except InvalidInput as exc:
                problems.append(f"Năm sinh: {exc}")
        if problems:
            row.update(status="error", reason=" ".join(problems))
            out.append(row)
            continue
        identity = (fold(name), birth_year, village.id)
        existing = by_phone.get(phone) if phone else None
        existing = existing or (by_identity.get(identity) if birth_year else None)
        if existing is not None:
            row.update(status="duplicate", reason=f"Trùng với người đã có: {existing.full_name}",
                       duplicate_of=existing.id)
        elif phone and phone in seen_phones:
            row.update(status="duplicate", reason=f"Trùng số điện thoại với dòng {seen_phones[phone]}")
        elif birth_year and identity in seen_identity:
            row.update(status="duplicate", reason=f"Trùng với dòng {seen_identity[identity]}")
        else:
            if phone:
                seen_phones[phone] = number
            if birth_year:
                seen_identity[identity] = number
            row["clean"] = {"full_name": name, "phone": phone, "village_id": village.id,
                            "audience": audience, "birth_year": birth_year}
        out.append(row)
    return out


def save_batch(db: Session, *, team: Team, member: User, rows: list[dict[str, Any]]) -> ImportBatch:
    batch = ImportBatch(team_id=team.id, member_id=member.id, rows=rows)
    db.add(batch)
    db.flush()
    return batch


def confirm_batch(db: Session, *, team: Team, member: User, batch: ImportBatch) -> int:
    """Write every will-create row in this one transaction; a failure writes none."""
    if batch.confirmed_at is not None:
        raise TeamError("confirmed", "Danh sách này đã được nhập trước đó.")
    created = 0
    for row in batch.rows:
        clean = row.get("clean")
        if row["status"] != "create" or not clean:
            continue
        village = db.get(Place, clean["village_id"])
        if clean["phone"] and db.exec(select(User.id).where(User.phone == clean["phone"])).first():
            continue  # someone registered this phone since the preview
        checked = Checked(clean["full_name"], clean["phone"], village, clean["audience"], clean["birth_year"])
        enrol_resident(db, team=team, member=member, checked=checked)
        created += 1
    batch.confirmed_at = utcnow()
    db.add(batch)
    return created

