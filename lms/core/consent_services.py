"""Consent by purpose: the purposes every plugin declares, each person's current choices, and
giving, refusing or withdrawing one (by the person, or by a helper or staff on their behalf)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from lms.consents import ConsentChanged, ConsentPurpose
from lms.context import Context
from lms.core.models import Consent, User
from lms.db import utcnow
from lms.errors import NotFound, ServiceError
from lms.events import record
from lms.plugin_host import flatten

LEGACY_TEXT = "dang-ky-2026-11"
LEARNING = ConsentPurpose(
    key="learning", label="Học tập và chứng nhận", order=10, required=True, current="hoc-tap-2026-12",
    texts={
        LEGACY_TEXT: (
            "Tôi đồng ý để Ủy ban nhân dân xã/phường nơi tôi sinh sống lưu họ tên, số điện "
            "thoại, thôn/tổ dân phố, nhóm đối tượng và năm sinh của tôi nhằm: (1) tạo tài khoản "
            "học tập và ghi nhận tiến độ học; (2) cấp và xác minh chứng nhận hoàn thành; "
            "(3) tổng hợp số liệu thống kê phong trào Bình dân học vụ số (chỉ báo cáo số liệu "
            "tổng hợp, không công bố thông tin cá nhân). Tôi có thể rút lại sự đồng ý bất cứ "
            "lúc nào bằng cách liên hệ cán bộ xã/phường."),
        "hoc-tap-2026-12": (
            "Tôi đồng ý để Ủy ban nhân dân xã/phường nơi tôi sinh sống lưu họ tên, số điện thoại, "
            "thôn/tổ dân phố, nhóm đối tượng và năm sinh của tôi để tạo tài khoản học tập, ghi nhận "
            "bài đã học, bài kiểm tra, và cấp, xác minh chứng nhận hoàn thành. Tôi có thể xem, sửa, "
            "tải về dữ liệu của mình và rút lại sự đồng ý bất cứ lúc nào ở mục “Tài khoản”."),
    },
    stops=("Không thể giữ tài khoản học khi rút sự đồng ý này: rút lại nghĩa là yêu cầu xoá dữ liệu "
           "của bạn. Cán bộ xã xác nhận trong 2 ngày làm việc và thực hiện trong 15 ngày."),
    notifies=False,  # withdrawing it files an erasure request, here
)
SMS = ConsentPurpose(
    key="sms", label="Nhận tin nhắn của xã", order=80, ask_when_joining=True, current="tin-nhan-2026-12",
    texts={"tin-nhan-2026-12": (
        "Tôi đồng ý nhận tin nhắn SMS của xã/phường về lớp học, sự kiện và phong trào Bình dân học "
        "vụ số tới số điện thoại của tôi.")},
    stops=("Xã không gửi cho bạn tin nhắn thông báo, nhắc lịch nữa. Mã đặt lại mật khẩu do chính bạn "
           "yêu cầu vẫn được gửi."),
    notifies=False,  # a sender asks granted() before each message
)
CORE_PURPOSES = [LEARNING, SMS]
METHODS = {"self": "bạn tự chọn", "helper": "người giúp xác nhận thay bạn",
           "staff": "cán bộ xã ghi nhận theo yêu cầu của bạn"}


def purposes(pm: Any) -> dict[str, ConsentPurpose]:
    found = [p for p in flatten(pm.hook.consent_purposes()) if isinstance(p, ConsentPurpose)]
    return {p.key: p for p in sorted(found, key=lambda p: (p.order, p.key))}


def text_of(pm: Any, version: str) -> str:
    """The text a person agreed to under this version, whichever purpose it belongs to."""
    for purpose in purposes(pm).values():
        if version in purpose.texts:
            return purpose.texts[version]
    return ""


def joining(pm: Any) -> list[ConsentPurpose]:
    """The optional purposes asked (unticked) on every form that makes an account."""
    return [p for p in purposes(pm).values() if p.ask_when_joining]


@dataclass(frozen=True)
class Choice:
    purpose: ConsentPurpose
    granted: bool
    latest: Consent | None  # the row that decided it; None when taken from an older, combined consent
    assumed_from: Consent | None = None


def choices(db: Session, pm: Any, user_id: int) -> list[Choice]:
    rows = db.exec(select(Consent).where(Consent.user_id == user_id).order_by(Consent.given_at, Consent.id)
                   ).scalars().all()
    out = []
    for purpose in purposes(pm).values():
        own = [r for r in rows if r.purpose == purpose.key]
        if own:
            out.append(Choice(purpose, own[-1].granted, own[-1]))
            continue
        older = next((r for r in rows if r.granted and r.text_version in purpose.assumed_before), None)
        out.append(Choice(purpose, older is not None, None, older))
    return out


def granted(db: Session, pm: Any, user_id: int, purpose: str) -> bool:
    """Whether this person's data may be processed for this purpose now."""
    return any(c.granted for c in choices(db, pm, user_id) if c.purpose.key == purpose)


