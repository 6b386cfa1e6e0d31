"""Implements every core hook, so tests can prove each one is honoured."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import typer
from fastapi import APIRouter, Depends, Request

from lms import security as access
from lms.events import DomainEvent
from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta
from lms.templating import render

HERE = Path(__file__).parent
meta = PluginMeta(name="everything", label="Plugin thử nghiệm", requires=["core"])
received_events: list[Any] = []

router = APIRouter()


@router.get("/hello", dependencies=[access.PUBLIC_ROUTE])
def hello(request: Request) -> Any:
    return render(request, "everything/hello.html", {"greeting": "Xin chào từ plugin"})


@router.get("/hello/members")
def hello_members(request: Request, _user: Any = Depends(access.team)) -> Any:
    return render(request, "everything/hello.html", {"greeting": "Chỉ dành cho tổ"})


@hookimpl
def register_routers() -> list[Any]:
    return [router]


@hookimpl
def template_dirs() -> list[Path]:
    return [HERE / "templates"]


@hookimpl
def static_dirs() -> list[tuple[str, Path]]:
    return [("everything", HERE / "static")]


@hookimpl
def migration_dirs() -> list[Path]:
    return [HERE / "migrations"]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    return [NavItem("Xin chào", "/hello", 10)]


@hookimpl
def register_commands(cli: Any) -> None:
    @cli.command("hello")
    def hello_command() -> None:
        """Say hello (test plugin)."""
        typer.echo("Xin chào từ plugin")


@hookimpl
def course_pack_dirs() -> list[Path]:
    return [HERE / "packs"]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: int


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Figure]:
    return [Figure("hello", "Lời chào", 42 if scope == "all" else 0)]


@hookimpl
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    from markupsafe import Markup

    if slot == "home":
        return [Markup('<section id="everything-home"><h2>Góc thử nghiệm</h2></section>')]
    return []


@dataclass(frozen=True)
class HelloSaid(DomainEvent):
    name = "everything.hello_said"
    words: str = ""


@hookimpl
def on_event(event: Any) -> None:
    received_events.append(event)


sent_messages: list[tuple[str, str]] = []


class HelloGateway:
    """Sends nothing: remembers the message, for the test of the sms_gateways hook."""

    name = "everything"
    label = "Cổng thử nghiệm"

    def send(self, phone: str, text: str) -> None:
        sent_messages.append((phone, text))


@hookimpl
def sms_gateways(context: Any) -> list[Any]:
    return [HelloGateway()]


# The test plugin's own table (see its migration), as a plugin added later would have one.
NOTES = sa.Table("everything_note", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("user_id", sa.Integer, nullable=False), sa.Column("text", sa.String(200)))
merge_calls: list[tuple[int, int, bool]] = []
merge_fails = False


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, actor: Any, apply: bool) -> list[Any]:
    from lms.merging import MergeItem

    merge_calls.append((keep.id, drop.id, apply))
    notes = db.execute(sa.select(sa.func.count()).select_from(NOTES).where(NOTES.c.user_id == drop.id)).scalar()
    if apply:
        db.execute(NOTES.update().where(NOTES.c.user_id == drop.id).values(user_id=keep.id))
        if merge_fails:
            raise RuntimeError("everything: the merge fails on purpose")
    return [MergeItem("Ghi chú thử nghiệm", notes)]


village_moves: list[tuple[int, int, bool]] = []
village_merge_fails = False


@hookimpl
def merge_villages(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    from lms.merging import MergeItem

    village_moves.append((keep.id, drop.id, apply))
    if apply and village_merge_fails:
        raise RuntimeError("everything: the village merge fails on purpose")
    return [MergeItem("Bảng tin thử nghiệm của thôn", 2)]


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from lms.personal_data import DataSection

    if not sa.inspect(db.connection()).has_table("everything_note"):
        return [DataSection("everything_note", "Ghi chú thử nghiệm")]
    rows = db.execute(sa.select(NOTES.c.text).where(NOTES.c.user_id == user.id)).scalars().all()
    return [DataSection("everything_note", "Ghi chú thử nghiệm", [{"Nội dung": text} for text in rows])]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from lms.personal_data import ErasureNote

    if not sa.inspect(db.connection()).has_table("everything_note"):
        return [ErasureNote("everything_note", "deleted", 0)]
    count = db.execute(NOTES.delete().where(NOTES.c.user_id == user.id)).rowcount
    return [ErasureNote("everything_note", "deleted", count)]


@hookimpl
def consent_purposes() -> list[Any]:
    from lms.consents import ConsentPurpose

    return [ConsentPurpose(key="everything_letters", label="Thư thử nghiệm", current="thu-1",
                           texts={"thu-1": "Tôi đồng ý nhận thư thử nghiệm."},
                           stops="Không gửi thư thử nghiệm nữa.", ask_when_joining=True)]


@hookimpl
def offline_pages() -> list[str]:
    return ["/hello"]


HELLO_SCRIPT = 'document.documentElement.dataset.hello = "1";'


@hookimpl
def inline_scripts() -> list[str]:
    return [HELLO_SCRIPT]


@hookimpl
def bulletin_choices(db: Any, user: Any) -> list[Any]:
    from lms.bulletin import BulletinChoice

    # Offered to staff of a commune only: the bulletin must ask per person, not once for all.
    if user.commune_id is None:
        return []
    return [BulletinChoice("hello:1", "Lời chào", "Chào bà con thôn mình", text="Xin chào 25 hộ gia đình.")]


@hookimpl
def offline_forms() -> list[Any]:
    from lms.offline import OfflineForm

    return [OfflineForm("/hello/{name}/greet", "Lời chào thử")]


@hookimpl
def channel_items(db: Any, commune_id: int | None, limit: int) -> list[Any]:
    from datetime import UTC, datetime

    from lms.channels import ChannelItem

    moment = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    return [ChannelItem(kind="news", key="hello:news", title="Chào bà con: lớp học điện thoại tối thứ Năm",
                        summary="Tại nhà văn hóa thôn.", url="/hello", published=moment, updated=moment)][:limit]


@hookimpl
def evidence_choices(db: Any, user: Any) -> list[Any]:
    from datetime import UTC, datetime

    from lms.channels import EvidenceChoice

    # Offered to staff of a commune only, like bulletin_choices: asked per person.
    if user.commune_id is None:
        return []
    return [EvidenceChoice(key="hello:evidence", group="Lời chào", title="Buổi chào bà con thôn Đông",
                           url="/hello", at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC), commune_id=user.commune_id)]


@hookimpl
def lesson_embed(db: Any, ref: str) -> Any:
    from markupsafe import Markup

    return Markup('<aside class="hello-card">Lời chào của thôn Đông</aside>') if ref == "hello:1" else None


@hookimpl
def setup_checks(db: Any, settings: Any) -> list[Any]:
    from lms.setup_checks import SetupCheck

    # Asked with a read session: it counts what it needs and reports it.
    communes = db.execute(sa.text("SELECT count(*) FROM core_place WHERE kind = 'commune'")).scalar()
    return [SetupCheck("Lời chào của thôn chưa được viết", False, f"Thử nghiệm: {communes} xã.",
                       "/hello", "Viết lời chào", order=55),
            SetupCheck("Bảng tin thử nghiệm đã sẵn sàng", True, order=56)]


@hookimpl
def help_pages() -> list[Any]:
    from lms.help import HelpPage

    return [HelpPage("loi-chao", "Chào bà con thôn Đông", "Trang hướng dẫn thử nghiệm cho tổ.",
                     "everything/help/hello.html", role="team_member")]
