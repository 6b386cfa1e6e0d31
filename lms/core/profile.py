"""The person corrects their own name, village, year of birth and phone number."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import profile_services as profile
from lms.core.models import User
from lms.db import get_session
from lms.errors import FormErrors, ServiceError
from lms.forms import FormValues
from lms.ratelimit import client_key
from lms.templating import render

router = APIRouter()
# The pages carry personal data (the phone pages a new number): not cached, not indexed.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


# --- Name, village, year of birth -----------------------------------------------------------


def _profile_values(values: dict[str, str]) -> dict[str, str]:
    return {name: values.get(name, "") for name in ("full_name", "village_id", "birth_year")}


def _profile_page(request: Request, db: Session, user: User, values: dict[str, str],
                  errors: dict[str, str] | None = None, status: int = 200) -> Any:
    return render(request, "core/profile.html", {
        "values": values, "errors": errors or {}, "villages": profile.profile_villages(db, user),
        "village_required": profile.village_required(user),
    }, status_code=status, headers=NO_STORE)


@router.get("/account/profile")
def profile_form(request: Request, user: User = Depends(access.signed_in),
                 db: Session = Depends(get_session)) -> Any:
    values = {"full_name": user.full_name, "village_id": str(user.village_id or ""),
              "birth_year": str(user.birth_year or "")}
    return _profile_page(request, db, user, values)


@router.post("/account/profile")
def profile_submit(request: Request, values: FormValues, user: User = Depends(access.signed_in),
                   db: Session = Depends(get_session)) -> Any:
    kept = _profile_values(values)
    try:
        profile.update_profile(context_of(request), user_id=user.id,
                               data=profile.ProfileInput(**kept))
    except FormErrors as exc:
        return _profile_page(request, db, user, kept, exc.errors, status=422)
    return _see_other("/account?profile=1")


# --- Phone number ---------------------------------------------------------------------------


def _phone_page(request: Request, user: User, values: dict[str, str], errors: dict[str, str] | None = None,
                status: int = 200) -> Any:
    unavailable = not profile.sms_available(context_of(request))
    return render(request, "core/phone_change.html", {
        "values": values, "errors": errors or {}, "needs_password": bool(user.password_hash),
        "unavailable": profile.NO_SMS if unavailable else "",
    }, status_code=status, headers=NO_STORE)


def _code_page(request: Request, user: User, phone: str, errors: dict[str, str] | None = None,
               sent: str = "", status: int = 200) -> Any:
    return render(request, "core/phone_code.html", {
        "phone": phone, "errors": errors or {}, "sent": sent, "needs_password": bool(user.password_hash),
    }, status_code=status, headers=NO_STORE)


@router.get("/account/phone")
def phone_form(request: Request, user: User = Depends(access.signed_in)) -> Any:
    return _phone_page(request, user, {})


@router.post("/account/phone")
def phone_submit(request: Request, values: FormValues, user: User = Depends(access.signed_in)) -> Any:
    kept = {"phone": values.get("phone", "")}
    try:
        phone = profile.request_phone_code(
            context_of(request), user_id=user.id, phone_raw=kept["phone"], password=values.get("password", ""),
            client=client_key(request, "recovery"), login_client=client_key(request, "login"))
    except FormErrors as exc:
        return _phone_page(request, user, kept, exc.errors, status=422)
    except ServiceError as exc:
        return _phone_page(request, user, kept, {"form": exc.message}, status=exc.status)
    # The new number is shown and kept in the form, never put in a URL.
    return _code_page(request, user, phone, sent=profile.SENT)


@router.get("/account/phone/code")
def phone_code_form(request: Request, user: User = Depends(access.signed_in)) -> Any:
    # The number the code is for travels only in the form: without it (a reload), start again.
    return _phone_page(request, user, {})


@router.post("/account/phone/code")
def phone_code_submit(request: Request, values: FormValues, user: User = Depends(access.signed_in)) -> Any:
    phone = values.get("phone", "")
    try:
        profile.confirm_phone_code(
            context_of(request), user_id=user.id, phone_raw=phone, code_raw=values.get("code", ""),
            client=client_key(request, "recovery-code"), keep_session=request.state.session_token)
    except FormErrors as exc:
        if "phone" in exc.errors:  # the hidden field was tampered with
            return _phone_page(request, user, {"phone": phone}, exc.errors, status=422)
        return _code_page(request, user, phone, exc.errors, status=422)
    except ServiceError as exc:
        if exc.code == "phone_taken":
            return _phone_page(request, user, {"phone": phone}, {"phone": exc.message}, status=exc.status)
        return _code_page(request, user, phone, {"code": exc.message}, status=exc.status)
    return _see_other("/account?phone=1")
