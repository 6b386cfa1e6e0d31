"""The core's part of a person's data rights: the account, consents, sessions, links, codes;
and the services that gather every plugin's part (export) or run them all (erasure)."""

from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lms.context import Context
from lms.core.models import Consent, DataRequest, PasswordLink, RecoveryCode, User, UserSession
from lms.errors import NotFound, ServiceError
from lms.personal_data import ERASED_NAME, DataSection, ErasureNote, as_rows
from lms.plugin_host import flatten
from lms.text import fold

CONSENT_KEPT = ("Giữ bản ghi đồng ý (không kèm tên, số điện thoại) để chứng minh việc xử lý trước đây "
                "có sự đồng ý của người dùng.")


def core_export(db: Session, user: User) -> list[DataSection]:
    consents = db.exec(select(Consent).where(Consent.user_id == user.id).order_by(Consent.given_at)).scalars().all()
    return [
        DataSection("core_user", "Tài khoản", as_rows([user], {
            "Họ và tên": "full_name", "Số điện thoại": "phone", "Năm sinh": "birth_year", "Nhóm": "audience",
            "Thôn/tổ dân phố (mã)": "village_id", "Xã/phường (mã)": "commune_id", "Vai trò": "role",
            "Tạo lúc": "created_at", "Đổi mật khẩu lúc": "password_changed_at"})),
        DataSection("core_consent", "Các lần đồng ý xử lý dữ liệu", as_rows(consents, {
            "Mục đích": "purpose", "Đồng ý": "granted", "Phiên bản văn bản": "text_version",
            "Cách ghi nhận": "method", "Người giúp (mã)": "helper_id", "Lúc": "given_at"})),
        DataSection("core_session", "Phiên đăng nhập", as_rows(db.exec(select(UserSession).where(
            UserSession.user_id == user.id)).scalars().all(), {"Bắt đầu": "created_at", "Hết hạn": "expires_at"})),
        DataSection("core_password_link", "Liên kết đặt mật khẩu đã cấp", as_rows(db.exec(select(PasswordLink).where(
            PasswordLink.user_id == user.id)).scalars().all(), {"Loại": "purpose", "Cấp lúc": "created_at",
                                                                 "Dùng lúc": "used_at"})),
        DataSection("core_recovery_code", "Mã khôi phục qua tin nhắn", as_rows(db.exec(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id)).scalars().all(), {"Gửi lúc": "created_at", "Hết hạn": "expires_at"})),
        DataSection("core_data_request", "Yêu cầu về dữ liệu của bạn", as_rows(db.exec(select(DataRequest).where(
            DataRequest.user_id == user.id)).scalars().all(), {"Loại": "kind", "Mục đích": "purpose",
                                                                "Gửi lúc": "filed_at",
                                                                "Đã nhận lúc": "acknowledged_at",
                                                                "Hạn": "complete_by",
                                                                "Lý do gia hạn": "extension_reason",
                                                                "Xong lúc": "completed_at"})),
    ]


def core_erase(db: Session, user: User) -> list[ErasureNote]:
    notes = []
    for model, table in ((UserSession, "core_session"), (PasswordLink, "core_password_link"),
                         (RecoveryCode, "core_recovery_code")):
        result = db.execute(delete(model).where(model.user_id == user.id))
        notes.append(ErasureNote(table, "deleted", result.rowcount or 0))
    consents = db.exec(select(Consent).where(Consent.user_id == user.id)).scalars().all()
    notes.append(ErasureNote("core_consent", "kept", len(consents), CONSENT_KEPT))
    requests = db.exec(select(DataRequest).where(DataRequest.user_id == user.id)).scalars().all()
    notes.append(ErasureNote("core_data_request", "kept", len(requests),
                             "Giữ hồ sơ yêu cầu (ngày gửi, người xử lý, không kèm tên) để chứng minh đã thực hiện "
                             "đúng hạn."))
    # The account stays as an empty shell: learning records point to it and keep their counts.
    user.full_name, user.name_folded = ERASED_NAME, fold(ERASED_NAME)
    user.phone = user.password_hash = user.birth_year = None
    user.active = False
    db.add(user)
    notes.append(ErasureNote("core_user", "anonymised", 1,
                             "Giữ nhóm và thôn (không kèm tên) để số liệu thống kê không đổi."))
    return notes


def export(db: Session, pm: Any, user: User) -> list[DataSection]:
    sections = [s for s in flatten(pm.hook.personal_data_export(db=db, user=user)) if isinstance(s, DataSection)]
    return [_readable(section, pm) for section in sections]


def _readable(section: DataSection, pm: Any) -> DataSection:
    """The core's codes (purposes, how consent was given, kinds of request) as the person reads them."""
    from lms.core.consent_services import METHODS, purposes
    from lms.core.data_requests import KINDS

    if section.table not in ("core_consent", "core_data_request"):
        return section
    labels = {key: p.label for key, p in purposes(pm).items()}
    words = {"Mục đích": labels, "Cách ghi nhận": METHODS, "Loại": KINDS}
    rows = [{k: words.get(k, {}).get(v, v) if isinstance(v, str) else v for k, v in row.items()}
            for row in section.rows]
    return DataSection(section.table, section.label, rows)


def erase(ctx: Context, *, actor: User, user_id: int) -> list[ErasureNote]:
    """Every plugin erases its part, then the core its own, in one transaction. Staff erase the
    learners of their commune (the person asked them, or asked through a team); admins anyone
    but themselves."""
    with ctx.transaction() as db:
        person = db.get(User, user_id)
        if person is None or (actor.role != "admin" and person.commune_id != actor.commune_id):
            raise NotFound()
        if person.id == actor.id or (actor.role != "admin" and person.role != "learner"):
            raise ServiceError("erase_forbidden", "Cán bộ xã chỉ xoá dữ liệu của người học thuộc xã mình.", 403)
        if person.full_name == ERASED_NAME and not person.active:
            raise ServiceError("erased", "Dữ liệu của người này đã được xoá.", 409)
        return erase_in(db, ctx.pm, actor=actor, person=person)


def erase_in(db: Session, pm: Any, *, actor: User, person: User) -> list[ErasureNote]:
    """Every plugin's erasure, then the core's, in the caller's transaction."""
    return [n for n in flatten(pm.hook.personal_data_erase(db=db, user=person, actor=actor))
            if isinstance(n, ErasureNote)]


def labels(db: Session, pm: Any, person: User) -> dict[str, str]:
    """table → the Vietnamese name the export gives it, for a receipt a person can read."""
    return {section.table: section.label for section in export(db, pm, person)}
