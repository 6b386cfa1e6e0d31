"""PostgreSQL through a real PgBouncer in transaction mode: prepared statements must be off."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.db import make_engine
from tests.conftest import ON_POSTGRES, PG_URL

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pgbouncer():
    """A PgBouncer in transaction mode with ONE server connection, so two clients share it."""
    if not ON_POSTGRES:
        pytest.skip("needs PostgreSQL")
    if not Path(PGBOUNCER).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("pgbouncer is missing (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is missing (apt-get install pgbouncer)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Outside pytest's private tmp folder: PgBouncer runs as the postgres user and must read it.
    folder = Path(tempfile.mkdtemp(prefix="hocvuso-pgbouncer-"))
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
test = host=127.0.0.1 port=5432 dbname=test

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = 1
max_client_conn = 50
""")
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)
    # PgBouncer refuses to run as root; -u drops to the postgres user.
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(process.stdout.read().decode())
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    process.terminate()
    process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


def _clients_failing(make_settings, url: str, prepared: bool) -> list[str]:
    engine = make_engine(make_settings(database_url=url, database_prepared_statements=prepared))
    failures: list[str] = []
    start = threading.Barrier(4)

    def client(n: int) -> None:
        start.wait()
        try:
            for i in range(12):  # psycopg prepares a statement it has run 5 times (in committed work)
                with engine.begin() as conn:
                    assert conn.execute(sa.text("SELECT CAST(:n AS integer) + 1"), {"n": i}).scalar() == i + 1
        except Exception as exc:  # noqa: BLE001 - each client's failure is the result
            failures.append(type(exc.__cause__ or exc).__name__)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    return failures


def test_transaction_pooling_needs_prepared_statements_off(pgbouncer, make_settings):
    assert PG_URL
    assert _clients_failing(make_settings, pgbouncer, prepared=False) == []
    # The reason for the setting: with psycopg's default, clients sharing a server
    # connection collide on its prepared statements.
    failed = _clients_failing(make_settings, pgbouncer, prepared=True)
    assert failed and {"DuplicatePreparedStatement", "InvalidSqlStatementName"} & set(failed), failed
