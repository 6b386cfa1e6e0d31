"""The first-run guide's pages, /staff/bat-dau/…: administrators only."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import installation, official_places, services
from lms.core import setup_guide as guide
from lms.core import staff_accounts_services as accounts
from lms.core.models import Place, User
from lms.core.router import see_other
from lms.core.staff_accounts import link_page
from lms.db import get_session
from lms.errors import FormErrors
from lms.forms import FormLists, FormValues, posted_id
from lms.templating import render

router = APIRouter()

NAME_FIELDS = ("site_name", "certificate_signer_title", "certificate_signer_name")
SMS_FIELDS = ("sms_gateway", "sms_http_url", "sms_http_method", "sms_http_auth_header", "sms_http_body",
              "sms_http_content_type", "sms_http_success_text")


def _page(request: Request, slug: str, template: str, context: dict[str, Any], status: int = 200) -> Any:
    step = guide.STEP_BY_SLUG[slug]
    return render(request, template, {
        "steps": guide.STEPS, "step": step, "next": guide.next_step(slug), "saved": request.query_params.get("saved"),
        **context,
    }, status_code=status)


@router.get("/staff/bat-dau")
def overview(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    checks = guide.checks(context_of(request), db)
    return render(request, "core/setup_guide/overview.html", {
        "steps": guide.STEPS, "missing": [check for check in checks if check.missing],
        "welcome": request.query_params.get("moi") == "1",
    })


# --- Name and signer ---------------------------------------------------------------------


def _settings_values(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    store = installation.values_of(request.app.state)
    values = {name: store.value(name) for name in names}
    if "certificate_signer_title" in values:
        values["certificate_signer_title"] = values["certificate_signer_title"].replace("\\n", "\n")
    for name in names:
        if installation.EDITABLE[name].secret:
            values[name] = ""  # never sent back to the browser
    return values


def _name_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    store = installation.values_of(request.app.state)
    return _page(request, "ten", "core/setup_guide/name.html", {
        "values": values, "errors": errors, "fixed": store.fixed,
    }, status)


@router.get("/staff/bat-dau/ten")
def name_form(request: Request, user: User = Depends(access.admin)) -> Any:
    return _name_page(request, _settings_values(request, NAME_FIELDS), {})


@router.post("/staff/bat-dau/ten")
def name_save(request: Request, values: FormValues, user: User = Depends(access.admin)) -> Any:
    return _save(request, user, values, NAME_FIELDS, "ten", lambda errors: _name_page(request, values, errors, 422))


def _save(request: Request, user: User, values: dict[str, str], names: tuple[str, ...], slug: str,
          refused: Callable[[dict[str, str]], Any], choices: dict[str, tuple[str, ...]] | None = None) -> Any:
    """Keep a step's settings; "Lưu và tiếp tục" goes on to the next step, "Lưu" stays."""
    try:
        installation.save(context_of(request), installation.values_of(request.app.state), actor=user,
                          values=values, names=names, choices=choices)
    except FormErrors as exc:
        return refused(exc.errors)
    step = guide.next_step(slug)
    if values.get("then") == "next" and step is not None:
        return see_other(step.href)
    return see_other(f"/staff/bat-dau/{slug}?saved=1")


# --- Province and communes -----------------------------------------------------------------


def _places_page(request: Request, db: Session, province_code: str, errors: dict[str, str],
                 chosen: guide.CommunesChosen | None = None, ticked: list[str] | None = None,
                 status: int = 200) -> Any:
    official = official_places.find_province(province_code) if province_code else None
    loaded = guide.loaded_codes(db, official) if official else set()
    query = request.query_params.get("q", "")[:60].strip()
    communes = list(official.communes) if official else []
    if query:
        from lms.text import fold

        wanted = fold(query)
        communes = [unit for unit in communes if wanted in fold(unit.name)]
    return _page(request, "dia-ban", "core/setup_guide/places.html", {
        "provinces": official_places.provinces(), "official": official, "communes": communes, "loaded": loaded,
        "query": query, "errors": errors, "chosen": chosen, "ticked": set(ticked or []),
        "served": guide.served_communes(db), "data_version": official_places.data_version(),
    }, status)


