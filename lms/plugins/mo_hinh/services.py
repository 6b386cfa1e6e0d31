"""Mô hình tiêu biểu: submitting and reviewing models, and what the public pages, the commune's
channels, lessons and the yearly compilation read of the published ones."""

import html
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms.channels import ChannelItem, EvidenceChoice
from lms.context import Context
from lms.core.models import Place, User
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.media import StoredImage, media_store, prepare_image, save_image
from lms.personal_data import ERASED_NAME
from lms.plugins.mo_hinh.models import ExemplaryModel, Transition
from lms.templating import VIETNAM
from lms.text import InvalidInput, clean_text, fold, markdown_html, nfc, normalize_name, normalize_phone

# The fields (lĩnh vực) a model is filed under: the three pillars of digital transformation,
# and science, technology and innovation, which the plan (§II.1.3) names beside them.
SECTORS = {
    "chinh-quyen-so": "Chính quyền số",
    "kinh-te-so": "Kinh tế số",
    "xa-hoi-so": "Xã hội số",
    "khcn-dmst": "Khoa học, công nghệ và đổi mới sáng tạo",
}
STATUS_LABELS = {
    "submitted": "Chờ duyệt",
    "changes_requested": "Cần sửa, bổ sung",
    "published": "Đã công bố",
    "declined": "Không được duyệt",
    "unpublished": "Đã gỡ khỏi trang công khai",
}
MAX_PHOTOS = 4
TITLE_MAX, UNIT_MAX, DESCRIPTION_MAX, RESULTS_MAX, NOTE_MAX, EMAIL_MAX = 200, 200, 4000, 2000, 1000, 120
PAGE_SIZE = 12
STAFF_ROLES = ("staff", "admin")

FIELD_ERRORS = {
    "title": "Vui lòng nhập tên mô hình (tối đa 200 ký tự).",
    "unit": "Vui lòng nhập đơn vị hoặc cá nhân có mô hình (tối đa 200 ký tự).",
    "sector": "Vui lòng chọn lĩnh vực của mô hình.",
    "description": f"Vui lòng mô tả mô hình (tối đa {DESCRIPTION_MAX} ký tự).",
    "results": f"Vui lòng nêu kết quả đạt được (tối đa {RESULTS_MAX} ký tự).",
    "contact": "Vui lòng để lại số điện thoại hoặc thư điện tử để cán bộ xã liên hệ khi cần.",
    "contact_email": "Thư điện tử chưa đúng, ví dụ: tencuaban@gmail.com.",
    "rights_confirmed": "Vui lòng xác nhận bạn được phép chia sẻ nội dung và ảnh của mô hình này.",
    "photos": f"Mỗi mô hình có tối đa {MAX_PHOTOS} ảnh. Vui lòng bỏ bớt ảnh rồi gửi lại.",
    "commune_id": "Vui lòng chọn xã, phường của mô hình.",
    "note_changes": "Vui lòng ghi rõ cần sửa, bổ sung những gì để người gửi biết.",
    "note_decline": "Vui lòng ghi lý do không duyệt để người gửi biết.",
    "note_long": f"Ghi chú dài tối đa {NOTE_MAX} ký tự.",
}

# What a reviewer may do, from which states, to which state.
ACTIONS = {
    "publish": (("submitted", "changes_requested", "unpublished"), "published"),
    "request_changes": (("submitted",), "changes_requested"),
    "decline": (("submitted", "changes_requested"), "declined"),
    "unpublish": (("published",), "unpublished"),
}
ACTION_VERBS = {"publish": "công bố", "request_changes": "yêu cầu sửa", "decline": "từ chối", "unpublish": "gỡ xuống"}
# The submitter may change what they sent until it is reviewed.
EDITABLE = ("submitted", "changes_requested")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_SUBMIT_KEY = re.compile(r"[A-Za-z0-9_-]{16,40}")
_SLUG = re.compile(r"[a-z0-9-]{1,120}")


