"""The teams plugin: community tech teams enrolling and supporting residents."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta
from lms.plugins.teams import hookspecs  # noqa: F401 - resident_sections, resident_credentials
from lms.plugins.teams.merging import merge_accounts, merge_villages  # noqa: F401 - hook implementations
from lms.plugins.teams.personal_data import (  # noqa: F401 - hook implementations
    personal_data_erase,
    personal_data_export,
)

meta = PluginMeta(name="teams", label="Tổ công nghệ số cộng đồng", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.teams.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("team_member", "staff", "admin"):
        return [NavItem("Tổ công nghệ số", "/teams", 55)]
    return []


# The quiz plugin's hook: optional, so teams loads with quiz disabled.
@hookimpl(optionalhook=True)
def assisted_learner_page(db: Any, helper: Any, learner_id: int) -> str | None:
    from lms.plugins.teams import services

    return services.assisted_learner_page(db, helper, learner_id)


@hookimpl
def setup_checks(db: Any, settings: Any) -> list[Any]:
    from lms.plugins.teams.setup_checks import setup_checks as checks

    return checks(db)


@hookimpl
def help_pages() -> list[Any]:
    from lms.help import HelpPage

    return [
        HelpPage("vao-hoc-bang-the", "Vào học bằng thẻ đăng nhập",
                 "Thẻ giấy có mã QR do tổ công nghệ số in cho bạn: quét là vào bài học, không cần mật khẩu.",
                 "teams/help/card_use.html", role="learner", order=15),
        HelpPage("ghi-danh", "Ghi danh cho người dân",
                 "Tạo tài khoản giúp người chưa tự làm được, rồi ghi danh họ vào khóa học.",
                 "teams/help/enrol.html", role="team_member", order=10),
        HelpPage("in-the-dang-nhap", "In thẻ đăng nhập",
                 "In thẻ có mã QR để người dân vào học không cần mật khẩu; in thẻ đặt lại mật khẩu khi họ quên.",
                 "teams/help/card_print.html", role="team_member", order=20),
        HelpPage("hoc-truc-tiep", "Ghi nhận bài học trực tiếp",
                 "Người dân học cùng bạn, không tự bấm trên điện thoại: đánh dấu các bài họ đã học.",
                 "teams/help/in_person.html", role="team_member", order=30),
    ]
