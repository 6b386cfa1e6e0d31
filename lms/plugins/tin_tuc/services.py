"""News items: write, publish, withdraw, list. Staff write for their commune; an administrator
also for the whole installation. Only published items are ever shown to the public."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from lms.channels import ChannelItem, EvidenceChoice
from lms.context import Context
from lms.core.models import Place, User
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.media import StoredImage, media_store, prepare_image, save_image
from lms.plugins.tin_tuc.models import NewsItem
from lms.text import InvalidInput, clean_text, markdown_html, markdown_text, nfc

TITLE_MAX = 200
SUMMARY_MAX = 300
BODY_MAX = 20_000
PAGE_SIZE = 20
# A news item's body, as Markdown: paragraphs, lists, emphasis, links and two heading levels.
BODY_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "h2", "h3", "blockquote"})


@dataclass(frozen=True)
class NewsInput:
    title: str = ""
    summary: str = ""
    body: str = ""
    link_key: str = ""
    image_alt: str = ""
    remove_image: bool = False


@dataclass(frozen=True)
class LinkChoice:
    """A course or event a news item may point to (what the channels offer the commune)."""

    key: str
    kind_label: str
    title: str
    url: str


def in_scope(db: Session, user: User, item_id: int) -> NewsItem:
    """The item if `user` may edit it: their commune's, or any for an administrator."""
    item = db.get(NewsItem, item_id)
    if item is None or (user.role != "admin" and (item.commune_id is None or item.commune_id != user.commune_id)):
        raise NotFound()
    return item


def staff_items(db: Session, user: User) -> list[NewsItem]:
    statement = select(NewsItem).order_by(NewsItem.updated_at.desc()).limit(200)
    if user.role != "admin":
        statement = statement.where(NewsItem.commune_id == user.commune_id)
    return list(db.execute(statement).scalars())


def _published(commune_id: int | None) -> Any:
    statement = select(NewsItem).where(NewsItem.status == "published")
    if commune_id is not None:
        # A commune's readers see its news and the installation's.
        statement = statement.where(or_(NewsItem.commune_id == commune_id, NewsItem.commune_id.is_(None)))
    return statement.order_by(NewsItem.published_at.desc(), NewsItem.id.desc())


def published(db: Session, commune_id: int | None = None, *, limit: int = PAGE_SIZE,
              offset: int = 0) -> list[NewsItem]:
    return list(db.execute(_published(commune_id).offset(offset).limit(limit)).scalars())


def published_item(db: Session, item_id: int) -> NewsItem | None:
    item = db.get(NewsItem, item_id)
    return item if item is not None and item.status == "published" else None


def image_of(item: NewsItem) -> StoredImage | None:
    return StoredImage.from_dict(item.image) if item.image else None


def summary_of(item: NewsItem) -> str:
    """The summary written, or the body's first words."""
    if item.summary:
        return item.summary
    text = markdown_text(item.body_md)
    return text if len(text) <= 200 else text[:200].rsplit(" ", 1)[0] + "…"


def _text_field(errors: dict[str, str], name: str, raw: str, max_length: int, *, required: str = "") -> str:
    try:
        value = clean_text(raw, max_length=max_length)
    except InvalidInput as exc:
        errors[name] = str(exc)
        return ""
    if required and not value:
        errors[name] = required
    return value