def new_submit_key() -> str:
    """The key a submission form carries, so sending it twice makes one model."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class ModelInput:
    title: str = ""
    unit: str = ""
    sector: str = ""
    description: str = ""
    results: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    show_photos: bool = False
    show_contact: bool = False
    rights_confirmed: bool = False
    commune_id: str = ""  # chosen by a person with no commune of their own, or an administrator
    keep_photos: tuple[str, ...] = ()  # keys of the photos already there to keep, when editing
    submit_key: str = ""


@dataclass(frozen=True)
class PhotoUpload:
    slot: str  # the form field, for its error ("photo_1")
    data: bytes
    alt: str = ""


# --- Checking what was sent --------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: str | None) -> str:
    """Without control characters (PostgreSQL refuses NUL in text), line breaks as "\n"."""
    return _CONTROL.sub("", nfc(text or "").replace("\r\n", "\n").replace("\r", "\n"))


def _text(errors: dict[str, str], name: str, raw: str, max_length: int) -> str:
    try:
        value = clean_text(raw, max_length=max_length)
    except InvalidInput:
        value = ""
    if not value:
        errors[name] = FIELD_ERRORS[name]
    return value


def _markdown(errors: dict[str, str], name: str, raw: str, max_length: int) -> str:
    value = raw.strip()
    if not value or len(value) > max_length:
        errors[name] = FIELD_ERRORS[name]
    return value


def _checked(data: ModelInput) -> tuple[dict, dict[str, str]]:
    data = replace(data, **{name: _printable(getattr(data, name)) for name in (
        "title", "unit", "sector", "description", "results", "contact_name", "contact_phone", "contact_email")})
    errors: dict[str, str] = {}
    values: dict = {
        "title": _text(errors, "title", data.title, TITLE_MAX),
        "unit": _text(errors, "unit", data.unit, UNIT_MAX),
        "sector": data.sector if data.sector in SECTORS else "",
        "description_md": _markdown(errors, "description", data.description, DESCRIPTION_MAX),
        "results_md": _markdown(errors, "results", data.results, RESULTS_MAX),
        "show_photos": bool(data.show_photos), "show_contact": bool(data.show_contact),
        "rights_confirmed": bool(data.rights_confirmed),
    }
    if not values["sector"]:
        errors["sector"] = FIELD_ERRORS["sector"]
    values["description_html"] = markdown_html(values["description_md"])
    values["results_html"] = markdown_html(values["results_md"])
    try:
        values["contact_name"] = normalize_name(data.contact_name)
    except InvalidInput as exc:
        errors["contact_name"] = str(exc)
    phone, email = (data.contact_phone or "").strip(), " ".join(nfc(data.contact_email or "").split())
    values["contact_phone"] = values["contact_email"] = ""
    if phone:
        try:
            values["contact_phone"] = normalize_phone(phone)
        except InvalidInput as exc:
            errors["contact_phone"] = str(exc)
    if email:
        if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
            errors["contact_email"] = FIELD_ERRORS["contact_email"]
        else:
            values["contact_email"] = email
    if not phone and not email:
        errors["contact_phone"] = FIELD_ERRORS["contact"]
    if not data.rights_confirmed:
        errors["rights_confirmed"] = FIELD_ERRORS["rights_confirmed"]
    return values, errors


def _prepared(ctx: Context, uploads: list[PhotoUpload], *, kept: int, title: str,
              errors: dict[str, str]) -> list:
    """Each upload checked by its content and re-encoded (no database yet); problems into `errors`."""
    if kept + len(uploads) > MAX_PHOTOS:
        errors["photos"] = FIELD_ERRORS["photos"]
        return []
    prepared = []
    for number, upload in enumerate(uploads, start=kept + 1):
        # The alt text is asked for but not required of a resident: a plain one stands in.
        alt = " ".join(_printable(upload.alt).split()) or f"Ảnh {number} của mô hình {title}".strip()
        try:
            prepared.append(prepare_image(upload.data, alt=alt, max_bytes=ctx.settings.media_max_upload_bytes))
        except ServiceError as exc:
            errors[upload.slot] = exc.message
    return prepared


def _commune_for(db: Session, actor: User, requested: str, errors: dict[str, str]) -> int | None:
    """The submitter's own commune; chosen only by someone without one, or an administrator."""
    if actor.commune_id is not None and actor.role != "admin":
        return actor.commune_id
    chosen = int(requested) if requested.isascii() and requested.isdigit() and len(requested) < 10 else None
    if chosen is None and actor.role == "admin":
        chosen = actor.commune_id
    place = db.get(Place, chosen) if chosen else None
    if place is None or place.kind != "commune":
        errors["commune_id"] = FIELD_ERRORS["commune_id"]
        return None
    return place.id


