"""Make a learner complete a course, so a certificate is issued the way it is in real use."""

from sqlalchemy import select

from lms.plugins.certificates.models import Certificate
from tests.courses.packtools import sync_dirs, write_pack
from tests.factories import csrf, fresh, login, make_places, make_user

SLUG = "khoa-chung-nhan"


def completed_course(client, db, settings, tmp_path, *, name="Nguyễn Thị Hồng Nhung", places=None):
    """A course without a quiz, finished over HTTP; returns (user, certificate)."""
    if not (tmp_path / "packs" / SLUG).exists():
        write_pack(tmp_path / "packs", SLUG, lessons=["mot", "hai"], title="An toàn trên mạng")
        sync_dirs(db, [tmp_path / "packs"])
    places = places or make_places(db)
    user = make_user(db, settings, village=places.villages[0], name=name)
    login(client, user.phone)
    token = csrf(client, f"/courses/{SLUG}/mot")
    for lesson in ("mot", "hai"):
        client.post(f"/courses/{SLUG}/{lesson}/done", data={"csrf_token": token})
    fresh(db)
    certificate = db.exec(select(Certificate).where(Certificate.user_id == user.id)).scalars().first()
    db.commit()
    return user, certificate
