"""Keys every host of one installation must share: never generated per host when there are several."""

import stat

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lms.core.models import SharedKey
from lms.keys import SIGNING_FILE, StartupRefused, installation_keys


def _signing_public(pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_one_host_generates_its_keys_once_into_instance(make_settings, engine, tmp_path):
    settings = make_settings(secret_key="", multi_host=False)
    first = installation_keys(settings, engine)
    again = installation_keys(settings, engine)
    assert first.secret_key and first.secret_key == again.secret_key
    assert first.signing_key == again.signing_key and "BEGIN PRIVATE KEY" in first.signing_key
    assert len(_signing_public(first.signing_key)) == 32  # an Ed25519 key
    for name in ("secret_key", SIGNING_FILE):
        path = settings.instance_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_several_hosts_share_keys_through_the_database(make_settings, engine, tmp_path):
    host_a = make_settings(secret_key="", multi_host=True, instance_dir=tmp_path / "a")
    host_b = make_settings(secret_key="", multi_host=True, instance_dir=tmp_path / "b")
    keys_a = installation_keys(host_a, engine)
    keys_b = installation_keys(host_b, engine)
    assert keys_a.secret_key == keys_b.secret_key
    assert _signing_public(keys_a.signing_key) == _signing_public(keys_b.signing_key)
    # Nothing per host: no key file was written on either.
    assert not (tmp_path / "a" / "secret_key").exists() and not (tmp_path / "b" / SIGNING_FILE).exists()


def test_a_leftover_key_file_is_taken_over_once_then_refused_if_it_differs(make_settings, engine, tmp_path):
    single = make_settings(secret_key="", multi_host=False, instance_dir=tmp_path / "old")
    old = installation_keys(single, engine)  # the installation as it was on one host
    moved = installation_keys(make_settings(secret_key="", multi_host=True, instance_dir=tmp_path / "old"), engine)
    assert moved.signing_key == old.signing_key and moved.secret_key == old.secret_key
    # Another host with a key file of its own may not start: it would sign with a key nobody publishes.
    stray = tmp_path / "stray"
    installation_keys(make_settings(secret_key="", multi_host=False, instance_dir=stray), engine)
    with pytest.raises(StartupRefused, match="khác với khóa chung"):
        installation_keys(make_settings(secret_key="", multi_host=True, instance_dir=stray), engine)


def test_keys_set_in_settings_must_agree_across_hosts(make_settings, engine, db, tmp_path):
    host_a = make_settings(secret_key="khóa chung của mọi máy " * 3, multi_host=True, instance_dir=tmp_path / "a")
    assert installation_keys(host_a, engine).secret_key == host_a.secret_key
    again = make_settings(secret_key=host_a.secret_key, multi_host=True, instance_dir=tmp_path / "b")
    assert installation_keys(again, engine).secret_key == host_a.secret_key
    # Only a fingerprint of a configured key is kept, never the key itself.
    stored = db.exec(select(SharedKey.value).where(SharedKey.name == "secret_key")).scalar_one()
    assert stored.startswith("sha256:") and "khóa" not in stored
    with pytest.raises(StartupRefused, match="LMS_SECRET_KEY của máy này khác"):
        installation_keys(make_settings(secret_key="một khóa khác hẳn " * 3, multi_host=True), engine)
    with pytest.raises(StartupRefused, match="đặt khóa bằng LMS_SECRET_KEY"):
        installation_keys(make_settings(secret_key="", multi_host=True, instance_dir=tmp_path / "c"), engine)


def test_postgresql_counts_as_several_hosts(make_settings):
    assert make_settings(database_url="postgresql://db.example/lms").is_multi_host
    assert not make_settings(database_url="sqlite:///x.db").is_multi_host
    assert make_settings(database_url="sqlite:///x.db", multi_host=True).is_multi_host


def test_start_up_refuses_before_the_database_is_migrated(make_settings, tmp_path):
    from lms.db import make_engine

    settings = make_settings(secret_key="", multi_host=True, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    engine = make_engine(settings)
    try:
        with pytest.raises(StartupRefused, match="lms migrate"):
            installation_keys(settings, engine)
    finally:
        engine.dispose()


def test_serve_says_why_it_refuses(make_settings, engine, tmp_path, monkeypatch):
    from lms.cli import build_cli

    stray = tmp_path / "stray"
    installation_keys(make_settings(secret_key="", multi_host=True), engine)  # the shared keys exist
    installation_keys(make_settings(secret_key="", multi_host=False, instance_dir=stray), engine)
    settings = make_settings(secret_key="", multi_host=True, instance_dir=stray)
    monkeypatch.setenv("LMS_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(stray))
    monkeypatch.setenv("LMS_MULTI_HOST", "true")
    result = CliRunner().invoke(build_cli(settings), ["serve"])
    assert result.exit_code == 2
    assert "Không khởi động được" in result.output and "khác với khóa chung" in result.output
