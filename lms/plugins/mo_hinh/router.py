"""Pages: the public showcase, a person's submissions, the staff's review queue and direct entry,
and the yearly compilation as DOCX and PDF."""

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core.models import Place, User
from lms.db import get_session
from lms.errors import FormErrors, ServiceError
from lms.forms import MAX_FIELD_CHARS, FormFields, FormValues, ObjectId, checkbox, posted_id, takes_uploads
from lms.plugins.mo_hinh import documents, services
from lms.plugins.mo_hinh.models import ExemplaryModel
from lms.templating import VIETNAM, render

router = APIRouter()

TEXT_FIELDS = ("title", "unit", "sector", "description", "results", "contact_name", "contact_phone",
               "contact_email", "commune_id", "submit_key")
CHECKBOXES = ("show_photos", "show_contact", "rights_confirmed")
PHOTO_FIELD = re.compile(r"photo_(\d)")
PRIVATE = {"Cache-Control": "private, no-store"}
# Action names in the addresses of the review forms.
ACTIONS = {"cong-bo": "publish", "yeu-cau-sua": "request_changes", "tu-choi": "decline", "go-xuong": "unpublish"}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- Reading the form --------------------------------------------------------------------


def _values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = form.get(name)
        values[name] = value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""
    for name in CHECKBOXES:
        values[name] = checkbox(form, name)
    values["keep_photos"] = tuple(v for v in form.getlist("keep_photo") if isinstance(v, str))[:services.MAX_PHOTOS * 2]
    return values


def _input(values: dict[str, Any]) -> services.ModelInput:
    return services.ModelInput(**{name: values[name] for name in services.ModelInput.__dataclass_fields__})


def _uploads(request: Request, form: Any) -> list[services.PhotoUpload]:
    """Every file sent, in the order of its field; the services refuse more than four."""
    limit = request.app.state.settings.media_max_upload_bytes + 1
    uploads = []
    for name, value in form.multi_items():
        match = PHOTO_FIELD.fullmatch(name)
        if match is None or isinstance(value, str) or not getattr(value, "filename", ""):
            continue
        alt = form.get(f"alt_{match.group(1)}")
        uploads.append(services.PhotoUpload(slot=name if name in ("photo_1", "photo_2", "photo_3", "photo_4")
                                            else "photos", data=value.file.read(limit),
                                            alt=alt[:400] if isinstance(alt, str) else ""))
    return uploads


def _form_page(request: Request, db: Session, user: User, *, values: dict[str, Any], errors: dict[str, str],
               action: str, model: ExemplaryModel | None = None, staff_entry: bool = False,
               status_code: int = 200) -> Any:
    chooses_commune = model is None and (user.role == "admin" or user.commune_id is None)
    photos = services.photos_of(model) if model is not None else []
    return render(request, "mo_hinh/form.html", {
        "values": values, "errors": errors, "action": action, "model": model, "staff_entry": staff_entry,
        "photos": photos, "free_slots": max(0, services.MAX_PHOTOS - len(photos)),
        "sectors": services.SECTORS, "communes": services.commune_names(db) if chooses_commune else {},
        "commune": db.get(Place, model.commune_id if model else user.commune_id) if not chooses_commune else None,
        "status_labels": services.STATUS_LABELS,
    }, status_code=status_code, headers=PRIVATE)


def _blank(user: User, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in TEXT_FIELDS}
    values.update({name: False for name in CHECKBOXES}, keep_photos=(), submit_key=services.new_submit_key(),
                  contact_name=user.full_name, contact_phone=user.phone or "",
                  commune_id=str(user.commune_id or ""))
    values.update(extra)
    return values


def _values_of(model: ExemplaryModel) -> dict[str, Any]:
    return {"title": model.title, "unit": model.unit, "sector": model.sector, "description": model.description_md,
            "results": model.results_md, "contact_name": model.contact_name, "contact_phone": model.contact_phone,
            "contact_email": model.contact_email, "commune_id": str(model.commune_id), "submit_key": "",
            "show_photos": model.show_photos, "show_contact": model.show_contact,
            "rights_confirmed": model.rights_confirmed,
            "keep_photos": tuple(photo.key for photo in services.photos_of(model))}


# --- Public ------------------------------------------------------------------------------


