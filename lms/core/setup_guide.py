"""The first-run guide: a few skippable steps after the first administrator is made, and a check
page that says what the installation still lacks. Each step is also reachable later from the
staff area ("Cài đặt ban đầu")."""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlmodel import Session

from lms.context import Context
from lms.core import official_places
from lms.core.models import Place, User
from lms.errors import FormErrors, ServiceError
from lms.plugin_host import flatten
from lms.settings import Settings
from lms.setup_checks import SetupCheck, some_names


@dataclass(frozen=True)
class Step:
    slug: str
    title: str

    @property
    def href(self) -> str:
        return f"/staff/bat-dau/{self.slug}"


STEPS = (
    Step("ten", "Tên và người ký chứng nhận"),
    Step("dia-ban", "Tỉnh, thành phố và xã, phường"),
    Step("thon", "Thôn, tổ dân phố"),
    Step("can-bo", "Tài khoản cán bộ"),
    Step("tin-nhan", "Tin nhắn SMS"),
    Step("kiem-tra", "Kiểm tra"),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}


def next_step(slug: str) -> Step | None:
    slugs = [step.slug for step in STEPS]
    index = slugs.index(slug) + 1
    return STEPS[index] if index < len(STEPS) else None


# --- Places ------------------------------------------------------------------------


@dataclass
class CommunesChosen:
    province: Place
    added: int
    renamed: int
    unchanged: int
    communes: list[str]


def official_province(code: str) -> official_places.OfficialProvince:
    province = official_places.find_province(code) if code else None
    if province is None:
        raise FormErrors({"province": "Chọn tỉnh hoặc thành phố trong danh sách."})
    return province


def loaded_codes(db: Session, province: official_places.OfficialProvince) -> set[str]:
    """Codes of this province's communes already in the installation."""
    parent = db.execute(select(Place.id).where(Place.kind == "province", Place.code == province.code)).scalar()
    if parent is None:
        return set()
    return set(db.execute(select(Place.code).where(Place.kind == "commune", Place.parent_id == parent,
                                                   Place.code.is_not(None))).scalars())


def choose_communes(ctx: Context, *, province_code: str, commune_codes: list[str]) -> CommunesChosen:
    """Load the province and the communes chosen from the national list (again: nothing changes)."""
    official = official_province(province_code)
    known = {unit.code: unit for unit in official.communes}
    chosen = [known[code] for code in dict.fromkeys(commune_codes) if code in known]
    if not chosen:
        raise FormErrors({"communes": "Chọn ít nhất một xã, phường mà hệ thống phục vụ."})
    with ctx.transaction() as db:
        province = official_places.upsert(db, kind="province", unit=official_places.OfficialUnit(
            official.code, official.name), parent_id=None)
        db.flush()
        before = {place.code: place.name for place in db.execute(
            select(Place).where(Place.kind == "commune", Place.code.in_([u.code for u in chosen]))).scalars()}
        for unit in chosen:
            official_places.upsert(db, kind="commune", unit=unit, parent_id=province.id)
        db.flush()
    added = sum(1 for unit in chosen if unit.code not in before)
    renamed = sum(1 for unit in chosen if unit.code in before and before[unit.code] != unit.name)
    return CommunesChosen(province, added, renamed, len(chosen) - added - renamed, [u.name for u in chosen])


def served_province_code(db: Session) -> str | None:
    """The official code of a province that has communes here (the first by name)."""
    return db.execute(select(Place.code).where(Place.kind == "province", Place.code.is_not(None),
                                               Place.id.in_(select(Place.parent_id).where(Place.kind == "commune")))
                      .order_by(Place.name).limit(1)).scalar()


def served_communes(db: Session) -> list[Place]:
    return list(db.execute(select(Place).where(Place.kind == "commune", Place.active.is_(True))
                           .order_by(Place.name)).scalars())


def village_counts(db: Session) -> dict[int, int]:
    rows = db.execute(select(Place.parent_id, func.count()).where(Place.kind == "village", Place.active.is_(True))
                      .group_by(Place.parent_id)).all()
    return {parent: count for parent, count in rows}


def village_names(db: Session, commune_id: int) -> list[str]:
    return list(db.execute(select(Place.name).where(Place.kind == "village", Place.parent_id == commune_id,
                                                    Place.active.is_(True)).order_by(Place.name)).scalars())


def staff_accounts(db: Session, limit: int = 50) -> list[tuple[User, str]]:
    rows = db.execute(select(User, Place.name).join(Place, Place.id == User.commune_id, isouter=True)
                      .where(User.role == "staff", User.active.is_(True), User.merged_into_id.is_(None))
                      .order_by(Place.name, User.full_name).limit(limit)).all()
    return [(user, commune or "") for user, commune in rows]


# --- The check page ----------------------------------------------------------------


def checks(ctx: Context, db: Session) -> list[SetupCheck]:
    """Every check, what is missing first."""
    found = core_checks(ctx, db) + flatten(ctx.pm.hook.setup_checks(db=db, settings=ctx.settings))
    return sorted(found, key=lambda check: (not check.missing, check.done, check.order))


def _names(places: list[Place]) -> str:
    return some_names([place.name for place in places])


