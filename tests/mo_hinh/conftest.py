"""Places, people of every role and photos for the exemplary-models tests."""

import io
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from lms.core.models import User
from lms.media import MediaFile
from lms.plugins.mo_hinh.models import ExemplaryModel, Transition
from tests.factories import PlaceTree, csrf, fresh, login, make_places, make_user

SUBMISSION = {
    "title": "Ứng dụng mã QR giới thiệu nông sản của hợp tác xã",
    "unit": "Hội Liên hiệp Phụ nữ xã Minh Châu",
    "sector": "kinh-te-so",
    "description": "Hội viên **Hội Liên hiệp Phụ nữ** dán mã QR lên từng gói nông sản.\n\n"
                   "- Người mua quét mã để xem nguồn gốc\n- Đặt hàng qua Zalo của hợp tác xã",
    "results": "Ứng dụng được 120 hộ sử dụng; doanh thu bán hàng trực tuyến tăng gấp đôi.",
    "contact_name": "Trần Thị Hường",
    "contact_phone": "0912 345 678",
    "contact_email": "huong.hlhpn@example.vn",
    "show_photos": "on",
    "rights_confirmed": "on",
}


@dataclass
class People:
    places: PlaceTree
    other: PlaceTree
    learner: User
    team_member: User
    staff: User
    admin: User
    other_staff: User

    def of(self, role: str) -> User:
        return getattr(self, role)


@pytest.fixture
def people(db, settings) -> People:
    places = make_places(db)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    return People(
        places, other,
        learner=make_user(db, settings, village=places.villages[0], name="Lê Văn Bình"),
        team_member=make_user(db, settings, role="team_member", commune=places.commune, name="Phạm Thị Thu"),
        staff=make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Văn Hóa"),
        admin=make_user(db, settings, role="admin", name="Quản Trị Viên"),
        other_staff=make_user(db, settings, role="staff", commune=other.commune, name="Cán Bộ Phường Khác"),
    )


def photo_bytes(colour: tuple[int, int, int] = (40, 120, 200), size: tuple[int, int] = (640, 480)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    for step in range(0, size[0], 40):
        draw.rectangle([step, step // 2, step + 20, step // 2 + 60], fill=(255 - colour[0], 200, step % 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def submit(client, data: dict | None = None, *, photos: list[tuple[str, bytes]] | None = None,
           path: str = "/mo-hinh/gui", page: str | None = None):
    """Send the submission form as a browser does (multipart, with its token)."""
    token = csrf(client, page or path)
    files = [(name, (f"{name}.jpg", content, "image/jpeg")) for name, content in (photos or [])]
    # An empty file input is still sent, as browsers do: no name, no bytes.
    files += [("photo_4", ("", b"", "application/octet-stream"))] if not photos else []
    return client.post(path, data={**SUBMISSION, **(data or {}), "csrf_token": token}, files=files)


def signed_in(make_client, user: User):
    client = make_client()
    login(client, user.phone)
    return client


def counts(db) -> tuple[int, int, int]:
    fresh(db)
    values = tuple(db.execute(select(func.count()).select_from(model)).scalar()
                   for model in (ExemplaryModel, Transition, MediaFile))
    db.commit()
    return values


def only_model(db) -> ExemplaryModel:
    fresh(db)
    model = db.execute(select(ExemplaryModel)).scalars().one()
    db.commit()
    return model
