"""Teams, assisted enrolment with duplicate checks, in-person learning, login cards, bulk import.

The functions taking `ctx` are the units of work the pages call; those taking `db` run
inside the caller's transaction and never commit."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session

from lms.context import Context
from lms.core import services as core
from lms.core.models import Place, User
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.plugin_host import flatten
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


def managing(user: User, team: Team) -> bool:
    """Staff of the team's commune and admins manage it (name, villages, members)."""
    return user.role == "admin" or (user.role == "staff" and user.commune_id == team.commune_id)


def _team(db: Session, user: User, team_id: int) -> Team:
    team = team_for(db, user, team_id)
    if team is None:
        raise NotFound()
    return team


def _managed_team(db: Session, user: User, team_id: int) -> Team:
    team = _team(db, user, team_id)
    if not managing(user, team):
        raise ServiceError("not_managing", "Chỉ cán bộ xã/phường quản lý tổ này.", 403)
    return team


def _resident(db: Session, team: Team, user_id: int) -> User:
    person = resident_in_team(db, team, user_id)
    if person is None:
        raise NotFound()
    return person


def teams_of_learner(db: Session, helper: User, learner: User) -> list[Team]:
    """Teams through which `helper` may work with `learner`: those whose villages include the
    learner's, where the helper is a member, staff of its commune, or an admin."""
    if learner.village_id is None or helper.role not in ("team_member", "staff", "admin"):
        return []
    statement = (select(Team).join(TeamVillage, TeamVillage.team_id == Team.id)
                 .where(TeamVillage.village_id == learner.village_id).order_by(Team.id))
    if helper.role != "admin":
        allowed = Team.id.in_(select(TeamMember.team_id).where(TeamMember.user_id == helper.id))
        if helper.role == "staff":
            allowed = or_(allowed, Team.commune_id == helper.commune_id)
        statement = statement.where(allowed)
    return list(db.exec(statement).scalars().all())


def assisted_learner_page(db: Session, helper: User, learner_id: int) -> str | None:
    """The learner's page in the first team the helper may work through, or None."""
    learner = db.get(User, learner_id)
    if learner is None:
        return None
    teams = teams_of_learner(db, helper, learner)
    return f"/teams/{teams[0].id}/residents/{learner.id}" if teams else None


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
        raise FormErrors(errors)
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
        raise FormErrors({"phone": str(exc)}) from exc
    person = db.exec(select(User).where(User.phone == phone)).scalars().first()
    if person is None or (person.commune_id != team.commune_id and person.role != "admin"):
        raise FormErrors({"phone": "Không có tài khoản nào với số này ở xã/phường. "
                                   "Người đó cần đăng ký tài khoản trước."})
    if person.role == "learner":
        core.set_role(db, actor=actor, target=person, role="team_member", commune_id=team.commune_id)
    db.merge(TeamMember(team_id=team.id, user_id=person.id))
    return person


def remove_member(db: Session, *, team: Team, user_id: int) -> None:
    db.execute(delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id))


def create_team(ctx: Context, *, actor: User, name: str, village_ids_raw: list[str],
                commune_id_raw: str = "") -> Team:
    """A new team of the staff member's commune, or of the commune an admin picked."""
    with ctx.transaction() as db:
        if actor.role == "admin":
            commune = _picked_commune(db, commune_id_raw)
            if commune is None:
                raise FormErrors({"commune_id": "Chọn xã/phường của tổ."})
        else:
            commune = db.get(Place, actor.commune_id) if actor.commune_id else None
            if commune is None or commune.kind != "commune":
                raise NotFound()
        return save_team(db, commune=commune, name=name, village_ids_raw=village_ids_raw)


def _picked_commune(db: Session, raw: str) -> Place | None:
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        return None
    commune = db.get(Place, int(raw))
    return commune if commune is not None and commune.kind == "commune" and commune.active else None


def update_team(ctx: Context, *, actor: User, team_id: int, name: str, village_ids_raw: list[str]) -> Team:
    with ctx.transaction() as db:
        team = _managed_team(db, actor, team_id)
        commune = db.get(Place, team.commune_id)
        return save_team(db, commune=commune, name=name, village_ids_raw=village_ids_raw, team=team)


def add_team_member(ctx: Context, *, actor: User, team_id: int, phone_raw: str) -> User:
    with ctx.transaction() as db:
        return add_member(db, team=_managed_team(db, actor, team_id), actor=actor, phone_raw=phone_raw)


def remove_team_member(ctx: Context, *, actor: User, team_id: int, user_id: int) -> None:
    with ctx.transaction() as db:
        remove_member(db, team=_managed_team(db, actor, team_id), user_id=user_id)


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
    # The optional purposes the member asked the person about (core.joining_purposes).
    joining: dict[str, bool] = field(default_factory=dict)


