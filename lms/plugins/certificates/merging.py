"""Two accounts of one person become one: certificates move to the kept account.

A certificate keeps its code, name and signature. When both accounts hold a valid certificate
for the same course, the earlier one stays valid and the later one is revoked, pointing to it,
so the person has one valid certificate per course as everywhere else."""

from sqlalchemy import select, update
from sqlmodel import Session

from lms.core.models import User
from lms.merging import MergeItem
from lms.plugins.certificates import services
from lms.plugins.certificates.models import Certificate

DUPLICATE_REASON = "Trùng với chứng nhận {code} của cùng người học sau khi gộp hai tài khoản."


def merge_rows(db: Session, *, keep: User, drop: User, actor: User, apply: bool) -> list[MergeItem]:
    moving = db.exec(select(Certificate).where(Certificate.user_id == drop.id)).scalars().all()
    kept_valid = {c.course_id: c for c in db.exec(select(Certificate).where(
        Certificate.user_id == keep.id, Certificate.revoked_at.is_(None))).scalars().all()}
    pairs = [(kept_valid[c.course_id], c) for c in moving
             if c.revoked_at is None and c.course_id in kept_valid]
    if apply:
        for kept, other in pairs:
            earlier, later = sorted((kept, other), key=lambda c: (c.issued_at, c.id))
            services._revoke(db, certificate=later, actor=actor,
                             reason=DUPLICATE_REASON.format(code=services.display_code(earlier.code)))
            later.replaced_by_id = earlier.id
            db.add(later)
        db.flush()
        db.execute(update(Certificate).where(Certificate.user_id == drop.id).values(user_id=keep.id))
    note = (f"{len(pairs)} khóa học có chứng nhận ở cả hai tài khoản: giữ chứng nhận cấp sớm hơn, "
            "thu hồi chứng nhận kia" if pairs else "")
    return [MergeItem("Chứng nhận", len(moving), note)]
