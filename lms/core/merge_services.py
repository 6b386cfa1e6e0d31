"""Merging two accounts of one person: a preview of what moves, then one transaction.

Every plugin moves its own rows through the `merge_accounts` hook, the core its consents and
sessions. The merged account is kept (inactive, `merged_into_id` set, no phone or password)
so that old references still resolve and the audit trail names both; statistics skip it."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session

from lms.context import Context
from lms.core.models import AccountMerge, Consent, PasswordLink, RecoveryCode, User, UserSession
from lms.db import utcnow
from lms.errors import NotFound, ServiceError
from lms.events import record
from lms.merging import AccountsMerged, MergeItem
from lms.plugin_host import flatten
from lms.text import fold

CONFIRM_MISSING = "Hãy đánh dấu ô xác nhận hai tài khoản là của cùng một người."
SAME_ACCOUNT = "Hãy chọn hai tài khoản khác nhau."
NOT_LEARNER = ("Chỉ gộp được tài khoản người học. Tài khoản của cán bộ hoặc thành viên tổ công nghệ số "
               "phải đổi vai trò thành người học trước.")
ALREADY_MERGED = "Tài khoản này đã được gộp vào tài khoản khác."
INACTIVE = "Tài khoản này đã ngừng hoạt động."
# Account fields the kept account takes from the merged one when it has none of its own.
FILLED_FIELDS = {"phone": "Số điện thoại", "password_hash": "Mật khẩu", "village_id": "Thôn/tổ dân phố",
                 "audience": "Nhóm", "birth_year": "Năm sinh"}


def _in_scope(db: Session, actor: User, user_id: int) -> User:
    person = db.get(User, user_id)
    # Another commune's people do not exist for staff: the same 404 as a wrong id.
    if person is None or (actor.role != "admin" and person.commune_id != actor.commune_id):
        raise NotFound()
    return person


def _check_mergeable(keep: User, drop: User) -> None:
    if keep.id == drop.id:
        raise ServiceError("merge_same", SAME_ACCOUNT, 422)
    for person in (keep, drop):
        if person.merged_into_id is not None:
            raise ServiceError("merge_merged", ALREADY_MERGED, 409)
        if not person.active:
            raise ServiceError("merge_inactive", INACTIVE, 409)
        if person.role != "learner":
            raise ServiceError("merge_role", NOT_LEARNER, 403)


def candidates(db: Session, *, actor: User, person: User, query: str, limit: int = 20) -> list[User]:
    """Other learner accounts in reach that may be the same person: by name or phone ending."""
    query = query.strip()[:100]
    if not query:
        return []
    digits = "".join(ch for ch in query if ch.isdigit())
    conditions = [User.name_folded.contains(fold(query), autoescape=True)]
    if len(digits) >= 3:
        conditions.append(User.phone.endswith(digits))
    statement = select(User).where(
        User.id != person.id, User.role == "learner", User.active.is_(True), User.merged_into_id.is_(None),
        or_(*conditions))
    if actor.role != "admin":
        statement = statement.where(User.commune_id == actor.commune_id)
    return list(db.exec(statement.order_by(User.full_name, User.id).limit(limit)).scalars().all())


@dataclass
class MergePlan:
    keep: User
    drop: User
    items: list[MergeItem]
    # Labels of the account fields the kept account takes from the merged one.
    filled: list[str]


def _filled(keep: User, drop: User) -> list[str]:
    return [label for field, label in FILLED_FIELDS.items()
            if getattr(keep, field) is None and getattr(drop, field) is not None]


def _items(pm: Any, db: Session, keep: User, drop: User, actor: User, apply: bool) -> list[MergeItem]:
    found = flatten(pm.hook.merge_accounts(db=db, keep=keep, drop=drop, actor=actor, apply=apply))
    return [item for item in found if isinstance(item, MergeItem) and (item.count or item.note)]


def preview(db: Session, pm: Any, *, actor: User, keep_id: int, drop_id: int) -> MergePlan:
    """What a merge would do, read only."""
    keep, drop = _in_scope(db, actor, keep_id), _in_scope(db, actor, drop_id)
    _check_mergeable(keep, drop)
    return MergePlan(keep, drop, _items(pm, db, keep, drop, actor, apply=False), _filled(keep, drop))


def merge(ctx: Context, *, actor: User, keep_id: int, drop_id: int) -> AccountMerge:
    """Move everything of `drop` to `keep` in one transaction and record who did it."""
    with ctx.transaction() as db:
        # Lock both rows in id order: two staff merging the same pair wait for each other.
        for person_id in sorted((keep_id, drop_id)):
            db.execute(select(User.id).where(User.id == person_id).with_for_update())
        keep, drop = _in_scope(db, actor, keep_id), _in_scope(db, actor, drop_id)
        db.refresh(keep)
        db.refresh(drop)
        _check_mergeable(keep, drop)
        filled = {field: getattr(drop, field) for field in FILLED_FIELDS
                  if getattr(keep, field) is None and getattr(drop, field) is not None}
        items = _items(ctx.pm, db, keep, drop, actor, apply=True)
        drop.phone = None
        drop.password_hash = None
        drop.active = False
        drop.merged_into_id = keep.id
        db.add(drop)
        db.flush()  # the phone is unique: free it before the kept account takes it
        for field, value in filled.items():
            setattr(keep, field, value)
        if "password_hash" in filled:
            keep.password_changed_at = drop.password_changed_at
        db.add(keep)
        moved = [{"label": item.label, "count": item.count, "note": item.note} for item in items]
        moved += [{"label": FILLED_FIELDS[field], "count": 1, "note": "lấy từ tài khoản được gộp"}
                  for field in filled]
        entry = AccountMerge(kept_id=keep.id, merged_id=drop.id, merged_by_id=actor.id, moved=moved)
        db.add(entry)
        db.flush()
        record(db, AccountsMerged(kept_id=keep.id, merged_id=drop.id))
        return entry


def merges_of(db: Session, *, user_id: int) -> list[tuple[AccountMerge, str, str]]:
    """The merges this account took part in, newest first, with the other account's and the actor's name."""
    rows = db.exec(select(AccountMerge).where(
        or_(AccountMerge.kept_id == user_id, AccountMerge.merged_id == user_id))
        .order_by(AccountMerge.merged_at.desc(), AccountMerge.id.desc()).limit(50)).scalars().all()
    ids = {r.kept_id for r in rows} | {r.merged_id for r in rows} | {r.merged_by_id for r in rows}
    names = dict(db.exec(select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return [(r, names.get(r.merged_id if r.kept_id == user_id else r.kept_id, ""),
             names.get(r.merged_by_id, "")) for r in rows]


# --- The core's own rows ----------------------------------------------------------------


def merge_core_rows(db: Session, *, keep: User, drop: User, apply: bool) -> list[MergeItem]:
    """Consent records move; the merged account's sessions, links and codes end."""
    consents = db.exec(select(Consent.id).where(Consent.user_id == drop.id)).scalars().all()
    sessions = db.exec(select(UserSession.id).where(UserSession.user_id == drop.id)).scalars().all()
    if apply:
        db.execute(update(Consent).where(Consent.user_id == drop.id).values(user_id=keep.id))
        db.execute(delete(UserSession).where(UserSession.user_id == drop.id))
        db.execute(update(PasswordLink).where(
            PasswordLink.user_id == drop.id, PasswordLink.used_at.is_(None),
            PasswordLink.revoked_at.is_(None)).values(revoked_at=utcnow()))
        db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == drop.id))
    items = [MergeItem("Bản ghi đồng ý xử lý dữ liệu", len(consents))]
    if sessions:
        items.append(MergeItem("Phiên đăng nhập của tài khoản được gộp", len(sessions), "kết thúc"))
    return items