@dataclass
class Checked:
    name: str
    phone: str | None
    village: Place
    audience: str
    birth_year: int | None
    joining: dict[str, bool] = field(default_factory=dict)


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
        raise FormErrors(errors)
    return Checked(name, phone, village, data.audience, birth_year, data.joining)


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
    """The account, with the consent the member confirmed; a taken phone raises
    ServiceError("phone_taken") and leaves the transaction usable."""
    person = core.create_learner(db, full_name=checked.name, phone=checked.phone, village=checked.village,
                                 audience=checked.audience, birth_year=checked.birth_year,
                                 consent_method="helper", helper=member, joining=checked.joining)
    db.add(AssistedResident(user_id=person.id, team_id=team.id, registered_by_id=member.id))
    return person


@dataclass
class NewResident:
    """Who was registered, or (person None) the people the member should look at first."""

    person: User | None
    duplicates: list[tuple[User, bool]]  # (person, lives in one of the team's villages)
    phone_taken: bool = False


def register_resident(ctx: Context, *, member: User, team_id: int, data: ResidentInput,
                      confirm_new: bool = False) -> NewResident:
    """Register a resident for a team member, unless they may already have an account.

    The same phone always stops; the same name, birth year and village stops until the
    member confirms it is another person."""
    with ctx.reading() as db:
        team = _team(db, member, team_id)
        checked = check_resident(db, team, data)  # a typo never waits for the write lock
    with ctx.transaction() as db:
        # Looked up again while writing: SQLite's write lock keeps two members from both
        # creating the same person; on PostgreSQL the unique phone is caught below.
        duplicates = possible_duplicates(db, name=checked.name, phone=checked.phone,
                                         village_id=checked.village.id, birth_year=checked.birth_year)
        phone_taken = any(d.phone and d.phone == checked.phone for d in duplicates)
        if not duplicates or (confirm_new and not phone_taken):
            try:
                return NewResident(enrol_resident(db, team=team, member=member, checked=checked), [])
            except ServiceError as exc:
                if exc.code != "phone_taken":  # registered a moment ago (PostgreSQL takes no lock)
                    raise
                duplicates = possible_duplicates(db, name=checked.name, phone=checked.phone,
                                                 village_id=checked.village.id, birth_year=checked.birth_year)
                phone_taken = True
        visible = set(village_ids(db, team.id))
        return NewResident(None, [(d, d.village_id in visible) for d in duplicates], phone_taken)


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


def status_labels(pm: Any) -> dict[str, str]:
    """The statuses to filter by: "certified" only when some plugin counts credentials."""
    if pm.hook.resident_credentials.get_hookimpls():
        return STATUS_LABELS
    return {key: label for key, label in STATUS_LABELS.items() if key != "certified"}


def credential_counts(pm: Any, db: Session, user_ids: list[int]) -> dict[int, int]:
    """Valid credentials per learner, added up over every plugin that answers (none: 0)."""
    totals: dict[int, int] = {}
    if not user_ids:
        return totals
    for answer in pm.hook.resident_credentials(db=db, user_ids=user_ids):
        for user_id, count in (answer or {}).items():
            totals[user_id] = totals.get(user_id, 0) + count
    return totals


def resident_sections(pm: Any, *, request: Any, db: Session, person: User, helper: User) -> list[Any]:
    """What other plugins show on a resident's page (quiz attempts, certificates…)."""
    return flatten(pm.hook.resident_sections(request=request, db=db, person=person, helper=helper))


def residents(db: Session, *, pm: Any, team: Team, status: str = "", sort: str = "name") -> list[ResidentRow]:
    """Everyone living in the team's villages, with progress: a fixed number of queries."""
    ids = village_ids(db, team.id)
    people = db.exec(select(User).where(User.village_id.in_(ids), User.role != "admin")).scalars().all()
    names = {p.id: p.name for p in db.exec(select(Place).where(Place.id.in_(ids))).scalars().all()}
    person_ids = [p.id for p in people]
    progress = courses.progress_of_learners(db, user_ids=person_ids)
    certified = credential_counts(pm, db, person_ids)
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


def figures(db: Session, *, pm: Any, team: Team, now: datetime | None = None) -> TeamFigures:
    now = now or utcnow()
    base = select(func.count()).select_from(AssistedResident).where(AssistedResident.team_id == team.id)
    week = db.exec(base.where(AssistedResident.registered_at >= now - timedelta(days=7))).one()[0]
    month = db.exec(base.where(AssistedResident.registered_at >= now - timedelta(days=30))).one()[0]
    rows = residents(db, pm=pm, team=team)
    by_village: dict[str, list[int]] = {}
    for r in rows:
        counts = by_village.setdefault(r.village, [0, 0])
        counts[0] += 1
        counts[1] += r.completed > 0
    return TeamFigures(week, month, sum(r.completed for r in rows),
                       sorted((k, v[0], v[1]) for k, v in by_village.items()))


