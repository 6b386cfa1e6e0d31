"""`lms backup`, `lms restore` and `lms db copy` on the demo data set, against real databases."""

import io
import os
import sqlite3
import tarfile
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from lms import backup, dbcopy, migrations
from lms.cli import build_cli
from lms.keys import installation_keys
from lms.settings import Settings
from tests.conftest import FAST_ARGON2, ON_POSTGRES, PG_URL, _psycopg_url, postgresql_schema

runner = CliRunner()


def _installation(monkeypatch: pytest.MonkeyPatch, instance: Path, url: str, **env: str) -> Settings:
    """Point the `lms` command at one installation (it reads its settings from the environment)."""
    for key in ("LMS_DATABASE_URL", "LMS_INSTANCE_DIR", "LMS_MEDIA_DIR", "LMS_SECRET_KEY", "LMS_SIGNING_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(instance))
    monkeypatch.setenv("LMS_DATABASE_URL", url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings(**{k: v for k, v in FAST_ARGON2.items()})


def _lms(*args: str) -> str:
    result = runner.invoke(build_cli(Settings()), list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _demo_installation(monkeypatch, instance: Path, url: str, **env: str) -> Settings:
    settings = _installation(monkeypatch, instance, url, **env)
    _lms("migrate")
    _lms("courses", "sync")
    _lms("demo-data", "--communes", "2", "--learners", "300", "--months", "2")
    return settings


def _digests(url: str) -> dict[str, tuple[int, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {name: (d.rows, d.sha256) for name, d in backup._digests(connection).items()}
    finally:
        engine.dispose()


def _sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'hocvuso.db'}"


@pytest.fixture
def sqlite_source(tmp_path, monkeypatch) -> Settings:
    instance = tmp_path / "a"
    media = tmp_path / "media-a"
    (media / "ab").mkdir(parents=True)
    (media / "ab" / "abcdef.webp").write_bytes(b"RIFF0000WEBPVP8 a picture")
    settings = _demo_installation(monkeypatch, instance, _sqlite_url(instance), LMS_MEDIA_DIR=str(media))
    (instance / "secret_key").write_text("the-installation-secret\n")
    (instance / "issuer_ed25519.pem").write_text("-----BEGIN PRIVATE KEY-----\nxyz\n-----END PRIVATE KEY-----\n")
    return settings


def test_a_sqlite_backup_restores_into_an_empty_installation(sqlite_source, tmp_path, monkeypatch):
    source_url = sqlite_source.resolved_database_url
    before = _digests(source_url)
    assert before["core_user"][0] >= 300 and before["certificates_certificate"][0] > 0
    archive = tmp_path / "backup.tar.gz"
    out = _lms("backup", "--to", str(archive))
    assert "2 tệp khóa, 1 tệp media" in out
    assert archive.stat().st_mode & 0o077 == 0  # it holds the keys

    restored = tmp_path / "b"
    _installation(monkeypatch, restored, _sqlite_url(restored), LMS_MEDIA_DIR=str(tmp_path / "media-b"))
    out = _lms("restore", str(archive))
    assert "khớp từng bảng" in out
    assert _digests(_sqlite_url(restored)) == before
    for key in ("secret_key", "issuer_ed25519.pem"):
        assert (restored / key).read_bytes() == (sqlite_source.instance_dir / key).read_bytes()
        assert (restored / key).stat().st_mode & 0o077 == 0
    assert (tmp_path / "media-b" / "ab" / "abcdef.webp").read_bytes() == b"RIFF0000WEBPVP8 a picture"
    with sa.create_engine(_sqlite_url(restored)).connect() as connection:
        assert migrations.database_heads(connection) == migrations.script_heads(sqlite_source)


def test_restore_refuses_an_installation_with_data(sqlite_source, tmp_path, monkeypatch):
    archive = tmp_path / "backup.tar.gz"
    _lms("backup", "--to", str(archive))
    (sqlite_source.instance_dir / "secret_key").unlink()  # so only the data stands in the way
    before = _digests(sqlite_source.resolved_database_url)
    result = runner.invoke(build_cli(Settings()), ["restore", str(archive)])
    assert result.exit_code == 1 and "đã có dữ liệu" in result.output
    assert _digests(sqlite_source.resolved_database_url) == before


def test_restore_notices_a_backup_that_does_not_match_its_manifest(sqlite_source, tmp_path, monkeypatch):
    archive = tmp_path / "backup.tar.gz"
    _lms("backup", "--to", str(archive))
    # Change one learner's name inside the archived database, keep the manifest.
    work = tmp_path / "tamper"
    with tarfile.open(archive, "r:gz") as original:
        original.extractall(work, filter="data")
    with sqlite3.connect(work / backup.SQLITE_NAME) as db:
        db.execute("UPDATE core_user SET full_name = 'Người Khác' WHERE id = (SELECT min(id) FROM core_user)")
    db.close()
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as out:
        for path in sorted(work.rglob("*")):
            if path.is_file():
                out.add(path, path.relative_to(work).as_posix())
    restored = tmp_path / "c"
    _installation(monkeypatch, restored, _sqlite_url(restored), LMS_MEDIA_DIR=str(tmp_path / "media-c"))
    result = runner.invoke(build_cli(Settings()), ["restore", str(tampered)])
    assert result.exit_code == 1 and "không khớp bản sao lưu ở các bảng: core_user" in result.output
    # Nothing of it stayed: the installation is as empty as before and can take a good backup.
    assert _digests(_sqlite_url(restored)) == {} and not (restored / "secret_key").exists()
    assert not (tmp_path / "media-c").exists()
    assert "khớp từng bảng" in _lms("restore", str(archive))


def test_a_backup_taken_while_learners_write_is_one_moment(sqlite_source, tmp_path):
    """Rows written during the backup are either all in it or not: its manifest matches its file."""
    engine = sa.create_engine(sqlite_source.resolved_database_url)
    stop = threading.Event()
    written = []

    def keep_writing() -> None:
        with engine.connect() as connection:
            while not stop.is_set():
                connection.execute(sa.text("INSERT INTO core_rate_bucket (key, window_start, hits) "
                                           "VALUES (:k, CURRENT_TIMESTAMP, 1)"), {"k": uuid.uuid4().hex})
                connection.commit()
                written.append(1)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        archive = tmp_path / "busy.tar.gz"
        backup.create(sqlite_source, archive)
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert written  # the writer did run meanwhile
    with tarfile.open(archive, "r:gz") as saved:
        saved.extract(backup.SQLITE_NAME, tmp_path / "x", filter="data")
    manifest = backup.read_manifest(archive)
    copied = _digests(f"sqlite:///{tmp_path / 'x' / backup.SQLITE_NAME}")
    assert copied == {n: (t["rows"], t["sha256"]) for n, t in manifest["tables"].items()}


def test_a_file_that_is_not_a_backup_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "photo.tar.gz"
    with tarfile.open(fake, "w:gz") as out:
        info = tarfile.TarInfo("manifest.json")
        data = b'{"format": 99}'
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
    _installation(monkeypatch, tmp_path / "d", _sqlite_url(tmp_path / "d"))
    result = runner.invoke(build_cli(Settings()), ["restore", str(fake)])
    assert result.exit_code == 1 and "không phải bản sao lưu" in result.output


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def fresh_database():
    """An empty PostgreSQL database of the test's own, dropped afterwards."""
    if not ON_POSTGRES:
        pytest.skip("needs PostgreSQL")
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_psycopg_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = sa.make_url(_psycopg_url(PG_URL)).set(database=name)
    try:
        yield base
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres_only
def test_a_postgresql_backup_restores_into_an_empty_database(database_url, fresh_database, tmp_path, monkeypatch):
    settings = _demo_installation(monkeypatch, tmp_path / "a", database_url)
    engine = sa.create_engine(database_url)
    installation_keys(settings, engine)  # as the first host's start does: keys kept in the database
    engine.dispose()
    before = _digests(database_url)
    assert settings.is_multi_host and before["core_shared_key"][0] == 2
    archive = tmp_path / "pg.tar.gz"
    _lms("backup", "--to", str(archive))
    assert backup.read_manifest(archive)["engine"] == "postgresql"
    # The test's data lives in a schema of its own (search_path): the restored copy keeps its name.
    target = fresh_database.render_as_string(hide_password=False) + "?" + database_url.split("?", 1)[1]
    _installation(monkeypatch, tmp_path / "b", target)
    assert "khớp từng bảng" in _lms("restore", str(archive))
    assert _digests(target) == before  # the shared keys with the rest


@pytest.fixture
def empty_postgresql():
    """An empty PostgreSQL schema to copy into, on either test run: the copy's point is to leave SQLite."""
    url = PG_URL if ON_POSTGRES else "postgresql://postgres@127.0.0.1:5432/test"
    probe = sa.create_engine(_psycopg_url(url))
    try:
        probe.connect().close()
    except sa.exc.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("needs PostgreSQL at 127.0.0.1:5432")
    finally:
        probe.dispose()
    with postgresql_schema(url, prefix="c") as target:
        yield target


def test_db_copy_moves_a_sqlite_installation_to_postgresql(tmp_path, monkeypatch, empty_postgresql):
    database_url = empty_postgresql
    instance = tmp_path / "a"
    settings = _demo_installation(monkeypatch, instance, _sqlite_url(instance))
    source = _sqlite_url(instance)
    with sqlite3.connect(instance / "hocvuso.db") as db:  # an old account merged into a newer one
        db.execute("UPDATE core_user SET merged_into_id = (SELECT max(id) FROM core_user) "
                   "WHERE id = (SELECT min(id) FROM core_user)")
    db.close()
    monkeypatch.setattr(dbcopy, "BATCH_ROWS", 50)  # so the two are in different batches
    out = _lms("db", "copy", "--to", database_url)
    assert "khớp với nguồn" in out
    tables = dbcopy.schema_tables(settings)
    source_engine, target_engine = sa.create_engine(source), sa.create_engine(database_url)
    try:
        with source_engine.connect() as a, target_engine.connect() as b:
            for table in tables:  # read back independently of the command's own check
                assert dbcopy.table_digest(a, table) == dbcopy.table_digest(b, table), table.name
            users = dbcopy.table_digest(b, next(t for t in tables if t.name == "core_user")).rows
            assert users >= 300
        # The sequences moved past the copied ids: a new row gets a fresh id.
        with target_engine.begin() as b:
            largest = b.execute(sa.text("SELECT max(id) FROM core_place")).scalar_one()
            new_id = b.execute(sa.text("INSERT INTO core_place (name, kind, active, created_at) "
                                       "VALUES ('Thôn Mới', 'village', true, now()) RETURNING id")).scalar_one()
        assert new_id > largest
    finally:
        source_engine.dispose()
        target_engine.dispose()
    again = runner.invoke(build_cli(Settings()), ["db", "copy", "--to", database_url])
    assert again.exit_code == 1 and "không trống" in again.output


def test_db_copy_refuses_a_source_that_is_not_migrated(tmp_path, monkeypatch, empty_postgresql):
    database_url = empty_postgresql
    instance = tmp_path / "a"
    settings = _installation(monkeypatch, instance, _sqlite_url(instance))
    migrations.upgrade(settings, revision="0025_ke_hoach", url=_sqlite_url(instance))
    result = runner.invoke(build_cli(Settings()), ["db", "copy", "--to", database_url])
    assert result.exit_code == 1 and "lms migrate" in result.output
    engine = sa.create_engine(database_url)
    try:
        assert dbcopy.user_tables(engine) == []  # nothing half-made in the target
    finally:
        engine.dispose()


def test_db_copy_explains_an_address_it_cannot_use(tmp_path, monkeypatch):
    instance = tmp_path / "a"
    _installation(monkeypatch, instance, _sqlite_url(instance))
    _lms("migrate")
    for address, said in (("not a url", "Địa chỉ cơ sở dữ liệu không hợp lệ"),
                          ("postgresql://postgres@127.0.0.1:1/none", "Không kết nối được")):
        result = runner.invoke(build_cli(Settings()), ["db", "copy", "--to", address])
        assert result.exit_code == 1 and said in result.output, result.output