@router.get("/mo-hinh", dependencies=[access.PUBLIC_ROUTE])
def showcase(request: Request, db: Session = Depends(get_session)) -> Any:
    communes = services.commune_names(db)
    commune_id = posted_id(request.query_params.get("xa"))
    commune_id = commune_id if commune_id in communes else None
    sector = request.query_params.get("linh-vuc", "")
    sector = sector if sector in services.SECTORS else ""
    page = min(posted_id(request.query_params.get("trang")) or 1, 1000)
    user = request.state.user
    found = services.published(db, commune_id=commune_id, sector=sector or None,
                               prefer_commune=user.commune_id if user is not None else None,
                               limit=services.PAGE_SIZE + 1, offset=(page - 1) * services.PAGE_SIZE)
    return render(request, "mo_hinh/list.html", {
        "models": found[:services.PAGE_SIZE], "more": len(found) > services.PAGE_SIZE, "page": page,
        "communes": communes, "commune_id": commune_id, "sector": sector, "sectors": services.SECTORS,
        "photos_of": services.public_photos, "summary_of": services.summary_of, "url_of": services.url_of,
    })


# Before /mo-hinh/{key}, which would take these addresses.
@router.get("/mo-hinh/gui")
def submit_page(request: Request, user: User = Depends(access.signed_in), db: Session = Depends(get_session)) -> Any:
    return _form_page(request, db, user, values=_blank(user), errors={}, action="/mo-hinh/gui")


@router.post("/mo-hinh/gui")
@takes_uploads
def submit(request: Request, form: FormFields, user: User = Depends(access.signed_in),
           db: Session = Depends(get_session)) -> Any:
    values = _values(form)
    try:
        services.submit(context_of(request), actor=user, data=_input(values), uploads=_uploads(request, form))
    except FormErrors as exc:
        return _form_page(request, db, user, values=values, errors=exc.errors, action="/mo-hinh/gui",
                          status_code=422)
    return RedirectResponse("/mo-hinh/cua-toi?da=gui", status_code=303)


@router.get("/mo-hinh/cua-toi")
def my_models(request: Request, user: User = Depends(access.signed_in), db: Session = Depends(get_session)) -> Any:
    return render(request, "mo_hinh/mine.html", {
        "models": services.own_models(db, user), "status_labels": services.STATUS_LABELS,
        "sectors": services.SECTORS, "editable": services.EDITABLE, "url_of": services.url_of,
        "done": request.query_params.get("da"),
    }, headers=PRIVATE)


@router.get("/mo-hinh/cua-toi/{model_id}")
def my_model(request: Request, model_id: ObjectId, user: User = Depends(access.signed_in),
             db: Session = Depends(get_session)) -> Any:
    model = services.own_model(db, user, model_id)
    return _form_page(request, db, user, values=_values_of(model), errors={}, model=model,
                      action=f"/mo-hinh/cua-toi/{model.id}")


@router.post("/mo-hinh/cua-toi/{model_id}")
@takes_uploads
def my_model_resubmit(request: Request, model_id: ObjectId, form: FormFields, user: User = Depends(access.signed_in),
                      db: Session = Depends(get_session)) -> Any:
    values = _values(form)
    try:
        services.resubmit(context_of(request), actor=user, model_id=model_id, data=_input(values),
                          uploads=_uploads(request, form))
    except FormErrors as exc:
        model = services.own_model(db, user, model_id)
        return _form_page(request, db, user, values=values, errors=exc.errors, model=model,
                          action=f"/mo-hinh/cua-toi/{model.id}", status_code=422)
    return RedirectResponse("/mo-hinh/cua-toi?da=gui-lai", status_code=303)


@router.get("/mo-hinh/{key}", dependencies=[access.PUBLIC_ROUTE])
def model_page(request: Request, key: str, db: Session = Depends(get_session)) -> Any:
    model = services.published_by_key(db, key[:130])
    if model is None:
        raise HTTPException(404)
    commune = db.get(Place, model.commune_id)
    return render(request, "mo_hinh/model.html", {
        "model": model, "commune": commune, "sector": services.SECTORS.get(model.sector, ""),
        "photos": services.public_photos(model), "contact": services.public_contact(model),
        "summary": services.summary_of(model), "url": services.url_of(model),
    })


# --- Staff: review, direct entry ---------------------------------------------------------


