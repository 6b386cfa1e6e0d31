"""The essential plugin: accounts, places, home, health check and staff area entry."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="core", label="Lõi hệ thống")


@hookimpl
def register_routers() -> list[Any]:
    from lms.core.account_merge import router as account_merge
    from lms.core.channels_router import router as channels
    from lms.core.data_pages import router as data_pages
    from lms.core.help_router import router as help_pages
    from lms.core.media_router import router as media
    from lms.core.offline_router import router as offline
    from lms.core.profile import router as profile
    from lms.core.recovery import router as recovery
    from lms.core.router import router
    from lms.core.setup_guide_router import router as setup_guide
    from lms.core.staff_accounts import router as staff_accounts

    return [router, recovery, staff_accounts, account_merge, media, data_pages, profile, offline, channels,
            setup_guide, help_pages]


@hookimpl
def nav_items(user: Any) -> list[NavItem]:
    if user is None:
        return [NavItem("Hướng dẫn", "/huong-dan", 85), NavItem("Đăng nhập", "/login", 90),
                NavItem("Đăng ký", "/signup", 91)]
    items = [NavItem("Tài khoản", "/account", 80), NavItem("Hướng dẫn", "/huong-dan", 85)]
    if user.role in ("staff", "admin"):
        items.append(NavItem("Quản lý", "/staff", 70))
    return items


@hookimpl
def offline_pages() -> list[str]:
    return ["/", "/offline"]


@hookimpl
def register_commands(cli: Any) -> None:
    from lms.core.commands import register, register_data, register_events

    register(cli)
    register_events(cli)
    register_data(cli)


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    from lms.core.merge_services import merge_core_rows

    return merge_core_rows(db, keep=keep, drop=drop, apply=apply)


@hookimpl
def merge_villages(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    from lms.core.services import move_village_people

    return move_village_people(db, keep=keep, drop=drop, apply=apply)


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from lms.core.personal_data_services import core_export

    return core_export(db, user)


@hookimpl(trylast=True)
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    # Last: plugins may still need the phone (messages sent to it) before it goes.
    from lms.core.personal_data_services import core_erase

    return core_erase(db, user)


@hookimpl
def consent_purposes() -> list[Any]:
    from lms.core.consent_services import CORE_PURPOSES

    return CORE_PURPOSES


@hookimpl
def inline_scripts() -> list[str]:
    from lms.core.share_buttons import SHARE_SCRIPT

    return [SHARE_SCRIPT]


@hookimpl
def help_pages() -> list[Any]:
    from lms.help import HelpPage

    return [
        HelpPage("tai-khoan", "Tài khoản: đăng ký, đăng nhập, đặt mật khẩu",
                 "Tự tạo tài khoản, hoặc nhận tài khoản người khác tạo giúp bằng mã đặt mật khẩu; quên mật khẩu.",
                 "core/help/account.html", role="learner", order=10),
        HelpPage("cai-dat-ban-dau", "Cài đặt ban đầu",
                 "Tạo quản trị viên đầu tiên, nhập xã/phường và thôn, tạo tài khoản cho cán bộ.",
                 "core/help/setup.html", role="admin", order=10),
        HelpPage("sao-luu", "Sao lưu và khôi phục",
                 "Chạy lms backup mỗi đêm, cất tệp ở nơi khác máy chủ; khôi phục bằng lms restore.",
                 "core/help/backup.html", role="admin", order=20),
    ]