def _record(db: Session, model: ExemplaryModel, before: str, after: str, actor: User | None, note: str = "") -> None:
    db.add(Transition(model_id=model.id, from_status=before, to_status=after,
                      actor_id=actor.id if actor else None, note=note))


def slug_text(text: str, *, length: int = 80) -> str:
    """Lowercase ASCII words joined by "-": "Ứng dụng số" → "ung-dung-so"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:length].rstrip("-")


def _slug_for(model: ExemplaryModel) -> str:
    return f"{slug_text(model.title) or 'mo-hinh'}-{model.id}"


def _publish(model: ExemplaryModel) -> None:
    model.status = "published"
    if model.slug is None:
        model.slug = _slug_for(model)
    if model.published_at is None:
        model.published_at = utcnow()


# --- Submitting and editing --------------------------------------------------------------


def submit(ctx: Context, *, actor: User, data: ModelInput, uploads: list[PhotoUpload],
           publish: bool = False) -> ExemplaryModel:
    """A new model, submitted for review (or, by staff of its commune, published at once); one
    unit of work. Raises FormErrors with every problem: nothing is written then."""
    values, errors = _checked(data)
    prepared = _prepared(ctx, uploads, kept=0, title=values["title"], errors=errors)
    key = data.submit_key if _SUBMIT_KEY.fullmatch(data.submit_key or "") else None
    with ctx.transaction() as db:
        commune_id = _commune_for(db, actor, data.commune_id or "", errors)
        if errors:
            raise FormErrors(errors)
        if key is not None:
            existing = db.execute(select(ExemplaryModel).where(ExemplaryModel.submit_key == key)).scalars().first()
            if existing is not None:
                if existing.submitter_id == actor.id:
                    return existing  # the same form sent again
                key = None
        store = media_store(ctx.settings)
        photos = [save_image(db, store, photo).to_dict() for photo in prepared]
        model = ExemplaryModel(commune_id=commune_id, photos=photos, submitter_id=actor.id, submit_key=key,
                               status="submitted", **values)
        try:
            with db.begin_nested():
                db.add(model)
                db.flush()
        except IntegrityError:
            # Two copies of one form at once (a phone's retry): the first one made the model.
            existing = db.execute(select(ExemplaryModel).where(ExemplaryModel.submit_key == key)).scalars().first()
            if existing is None:
                raise
            return existing
        _record(db, model, "", "submitted", actor)
        if publish:
            if not may_review(actor, model):
                raise NotFound()
            _publish(model)
            db.add(model)
            _record(db, model, "submitted", "published", actor, "Cán bộ nhập và công bố trực tiếp.")
        return model


def resubmit(ctx: Context, *, actor: User, model_id: int, data: ModelInput,
             uploads: list[PhotoUpload]) -> ExemplaryModel:
    """The submitter's changes (after a request for changes, or before review): sent for review
    again; one unit of work. Photos not in `data.keep_photos` are dropped."""
    values, errors = _checked(data)
    with ctx.reading() as db:
        model = _own(db, actor, model_id)
    kept = [photo for photo in model.photos if StoredImage.from_dict(photo).key in set(data.keep_photos)]
    if model.status not in EDITABLE:
        raise ServiceError("mohinh_not_editable", "Mô hình đã được duyệt nên không sửa được nữa. "
                           "Nếu cần thay đổi, vui lòng liên hệ cán bộ xã.", 409)
    prepared = _prepared(ctx, uploads, kept=len(kept), title=values["title"], errors=errors)
    if errors:
        raise FormErrors(errors)
    with ctx.transaction() as db:
        model = _own(db, actor, model_id)
        if model.status not in EDITABLE:
            raise ServiceError("mohinh_not_editable", "Mô hình đã được duyệt nên không sửa được nữa.", 409)
        store = media_store(ctx.settings)
        before = model.status
        for name, value in values.items():
            setattr(model, name, value)
        model.photos = kept + [save_image(db, store, photo).to_dict() for photo in prepared]
        model.status, model.updated_at = "submitted", utcnow()
        db.add(model)
        _record(db, model, before, "submitted", actor, "Người gửi đã sửa và gửi lại.")
        return model


def _own(db: Session, actor: User, model_id: int) -> ExemplaryModel:
    model = db.get(ExemplaryModel, model_id)
    if model is None or model.submitter_id != actor.id:
        raise NotFound()
    return model


def own_model(db: Session, actor: User, model_id: int) -> ExemplaryModel:
    """One of the person's own submissions, or NotFound."""
    return _own(db, actor, model_id)