def core_checks(ctx: Context, db: Session) -> list[SetupCheck]:
    settings: Settings = ctx.settings
    found = [_address_check(settings), _keys_check(settings), _signer_check(settings)]
    communes = served_communes(db)
    if not communes:
        found.append(SetupCheck("Chưa có xã, phường nào", False, "Chọn tỉnh, thành phố và các xã, phường "
                                "từ danh sách hành chính của Nhà nước.", "/staff/bat-dau/dia-ban",
                                "Chọn địa bàn", order=10))
    else:
        found.append(SetupCheck(f"Phục vụ {len(communes)} xã, phường", True, _names(communes), order=10))
        counts = village_counts(db)
        bare = [place for place in communes if not counts.get(place.id)]
        if bare:
            found.append(SetupCheck("Xã, phường chưa có thôn, tổ dân phố", False,
                                    f"{_names(bare)}. Người dân chọn thôn khi đăng ký; tổ công nghệ số "
                                    "nhận thôn để hỗ trợ.", f"/staff/bat-dau/thon?xa={bare[0].id}",
                                    "Thêm thôn, tổ dân phố", order=20))
        else:
            found.append(SetupCheck("Mỗi xã, phường đã có thôn, tổ dân phố", True,
                                    f"{sum(counts.get(place.id, 0) for place in communes)} thôn, tổ dân phố.",
                                    order=20))
    staff = db.execute(select(User.commune_id).where(User.role == "staff", User.active.is_(True),
                                                     User.merged_into_id.is_(None))).scalars().all()
    if not staff:
        found.append(SetupCheck("Chưa có tài khoản cán bộ xã", False, "Cán bộ tạo sự kiện, điểm danh, xem "
                                "số liệu của xã mình. Mời ít nhất một người.", "/staff/bat-dau/can-bo",
                                "Mời cán bộ", order=30))
    else:
        found.append(SetupCheck(f"{len(staff)} tài khoản cán bộ", True, order=30))
        without = [place for place in communes if place.id not in set(staff)]
        if without:
            found.append(SetupCheck("Xã, phường chưa có cán bộ", False, _names(without), "/staff/bat-dau/can-bo",
                                    "Mời cán bộ", advice=True, order=31))
    found.append(_sms_check(ctx))
    return found


LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _address_check(settings: Settings) -> SetupCheck:
    base = settings.base_url.rstrip("/")
    if _loopback((urlsplit(base).hostname or "").lower()):
        return SetupCheck("Địa chỉ công khai còn là địa chỉ của riêng máy này", False,
                          f"Mã QR và liên kết in trên giấy đang trỏ tới {base}, điện thoại của người dân không "
                          "mở được. Người quản trị máy chủ đặt LMS_BASE_URL (ví dụ https://hocso.namsach.gov.vn) "
                          "rồi khởi động lại.", order=1)
    return SetupCheck("Địa chỉ công khai", True, base, order=1)


def _keys_check(settings: Settings) -> SetupCheck:
    if settings.is_sqlite or settings.is_multi_host:
        shared = "trong cơ sở dữ liệu, mọi máy dùng chung" if settings.is_multi_host else "trên máy này (một máy)"
        return SetupCheck("Khóa ký chứng nhận và khóa bảo mật", True, f"Lưu {shared}.", order=2)
    return SetupCheck("Khóa chỉ nằm trên máy này", False,
                      "Cơ sở dữ liệu PostgreSQL dùng được cho nhiều máy, nhưng LMS_MULTI_HOST=false: mỗi máy "
                      "sẽ tự tạo khóa riêng, chứng nhận ký ở máy này không kiểm tra được ở máy khác. Bỏ "
                      "LMS_MULTI_HOST (hoặc đặt true) để các máy dùng chung khóa trong cơ sở dữ liệu.", order=2)


def _signer_check(settings: Settings) -> SetupCheck:
    if not settings.certificate_signer_name.strip():
        return SetupCheck("Chứng nhận chưa có tên người ký", False, "Chứng nhận in ra sẽ để trống chỗ họ tên.",
                          "/staff/bat-dau/ten", "Đặt người ký", order=5)
    title = settings.certificate_signer_title.replace("\\n", "\n").replace("\n", " ")
    return SetupCheck("Người ký chứng nhận", True, f"{title}: {settings.certificate_signer_name}", order=5)


def _sms_check(ctx: Context) -> SetupCheck:
    from lms.core.recovery_services import active_gateway

    gateway = active_gateway(ctx)
    name = getattr(gateway, "name", "none") if gateway is not None else "none"
    if name == "dev":
        return SetupCheck("Chưa gửi SMS thật", False, "Cổng thử “dev” chỉ giữ tin nhắn để cán bộ xem ở "
                          "“Tin nhắn đã gửi (thử nghiệm)” trong khu vực Quản lý. Người quên mật khẩu nhờ cán bộ "
                          "cấp liên kết đặt lại.",
                          "/staff/bat-dau/tin-nhan", "Đặt cổng SMS", advice=True, order=40)
    if name == "none":
        return SetupCheck("Không gửi SMS", False, "Người quên mật khẩu nhờ cán bộ cấp liên kết đặt lại.",
                          "/staff/bat-dau/tin-nhan", "Đặt cổng SMS", advice=True, order=40)
    return SetupCheck("Cổng gửi SMS", True, f"“{name}”.", order=40)


def send_test_message(ctx: Context, *, phone_raw: str, site_name: str) -> str:
    """Send one test text through the active gateway; returns the gateway's name."""
    from lms.core.recovery_services import _send, active_gateway
    from lms.text import InvalidInput, normalize_phone

    try:
        phone = normalize_phone(phone_raw)
    except InvalidInput as exc:
        raise FormErrors({"test_phone": str(exc)}) from exc
    gateway = active_gateway(ctx)
    if gateway is None:
        raise FormErrors({"test_phone": "Chưa có cổng gửi tin nhắn nào đang dùng."})
    try:
        _send(gateway, phone, f"Tin nhắn thử của {site_name}: cổng SMS đã hoạt động.")
    except ServiceError as exc:
        raise FormErrors({"test_phone": f"Chưa gửi được qua cổng “{gateway.name}”: {exc.message}"}) from exc
    return str(gateway.name)
