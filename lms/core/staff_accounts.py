"""Staff pages that help people in: a printed reset link, and new accounts with an invitation link.

The pages showing a link carry its token, so they are never stored by a browser or proxy."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import staff_accounts_services as accounts
from lms.core.models import Place, User
from lms.db import get_session
from lms.errors import FormErrors
from lms.forms import FormValues, ObjectId
from lms.qr import qr_svg
from lms.security import ROLE_LABELS
from lms.templating import render

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def link_page(request: Request, issued: accounts.IssuedLink, back: str, back_label: str = "") -> Any:
    """The printable page with the link as a QR and as text (A4, or cut to A6)."""
    url = f"{request.app.state.settings.base_url.rstrip('/')}/password/{issued.token}"
    return render(request, "core/reset_link.html", {
        "issued": issued, "url": url, "qr": qr_svg(url), "back": back, "back_label": back_label,
        "role_labels": ROLE_LABELS,
    }, headers=NO_STORE)


@router.post("/staff/users/{user_id}/reset")
def user_reset(request: Request, user_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    # Refusals (another commune: 404; staff or an admin: 403) are rendered by the app's handler.
    issued = accounts.issue_reset(context_of(request), actor=user, target_id=user_id)
    return link_page(request, issued, f"/staff/users/{user_id}")


# --- New accounts ------------------------------------------------------------------
# Not under /staff/users/…: the core's /staff/users/{user_id} would take "new" as an id.


def _communes(db: Session, actor: User) -> list[Place]:
    statement = select(Place).where(Place.kind == "commune", Place.active.is_(True)).order_by(Place.name)
    if actor.role != "admin":
        statement = statement.where(Place.id == actor.commune_id)
    return list(db.exec(statement).scalars().all())


def _new_page(request: Request, db: Session, actor: User, values: dict[str, str], errors: dict[str, str],
              existing: User | None = None, status: int = 200) -> Any:
    return render(request, "core/user_new.html", {
        "values": values, "errors": errors, "roles": accounts.roles_for(actor), "role_labels": ROLE_LABELS,
        "communes": _communes(db, actor), "existing": existing,
    }, status_code=status)


@router.get("/staff/accounts/new")
def account_new(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    values = {"role": "team_member", "commune_id": request.query_params.get("commune", "")[:12]}
    return _new_page(request, db, user, values, {})


@router.post("/staff/accounts/new")
def account_create(request: Request, values: FormValues, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    data = accounts.AccountInput(full_name=values.get("full_name", ""), phone=values.get("phone", ""),
                                 role=values.get("role", ""), commune_id=values.get("commune_id", ""))
    try:
        issued = accounts.create_account(context_of(request), actor=user, data=data)
    except FormErrors as exc:
        existing = accounts.account_by_phone(db, user, data.phone) if "phone" in exc.errors else None
        return _new_page(request, db, user, values, exc.errors, existing, status=422)
    return link_page(request, issued, f"/staff/users/{issued.person.id}")