def own_models(db: Session, actor: User) -> list[ExemplaryModel]:
    return list(db.execute(select(ExemplaryModel).where(ExemplaryModel.submitter_id == actor.id)
                           .order_by(ExemplaryModel.updated_at.desc(), ExemplaryModel.id.desc())).scalars())


# --- Review ------------------------------------------------------------------------------


def may_review(user: User | None, model: ExemplaryModel) -> bool:
    if user is None or user.role not in STAFF_ROLES:
        return False
    return user.role == "admin" or user.commune_id == model.commune_id


def in_scope(db: Session, user: User, model_id: int) -> ExemplaryModel:
    """A model the staff member reviews (their commune's; any for an administrator), or NotFound."""
    model = db.get(ExemplaryModel, model_id)
    if model is None or not may_review(user, model):
        raise NotFound()
    return model


def review(ctx: Context, *, actor: User, model_id: int, action: str, note: str = "") -> ExemplaryModel:
    """Publish, ask for changes, decline or unpublish; recorded with who and when. Done twice (a
    phone's retry) it is done once."""
    if action not in ACTIONS:
        raise NotFound()
    sources, target = ACTIONS[action]
    note = _printable(note).strip()
    with ctx.transaction() as db:
        model = in_scope(db, actor, model_id)
        if len(note) > NOTE_MAX:
            raise FormErrors({"note": FIELD_ERRORS["note_long"]})
        if action in ("request_changes", "decline") and not note:
            raise FormErrors({"note": FIELD_ERRORS["note_changes" if action == "request_changes" else "note_decline"]})
        if model.status == target:
            return model
        if model.status not in sources:
            raise ServiceError("mohinh_transition", f"Mô hình đang ở trạng thái “{STATUS_LABELS[model.status]}” "
                               f"nên không thể {ACTION_VERBS[action]}.", 409)
        before = model.status
        if action == "publish":
            _publish(model)
        else:
            model.status = target
        if action != "publish":
            model.review_note = note
        model.updated_at = utcnow()
        db.add(model)
        _record(db, model, before, target, actor, note)
        return model


@dataclass(frozen=True)
class Queue:
    by_status: dict[str, list[ExemplaryModel]]
    communes: dict[int, str]

    @property
    def waiting(self) -> int:
        return len(self.by_status.get("submitted", []))


def queue(db: Session, user: User, *, commune_id: int | None = None, limit: int = 200) -> Queue:
    """The models a staff member reviews, by state (oldest waiting first); an administrator's
    of every commune, or of `commune_id`."""
    statement = select(ExemplaryModel)
    if user.role != "admin":
        statement = statement.where(ExemplaryModel.commune_id == user.commune_id)
    elif commune_id is not None:
        statement = statement.where(ExemplaryModel.commune_id == commune_id)
    rows = db.execute(statement.order_by(ExemplaryModel.updated_at, ExemplaryModel.id).limit(limit)).scalars()
    by_status: dict[str, list[ExemplaryModel]] = {status: [] for status in STATUS_LABELS}
    for model in rows:
        by_status.setdefault(model.status, []).append(model)
    for status in ("published", "declined", "unpublished"):
        by_status[status].reverse()  # the newest decisions first
    return Queue(by_status, commune_names(db))


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    before: str
    after: str
    actor_name: str
    note: str


