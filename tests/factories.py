"""Test data builders and browser-like helpers."""

import html
import re
from dataclasses import dataclass
from itertools import count

from fastapi.testclient import TestClient
from sqlmodel import Session

from lms.core import services
from lms.core.models import Place, User

PASSWORD = "mật khẩu dài 2026"
_phones = count(1)


def next_phone() -> str:
    return f"09{next(_phones) + 10_000_000:08d}"[:10]


@dataclass
class PlaceTree:
    province: Place
    commune: Place
    villages: list[Place]


def make_places(db: Session, *, commune_name: str = "Xã Minh Châu",
                villages: tuple[str, ...] = ("Thôn Đông", "Thôn Đoài")) -> PlaceTree:
    province = Place(kind="province", name="Thành phố Hà Nội")
    db.add(province)
    db.flush()
    commune = Place(kind="commune", name=commune_name, parent_id=province.id)
    db.add(commune)
    db.flush()
    rows = []
    for name in villages:
        village = Place(kind="village", name=name, parent_id=commune.id)
        db.add(village)
        rows.append(village)
    db.commit()
    return PlaceTree(province, commune, rows)


def make_user(db: Session, settings, *, role: str = "learner", commune: Place | None = None,
              village: Place | None = None, name: str = "Nguyễn Văn An",
              phone: str | None = None, password: str = PASSWORD,
              audience: str = "nguoi-dan") -> User:
    user = User(
        full_name=name, phone=phone or next_phone(), role=role, audience=audience,
        village_id=village.id if village else None,
        commune_id=(commune.id if commune else (village.parent_id if village else None)),
        password_hash=services.password_context(settings).hash(password),
    )
    db.add(user)
    db.commit()
    return user


# Only the hidden form field counts: a browser without JavaScript sends nothing else.
_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def browser(app, address: str = "testclient") -> TestClient:
    """A browser at a client address of its own (limits per address are counted apart)."""
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def csrf_from(page: str) -> str:
    match = _TOKEN.search(page)
    assert match, "no form with a CSRF token in page"
    return match.group(1)


def csrf(client: TestClient, path: str = "/") -> str:
    """The CSRF token a browser would have after loading `path`."""
    return csrf_from(client.get(path).text)


def post_form(client: TestClient, path: str, data: dict, *, page: str | None = None, **kw):
    """Submit a form as a browser does: load the page for its token, then post."""
    token = csrf(client, page or "/")
    return client.post(path, data={**data, "csrf_token": token}, **kw)


def login(client: TestClient, phone: str, password: str = PASSWORD):
    response = post_form(client, "/login", {"phone": phone, "password": password}, page="/login")
    assert response.status_code == 303, response.text
    return response


def text_of(page: str) -> str:
    """Visible text, roughly: tags stripped, entities decoded, spaces folded."""
    no_tags = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S))
    return re.sub(r"\s+", " ", html.unescape(no_tags)).strip()


def fresh(db: Session) -> None:
    """See what other connections committed: end the snapshot and forget loaded rows."""
    db.rollback()
    db.expire_all()
