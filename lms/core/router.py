"""Pages of the core: home, sign-up, log-in, account, first administrator, staff area."""

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import func, or_, select, text
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import consent_services, data_requests, official_places, personal_data_services, services
from lms.core.merge_services import merges_of
from lms.core.models import Place, User
from lms.core.services import AUDIENCES
from lms.core.staff_accounts_services import link_record
from lms.db import get_session, utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.forms import FormValues, ObjectId, checkbox, posted_id, safe_next
from lms.ratelimit import client_key
from lms.security import ROLE_LABELS
from lms.templating import local, render
from lms.text import fold

router = APIRouter()
PAGE_SIZE = 50


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _session_cookie(response: Response, request: Request, token: str) -> None:
    access.set_session_cookie(response, _settings(request), token)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/", dependencies=[access.PUBLIC_ROUTE])
def home(request: Request) -> Any:
    return render(request, "core/home.html", {"audiences": AUDIENCES})


@router.get("/favicon.ico", dependencies=[access.PUBLIC_ROUTE], include_in_schema=False)
def favicon(request: Request) -> Any:
    # Browsers ask here wherever a page links no icon (PDF, JSON, CSV views); not permanent,
    # so a changed icon's new hashed name is picked up.
    return RedirectResponse(request.app.state.static.url("img/favicon.svg"), status_code=302,
                            headers={"Cache-Control": "public, max-age=86400"})


@router.get("/healthz", dependencies=[access.PUBLIC_ROUTE])
def healthz(db: Session = Depends(get_session)) -> Any:
    try:
        db.exec(text("SELECT 1")).one()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/readyz", dependencies=[access.PUBLIC_ROUTE])
def readyz(request: Request, db: Session = Depends(get_session)) -> Any:
    """Whether this host can serve: a load balancer stops sending traffic while it says 503 (the
    database is unreachable, or the code is newer than the schema until `lms migrate` runs)."""
    from lms import migrations

    state = request.app.state
    if getattr(state, "script_heads", None) is None:
        state.script_heads = migrations.script_heads(state.settings)  # fixed while the worker runs
    try:
        current = migrations.database_heads(db.connection())
    except Exception:  # noqa: BLE001 - any database failure means not ready
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    if current != state.script_heads:
        return JSONResponse({"status": "error", "database": "ok", "migrations": "pending"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "migrations": "ok"})


# --- Sign-up ----------------------------------------------------------------


def _signup_page(request: Request, db: Session, values: dict[str, Any], errors: dict[str, str],
                 status: int = 200) -> Any:
    return render(request, "core/signup.html", {
        "values": values, "errors": errors, "audiences": AUDIENCES,
        "villages": services.village_choices(db),
        "consent_text": services.consent_text(request.app.state.pm, "learning"),
        "joining": services.joining_purposes(request.app.state.pm),
        "next": safe_next(values.get("next") or request.query_params.get("next"), ""),
    }, status_code=status)


@router.get("/signup", dependencies=[access.PUBLIC_ROUTE])
def signup_form(request: Request, db: Session = Depends(get_session)) -> Any:
    if request.state.user:
        return see_other("/account")
    values = {"audience": request.query_params.get("audience", "")}
    return _signup_page(request, db, values, {})


def _without_passwords(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k not in ("password", "password_confirm", "current", "new",
                                                         "confirm")}


@router.post("/signup", dependencies=[access.PUBLIC_FORM_ROUTE])
def signup_submit(request: Request, values: FormValues, db: Session = Depends(get_session)) -> Any:
    if access.expired_form(request):
        return _signup_page(request, db, _without_passwords(values), {"form": access.EXPIRED_FORM},
                            status=403)
    data = services.SignupInput(
        full_name=values.get("full_name", ""), phone=values.get("phone", ""),
        village_id=values.get("village_id", ""), audience=values.get("audience", ""),
        birth_year=values.get("birth_year", ""), password=values.get("password", ""),
        password_confirm=values.get("password_confirm", ""), consent=checkbox(values, "consent"),
        joining=services.joining_from_form(request.app.state.pm, values),
    )
    try:
        _user, token = services.sign_up(context_of(request), data=data)
    except FormErrors as exc:
        return _signup_page(request, db, _without_passwords(values), exc.errors, status=422)
    response = see_other(safe_next(values.get("next"), "/account?welcome=1"))
    _session_cookie(response, request, token)
    return response


