"""One file holding an installation: its database at one moment, its keys, its media on disk.

SQLite is copied with its online backup API (writers go on meanwhile); PostgreSQL with pg_dump
inside an exported snapshot. The manifest keeps row counts and a digest of every table, taken
from the same moment, so a restore proves it got back exactly what was saved."""

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lms import dbcopy, migrations
from lms.keys import SECRET_FILE, SIGNING_FILE
from lms.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "database.sqlite3"
PG_NAME = "database.pgdump"
KEY_FILES = (SECRET_FILE, SIGNING_FILE)


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message (Vietnamese) says what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    engine: str
    tables: int
    rows: int
    keys: list[str]
    media_files: int
    keys_in_settings: bool


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore read it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def sqlite_path(url: str) -> Path:
    return Path(sa.make_url(url).database or "")


def default_path(settings: Settings) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return settings.instance_dir / "backups" / f"hocvuso-{stamp}.tar.gz"


def create(settings: Settings, path: Path | None = None) -> BackupReport:
    path = path or default_path(settings)
    url = settings.resolved_database_url
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hocvuso-backup-") as work:
        folder = Path(work)
        if settings.is_sqlite:
            heads, digests = _sqlite_dump(url, folder / SQLITE_NAME)
            engine_name = "sqlite"
        else:
            heads, digests = _pg_dump(url, folder / PG_NAME)
            engine_name = "postgresql"
        keys = [name for name in KEY_FILES if (settings.instance_dir / name).is_file()]
        media = _media_files(settings)
        manifest = {
            "format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "engine": engine_name, "migrations": sorted(heads), "keys": keys, "media_files": len(media),
            "tables": {d.name: {"rows": d.rows, "sha256": d.sha256} for d in digests.values()},
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        # The archive holds the keys: readable by its owner only, from the first byte.
        partial = path.with_name(f".{path.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            archive.add(folder / MANIFEST, MANIFEST)
            archive.add(folder / (SQLITE_NAME if settings.is_sqlite else PG_NAME),
                        SQLITE_NAME if settings.is_sqlite else PG_NAME)
            for name in keys:
                archive.add(settings.instance_dir / name, f"keys/{name}")
            for file in media:
                archive.add(file, "media/" + file.relative_to(Path(settings.media_dir)).as_posix())
            raw.flush()
            os.fsync(raw.fileno())
        partial.replace(path)
    return BackupReport(path, engine_name, len(digests), sum(d.rows for d in digests.values()), keys,
                        len(media), keys_in_settings=bool(settings.secret_key or settings.signing_key))


def _media_files(settings: Settings) -> list[Path]:
    if not settings.media_dir or not Path(settings.media_dir).is_dir():
        return []
    return sorted(p for p in Path(settings.media_dir).rglob("*") if p.is_file())


def _sqlite_dump(url: str, target: Path) -> tuple[frozenset[str], dict[str, dbcopy.TableDigest]]:
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"Không thấy tệp cơ sở dữ liệu {source}.")
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    copy.close()
    live.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return migrations.database_heads(connection), _digests(connection)
    finally:
        engine.dispose()


def _pg_dump(url: str, target: Path) -> tuple[frozenset[str], dict[str, dbcopy.TableDigest]]:
    engine = sa.create_engine(url)
    try:
        with dbcopy.snapshot(engine) as connection:
            snapshot_id = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--schema={schema}",
                  f"--snapshot={snapshot_id}", f"--file={target}", f"--dbname={libpq_url(url)}"])
            return migrations.database_heads(connection), _digests(connection)
    finally:
        engine.dispose()


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(f"Không tìm thấy chương trình {command[0]} (gói postgresql-client).") from exc
    if done.returncode != 0:
        # The command line holds the database address; only the tool's own message is shown.
        raise BackupError(f"{command[0]} báo lỗi: {done.stderr.strip()[-500:]}")
    return done.stdout


def read_manifest(path: Path) -> dict:
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            manifest = json.loads(member.read()) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"Tệp {path} không phải bản sao lưu của hệ thống này.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"Tệp {path} không phải bản sao lưu định dạng {FORMAT}.")
    return manifest


