"""What the first-run guide's check page asks of courses: something to learn for every audience."""

from sqlalchemy import select
from sqlmodel import Session

from lms.core.services import AUDIENCES
from lms.plugins.courses.models import Course
from lms.setup_checks import SetupCheck


def setup_checks(db: Session) -> list[SetupCheck]:
    covered: set[str] = set()
    for audiences in db.execute(select(Course.audiences).where(Course.retired.is_(False))).scalars():
        covered.update(audiences or [])
    without = [label for key, label in AUDIENCES.items() if key not in covered]
    if without:
        return [SetupCheck("Đối tượng chưa có khóa học", False,
                           f"{', '.join(without)}. Nạp các khóa học có sẵn bằng lệnh `lms courses sync`, "
                           "hoặc viết khóa học mới.", "/studio", "Viết khóa học", order=60)]
    count = db.execute(select(Course.id).where(Course.retired.is_(False))).scalars().all()
    return [SetupCheck("Mọi đối tượng đều có khóa học", True, f"{len(count)} khóa học.", order=60)]
