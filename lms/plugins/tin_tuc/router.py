"""Pages: the public news list and items; the staff's list, editor, publish and withdraw."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms import share_images
from lms.context import context_of
from lms.core.models import Place, User
from lms.db import get_session
from lms.errors import FormErrors, ServiceError
from lms.forms import FormFields, ObjectId, checkbox, posted_id, takes_uploads
from lms.plugin_host import flatten
from lms.plugins.tin_tuc import services
from lms.plugins.tin_tuc.models import NewsItem
from lms.templating import VIETNAM, render

router = APIRouter()

NEWS_FIELDS = ("title", "summary", "body", "link_key", "image_alt")


def _communes(db: Session) -> dict[int, str]:
    return dict(db.execute(select(Place.id, Place.name).where(Place.kind == "commune")).all())


# --- Public ------------------------------------------------------------------------------


@router.get("/tin-tuc", dependencies=[access.PUBLIC_ROUTE])
def news_list(request: Request, db: Session = Depends(get_session)) -> Any:
    communes = _communes(db)
    requested = posted_id(request.query_params.get("xa"))
    user = request.state.user
    commune_id = requested if requested in communes else (user.commune_id if user and not requested else None)
    page = min(posted_id(request.query_params.get("trang")) or 1, 1000)
    items = services.published(db, commune_id, limit=services.PAGE_SIZE + 1,
                               offset=(page - 1) * services.PAGE_SIZE)
    return render(request, "tin_tuc/list.html", {
        "items": items[:services.PAGE_SIZE], "more": len(items) > services.PAGE_SIZE, "page": page,
        "communes": communes, "commune_id": commune_id, "summary_of": services.summary_of,
        "image_of": services.image_of})


def _card(request: Request, item: NewsItem, commune: Place | None) -> share_images.ShareCard:
    when = item.published_at.astimezone(VIETNAM).strftime("%d/%m/%Y") if item.published_at else ""
    return share_images.ShareCard(title=item.title, kicker=f"Tin tức · {when}",
                                  footer=commune.name if commune else request.app.state.settings.site_name)


@router.get("/tin-tuc/{item_id}/anh-chia-se.png", dependencies=[access.PUBLIC_ROUTE], include_in_schema=False)
def news_share_image(request: Request, item_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    item = services.published_item(db, item_id)
    if item is None:
        raise HTTPException(404)
    commune = db.get(Place, item.commune_id) if item.commune_id else None
    return share_images.response(request.app.state.settings, _card(request, item, commune),
                                 request.query_params.get("v", ""), request=request)


@router.get("/tin-tuc/{item_id}", dependencies=[access.PUBLIC_ROUTE])
def news_item(request: Request, item_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    item = services.published_item(db, item_id)
    if item is None:
        raise HTTPException(404)
    commune = db.get(Place, item.commune_id) if item.commune_id else None
    return render(request, "tin_tuc/item.html", {
        "item": item, "commune": commune, "image": services.image_of(item),
        "summary": services.summary_of(item),
        "page_url": share_images.absolute_url(request, f"/tin-tuc/{item.id}"),
        "share": share_images.SharePreview.of(
            request, _card(request, item, commune), description=services.summary_of(item),
            path=f"/tin-tuc/{item.id}", image_path=f"/tin-tuc/{item.id}/anh-chia-se.png")})


# --- Staff -------------------------------------------------------------------------------


def _link_choices(request: Request, db: Session, commune_id: int | None,
                  item: NewsItem | None = None) -> list[services.LinkChoice]:
    offered = flatten(request.app.state.pm.hook.channel_items(db=db, commune_id=commune_id, limit=50))
    choices = [services.LinkChoice(offer.key, offer.kind_label, offer.title, offer.url)
               for offer in offered if offer.kind in ("course", "event")]
    # An item keeps the link it has even when the event has since passed.
    if item is not None and item.link_key and item.link_key not in {choice.key for choice in choices}:
        choices.append(services.LinkChoice(item.link_key, "Đang dẫn tới", item.link_title, item.link_url))
    return choices


def _scope_of_new(db: Session, user: User, requested: Any) -> tuple[bool, int | None]:
    """(allowed, commune id) of a new item: staff write for their commune; an administrator for
    any commune, or for the whole installation when none is named."""
    if user.role == "admin":
        commune_id = posted_id(requested)
        if commune_id is None:
            return True, None
        place = db.get(Place, commune_id)
        return (place is not None and place.kind == "commune"), commune_id
    return user.commune_id is not None, user.commune_id


def _editor(request: Request, db: Session, user: User, *, values: dict[str, Any], errors: dict[str, str],
            commune_id: int | None, item: NewsItem | None = None, status_code: int = 200) -> Any:
    commune = db.get(Place, commune_id) if commune_id else None
    return render(request, "tin_tuc/edit.html", {
        "values": values, "errors": errors, "item": item, "commune": commune,
        "links": _link_choices(request, db, commune_id, item), "image": services.image_of(item) if item else None,
        "communes": _communes(db) if user.role == "admin" and item is None else {},
        "saved": request.query_params.get("saved")}, status_code=status_code)


@router.get("/staff/tin-tuc")
def staff_list(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return render(request, "tin_tuc/staff_list.html", {
        "items": services.staff_items(db, user), "communes": _communes(db),
        "done": request.query_params.get("done")})


@router.get("/staff/tin-tuc/new")
def news_new(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    allowed, commune_id = _scope_of_new(db, user, request.query_params.get("xa"))
    if not allowed:
        raise HTTPException(404)
    return _editor(request, db, user, values={"commune": commune_id or ""}, errors={}, commune_id=commune_id)


def _input(form: Any) -> tuple[dict[str, Any], services.NewsInput, bytes | None, str | None]:
    values = {name: form.get(name) if isinstance(form.get(name), str) else "" for name in (*NEWS_FIELDS, "commune")}
    data = services.NewsInput(**{name: values[name] for name in NEWS_FIELDS},
                              remove_image=checkbox(form, "remove_image"))
    upload = form.get("image")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return values, data, None, None
    return values, data, upload, upload.filename


def _read_upload(request: Request, upload: Any) -> bytes:
    return upload.file.read(request.app.state.settings.media_max_upload_bytes + 1)


@router.post("/staff/tin-tuc/new")
@takes_uploads
def news_create(request: Request, form: FormFields, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    values, data, upload, _ = _input(form)
    allowed, commune_id = _scope_of_new(db, user, values["commune"])
    if not allowed:
        raise HTTPException(404)
    try:
        item = services.save(context_of(request), actor=user, data=data, links=_link_choices(request, db, commune_id),
                             image_data=_read_upload(request, upload) if upload else None, commune_id=commune_id)
    except FormErrors as exc:
        return _editor(request, db, user, values=values, errors=exc.errors, commune_id=commune_id, status_code=422)
    return RedirectResponse(f"/staff/tin-tuc/{item.id}?saved=1", status_code=303)


def _item_in_scope(db: Session, user: User, item_id: int) -> NewsItem:
    try:
        return services.in_scope(db, user, item_id)
    except ServiceError:
        raise HTTPException(404) from None


def _values_of(item: NewsItem) -> dict[str, Any]:
    return {"title": item.title, "summary": item.summary, "body": item.body_md, "link_key": item.link_key or "",
            "image_alt": (item.image or {}).get("alt", "")}


@router.get("/staff/tin-tuc/{item_id}")
def news_edit(request: Request, item_id: ObjectId, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    item = _item_in_scope(db, user, item_id)
    return _editor(request, db, user, values=_values_of(item), errors={}, commune_id=item.commune_id, item=item)


@router.post("/staff/tin-tuc/{item_id}")
@takes_uploads
def news_update(request: Request, item_id: ObjectId, form: FormFields, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    item = _item_in_scope(db, user, item_id)
    values, data, upload, _ = _input(form)
    try:
        links = _link_choices(request, db, item.commune_id, item)
        services.save(context_of(request), actor=user, data=data, links=links,
                      image_data=_read_upload(request, upload) if upload else None, item_id=item.id)
    except FormErrors as exc:
        return _editor(request, db, user, values=values, errors=exc.errors, commune_id=item.commune_id, item=item,
                       status_code=422)
    return RedirectResponse(f"/staff/tin-tuc/{item.id}?saved=1", status_code=303)


@router.post("/staff/tin-tuc/{item_id}/publish")
def news_publish(request: Request, item_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    services.set_published(context_of(request), actor=user, item_id=item_id, published=True)
    return RedirectResponse(f"/staff/tin-tuc/{item_id}?saved=published", status_code=303)


@router.post("/staff/tin-tuc/{item_id}/withdraw")
def news_withdraw(request: Request, item_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    services.set_published(context_of(request), actor=user, item_id=item_id, published=False)
    return RedirectResponse(f"/staff/tin-tuc/{item_id}?saved=withdrawn", status_code=303)


@router.post("/staff/tin-tuc/{item_id}/delete")
def news_delete(request: Request, item_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    services.delete_draft(context_of(request), actor=user, item_id=item_id)
    return RedirectResponse("/staff/tin-tuc?done=deleted", status_code=303)
