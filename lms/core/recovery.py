"""Pages to recover a forgotten password by phone: ask for a code, type it, set a new password."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from lms import security as access
from lms.context import context_of
from lms.core import recovery_services as recovery
from lms.errors import FormErrors, ServiceError
from lms.forms import FormValues
from lms.ratelimit import client_key
from lms.templating import render

router = APIRouter()
# The pages carry a phone number: not kept by the browser's cache nor indexed.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _phone_only(values: dict[str, str]) -> dict[str, str]:
    return {"phone": values.get("phone", "")}


def _forgot_page(request: Request, values: dict[str, str], errors: dict[str, str] | None = None,
                 status: int = 200) -> Any:
    unavailable = recovery.active_gateway(context_of(request)) is None
    return render(request, "core/forgot.html", {
        "values": values, "errors": errors or {}, "unavailable": recovery.NO_SMS if unavailable else "",
    }, status_code=status, headers=NO_STORE)


def _code_page(request: Request, values: dict[str, str], errors: dict[str, str] | None = None,
               sent: str = "", status: int = 200) -> Any:
    return render(request, "core/forgot_code.html", {"values": values, "errors": errors or {}, "sent": sent},
                  status_code=status, headers=NO_STORE)


@router.get("/forgot", dependencies=[access.PUBLIC_ROUTE])
def forgot_form(request: Request) -> Any:
    return _forgot_page(request, {})


@router.post("/forgot", dependencies=[access.PUBLIC_FORM_ROUTE])
def forgot_submit(request: Request, values: FormValues) -> Any:
    kept = _phone_only(values)
    if access.expired_form(request):
        return _forgot_page(request, kept, {"form": access.EXPIRED_FORM}, status=403)
    try:
        phone = recovery.request_code(context_of(request), phone_raw=kept["phone"],
                                      client=client_key(request, "recovery"))
    except FormErrors as exc:
        return _forgot_page(request, kept, exc.errors, status=422)
    except ServiceError as exc:
        return _forgot_page(request, kept, {"form": exc.message}, status=exc.status)
    return _code_page(request, {"phone": phone}, sent=recovery.SENT)


@router.get("/forgot/code", dependencies=[access.PUBLIC_ROUTE])
def forgot_code_form(request: Request) -> Any:
    return _code_page(request, {})


@router.post("/forgot/code", dependencies=[access.PUBLIC_FORM_ROUTE])
def forgot_code_submit(request: Request, values: FormValues) -> Any:
    kept = _phone_only(values)
    if access.expired_form(request):
        return _code_page(request, kept, {"form": access.EXPIRED_FORM}, status=403)
    try:
        token = recovery.verify_code(context_of(request), phone_raw=kept["phone"],
                                     code_raw=values.get("code", ""), client=client_key(request, "recovery-code"))
    except FormErrors as exc:
        return _code_page(request, kept, exc.errors, status=422)
    except ServiceError as exc:
        return _code_page(request, kept, {"code": exc.message}, status=exc.status)
    return RedirectResponse(f"/password/{token}", status_code=303, headers=NO_STORE)