# --- Log-in and log-out -------------------------------------------------------


@router.get("/login", dependencies=[access.PUBLIC_ROUTE])
def login_form(request: Request) -> Any:
    next_url = safe_next(request.query_params.get("next"), "")
    return render(request, "core/login.html", {"values": {"next": next_url}, "errors": {}})


@router.post("/login", dependencies=[access.PUBLIC_FORM_ROUTE])
def login_submit(request: Request, values: FormValues) -> Any:
    if access.expired_form(request):
        return render(request, "core/login.html", {"values": _without_passwords(values),
                                                   "errors": {"form": access.EXPIRED_FORM}}, status_code=403)
    try:
        _user, token = services.log_in(context_of(request), phone_raw=values.get("phone", ""),
                                       password=values.get("password", ""),
                                       old_session=request.state.session_token,
                                       client=client_key(request, "login"))
    except FormErrors as exc:
        return render(request, "core/login.html", {"values": _without_passwords(values), "errors": exc.errors},
                      status_code=422)
    except ServiceError as exc:
        status = exc.status if exc.code == "throttled" else 422
        return render(request, "core/login.html",
                      {"values": _without_passwords(values), "errors": {"form": exc.message}}, status_code=status)
    response = see_other(safe_next(values.get("next"), "/account"))
    _session_cookie(response, request, token)
    return response


@router.post("/logout", dependencies=[access.PUBLIC_ROUTE])
def logout(request: Request) -> Any:
    services.log_out(context_of(request), token=request.state.session_token)
    response = see_other("/")
    access.delete_session_cookie(response, _settings(request))
    # A shared phone keeps nothing of the person who used it (htmx keeps no page history either).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


# --- Account ----------------------------------------------------------------


@router.get("/account")
def account(request: Request, user: User = Depends(access.signed_in),
            db: Session = Depends(get_session)) -> Any:
    village = db.get(Place, user.village_id) if user.village_id else None
    commune = db.get(Place, user.commune_id) if user.commune_id else None
    choices = consent_services.choices(db, request.app.state.pm, user.id)
    helpers = {c.latest.helper_id for c in choices if c.latest and c.latest.helper_id}
    return render(request, "core/account.html", {
        "village": village, "commune": commune, "choices": choices, "methods": consent_services.METHODS,
        "helper_names": dict(db.exec(select(User.id, User.full_name).where(User.id.in_(helpers))).all())
        if helpers else {},
        "audiences": AUDIENCES, "role_labels": ROLE_LABELS,
        "notice": request.query_params.get("saved", ""),
        "welcome": request.query_params.get("welcome") == "1",
        "changed": request.query_params.get("changed") == "1",
        "password_set": request.query_params.get("password_set") == "1",
        "profile_saved": request.query_params.get("profile") == "1",
        "phone_changed": request.query_params.get("phone") == "1",
    })


@router.get("/account/data")
def my_data(request: Request, user: User = Depends(access.signed_in), db: Session = Depends(get_session)) -> Any:
    sections = personal_data_services.export(db, request.app.state.pm, user)
    return render(request, "core/my_data.html", {
        "data_sections": sections, "data_request": data_requests.pending_of(db, user_id=user.id),
        "requested": request.query_params.get("requested"), "confirm": request.query_params.get("confirm")},
        headers={"Cache-Control": "no-store"})


@router.get("/account/data.json")
def my_data_file(request: Request, user: User = Depends(access.signed_in),
                 db: Session = Depends(get_session)) -> Any:
    sections = personal_data_services.export(db, request.app.state.pm, user)
    body = {"tao_luc": local(utcnow()).isoformat(timespec="seconds"), "du_lieu": [
        {"bang": s.table, "muc": s.label, "dong": s.rows} for s in sections]}
    return Response(json.dumps(body, ensure_ascii=False, indent=2, default=str), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="du-lieu-cua-toi.json"',
                             "Cache-Control": "no-store"})