# --- In-person learning ---------------------------------------------------------------


def enrol_in_course(ctx: Context, *, member: User, team_id: int, resident_id: int,
                    course: courses.CourseOutline) -> bool:
    """Enrol a resident in a course for them; True when newly enrolled."""
    with ctx.transaction() as db:
        person = _resident(db, _team(db, member, team_id), resident_id)
        return courses.enrol(db, user_id=person.id, course_id=course.id, by_user_id=member.id)


def confirm_lessons(ctx: Context, *, member: User, team_id: int, resident_id: int,
                    course: courses.CourseOutline, lesson_ids: list[int]) -> int:
    """Lessons learned in person, recorded as confirmed by the member, all or none.

    courses.complete_lesson records the events they lead to (lessons done, course
    completed) in this same transaction."""
    wanted = [lesson_id for lesson_id in dict.fromkeys(lesson_ids) if lesson_id in course.lesson_ids]
    with ctx.transaction() as db:
        person = _resident(db, _team(db, member, team_id), resident_id)
        for lesson_id in wanted:
            courses.complete_lesson(db, pm=ctx.pm, user_id=person.id, course=course,
                                    lesson_id=lesson_id, confirmed_by_id=member.id)
    return len(wanted)


# --- Login cards -------------------------------------------------------------------


@dataclass
class IssuedCard:
    token: str | None  # exists only on the printed card: the database keeps its digest
    team: Team
    person: User
    village: Place | None
    # A one-time link to set the password (/password/<token>), printed on the same card.
    reset_token: str | None = None
    reset_expires_at: datetime | None = None


NOT_LEARNER_RESET = ("Tổ công nghệ số chỉ cấp mã đặt mật khẩu cho người học. Cán bộ và thành viên tổ "
                     "nhờ cán bộ xã/phường hoặc quản trị hệ thống.")
NO_PHONE_RESET = ("Người này chưa có số điện thoại nên không đăng nhập bằng mật khẩu được: "
                  "hãy in thẻ đăng nhập (mã QR) cho họ.")


def _reset_link(db: Session, *, member: User, person: User) -> tuple[str, datetime]:
    """A reset link issued by a team member: for learners only, never for staff or admins."""
    if person.role != "learner":
        raise ServiceError("not_learner", NOT_LEARNER_RESET, 403)
    if not person.phone:
        raise ServiceError("no_phone", NO_PHONE_RESET, 409)
    link = core.issue_password_link(db, user=person, purpose="reset", created_by=member)
    return link.token, link.expires_at


def issue_card(ctx: Context, *, member: User, team_id: int, resident_id: int,
               with_reset: bool = False) -> IssuedCard:
    """A new card (the old ones stop working at once), with a reset link when asked for
    (and the person has a phone to log in with)."""
    with ctx.transaction() as db:
        team = _team(db, member, team_id)
        person = _resident(db, team, resident_id)
        if person.role != "learner":
            raise ServiceError("not_learner", "Chỉ cấp thẻ đăng nhập cho người học.", 409)
        revoke_cards(db, resident_id=person.id)
        token = new_token(24)
        db.add(LoginCard(user_id=person.id, token_digest=token_digest(token), created_by_id=member.id))
        village = db.get(Place, person.village_id) if person.village_id else None
        card = IssuedCard(token, team, person, village)
        if with_reset and person.phone:
            card.reset_token, card.reset_expires_at = _reset_link(db, member=member, person=person)
        return card


def issue_reset(ctx: Context, *, member: User, team_id: int, resident_id: int) -> IssuedCard:
    """Only the reset link, on a card of its own (the login card, if any, keeps working)."""
    with ctx.transaction() as db:
        team = _team(db, member, team_id)
        person = _resident(db, team, resident_id)
        reset_token, expires_at = _reset_link(db, member=member, person=person)
        village = db.get(Place, person.village_id) if person.village_id else None
        return IssuedCard(None, team, person, village, reset_token, expires_at)



def revoke_card(ctx: Context, *, member: User, team_id: int, resident_id: int) -> int:
    with ctx.transaction() as db:
        person = _resident(db, _team(db, member, team_id), resident_id)
        return revoke_cards(db, resident_id=person.id)


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


