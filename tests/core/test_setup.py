"""The one-time link that creates the first administrator."""

from sqlalchemy import select
from typer.testing import CliRunner

from lms.cli import build_cli
from lms.core.commands import first_admin_link
from lms.core.models import User
from tests.factories import PASSWORD, csrf, make_user, post_form, text_of


def _admin_form(**overrides):
    data = {"full_name": "Quản Trị Viên", "phone": "0911222333", "password": PASSWORD,
            "password_confirm": PASSWORD}
    data.update(overrides)
    return data


def test_link_creates_the_first_admin_once(client, db, settings):
    link = first_admin_link(settings)
    assert link.startswith("http://127.0.0.1:8000/setup/")
    path = link.removeprefix("http://127.0.0.1:8000")
    assert len(path.rsplit("/", 1)[1]) >= 43  # 256 random bits
    assert "Tạo tài khoản quản trị viên đầu tiên" in client.get(path).text

    bad = post_form(client, path, _admin_form(phone="123"), page=path)
    assert bad.status_code == 422 and 'value="Quản Trị Viên"' in bad.text

    response = post_form(client, path, _admin_form(), page=path)
    # The new administrator is taken to the first-run guide.
    assert response.status_code == 303 and response.headers["location"] == "/staff/bat-dau?moi=1"
    guide = client.get(response.headers["location"]).text
    assert "Đã tạo tài khoản quản trị" in guide and 'href="/staff/bat-dau/ten">Tên và người ký' in guide
    admin = db.exec(select(User).where(User.role == "admin")).scalars().one()
    assert admin.phone == "0911222333"

    # Used up: the page is gone, a replay creates nobody, no new link is printed.
    assert client.get(path).status_code == 404
    replay = client.post(path, data={**_admin_form(phone="0911222444"),
                                     "csrf_token": csrf(client)})
    assert replay.status_code == 404
    assert len(db.exec(select(User)).scalars().all()) == 1
    assert first_admin_link(settings) is None


def test_unknown_token_is_not_found(client):
    response = client.get("/setup/not-a-real-token")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in text_of(response.text)


def test_no_link_while_an_admin_exists(db, settings):
    make_user(db, settings, role="admin")
    assert first_admin_link(settings) is None


def test_setup_link_command_prints_the_link(settings, engine, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    result = CliRunner().invoke(build_cli(settings), ["setup-link"])
    assert result.exit_code == 0
    assert "/setup/" in result.output
