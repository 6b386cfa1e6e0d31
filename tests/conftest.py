"""Each test gets its own SQLite file, or its own PostgreSQL schema when
LMS_DATABASE_URL points at PostgreSQL, and talks HTTP to a fresh app."""

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

from lms.app import create_app
from lms.db import make_engine
from lms.migrations import import_all_models
from lms.settings import Settings

PG_URL = os.environ.get("LMS_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")

# Cheap hashing in tests; one test raises the cost to check hash upgrades.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024}


def _psycopg_url(url: str) -> str:
    return re.sub(r"^postgresql(\+\w+)?://", "postgresql+psycopg://", url)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite file in tmp_path, or a fresh PostgreSQL schema dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_psycopg_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{_psycopg_url(PG_URL)}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch):
    # Settings read LMS_* from the environment; tests pass everything explicitly.
    for key in list(os.environ):
        if key.startswith("LMS_"):
            monkeypatch.delenv(key)

    def factory(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "instance_dir": tmp_path / "instance",
            "database_url": database_url,
            "secret_key": "test-secret-key-not-for-production",
            **FAST_ARGON2,
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def engine(settings: Settings) -> Iterator[sa.Engine]:
    import_all_models(settings)
    engine = make_engine(settings)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: sa.Engine):
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def make_client(app):
    """More browsers on the same site (each with its own cookies)."""
    clients: list[TestClient] = []

    def factory() -> TestClient:
        c = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(c)
        return c

    yield factory
    for c in clients:
        c.close()


@pytest.fixture
def install_plugins(tmp_path: Path):
    """Install test plugins the way a package does: a dist-info with entry points on sys.path."""
    import importlib
    import sys

    site = tmp_path / "site-packages"
    installed: list[str] = []

    def install(entries: dict[str, str], dist: str = "lms-test-plugins") -> None:
        info = site / f"{dist.replace('-', '_')}-0.0.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
        (info / "entry_points.txt").write_text(f"[lms.plugins]\n{lines}")
        if str(site) not in sys.path:
            sys.path.insert(0, str(site))
            installed.append(str(site))
        importlib.invalidate_caches()

    yield install
    for path in installed:
        sys.path.remove(path)
    importlib.invalidate_caches()