def history(db: Session, model_id: int) -> list[HistoryLine]:
    rows = db.execute(select(Transition, User.full_name).outerjoin(User, User.id == Transition.actor_id)
                      .where(Transition.model_id == model_id).order_by(Transition.at, Transition.id)).all()
    return [HistoryLine(t.at, STATUS_LABELS.get(t.from_status, ""), STATUS_LABELS.get(t.to_status, t.to_status),
                        name or "Không rõ", t.note) for t, name in rows]


# --- Published models --------------------------------------------------------------------


def commune_names(db: Session) -> dict[int, str]:
    return dict(db.execute(select(Place.id, Place.name).where(Place.kind == "commune")
                           .order_by(Place.name)).all())


def published(db: Session, *, commune_id: int | None = None, sector: str | None = None,
              prefer_commune: int | None = None, limit: int = PAGE_SIZE, offset: int = 0) -> list[ExemplaryModel]:
    """Published models, newest first; those of `prefer_commune` (the reader's) before the others."""
    statement = select(ExemplaryModel).where(ExemplaryModel.status == "published")
    if commune_id is not None:
        statement = statement.where(ExemplaryModel.commune_id == commune_id)
    if sector:
        statement = statement.where(ExemplaryModel.sector == sector)
    order = [ExemplaryModel.published_at.desc(), ExemplaryModel.id.desc()]
    if prefer_commune is not None and commune_id is None:
        order.insert(0, case((ExemplaryModel.commune_id == prefer_commune, 0), else_=1))
    return list(db.execute(statement.order_by(*order).limit(limit).offset(offset)).scalars())


def published_by_key(db: Session, key: str) -> ExemplaryModel | None:
    """A published model by its address: the slug, or the id."""
    if key.isascii() and key.isdigit() and len(key) < 10:
        model = db.get(ExemplaryModel, int(key))
    elif _SLUG.fullmatch(key):
        model = db.execute(select(ExemplaryModel).where(ExemplaryModel.slug == key)).scalars().first()
    else:
        return None
    return model if model is not None and model.status == "published" else None


def photos_of(model: ExemplaryModel) -> list[StoredImage]:
    """Every photo, as reviewers and the submitter see them."""
    return [StoredImage.from_dict(photo) for photo in model.photos]


def public_photos(model: ExemplaryModel) -> list[StoredImage]:
    """The photos the public may see: none unless the submitter agreed."""
    return photos_of(model) if model.show_photos else []


@dataclass(frozen=True)
class PublicContact:
    name: str
    phone: str
    email: str


def public_contact(model: ExemplaryModel) -> PublicContact | None:
    """The contact the public may see: none unless the submitter agreed."""
    if not model.show_contact:
        return None
    return PublicContact(model.contact_name, model.contact_phone, model.contact_email)


def url_of(model: ExemplaryModel) -> str:
    return f"/mo-hinh/{model.slug or model.id}"


_plain_markdown = MarkdownIt("commonmark", {"html": False})
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|pre)>|<br\s*/?>|<hr\s*/?>")


def plain_paragraphs(markdown: str) -> list[str]:
    """Markdown as paragraphs of plain text (list items as "• …"), for documents and summaries."""
    rendered = _plain_markdown.render(nfc(markdown or "")).replace("<li>", "\n• ")
    text = html.unescape(nh3.clean(_BLOCK_END.sub("\n", rendered), tags=set()))
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def summary_of(model: ExemplaryModel, length: int = 200) -> str:
    text = " ".join(plain_paragraphs(model.description_md))
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def channel_items(db: Session, commune_id: int | None, limit: int) -> list[ChannelItem]:
    """Published models for the commune's feeds and screen: nothing of the contact, and a photo
    only where the submitter agreed."""
    items = []
    for model in published(db, commune_id=commune_id, limit=limit):
        photos = public_photos(model)
        items.append(ChannelItem(
            kind="model", key=f"mo-hinh:{model.id}", title=model.title,
            summary=f"{model.unit} · {SECTORS.get(model.sector, '')}. {summary_of(model, 160)}",
            url=url_of(model), published=model.published_at or model.created_at, updated=model.updated_at,
            commune_id=model.commune_id, image_url=photos[0].default.url if photos else None))
    return items


