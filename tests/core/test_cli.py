"""The `lms` command."""

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lms.cli import build_cli
from lms.core.models import Place, User


@pytest.fixture
def cli_env(settings, engine, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("LMS_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("LMS_ARGON2_MEMORY_COST", "1024")
    return build_cli(settings)


def test_places_demo_loads_once(cli_env, db):
    runner = CliRunner()
    assert runner.invoke(cli_env, ["places", "demo"]).exit_code == 0
    assert runner.invoke(cli_env, ["places", "demo"]).exit_code == 0
    places = db.exec(select(Place)).scalars().all()
    assert sorted(p.kind for p in places).count("village") == 4
    assert [(p.name, p.code) for p in places if p.kind != "village"] == [
        ("Thành phố Hải Phòng", "31"), ("Xã Nam Sách", "10606")]
    listing = runner.invoke(cli_env, ["places", "list"]).output
    assert "Thôn ví dụ 1" in listing and "Xã Nam Sách" in listing
    # Importing the whole city later finds the example's commune by its code: no twin.
    runner.invoke(cli_env, ["places", "import", "--province", "Hải Phòng"])
    db.rollback()
    db.expire_all()
    communes = db.exec(select(Place.name).where(Place.kind == "commune")).scalars().all()
    assert len(communes) == 114 and communes.count("Xã Nam Sách") == 1


def test_users_create_staff_with_commune(cli_env, db):
    runner = CliRunner()
    runner.invoke(cli_env, ["places", "demo"])
    commune = db.exec(select(Place).where(Place.kind == "commune")).scalars().one()
    result = runner.invoke(cli_env, ["users", "create", "--phone", "0912 000 111", "--name",
                                     "Đỗ Thị Hà", "--role", "staff", "--commune",
                                     str(commune.id)], input="mật khẩu cán bộ\nmật khẩu cán bộ\n")
    assert result.exit_code == 0, result.output
    assert "Đã tạo tài khoản" in result.output
    db.rollback()  # end the read snapshot taken before the command ran
    user = db.exec(select(User)).scalars().one()
    assert (user.phone, user.role, user.commune_id) == ("0912000111", "staff", commune.id)


def test_users_create_refuses_bad_input_clearly(cli_env, db):
    result = CliRunner().invoke(cli_env, ["users", "create", "--phone", "123", "--name", "Ai Đó",
                                          "--role", "admin"], input="mật khẩu dài\nmật khẩu dài\n")
    assert result.exit_code == 1
    assert "10 chữ số" in result.output
    assert db.exec(select(User)).scalars().all() == []


def test_migrate_command(settings, monkeypatch, database_url):
    url = database_url.replace("test.db", "cli.db")
    monkeypatch.setenv("LMS_DATABASE_URL", url)
    if url.startswith("postgresql"):
        pytest.skip("covered by test_migrations on PostgreSQL")
    result = CliRunner().invoke(build_cli(settings), ["migrate"])
    assert result.exit_code == 0 and "đã được cập nhật" in result.output