@router.get("/mo-hinh-duyet")
def review_queue(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    commune_id = posted_id(request.query_params.get("xa")) if user.role == "admin" else None
    return render(request, "mo_hinh/queue.html", {
        "queue": services.queue(db, user, commune_id=commune_id), "status_labels": services.STATUS_LABELS,
        "sectors": services.SECTORS, "commune_id": commune_id, "is_admin": user.role == "admin",
        "done": request.query_params.get("da"),
    }, headers=PRIVATE)


@router.get("/mo-hinh-duyet/moi")
def enter_page(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return _form_page(request, db, user, values=_blank(user, publish=True), errors={}, action="/mo-hinh-duyet/moi",
                      staff_entry=True)


@router.post("/mo-hinh-duyet/moi")
@takes_uploads
def enter(request: Request, form: FormFields, user: User = Depends(access.staff),
          db: Session = Depends(get_session)) -> Any:
    values = _values(form)
    values["publish"] = checkbox(form, "publish")
    try:
        model = services.submit(context_of(request), actor=user, data=_input(values), uploads=_uploads(request, form),
                                publish=values["publish"])
    except FormErrors as exc:
        return _form_page(request, db, user, values=values, errors=exc.errors, action="/mo-hinh-duyet/moi",
                          staff_entry=True, status_code=422)
    return RedirectResponse(f"/mo-hinh-duyet/{model.id}?da=nhap", status_code=303)


def _review_page(request: Request, db: Session, user: User, model: ExemplaryModel, *, errors: dict | None = None,
                 note: str = "", status_code: int = 200) -> Any:
    submitter = db.get(User, model.submitter_id) if model.submitter_id else None
    return render(request, "mo_hinh/review.html", {
        "model": model, "commune": db.get(Place, model.commune_id), "submitter": submitter,
        "sector": services.SECTORS.get(model.sector, ""), "photos": services.photos_of(model),
        "history": services.history(db, model.id), "status_labels": services.STATUS_LABELS,
        "actions": services.ACTIONS, "errors": errors or {}, "note": note, "url": services.url_of(model),
        "done": request.query_params.get("da"),
    }, status_code=status_code, headers=PRIVATE)


@router.get("/mo-hinh-duyet/{model_id}")
def review_page(request: Request, model_id: ObjectId, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    return _review_page(request, db, user, services.in_scope(db, user, model_id))


@router.post("/mo-hinh-duyet/{model_id}/{action}")
def review_action(request: Request, model_id: ObjectId, action: str, values: FormValues,
                  user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    if action not in ACTIONS:
        raise HTTPException(404)
    note = values.get("note", "")
    try:
        services.review(context_of(request), actor=user, model_id=model_id, action=ACTIONS[action], note=note)
    except FormErrors as exc:
        model = services.in_scope(db, user, model_id)
        return _review_page(request, db, user, model, errors={ACTIONS[action]: exc.errors.get("note", exc.message)},
                            note=note, status_code=422)
    except ServiceError as exc:
        if exc.status != 409:
            raise
        model = services.in_scope(db, user, model_id)
        return _review_page(request, db, user, model, errors={ACTIONS[action]: exc.message}, status_code=409)
    return RedirectResponse(f"/mo-hinh-duyet/{model_id}?da={action}", status_code=303)


# --- Staff: the yearly compilation ---------------------------------------------------------


@router.get("/mo-hinh-tong-hop")
def compilation_page(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    communes = services.commune_names(db)
    requested = posted_id(request.query_params.get("xa"))
    commune_id = (requested if requested in communes else user.commune_id) if user.role == "admin" \
        else user.commune_id
    this_year = datetime.now(VIETNAM).year
    years = sorted(set(services.years_with_models(db, commune_id)) | {this_year}, reverse=True) \
        if commune_id else []
    return render(request, "mo_hinh/compilation.html", {
        "communes": communes if user.role == "admin" else {}, "commune_id": commune_id,
        "commune_name": communes.get(commune_id, "") if commune_id else "", "years": years,
    }, headers=PRIVATE)


def _compiled(request: Request, db: Session, user: User, year: int) -> services.Compilation:
    requested = request.query_params.get("xa")
    commune_id = posted_id(requested) if requested else None
    if requested and commune_id is None:
        raise HTTPException(404)
    return services.compilation(db, user=user, year=year, commune_id=commune_id)


def _download(content: bytes, media_type: str, compilation: services.Compilation, extension: str) -> Response:
    name = f"tong-hop-mo-hinh-{compilation.year}-{services.slug_text(compilation.commune.name) or 'xa'}"
    return Response(content, media_type=media_type,
                    headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{name}.{extension}"'})


YEAR = Path(ge=2000, le=2100)


@router.get("/mo-hinh-tong-hop/{year}.docx")
def compilation_docx(request: Request, year: int = YEAR, user: User = Depends(access.staff),
                     db: Session = Depends(get_session)) -> Any:
    compilation = _compiled(request, db, user, year)
    content = documents.docx_bytes(db, request.app.state.settings, compilation,
                                   made_on=datetime.now(VIETNAM).date())
    return _download(content, DOCX_TYPE, compilation, "docx")


@router.get("/mo-hinh-tong-hop/{year}.pdf")
def compilation_pdf(request: Request, year: int = YEAR, user: User = Depends(access.staff),
                    db: Session = Depends(get_session)) -> Any:
    compilation = _compiled(request, db, user, year)
    content = documents.pdf_bytes(db, request.app.state.settings, compilation, made_on=datetime.now(VIETNAM).date())
    return _download(content, "application/pdf", compilation, "pdf")