def sign_in_with_card(ctx: Context, *, token: str, current_session: str | None) -> str | None:
    """A new session for the card's learner (ending this browser's old one), or None."""
    with ctx.reading() as db:
        if card_user(db, token) is None:  # a wrong or revoked card takes no write lock
            return None
    with ctx.transaction() as db:
        person = card_user(db, token)  # revoked in between? checked again under the lock
        if person is None:
            return None
        if current_session:
            core.end_session(db, token=current_session)
        return core.start_session(db, user=person, settings=ctx.settings)


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
            raise ServiceError("bad_file", "Không đọc được tệp Excel này.") from exc
        sheet = book.worksheets[0]
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError("bad_encoding", "Tệp CSV cần lưu với mã UTF-8 (trong Excel: CSV UTF-8).") from exc
    return [row for row in csv.reader(io.StringIO(text))]


def preview(db: Session, *, team: Team, table: list[list[str]]) -> list[dict[str, Any]]:
    """Each row as will-create, duplicate-of or error, with the reason; nothing is written."""
    if not table:
        raise ServiceError("empty", "Tệp không có dòng nào.")
    header = [fold(h.strip()) for h in table[0]]
    wanted = [fold(h) for h in IMPORT_HEADERS]
    if header[: len(wanted)] != wanted:
        raise ServiceError("bad_header", "Dòng đầu phải là: " + ", ".join(IMPORT_HEADERS) + " (dùng tệp mẫu).")
    body = [row for row in table[1:] if any(cell.strip() for cell in row)]
    if len(body) > MAX_IMPORT_ROWS:
        raise ServiceError("too_many", f"Mỗi lần nhập tối đa {MAX_IMPORT_ROWS} dòng.")
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


def purge_imports(db: Session, *, days: int, now: datetime | None = None) -> int:
    """Lists never confirmed, older than `days`, go with the names and phones they hold."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.execute(delete(ImportBatch).where(ImportBatch.confirmed_at.is_(None),
                                                  ImportBatch.created_at < cutoff))
    return result.rowcount or 0


def save_batch(db: Session, *, team: Team, member: User, rows: list[dict[str, Any]],
               retention_days: int = 7) -> ImportBatch:
    purge_imports(db, days=retention_days)
    batch = ImportBatch(team_id=team.id, member_id=member.id, rows=rows)
    db.add(batch)
    db.flush()
    return batch


def batch_of(db: Session, team: Team, batch_id: int) -> ImportBatch:
    batch = db.get(ImportBatch, batch_id)
    if batch is None or batch.team_id != team.id:
        raise NotFound()
    return batch


def confirm_batch(db: Session, *, team: Team, member: User, batch: ImportBatch,
                  joining: dict[str, bool] | None = None) -> int:
    """Write every will-create row in the caller's transaction; a failure writes none."""
    # Conditional, so two confirmations at once import the list once.
    marked = db.execute(update(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.confirmed_at.is_(None))
                        .values(confirmed_at=utcnow()))
    if not marked.rowcount:
        raise ServiceError("confirmed", "Danh sách này đã được nhập trước đó.")
    created = 0
    for row in batch.rows:
        clean = row.get("clean")
        if row["status"] != "create" or not clean:
            continue
        village = db.get(Place, clean["village_id"])
        checked = Checked(clean["full_name"], clean["phone"], village, clean["audience"], clean["birth_year"],
                          joining or {})
        try:
            enrol_resident(db, team=team, member=member, checked=checked)
        except ServiceError as exc:
            if exc.code != "phone_taken":
                raise
            continue  # someone registered this phone since the preview
        created += 1
    # Imported: the uploaded rows (names, phones) are not kept beside the accounts they made.
    db.execute(update(ImportBatch).where(ImportBatch.id == batch.id).values(rows=[]))
    return created


CONSENT_FOR_LIST = "Cần xác nhận từng người trong danh sách đã đồng ý cho lưu thông tin."


def import_preview(ctx: Context, *, member: User, team_id: int, filename: str, data: bytes) -> ImportBatch:
    """Read and check an uploaded list, and keep it for the member to confirm; no one is created."""
    table = read_table(filename, data)  # parsed before any session is open
    with ctx.reading() as db:
        team = _team(db, member, team_id)
        rows = preview(db, team=team, table=table)
    with ctx.transaction() as db:
        return save_batch(db, team=team, member=member, rows=rows, retention_days=ctx.settings.import_retention_days)


def import_confirm(ctx: Context, *, member: User, team_id: int, batch_id: int, consent: bool,
                   joining: dict[str, bool] | None = None) -> int:
    """Create everyone the preview said it would, in one transaction; returns how many."""
    if not consent:
        raise ServiceError("consent_required", CONSENT_FOR_LIST)
    with ctx.transaction() as db:
        team = _team(db, member, team_id)
        return confirm_batch(db, team=team, member=member, batch=batch_of(db, team, batch_id), joining=joining)