def record_decision(db: Session, *, user: User, purpose: str, granted: bool, method: str,
                    helper: User | None = None, version: str | None = None) -> Consent:
    """A row in the ledger and the event its purpose's plugin acts on, in the caller's transaction."""
    pm = db.info.get("lms_pm")
    declared = purposes(pm).get(purpose) if pm is not None else None
    if version is None:
        if declared is None:
            raise ServiceError("unknown_purpose", "Không có mục đích xử lý dữ liệu này.", 404)
        version = declared.current
    if declared is None or declared.notifies:
        # The event is raised when processing must stop, or start again after a refusal; a first
        # agreement changes nothing (a registration at an event would otherwise raise several).
        before = db.exec(select(Consent.granted).where(Consent.user_id == user.id, Consent.purpose == purpose)
                         .order_by(Consent.given_at.desc(), Consent.id.desc()).limit(1)).scalars().first()
        if not granted or before is False:
            record(db, ConsentChanged(user_id=user.id, purpose=purpose, granted=granted))
    row = Consent(user_id=user.id, purpose=purpose, text_version=version, method=method,
                  helper_id=helper.id if helper else None, granted=granted)
    db.add(row)
    db.flush()
    return row


def record_joining(db: Session, *, user: User, chosen: dict[str, bool] | None, method: str,
                   helper: User | None = None) -> None:
    """A new account's first decisions: learning given, and each optional purpose its form asked
    (`chosen`; None when it asked none) given or refused, as ticked.

    One insert for all of them, and no look-up of an earlier decision: there is none. A refusal of
    a purpose whose plugin acts on it raises the event (its processing must not start)."""
    pm = db.info["lms_pm"]
    declared = purposes(pm)
    decisions = {LEARNING.key: True}
    if chosen is not None:
        decisions.update({p.key: bool(chosen.get(p.key)) for p in joining(pm)})
    now = utcnow()
    db.execute(insert(Consent), [
        {"user_id": user.id, "purpose": key, "text_version": declared[key].current, "method": method,
         "helper_id": helper.id if helper else None, "given_at": now, "granted": granted}
        for key, granted in decisions.items()])
    for key, granted in decisions.items():
        if not granted and declared[key].notifies:
            record(db, ConsentChanged(user_id=user.id, purpose=key, granted=False))


def may_act_for(actor: User, person: User) -> bool:
    """The person themselves, an administrator, or staff or a team member of their commune."""
    if actor.id == person.id:
        return True
    if actor.role == "admin":
        return True
    return actor.role in ("staff", "team_member") and actor.commune_id == person.commune_id


def change(ctx: Context, *, person_id: int, purpose: str, granted: bool, actor: User) -> Consent:
    """Give or withdraw one purpose. A person decides for themselves; staff or a team member of
    their commune record it on their behalf (the row says so). Withdrawing a purpose an account
    needs also files an erasure request."""
    from lms.core import data_requests

    with ctx.transaction() as db:
        person = db.get(User, person_id)
        if person is None or not person.active or not may_act_for(actor, person):
            raise NotFound()
        declared = purposes(ctx.pm).get(purpose)
        if declared is None:
            raise NotFound()
        if granted and declared.required:
            raise ServiceError("required", "Sự đồng ý này đã được ghi nhận khi tạo tài khoản.", 409)
        method = "self" if actor.id == person.id else ("staff" if actor.role in ("staff", "admin") else "helper")
        row = record_decision(db, user=person, purpose=purpose, granted=granted, method=method,
                              helper=None if actor.id == person.id else actor)
        if declared.required and not granted:
            data_requests.file_in(db, person=person, filed_by=actor, kind="erase")
        return row
