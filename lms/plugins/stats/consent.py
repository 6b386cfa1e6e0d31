"""Consent to statistics shared upward: a person who refuses or withdraws it is counted in no
figure, from the summed days (summed again without them) to today's live counts."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lms.consents import ConsentPurpose
from lms.core.models import Consent
from lms.core.services import LEGACY_CONSENT
from lms.db import insert_ignore, utcnow, write_session
from lms.plugins.stats import summary
from lms.plugins.stats.models import OptedOut

STATS_PURPOSE = ConsentPurpose(
    key="stats", label="Tính vào số liệu thống kê gửi lên cấp trên", order=60, ask_when_joining=True,
    current="thong-ke-2026-12", assumed_before=(LEGACY_CONSENT,),
    texts={"thong-ke-2026-12": (
        "Tôi đồng ý để việc học của tôi (thôn/tổ dân phố, nhóm đối tượng, bài đã học, chứng nhận, lượt dự sự "
        "kiện) được tính vào số liệu thống kê tổng hợp mà xã/phường báo cáo lên cấp trên. Báo cáo chỉ có các "
        "con số, không có tên hay số điện thoại.")},
    stops=("Bạn không còn được tính vào số liệu thống kê và báo cáo gửi lên cấp trên; các con số đã tổng hợp "
           "được tính lại không có bạn."),
)


def follow(context: Any, *, user_id: int, granted: bool, now: datetime | None = None) -> int:
    """Count the person again, or stop counting them, and sum their days again. Returns the days."""
    with write_session(context.engine) as db:
        if granted:
            db.execute(delete(OptedOut).where(OptedOut.user_id == user_id))
        else:
            insert_ignore(db, OptedOut, {"user_id": user_id, "since": now or utcnow()}, ["user_id"])
        days = summary.days_of_people(db, context.pm, [user_id])
    return summary.recount(context.engine, context.pm, days=days, user_ids=[user_id]) if days else 0


def merge_choice(db: Session, *, keep_id: int, drop_id: int) -> None:
    """Two accounts of one person become one: the later of their decisions about statistics
    holds for the kept account (none: the kept account's state stays)."""
    latest = db.exec(select(Consent.granted).where(Consent.user_id.in_((keep_id, drop_id)),
                                                   Consent.purpose == STATS_PURPOSE.key)
                     .order_by(Consent.given_at.desc(), Consent.id.desc()).limit(1)).scalars().first()
    db.execute(delete(OptedOut).where(OptedOut.user_id == drop_id))
    if latest is True:
        db.execute(delete(OptedOut).where(OptedOut.user_id == keep_id))
    elif latest is False:
        insert_ignore(db, OptedOut, {"user_id": keep_id, "since": utcnow()}, ["user_id"])