@router.get("/account/password")
def password_form(request: Request, _user: User = Depends(access.signed_in)) -> Any:
    return render(request, "core/password.html", {"errors": {}})


@router.post("/account/password")
def password_submit(request: Request, values: FormValues, user: User = Depends(access.signed_in)) -> Any:
    try:
        token = services.new_password(context_of(request), user_id=user.id, current=values.get("current", ""),
                                      new=values.get("new", ""), confirm=values.get("confirm", ""))
    except FormErrors as exc:
        return render(request, "core/password.html", {"errors": exc.errors}, status_code=422)
    response = see_other("/account?changed=1")
    _session_cookie(response, request, token)
    return response


# --- One-time password links (claim, reset, invitation) ------------------------

NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def masked_phone(phone: str | None) -> str:
    return f"••• ••• {phone[-4:]}" if phone else ""


def _link_page(request: Request, db: Session, token: str, errors: dict[str, str] | None = None,
               status: int = 200) -> Any:
    found = services.password_link(db, token)
    if found is None:
        return render(request, "core/password_link.html", {"gone": services.LINK_GONE}, status_code=404,
                      headers=NO_STORE)
    link, person = found
    return render(request, "core/password_link.html", {
        "link": link, "person": person, "masked_phone": masked_phone(person.phone), "token": token,
        "errors": errors or {}, "gone": None}, status_code=status, headers=NO_STORE)


@router.get("/password/{token}", dependencies=[access.PUBLIC_ROUTE])
def password_link_form(request: Request, token: str, db: Session = Depends(get_session)) -> Any:
    return _link_page(request, db, token)


@router.post("/password/{token}", dependencies=[access.PUBLIC_FORM_ROUTE])
def password_link_submit(request: Request, token: str, values: FormValues,
                         db: Session = Depends(get_session)) -> Any:
    if access.expired_form(request):
        return _link_page(request, db, token, {"form": access.EXPIRED_FORM}, status=403)
    try:
        _user, session_token = services.set_password_by_link(
            context_of(request), token=token, new=values.get("new", ""), confirm=values.get("confirm", ""))
    except FormErrors as exc:
        return _link_page(request, db, token, exc.errors, status=422)
    except ServiceError as exc:
        if exc.code != "link_gone":
            raise
        return _link_page(request, db, token)
    response = see_other("/account?password_set=1")
    _session_cookie(response, request, session_token)
    return response


# --- First administrator ---------------------------------------------------


@router.get("/setup/{token}", dependencies=[access.PUBLIC_ROUTE])
def setup_form(request: Request, token: str, db: Session = Depends(get_session)) -> Any:
    if services.admin_exists(db) or not services.setup_token_valid(db, token):
        raise HTTPException(404)
    return render(request, "core/setup.html", {"values": {}, "errors": {}, "token": token})


@router.post("/setup/{token}", dependencies=[access.PUBLIC_FORM_ROUTE])
def setup_submit(request: Request, token: str, values: FormValues) -> Any:
    if access.expired_form(request):
        return render(request, "core/setup.html", {"values": _without_passwords(values), "token": token,
                                                   "errors": {"form": access.EXPIRED_FORM}}, status_code=403)
    try:
        _user, session_token = services.first_admin(
            context_of(request), token=token, full_name=values.get("full_name", ""),
            phone=values.get("phone", ""), password=values.get("password", ""),
            confirm=values.get("password_confirm", ""),
        )
    except FormErrors as exc:
        return render(request, "core/setup.html",
                      {"values": _without_passwords(values), "errors": exc.errors, "token": token}, status_code=422)
    except ServiceError as exc:
        raise HTTPException(404) from exc
    # The first-run guide: name, places, villages, staff, SMS, then what is still missing.
    response = see_other("/staff/bat-dau?moi=1")
    _session_cookie(response, request, session_token)
    return response


# --- Staff area ----------------------------------------------------------------


def _commune_for(db: Session, user: User, requested: Any) -> Place | None:
    """The commune a staff page works on: a staff member's own; any one for an admin."""
    if user.role != "admin":
        return db.get(Place, user.commune_id) if user.commune_id else None
    commune = None
    if requested:
        try:
            commune = db.get(Place, int(requested))
        except (TypeError, ValueError):
            commune = None
    if commune is None or commune.kind != "commune":
        commune = db.exec(
            select(Place).where(Place.kind == "commune").order_by(Place.name).limit(1)
        ).scalars().first()
    return commune