def evidence_choices(db: Session, user: User) -> list[EvidenceChoice]:
    """The commune's published models (every commune's for an administrator), newest first."""
    if user.role not in STAFF_ROLES or (user.role != "admin" and user.commune_id is None):
        return []
    statement = select(ExemplaryModel).where(ExemplaryModel.status == "published")
    if user.role != "admin":
        statement = statement.where(ExemplaryModel.commune_id == user.commune_id)
    statement = statement.order_by(ExemplaryModel.published_at.desc(), ExemplaryModel.id.desc()).limit(200)
    return [EvidenceChoice(key=f"mo-hinh:{model.id}", group="Mô hình tiêu biểu", title=f"{model.title} ({model.unit})",
                           url=url_of(model), at=model.published_at or model.created_at, commune_id=model.commune_id)
            for model in db.execute(statement).scalars()]


def embed_card_html(db: Session, model_id: int | str) -> str | None:
    """A small card for a published model (title, unit, first photo if agreed, link), for a
    lesson to show; None for a model that is not published. `model_id`: the id, or its address
    (slug or id as text)."""
    if isinstance(model_id, str):
        model = published_by_key(db, model_id)
    else:
        model = db.get(ExemplaryModel, model_id) if isinstance(model_id, int) else None
    if model is None or model.status != "published":
        return None
    url = url_of(model)
    photos = public_photos(model)
    picture = Markup('<a href="{}">{}</a>').format(url, photos[0].tag(
        sizes="(max-width: 840px) 100vw, 800px", css_class="card-cover")) if photos else Markup("")
    return str(Markup(
        '<aside class="card mohinh-embed" aria-label="Mô hình tiêu biểu">{}'
        '<p class="muted">Mô hình tiêu biểu · {}</p>'
        '<h3 class="card-title"><a href="{}">{}</a></h3><p>{}</p>'
        '<p><a href="{}">Xem mô hình</a></p></aside>'
    ).format(picture, SECTORS.get(model.sector, ""), url, model.title, model.unit, url))


# --- The yearly compilation --------------------------------------------------------------


@dataclass(frozen=True)
class Compilation:
    year: int
    commune: Place
    models: list[ExemplaryModel] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Tổng hợp mô hình tiêu biểu năm {self.year} — {self.commune.name}"


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year in Vietnam time, as UTC instants [start, end)."""
    start = datetime(year, 1, 1, tzinfo=VIETNAM).astimezone(UTC)
    return start, datetime(year + 1, 1, 1, tzinfo=VIETNAM).astimezone(UTC)


def compilation_commune(db: Session, user: User, requested: int | None) -> Place:
    """The commune a staff member compiles: their own; any one for an administrator (their own,
    when they name none). NotFound for another commune's."""
    if user.role == "admin":
        chosen = requested if requested is not None else user.commune_id
    else:
        if requested is not None and requested != user.commune_id:
            raise NotFound()
        chosen = user.commune_id
    place = db.get(Place, chosen) if chosen else None
    if place is None or place.kind != "commune":
        raise NotFound()
    return place


def compilation(db: Session, *, user: User, year: int, commune_id: int | None) -> Compilation:
    """The models of the commune first published in `year` (still published), oldest first."""
    place = compilation_commune(db, user, commune_id)
    start, end = year_bounds(year)
    models = db.execute(select(ExemplaryModel).where(
        ExemplaryModel.status == "published", ExemplaryModel.commune_id == place.id,
        ExemplaryModel.published_at >= start, ExemplaryModel.published_at < end,
    ).order_by(ExemplaryModel.published_at, ExemplaryModel.id)).scalars()
    return Compilation(year, place, list(models))


