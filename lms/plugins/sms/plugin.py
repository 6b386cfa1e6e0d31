"""The SMS plugin: gateways that send text messages (recovery codes) for the core.

"http" posts to a provider's REST API (SMS brandname, Zalo ZNS) as the settings describe;
"dev" keeps messages in its own table and shows them to admins (and the staff of the
person's commune) at /staff/sms, for installations without a provider."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta

meta = PluginMeta(name="sms", label="Tin nhắn SMS")


@hookimpl
def sms_gateways(context: Any) -> list[Any]:
    from lms.plugins.sms.gateways import DevGateway, HttpGateway

    found: list[Any] = [DevGateway(context)]
    if context.settings.sms_http_url:
        found.append(HttpGateway(context.settings))
    return found


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.sms.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("staff", "admin"):
        return [NavItem("Tin nhắn đã gửi (thử nghiệm)", "/staff/sms", 78, area="staff")]
    return []


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from sqlalchemy import select

    from lms.personal_data import DataSection, as_rows
    from lms.plugins.sms.models import SmsMessage

    sent = db.exec(select(SmsMessage).where(SmsMessage.phone == user.phone)).scalars().all() if user.phone else []
    # The text holds a recovery code: what was sent is listed, not the code.
    return [DataSection("sms_message", "Tin nhắn đã gửi tới số của bạn", as_rows(sent, {"Gửi lúc": "created_at"}))]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from sqlalchemy import delete

    from lms.personal_data import ErasureNote
    from lms.plugins.sms.models import SmsMessage

    count = db.execute(delete(SmsMessage).where(SmsMessage.phone == user.phone)).rowcount if user.phone else 0
    return [ErasureNote("sms_message", "deleted", count or 0)]