def restore(settings: Settings, path: Path) -> dict:
    """Restore the backup at `path` into this installation, which must be empty; returns the manifest."""
    manifest = read_manifest(path)
    engine_name = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest["engine"] != engine_name:
        raise BackupError(
            f"Bản sao lưu là của {manifest['engine']}, hệ thống này dùng {engine_name}. Hãy khôi phục vào "
            "một hệ thống cùng loại, rồi dùng `lms db copy` để chuyển.")
    url = settings.resolved_database_url
    if settings.is_sqlite:
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    try:
        if dbcopy.user_tables(engine):
            raise BackupError("Hệ thống này đã có dữ liệu. Chỉ khôi phục vào một hệ thống mới, trống.")
    finally:
        engine.dispose()
    clashing = [n for n in manifest["keys"] if (settings.instance_dir / n).exists()]
    if clashing:
        raise BackupError(f"Thư mục {settings.instance_dir} đã có khóa ({', '.join(clashing)}). "
                          "Khôi phục vào một thư mục instance mới.")
    if manifest["media_files"] and not settings.media_dir:
        raise BackupError("Bản sao lưu có tệp ảnh/âm thanh: hãy đặt LMS_MEDIA_DIR trước khi khôi phục.")
    with tempfile.TemporaryDirectory(prefix="hocvuso-restore-") as work:
        folder = Path(work)
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(folder, filter="data")
        if settings.is_sqlite:
            # Checked before it takes the installation's place: a backup that does not match
            # leaves the installation as empty as it was.
            target = sqlite_path(url)
            staged = target.with_name(f".{target.name}.restoring")
            _sqlite_restore(folder / SQLITE_NAME, staged)
            try:
                verify(f"sqlite:///{staged}", manifest)
            except BackupError:
                staged.unlink()
                raise
            staged.replace(target)
        else:
            _pg_restore(folder / PG_NAME, url)
            try:
                verify(url, manifest)
            except BackupError as exc:
                raise BackupError(f"{exc} Cơ sở dữ liệu đích đã nhận dữ liệu này: hãy xóa và tạo lại nó "
                                  "trước khi khôi phục một bản khác.") from exc
        # Keys and media only once the data is known good.
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        for name in manifest["keys"]:
            _copy_private(folder / "keys" / name, settings.instance_dir / name)
        if (folder / "media").is_dir():
            shutil.copytree(folder / "media", settings.media_dir, dirs_exist_ok=True)
    return manifest


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())


def _sqlite_restore(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)  # what a run stopped half-way left
    with sqlite3.connect(source) as saved, sqlite3.connect(target) as live:
        saved.backup(live)
    saved.close()
    live.close()


def _pg_restore(source: Path, url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            existing = set(connection.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars())
    finally:
        engine.dispose()
    with tempfile.NamedTemporaryFile("w+", suffix=".list") as listing:
        entries = _run(["pg_restore", "--list", str(source)]).splitlines()
        # The target already has its schema (public, or one made for it): keep everything else.
        kept = [e for e in entries if not (" SCHEMA - " in e and e.rsplit(" ", 2)[-2] in existing)]
        listing.write("\n".join(kept) + "\n")
        listing.flush()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--use-list={listing.name}", f"--dbname={libpq_url(url)}", str(source)])


def _digests(connection: Connection) -> dict[str, dbcopy.TableDigest]:
    # The tables as the database has them, not as this code's models say: a backup restored
    # under a newer version is checked before it is migrated.
    metadata = sa.MetaData()
    metadata.reflect(bind=connection)
    return dbcopy.database_digests(connection, list(metadata.sorted_tables))


def verify(url: str, manifest: dict) -> None:
    """The restored tables hold what the manifest counted, row for row."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            got = _digests(connection)
    finally:
        engine.dispose()
    saved = manifest["tables"]
    different = sorted(name for name in set(saved) | set(got)
                       if name not in got or name not in saved
                       or (got[name].rows, got[name].sha256) != (saved[name]["rows"], saved[name]["sha256"]))
    if different:
        raise BackupError("Dữ liệu khôi phục không khớp bản sao lưu ở các bảng: " + ", ".join(different))