def _all_communes(db: Session, user: User) -> list[Place]:
    if user.role != "admin":
        return []
    return list(db.exec(select(Place).where(Place.kind == "commune").order_by(Place.name))
                .scalars().all())


@router.get("/staff")
def staff_home(request: Request, user: User = Depends(access.staff),
               db: Session = Depends(get_session)) -> Any:
    commune = _commune_for(db, user, request.query_params.get("commune"))
    counts = {"users": 0, "villages": 0}
    if commune:
        counts["users"] = db.exec(
            select(func.count()).select_from(User).where(User.commune_id == commune.id)
        ).one()[0]
        counts["villages"] = db.exec(
            select(func.count()).select_from(Place)
            .where(Place.parent_id == commune.id, Place.kind == "village", Place.active.is_(True))
        ).one()[0]
    return render(request, "core/staff_home.html", {
        "commune": commune, "counts": counts, "communes": _all_communes(db, user),
        "data_requests_due": data_requests.due_soon(db, actor=user),
        "nav_staff": [item for item in request.app.state.nav_items(request, user) if item.area == "staff"],
    })


def _villages_page(request: Request, db: Session, user: User, commune: Place | None,
                   errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                   status: int = 200, pasted: services.VillagesAdded | None = None,
                   merged: services.VillageMerge | None = None) -> Any:
    villages = []
    if commune:
        villages = db.exec(
            select(Place).where(Place.parent_id == commune.id, Place.kind == "village")
            .order_by(Place.active.desc(), Place.name)
        ).scalars().all()
    return render(request, "core/villages.html", {
        "commune": commune, "villages": villages, "communes": _all_communes(db, user),
        "errors": errors or {}, "values": values or {},
        "saved": request.query_params.get("saved"), "pasted": pasted, "merged": merged,
    }, status_code=status, block="villages")


def _village_in_scope(db: Session, user: User, village_id: int) -> Place:
    village = db.get(Place, village_id)
    if village is None or village.kind != "village":
        raise HTTPException(404)
    if user.role != "admin" and village.parent_id != user.commune_id:
        raise HTTPException(404)
    return village


@router.get("/staff/villages")
def villages(request: Request, user: User = Depends(access.staff),
             db: Session = Depends(get_session)) -> Any:
    commune = _commune_for(db, user, request.query_params.get("commune"))
    return _villages_page(request, db, user, commune)


