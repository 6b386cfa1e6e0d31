"""Each test gets its own SQLite file, or its own PostgreSQL schema when
LMS_DATABASE_URL points at PostgreSQL, and talks HTTP to a fresh app."""

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

from lms.app import create_app
from lms.db import make_engine
from lms.migrations import import_all_models
from lms.settings import Settings

pytest_plugins = ["tests.log_watch"]

PG_URL = os.environ.get("LMS_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")

# Cheap hashing in tests; one test raises the cost to check hash upgrades.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024}


def _psycopg_url(url: str) -> str:
    return re.sub(r"^postgresql(\+\w+)?://", "postgresql+psycopg://", url)


@contextmanager
def postgresql_schema(url: str, prefix: str = "t") -> Iterator[str]:
    """A fresh schema on the PostgreSQL at `url`, as a URL whose search_path is it; dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_psycopg_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in url else "?"
        yield f"{_psycopg_url(url)}{sep}options=-csearch_path%3D{schema}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite file in tmp_path, or a fresh PostgreSQL schema dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgresql_schema(PG_URL) as url:
        yield url


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
            # Pending events are delivered once at start; tests of the periodic round set it.
            "outbox_interval_seconds": 0,
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


@pytest.fixture
def live_server(settings: Settings, engine: sa.Engine, tmp_path: Path):
    """Start the real server (`lms serve`) in a subprocess; returns its base URL.

    The schema comes from the engine fixture (create_all, which test_migrations
    proves equal to the migration head)."""
    import socket
    import subprocess
    import sys
    import time

    import httpx2 as httpx
    from alembic import command

    from lms.migrations import alembic_config

    # Recorded as migrated, as `lms migrate` leaves it, so /readyz says ready.
    command.stamp(alembic_config(settings), "heads")
    processes: list[subprocess.Popen] = []

    def start(workers: int = 2, **env_overrides: str) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        env.update({
            "LMS_DATABASE_URL": settings.resolved_database_url,
            "LMS_INSTANCE_DIR": str(settings.instance_dir),
            "LMS_SECRET_KEY": settings.secret_key,
            "LMS_ARGON2_TIME_COST": "1",
            "LMS_ARGON2_MEMORY_COST": "1024",
            "LMS_BASE_URL": f"http://127.0.0.1:{port}",
            # Two servers of parallel tests stay within PostgreSQL's 100 connections.
            "LMS_WORKER_THREADS": "8" if ON_POSTGRES else "16",
            **env_overrides,
        })
        log = (tmp_path / f"server-{port}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "lms", "serve", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError((tmp_path / f"server-{port}.log").read_text())

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    from tests.log_watch import add_server_log

    for path in sorted(tmp_path.glob("server-*.log")):
        add_server_log(path)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--no-first-run"]


def require_chromium() -> None:
    """Skip without Chromium, except in CI, where a skipped browser test is a failure."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests may not be skipped in CI: {message}")
        pytest.skip(message)


@pytest.fixture
def phone_page():
    """A headless Chromium tab the size of a cheap Android phone (360×740)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740},
                                      device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()
