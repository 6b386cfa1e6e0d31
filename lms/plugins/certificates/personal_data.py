"""The certificates plugin's part of a person's data: certificates issued to them."""

from sqlalchemy import select
from sqlmodel import Session

from lms.personal_data import ERASED_NAME, DataSection, ErasureNote, as_rows
from lms.plugins.certificates import services
from lms.plugins.certificates.models import Certificate

KEPT = ("Giữ mã, khóa học và ngày cấp (tên thay bằng “Đã xoá theo yêu cầu”, chứng nhận bị thu hồi) để ai đã "
        "nhận bản in hoặc tệp chứng nhận kiểm tra được rằng nó không còn hiệu lực.")


def export(db: Session, user) -> list[DataSection]:
    rows = db.exec(select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)).scalars().all()
    return [DataSection("certificates_certificate", "Chứng nhận", [
        {**row, "Mã": services.display_code(c.code)} for c, row in zip(rows, as_rows(rows, {
            "Họ tên trên chứng nhận": "learner_name", "Khóa học": "course_title", "Xã/phường": "commune_name",
            "Cấp lúc": "issued_at", "Thu hồi lúc": "revoked_at", "Lý do thu hồi": "revoked_reason"}), strict=True)])]


def erase(db: Session, user, actor) -> list[ErasureNote]:
    rows = db.exec(select(Certificate).where(Certificate.user_id == user.id)).scalars().all()
    for certificate in rows:
        if certificate.revoked_at is None:
            services._revoke(db, certificate=certificate, actor=actor, reason="Xoá dữ liệu cá nhân theo yêu cầu.")
        # The signed credential names the person: it is no longer published (its status bit says revoked).
        certificate.learner_name, certificate.credential = ERASED_NAME, {}
        db.add(certificate)
    return [ErasureNote("certificates_certificate", "anonymised", len(rows), KEPT)]