def years_with_models(db: Session, commune_id: int | None) -> list[int]:
    statement = select(ExemplaryModel.published_at).where(ExemplaryModel.status == "published")
    if commune_id is not None:
        statement = statement.where(ExemplaryModel.commune_id == commune_id)
    years = {moment.astimezone(VIETNAM).year for moment in db.execute(statement).scalars() if moment}
    return sorted(years, reverse=True)


# --- A person's data ---------------------------------------------------------------------


def export_rows(db: Session, user: User) -> tuple[list[dict], list[dict]]:
    """The person's submissions (with the contact they left) and the review steps they made."""
    models = db.execute(select(ExemplaryModel).where(ExemplaryModel.submitter_id == user.id)
                        .order_by(ExemplaryModel.id)).scalars().all()
    from lms.personal_data import as_rows

    submitted = as_rows(models, {
        "Tên mô hình": "title", "Đơn vị, cá nhân": "unit", "Lĩnh vực": "sector", "Trạng thái": "status",
        "Người liên hệ": "contact_name", "Số điện thoại": "contact_phone", "Thư điện tử": "contact_email",
        "Cho hiện ảnh công khai": "show_photos", "Cho hiện liên hệ công khai": "show_contact",
        "Gửi lúc": "created_at", "Sửa lần cuối": "updated_at"})
    steps = db.execute(select(Transition).where(Transition.actor_id == user.id).order_by(Transition.id)).scalars().all()
    made = as_rows(steps, {"Mô hình số": "model_id", "Từ trạng thái": "from_status", "Sang trạng thái": "to_status",
                           "Ghi chú": "note", "Lúc": "at"})
    return submitted, made


def _without(text: str, names: Iterable[str]) -> str:
    for name in names:
        if name:
            text = text.replace(name, ERASED_NAME)
    return text


def erase(db: Session, user: User) -> tuple[int, int, int]:
    """In the caller's transaction: the person's submissions not yet published are deleted; the
    published ones (in the commune's yearly compilation) lose the account, the contact and the
    person's name and phone. Returns (deleted, anonymised, review steps unlinked)."""
    models = db.execute(select(ExemplaryModel).where(ExemplaryModel.submitter_id == user.id)).scalars().all()
    gone = [model.id for model in models if model.published_at is None]
    if gone:
        db.execute(delete(Transition).where(Transition.model_id.in_(gone)))
        db.execute(delete(ExemplaryModel).where(ExemplaryModel.id.in_(gone)))
    traces = [user.full_name, user.phone or ""]
    kept = [model for model in models if model.published_at is not None]
    for model in kept:
        for name in ("title", "unit", "description_md", "description_html", "results_md", "results_html"):
            setattr(model, name, _without(getattr(model, name), traces))
        model.photos = [{**photo, "alt": _without(photo.get("alt", ""), traces)} for photo in model.photos]
        model.submitter_id, model.submit_key = None, None
        model.contact_name = model.contact_phone = model.contact_email = ""
        model.show_contact = False
        db.add(model)
    steps = db.execute(update(Transition).where(Transition.actor_id == user.id).values(actor_id=None)).rowcount or 0
    return len(gone), len(kept), steps


def merge(db: Session, keep: User, drop: User, *, apply: bool) -> tuple[int, int]:
    owned = db.execute(select(func.count()).select_from(ExemplaryModel)
                       .where(ExemplaryModel.submitter_id == drop.id)).scalar() or 0
    steps = db.execute(select(func.count()).select_from(Transition)
                       .where(Transition.actor_id == drop.id)).scalar() or 0
    if apply:
        db.execute(update(ExemplaryModel).where(ExemplaryModel.submitter_id == drop.id).values(submitter_id=keep.id))
        db.execute(update(Transition).where(Transition.actor_id == drop.id).values(actor_id=keep.id))
    return owned, steps