@router.post("/staff/villages")
def village_add(request: Request, values: FormValues, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    commune = _commune_for(db, user, values.get("commune"))
    if commune is None:
        raise HTTPException(404)
    try:
        services.add_village(context_of(request), commune_id=commune.id, name=values.get("name", ""))
    except FormErrors as exc:
        return _villages_page(request, db, user, commune, exc.errors, values, status=422)
    return see_other(f"/staff/villages?commune={commune.id}&saved=1")


@router.post("/staff/villages/list")
def villages_paste(request: Request, values: FormValues, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    commune = _commune_for(db, user, values.get("commune"))
    if commune is None:
        raise HTTPException(404)
    try:
        result = services.add_villages(context_of(request), commune_id=commune.id, text=values.get("names", ""))
    except FormErrors as exc:
        return _villages_page(request, db, user, commune, exc.errors, values, status=422)
    return _villages_page(request, db, user, commune, pasted=result)


def _merge_ids(values: Any) -> tuple[int, int | None]:
    drop = posted_id(values.get("bo"))
    if drop is None:
        raise HTTPException(404)
    return drop, posted_id(values.get("vao"))


def _merge_refused(request: Request, db: Session, user: User, drop_id: int, message: str) -> Any:
    # The village to merge was found in the user's scope before the choice was refused.
    commune = db.get(Place, db.get(Place, drop_id).parent_id)
    return _villages_page(request, db, user, commune, {"merge": message}, status=422)


@router.get("/staff/villages/gop")
def village_merge_preview(request: Request, user: User = Depends(access.staff),
                          db: Session = Depends(get_session)) -> Any:
    if not request.query_params.get("bo"):  # the form comes from the villages page
        return _villages_page(request, db, user, _commune_for(db, user, request.query_params.get("commune")))
    drop_id, keep_id = _merge_ids(request.query_params)
    try:
        merge = services.village_merge_preview(context_of(request), db, actor=user, drop_id=drop_id, keep_id=keep_id)
    except NotFound:
        raise HTTPException(404) from None
    except ServiceError as exc:
        return _merge_refused(request, db, user, drop_id, exc.message)
    return render(request, "core/village_merge.html", {"merge": merge})


@router.post("/staff/villages/gop")
def village_merge(request: Request, values: FormValues, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    drop_id, keep_id = _merge_ids(values)
    try:
        merged = services.merge_villages(context_of(request), actor=user, drop_id=drop_id, keep_id=keep_id)
    except NotFound:
        raise HTTPException(404) from None
    except ServiceError as exc:
        return _merge_refused(request, db, user, drop_id, exc.message)
    return _villages_page(request, db, user, db.get(Place, merged.keep.parent_id), merged=merged)


@router.post("/staff/villages/{village_id}")
def village_rename(request: Request, village_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    village = _village_in_scope(db, user, village_id)
    commune = db.get(Place, village.parent_id)
    try:
        services.rename_village(context_of(request), village_id=village.id, name=values.get("name", ""))
    except FormErrors as exc:
        errors = {f"name-{village_id}": exc.errors["name"]}
        return _villages_page(request, db, user, commune, errors, status=422)
    return see_other(f"/staff/villages?commune={village.parent_id}&saved=1")


@router.post("/staff/villages/{village_id}/active")
def village_toggle(request: Request, village_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    village = _village_in_scope(db, user, village_id)
    services.set_village_active(context_of(request), village_id=village.id, active=values.get("active") == "1")
    return see_other(f"/staff/villages?commune={village.parent_id}&saved=1")


@router.get("/staff/users")
def users(request: Request, user: User = Depends(access.staff),
          db: Session = Depends(get_session)) -> Any:
    commune = _commune_for(db, user, request.query_params.get("commune"))
    query = (request.query_params.get("q") or "").strip()[:100]
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    rows: list[User] = []
    total = 0
    if commune:
        statement = select(User).where(User.commune_id == commune.id)
        if query:
            digits = "".join(ch for ch in query if ch.isdigit())
            conditions = [User.name_folded.contains(fold(query), autoescape=True)]
            if len(digits) >= 3:
                conditions.append(User.phone.endswith(digits))
            statement = statement.where(or_(*conditions))
        total = db.exec(select(func.count()).select_from(statement.subquery())).one()[0]
        rows = list(db.exec(statement.order_by(User.full_name).offset((page - 1) * PAGE_SIZE)
                            .limit(PAGE_SIZE)).scalars().all())
    villages = {p.id: p.name for p in db.exec(
        select(Place).where(Place.parent_id == (commune.id if commune else -1))).scalars().all()}
    return render(request, "core/users.html", {
        "commune": commune, "rows": rows, "total": total, "q": query, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "villages": villages, "role_labels": ROLE_LABELS,
        "audiences": AUDIENCES, "communes": _all_communes(db, user), "fold": fold,
    }, block="results")


def _user_in_scope(db: Session, actor: User, user_id: int) -> User:
    target = db.get(User, user_id)
    if target is None:
        raise HTTPException(404)
    if actor.role != "admin" and target.commune_id != actor.commune_id:
        raise HTTPException(404)
    return target


def _user_page(request: Request, db: Session, actor: User, target: User,
               error: str | None = None, status: int = 200) -> Any:
    village = db.get(Place, target.village_id) if target.village_id else None
    allowed = (list(ROLE_LABELS) if actor.role == "admin" else ["learner", "team_member"])
    return render(request, "core/user.html", {
        "target": target, "village": village, "role_labels": ROLE_LABELS, "audiences": AUDIENCES,
        "allowed_roles": allowed, "communes": _all_communes(db, actor), "error": error,
        "saved": request.query_params.get("saved"),
        "password_links": link_record(db, user_id=target.id),
        "merges": merges_of(db, user_id=target.id),
        "merged_into": db.get(User, target.merged_into_id) if target.merged_into_id else None,
        "choices": consent_services.choices(db, request.app.state.pm, target.id),
        "data_notice": request.query_params.get("data", ""),
    }, status_code=status)


@router.get("/staff/users/{user_id}")
def user_detail(request: Request, user_id: ObjectId, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    return _user_page(request, db, user, _user_in_scope(db, user, user_id))


@router.post("/staff/users/{user_id}/role")
def user_role(request: Request, user_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    target = _user_in_scope(db, user, user_id)
    commune_id = None
    if values.get("commune_id"):
        try:
            commune_id = int(values["commune_id"])
        except ValueError:
            commune_id = None
    try:
        services.change_role(context_of(request), actor=user, target_id=target.id, role=values.get("role", ""),
                             commune_id=commune_id)
    except ServiceError as exc:
        return _user_page(request, db, user, target, exc.message, status=422)
    return see_other(f"/staff/users/{user_id}?saved=role")


@router.post("/staff/users/{user_id}/sessions/end")
def user_end_sessions(request: Request, user_id: ObjectId, user: User = Depends(access.staff),
                      db: Session = Depends(get_session)) -> Any:
    target = _user_in_scope(db, user, user_id)
    services.end_sessions_of(context_of(request), user_id=target.id)
    return see_other(f"/staff/users/{user_id}?saved=sessions")


@router.post("/staff/users/{user_id}/erase")
def user_erase(request: Request, user_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
               db: Session = Depends(get_session)) -> Any:
    target = _user_in_scope(db, user, user_id)
    if values.get("confirm") != "1":
        return _user_page(request, db, user, target, "Hãy đánh dấu ô xác nhận người này đã yêu cầu xoá dữ liệu.",
                          status=422)
    notes = personal_data_services.erase(context_of(request), actor=user, user_id=target.id)
    db.expire_all()
    return render(request, "core/erase_receipt.html", {
        "notes": notes, "when": utcnow(),
        "labels": personal_data_services.labels(db, request.app.state.pm, db.get(User, target.id))},
                  headers={"Cache-Control": "no-store"})


@router.get("/staff/places")
def places(request: Request, _user: User = Depends(access.admin),
           db: Session = Depends(get_session)) -> Any:
    return _places_page(request, db)


def _places_page(request: Request, db: Session, errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None, status: int = 200,
                 imported: official_places.PlacesImport | None = None) -> Any:
    provinces = db.exec(select(Place).where(Place.kind == "province").order_by(Place.name)
                        ).scalars().all()
    communes = db.exec(select(Place).where(Place.kind == "commune").order_by(Place.name)
                       ).scalars().all()
    return render(request, "core/places.html", {
        "provinces": provinces, "communes": communes, "errors": errors or {},
        "values": values or {}, "official": official_places.provinces(),
        "list_version": official_places.data_version(), "imported": imported,
    }, status_code=status)


@router.post("/staff/places/import")
def places_import(request: Request, values: FormValues, _user: User = Depends(access.admin),
                  db: Session = Depends(get_session)) -> Any:
    try:
        report = services.import_official_province(context_of(request), code=values.get("province_code", ""))
    except FormErrors as exc:
        return _places_page(request, db, exc.errors, values, status=422)
    return _places_page(request, db, imported=report)


@router.post("/staff/places")
def place_add(request: Request, values: FormValues, _user: User = Depends(access.admin),
              db: Session = Depends(get_session)) -> Any:
    kind = values.get("kind", "")
    parent_id = None
    if kind == "commune":
        try:
            parent_id = int(values.get("parent_id", ""))
        except ValueError:
            return _places_page(request, db, {"parent_id": "Vui lòng chọn tỉnh/thành phố."},
                                values, status=422)
    try:
        services.new_place(context_of(request), kind=kind, name=values.get("name", ""), parent_id=parent_id)
    except FormErrors as exc:
        return _places_page(request, db, exc.errors, values, status=422)
    except ServiceError as exc:
        return _places_page(request, db, {"kind": exc.message}, values, status=422)
    return see_other("/staff/places")

