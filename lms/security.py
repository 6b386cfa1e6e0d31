"""Password hashing, server-side sessions, CSRF tokens and route access policies."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from passlib.context import CryptContext

from lms.settings import Settings

SESSION_COOKIE = "hv_session"
CSRF_COOKIE = "hv_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

ROLES = ("learner", "team_member", "staff", "admin")
ROLE_LABELS = {
    "learner": "Người học",
    "team_member": "Thành viên tổ công nghệ số cộng đồng",
    "staff": "Cán bộ xã/phường",
    "admin": "Quản trị hệ thống",
}


def make_password_context(settings: Settings) -> CryptContext:
    # argon2 only: bcrypt would cut Vietnamese passwords at 72 bytes.
    return CryptContext(
        schemes=["argon2"],
        argon2__time_cost=settings.argon2_time_cost,
        argon2__memory_cost=settings.argon2_memory_cost,
        argon2__parallelism=2,
    )


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token; 32 bytes is 256 bits."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """What the database keeps of a bearer token, so a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_name(settings: Any, base: str) -> str:
    """Over https the `__Host-` prefix: the browser then refuses the cookie from a subdomain or
    over http, so a neighbouring site cannot plant a session or CSRF cookie."""
    return f"__Host-{base}" if settings.secure_cookies else base


def set_session_cookie(response: Any, settings: Any, token: str) -> None:
    """The log-in cookie: HttpOnly, SameSite=Lax, Secure on https."""
    response.set_cookie(cookie_name(settings, SESSION_COOKIE), token, max_age=settings.session_days * 86400,
                        httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")


def delete_session_cookie(response: Any, settings: Any) -> None:
    response.delete_cookie(cookie_name(settings, SESSION_COOKIE), path="/", secure=settings.secure_cookies,
                           httponly=True, samesite="lax")


def csrf_token_for(secret: str, csrf_cookie: str, session_token: str | None) -> str:
    message = f"{csrf_cookie}|{session_token or ''}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def csrf_valid(secret: str, csrf_cookie: str | None, session_token: str | None, sent: str) -> bool:
    if not csrf_cookie or not sent:
        return False
    return hmac.compare_digest(csrf_token_for(secret, csrf_cookie, session_token), sent)


# --- Access policies -------------------------------------------------------
# Every route depends on exactly one policy; tests walk app.routes to prove it.


class AccessDenied(Exception):
    """Signed in, but the role does not allow this page (403)."""


class LoginRequired(Exception):
    """Anonymous visitor on a page that needs an account (redirect to log-in)."""


@dataclass(frozen=True)
class AccessPolicy:
    name: str
    roles: frozenset[str] | None  # None: anyone, signed in or not

    @property
    def is_public(self) -> bool:
        return self.roles is None


def _policy_dependency(policy: AccessPolicy) -> Any:
    # async: it only reads request.state, and a plain def would cost every request a hop to
    # the thread pool.
    async def dependency(request: Request) -> Any:
        user = request.state.user
        if policy.roles is None:
            return user
        if user is None:
            raise LoginRequired()
        if user.role not in policy.roles:
            raise AccessDenied()
        return user

    dependency.access_policy = policy  # type: ignore[attr-defined]
    dependency.__name__ = f"access_{policy.name}"
    return dependency


PUBLIC = AccessPolicy("public", None)
# A public form (sign-up, log-in, event registration): posted with an expired or missing
# CSRF token, the route still runs, sees request.state.csrf_failed, writes nothing and shows
# the form again with what the person typed.
PUBLIC_FORM = AccessPolicy("public_form", None)
SIGNED_IN = AccessPolicy("signed_in", frozenset(ROLES))
TEAM = AccessPolicy("team", frozenset({"team_member", "staff", "admin"}))
STAFF = AccessPolicy("staff", frozenset({"staff", "admin"}))
ADMIN = AccessPolicy("admin", frozenset({"admin"}))

public = _policy_dependency(PUBLIC)
public_form = _policy_dependency(PUBLIC_FORM)
signed_in = _policy_dependency(SIGNED_IN)
team = _policy_dependency(TEAM)
staff = _policy_dependency(STAFF)
admin = _policy_dependency(ADMIN)

# Dependency markers for routes: `dependencies=[access.PUBLIC_ROUTE]` or a
# `user: User = Depends(access.signed_in)` parameter.
PUBLIC_ROUTE = Depends(public)
PUBLIC_FORM_ROUTE = Depends(public_form)
EXPIRED_FORM = ("Biểu mẫu đã hết hạn nên chưa được gửi. Thông tin bạn nhập vẫn còn dưới đây: "
                "kiểm tra lại rồi bấm gửi lần nữa.")


def expired_form(request: Request) -> bool:
    """True when a public form came without a valid CSRF token: show it again, write nothing."""
    return bool(getattr(request.state, "csrf_failed", False))


def route_policy(route: Any) -> AccessPolicy | None:
    """The access policy a FastAPI route depends on, if any."""
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        policy = getattr(dependant.call, "access_policy", None)
        if policy is not None:
            return policy
        stack.extend(dependant.dependencies)
    return None


def app_routes(app: Any) -> list[Any]:
    """Every route of the app with its effective path and dependencies.

    FastAPI keeps included routers as branches; this walks them.
    """
    from fastapi.routing import iter_route_contexts

    return list(iter_route_contexts(app.routes))