def _checked(data: NewsInput, links: list[LinkChoice]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    title = _text_field(errors, "title", data.title, TITLE_MAX, required="Hãy nhập tiêu đề tin.")
    summary = _text_field(errors, "summary", data.summary, SUMMARY_MAX)
    body = nfc(data.body or "").replace("\r\n", "\n").strip()
    if not body:
        errors["body"] = "Hãy viết nội dung tin."
    elif len(body) > BODY_MAX:
        errors["body"] = f"Nội dung tối đa {BODY_MAX:,} ký tự.".replace(",", ".")
    link = None
    if data.link_key:
        link = next((choice for choice in links if choice.key == data.link_key), None)
        if link is None:
            errors["link_key"] = "Khóa học hoặc sự kiện này không còn để chọn; hãy chọn lại."
    values = {"title": title, "summary": summary, "body_md": body, "body_html": markdown_html(body, tags=BODY_TAGS),
              "link_key": link.key if link else None, "link_title": link.title if link else "",
              "link_url": link.url if link else ""}
    return values, errors


def save(ctx: Context, *, actor: User, data: NewsInput, links: list[LinkChoice], image_data: bytes | None = None,
         commune_id: int | None = None, item_id: int | None = None) -> NewsItem:
    """Create a draft in `commune_id` (None: the installation, administrators only), or change
    `item_id`. Every problem at once in FormErrors; the picture is checked before any write."""
    values, errors = _checked(data, links)
    prepared = None
    if image_data:
        try:
            prepared = prepare_image(image_data, alt=data.image_alt, max_bytes=ctx.settings.media_max_upload_bytes)
        except ServiceError as exc:
            errors["image_alt" if exc.code.startswith("media_alt") else "image"] = exc.message
    if errors:
        raise FormErrors(errors)
    with ctx.transaction() as db:
        if item_id is None:
            if commune_id is None and actor.role != "admin":
                raise NotFound()
            if commune_id is not None:
                commune = db.get(Place, commune_id)
                if commune is None or commune.kind != "commune" or (
                        actor.role != "admin" and commune.id != actor.commune_id):
                    raise NotFound()
            item = NewsItem(commune_id=commune_id, created_by_id=actor.id, **values)
        else:
            item = in_scope(db, actor, item_id)
            for key, value in values.items():
                setattr(item, key, value)
        if prepared is not None:
            item.image = save_image(db, media_store(ctx.settings), prepared).to_dict()
        elif data.remove_image:
            item.image = None
        elif item.image and data.image_alt.strip():
            item.image = {**item.image, "alt": clean_text(data.image_alt, max_length=200)}
        item.updated_at = utcnow()
        item.updated_by_id = actor.id
        db.add(item)
        db.flush()
        db.expunge(item)
    return item


def set_published(ctx: Context, *, actor: User, item_id: int, published: bool) -> NewsItem:
    with ctx.transaction() as db:
        item = in_scope(db, actor, item_id)
        if published and item.status != "published":
            item.status = "published"
            # The first publication's time stays: withdrawing and publishing again is a correction.
            item.published_at = item.published_at or utcnow()
        elif not published:
            item.status = "draft"
        item.updated_at = utcnow()
        item.updated_by_id = actor.id
        db.add(item)
        db.flush()
        db.expunge(item)
    return item


def delete_draft(ctx: Context, *, actor: User, item_id: int) -> None:
    with ctx.transaction() as db:
        item = in_scope(db, actor, item_id)
        if item.status == "published":
            raise ServiceError("news_published", "Tin đã đăng: hãy gỡ tin xuống trước khi xóa.", 409)
        db.delete(item)


# --- What other parts of the platform read --------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def channel_items(db: Session, commune_id: int | None, limit: int) -> list[ChannelItem]:
    items = []
    for item in published(db, commune_id, limit=limit):
        image = image_of(item)
        items.append(ChannelItem(
            kind="news", key=f"tin-tuc:{item.id}", title=item.title, summary=summary_of(item),
            url=f"/tin-tuc/{item.id}", published=_aware(item.published_at or item.created_at),
            updated=_aware(item.updated_at), commune_id=item.commune_id,
            image_url=image.default.url if image else None))
    return items


def evidence_choices(db: Session, user: User) -> list[EvidenceChoice]:
    if user.role != "admin" and user.commune_id is None:
        return []
    statement = select(NewsItem).where(NewsItem.status == "published")
    if user.role != "admin":
        statement = statement.where(NewsItem.commune_id == user.commune_id)
    statement = statement.order_by(NewsItem.published_at.desc()).limit(200)
    return [EvidenceChoice(key=f"tin-tuc:{item.id}", group="Tin tức đã đăng", title=item.title,
                           url=f"/tin-tuc/{item.id}", at=_aware(item.published_at or item.created_at),
                           commune_id=item.commune_id)
            for item in db.execute(statement).scalars()]


def bulletin_text(item: NewsItem) -> str:
    """What the machine voice reads: the title is read before it, so the body only."""
    return markdown_text(item.body_md)