@router.get("/staff/bat-dau/dia-ban")
def places_form(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    code = request.query_params.get("tinh", "")[:12]
    if not code:
        # The province already served, if there is one: its communes are the next thing to pick.
        code = guide.served_province_code(db) or ""
    return _places_page(request, db, code, {})


@router.post("/staff/bat-dau/dia-ban")
def places_save(request: Request, values: FormLists, user: User = Depends(access.admin),
                db: Session = Depends(get_session)) -> Any:
    code = (values.get("province") or [""])[0][:12]
    ticked = values.get("communes", [])
    try:
        chosen = guide.choose_communes(context_of(request), province_code=code, commune_codes=ticked)
    except FormErrors as exc:
        return _places_page(request, db, code, exc.errors, ticked=ticked, status=422)
    if (values.get("then") or [""])[0] == "next":
        return see_other("/staff/bat-dau/thon")
    return _places_page(request, db, code, {}, chosen=chosen)


# --- Villages ----------------------------------------------------------------------------


def _villages_page(request: Request, db: Session, commune: Place | None, errors: dict[str, str],
                   values: dict[str, str], pasted: services.VillagesAdded | None = None, status: int = 200) -> Any:
    communes = guide.served_communes(db)
    villages = guide.village_names(db, commune.id) if commune is not None else []
    return _page(request, "thon", "core/setup_guide/villages.html", {
        "communes": communes, "commune": commune, "counts": guide.village_counts(db), "villages": villages,
        "errors": errors, "values": values, "pasted": pasted,
    }, status)


def _commune(db: Session, raw: Any) -> Place | None:
    wanted = posted_id(raw)
    place = db.get(Place, wanted) if wanted else None
    if place is not None and place.kind == "commune" and place.active:
        return place
    communes = guide.served_communes(db)
    counts = guide.village_counts(db)
    # The first commune still without villages, else the first one.
    return next((p for p in communes if not counts.get(p.id)), communes[0] if communes else None)


@router.get("/staff/bat-dau/thon")
def villages_form(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    return _villages_page(request, db, _commune(db, request.query_params.get("xa")), {}, {})


@router.post("/staff/bat-dau/thon")
def villages_save(request: Request, values: FormValues, user: User = Depends(access.admin),
                  db: Session = Depends(get_session)) -> Any:
    commune = _commune(db, values.get("commune"))
    if commune is None or posted_id(values.get("commune")) != commune.id:
        raise HTTPException(404)
    try:
        pasted = services.add_villages(context_of(request), commune_id=commune.id, text=values.get("names", ""))
    except FormErrors as exc:
        return _villages_page(request, db, commune, exc.errors, values, status=422)
    return _villages_page(request, db, commune, {}, {}, pasted=pasted)


# --- Staff accounts ----------------------------------------------------------------------


def _staff_page(request: Request, db: Session, values: dict[str, str], errors: dict[str, str],
                status: int = 200) -> Any:
    return _page(request, "can-bo", "core/setup_guide/staff.html", {
        "values": values, "errors": errors, "communes": guide.served_communes(db),
        "staff": guide.staff_accounts(db),
    }, status)


@router.get("/staff/bat-dau/can-bo")
def staff_form(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    communes = guide.served_communes(db)
    return _staff_page(request, db, {"commune_id": str(communes[0].id) if len(communes) == 1 else ""}, {})


@router.post("/staff/bat-dau/can-bo")
def staff_invite(request: Request, values: FormValues, user: User = Depends(access.admin),
                 db: Session = Depends(get_session)) -> Any:
    data = accounts.AccountInput(full_name=values.get("full_name", ""), phone=values.get("phone", ""),
                                 role="staff", commune_id=values.get("commune_id", ""))
    try:
        issued = accounts.create_account(context_of(request), actor=user, data=data)
    except FormErrors as exc:
        return _staff_page(request, db, values, exc.errors, status=422)
    return link_page(request, issued, "/staff/bat-dau/can-bo", "Cài đặt ban đầu: tài khoản cán bộ")


# --- SMS gateway -------------------------------------------------------------------------


def _sms_page(request: Request, values: dict[str, str], errors: dict[str, str], sent: str = "",
              status: int = 200) -> Any:
    store = installation.values_of(request.app.state)
    from lms.core.recovery_services import active_gateway

    ctx = context_of(request)
    active = active_gateway(ctx)
    return _page(request, "tin-nhan", "core/setup_guide/sms.html", {
        "values": values, "errors": errors, "fixed": store.fixed, "sent": sent,
        "has_secret": bool(store.value("sms_http_auth_header")),
        "installed": _installed_gateways(request),
        "active": getattr(active, "name", "none") if active is not None else "none",
    }, status)


@router.get("/staff/bat-dau/tin-nhan")
def sms_form(request: Request, user: User = Depends(access.admin)) -> Any:
    return _sms_page(request, _settings_values(request, SMS_FIELDS), {})


def _installed_gateways(request: Request) -> list[str]:
    """The gateways plugins offer, and "http" (a plugin offers it only once its URL is set, which
    the same form may be doing)."""
    from lms.core.recovery_services import gateways

    return sorted({"http"} | {gateway.name for gateway in gateways(context_of(request))})


@router.post("/staff/bat-dau/tin-nhan")
def sms_save(request: Request, values: FormValues, user: User = Depends(access.admin)) -> Any:
    # Any gateway a plugin installs may be chosen, not only the built-in ones.
    choices = {"sms_gateway": ("", "none", *_installed_gateways(request))}
    return _save(request, user, values, SMS_FIELDS, "tin-nhan", choices=choices, refused=lambda errors: _sms_page(
        request, {**values, "sms_http_auth_header": ""}, errors, status=422))


@router.post("/staff/bat-dau/tin-nhan/thu")
def sms_test(request: Request, values: FormValues, user: User = Depends(access.admin)) -> Any:
    shown = _settings_values(request, SMS_FIELDS)
    try:
        name = guide.send_test_message(context_of(request), phone_raw=values.get("test_phone", ""),
                                       site_name=request.app.state.settings.site_name)
    except FormErrors as exc:
        return _sms_page(request, {**shown, "test_phone": values.get("test_phone", "")}, exc.errors, status=422)
    return _sms_page(request, shown, {}, sent=name)


# --- Check -------------------------------------------------------------------------------


@router.get("/staff/bat-dau/kiem-tra")
def check_page(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    checks = guide.checks(context_of(request), db)
    return _page(request, "kiem-tra", "core/setup_guide/check.html", {
        "missing": [c for c in checks if c.missing], "advice": [c for c in checks if not c.done and c.advice],
        "done": [c for c in checks if c.done],
    })
