"""Two app hosts behind nginx, on one PostgreSQL through PgBouncer, all on this machine (issue #21).

Builds the installation deploy/README.md describes ("Chạy nhiều máy chủ") out of network
namespaces and checks that nothing differs per host:

- hosts A and B are network namespaces (veth pairs 10.231.1.0/30 and 10.231.2.0/30), each
  running `lms serve --host 10.231.N.2 --port 8000 --workers 2` with its own LMS_INSTANCE_DIR,
  one LMS_MEDIA_DIR, the keys kept in the database;
- PgBouncer in transaction mode (the [pgbouncer] settings of deploy/pgbouncer.ini) listens on
  the host-side addresses 10.231.N.1 and pools onto PostgreSQL at 127.0.0.1:5432, database
  `hocvuso_cluster` (created here, dropped at the end);
- nginx runs deploy/nginx/hocvuso.conf (TLS and the port-80 block taken out, the upstream
  servers set to A and B, the static files deploy/collect_static.py copies, and an X-Upstream
  header added so the checks see which host answered) on 127.0.0.1 and a free port.

Checks, each printing its figures: (1) forms loaded through A and posted through B, directly and
through nginx; (2) log-in throttling and the certificate-lookup limit count across hosts;
(3) a certificate issued on A verifies from B's documents; (4) registrations through nginx
while B is killed (SIGKILL of its process group): none acknowledged is lost, none duplicated;
(5) concurrent check-ins of the same tickets on A and B count once each; (6) the lesson page's
throughput with wrk through nginx, one host and two; (7) static files from nginx, hashed names
only. Traffic goes only to 127.0.0.1 and the namespaces' addresses. Everything is torn down at
the end, on failure or Ctrl-C too, and what a crashed run left is removed first; the logs stay in
/run/hocvuso-cluster-logs. Exit status 1 if any check fails.

Needs root, PostgreSQL on 127.0.0.1:5432 (trust for postgres), and Debian's pgbouncer, nginx
and wrk (.ci/run installs them; this script installs nothing):

    sudo .venv/bin/python bench/cluster.py            # the issue's sizes, as CI runs it
    sudo .venv/bin/python bench/cluster.py --quick    # smaller sizes, about half the time
"""

import argparse
import atexit
import configparser
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import _settle  # noqa: E402
from bench.event_burst import KEY, TOKEN, VILLAGE, check_database  # noqa: E402

WORK = Path("/run/hocvuso-cluster")  # fixed, so a crashed run's leftovers are found; root's, not /tmp
LOGS = Path("/run/hocvuso-cluster-logs")  # the last run's logs, kept after the teardown
DATABASE = "hocvuso_cluster"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
PGBOUNCER_PORT = 6432
APP_PORT = 8000
PASSWORD = "mật khẩu dài 2026"  # noqa: S105 - the test accounts'
COURSE = "cach-hoc-tren-trang-nay"  # no quiz: finishing its lessons issues the certificate
LESSON = f"/courses/{COURSE}/dang-nhap"
PHONES = {"staff": "0900000101", "forms": "0900000201", "certificate": "0900000202",
          "throttled_direct": "0900000203", "throttled_nginx": "0900000204"}
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CERTIFICATE_CODE = re.compile(r"HVS(?:-[0-9A-Z]{4}){4,}")


@dataclass
class Host:
    name: str
    netns: str
    veth: str  # the host side; the namespace side is veth[:-1] + "1"
    gateway: str  # host-side address: PgBouncer listens here, nginx connects from here
    address: str  # where `lms serve` listens, inside the namespace
    process: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"http://{self.address}:{APP_PORT}"

    @property
    def upstream(self) -> str:
        return f"{self.address}:{APP_PORT}"


HOSTS = [Host("A", "hvs-cluster-a", "hvsc-a0", "10.231.1.1", "10.231.1.2"),
         Host("B", "hvs-cluster-b", "hvsc-b0", "10.231.2.1", "10.231.2.2")]


def say(text: str = "") -> None:
    print(text, flush=True)


def run(*command: str, check: bool = True, timeout: float = 120, env: dict | None = None,
        quiet: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode != 0:
        output = done.stderr.strip() or done.stdout.strip()
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {output[-3000:]}")
    if not quiet:
        say(done.stdout.rstrip())
    return done


# --- Tearing down (also what a crashed run left) -------------------------------------------------


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _stop_group(pid: int, grace: float = 5) -> None:
    """SIGTERM the process group led by `pid`, then SIGKILL what is left of it."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(-pid, os.WNOHANG)
            time.sleep(0.1)


def _namespace_pids(netns: str) -> list[int]:
    done = run("ip", "netns", "pids", netns, check=False)
    return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []


def teardown() -> None:
    """Remove everything this script makes; safe to call twice, and before anything exists. A
    second Ctrl-C does not cut it short."""
    held = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        _teardown()
    finally:
        for sig, handler in held.items():
            signal.signal(sig, handler)


def _teardown() -> None:
    for host in HOSTS:
        if host.process is not None and host.process.poll() is None:
            _stop_group(host.process.pid)
        for pid in _namespace_pids(host.netns):  # whatever else runs inside our namespaces
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run("ip", "netns", "del", host.netns, check=False)
        run("ip", "link", "del", host.veth, check=False)
    # nginx and PgBouncer: only the ones whose command line names our folder.
    for pidfile in (WORK / "nginx" / "nginx.pid", WORK / "pgbouncer" / "pgbouncer.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().split()[0])
            if str(WORK).encode() in _cmdline(pid):
                _stop_group(os.getpgid(pid))
    for process in list(_children):
        if process.poll() is None:
            _stop_group(process.pid)
    _children.clear()
    _drop_database()
    if WORK.exists():
        shutil.rmtree(LOGS, ignore_errors=True)
        LOGS.mkdir()
        for log in [*WORK.glob("*.log"), *WORK.glob("*/*.log")]:
            shutil.copy(log, LOGS / log.name)
    shutil.rmtree(WORK, ignore_errors=True)


_children: list[subprocess.Popen] = []


def _admin_sql(statement: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _drop_database() -> None:
    _admin_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- Building the cluster -----------------------------------------------------------------------


def build_network() -> None:
    for host in HOSTS:
        inner = host.veth[:-1] + "1"
        run("ip", "netns", "add", host.netns)
        run("ip", "link", "add", host.veth, "type", "veth", "peer", "name", inner)
        run("ip", "link", "set", inner, "netns", host.netns)
        run("ip", "addr", "add", f"{host.gateway}/30", "dev", host.veth)
        run("ip", "link", "set", host.veth, "up")
        inside = ("ip", "netns", "exec", host.netns)
        run(*inside, "ip", "addr", "add", f"{host.address}/30", "dev", inner)
        run(*inside, "ip", "link", "set", inner, "up")
        run(*inside, "ip", "link", "set", "lo", "up")


def create_database() -> None:
    _admin_sql(f'CREATE DATABASE "{DATABASE}"')


def start_pgbouncer() -> None:
    """deploy/pgbouncer.ini's pooling settings, with this test's addresses, auth and paths."""
    folder = WORK / "pgbouncer"
    folder.mkdir(parents=True)
    deployed = configparser.ConfigParser(inline_comment_prefixes=(";",), comment_prefixes=(";", "#"))
    deployed.read(ROOT / "deploy" / "pgbouncer.ini")
    options = dict(deployed["pgbouncer"])
    if options.get("pool_mode") != "transaction":
        raise RuntimeError("deploy/pgbouncer.ini: pool_mode is not transaction")
    options.update({
        "listen_addr": ",".join(h.gateway for h in HOSTS), "listen_port": str(PGBOUNCER_PORT),
        "unix_socket_dir": "", "auth_type": "trust", "auth_file": str(folder / "users.txt"),
        "logfile": "", "pidfile": str(folder / "pgbouncer.pid"), "admin_users": "postgres",
    })
    (folder / "users.txt").write_text('"postgres" ""\n')
    lines = ["[databases]", f"{DATABASE} = host=127.0.0.1 port=5432 dbname={DATABASE}", "", "[pgbouncer]"]
    lines += [f"{key} = {value}" for key, value in options.items()]
    (folder / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
    # PgBouncer refuses to run as root; -u drops to postgres, who must read the folder.
    shutil.chown(folder, "postgres")
    for path in folder.iterdir():
        path.chmod(0o644)
    log = open(folder / "pgbouncer.log", "w")  # noqa: SIM115 - kept open while it runs
    process = subprocess.Popen([PGBOUNCER, "-u", "postgres", str(folder / "pgbouncer.ini")], stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    _children.append(process)
    _wait_port(HOSTS[0].gateway, PGBOUNCER_PORT, 15, lambda: (folder / "pgbouncer.log").read_text())


def _wait_port(address: str, port: int, seconds: float, why: object) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{address}:{port} did not open: {why() if callable(why) else why}")


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update({"LMS_MEDIA_DIR": str(WORK / "media"), "LMS_DATABASE_PREPARED_STATEMENTS": "false",
                "LMS_TRUSTED_PROXIES": ",".join(h.gateway for h in HOSTS),
                "LMS_BASE_URL": f"http://127.0.0.1:{nginx_port}", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def host_env(host: Host) -> dict[str, str]:
    env = base_env()
    env.update({"LMS_INSTANCE_DIR": str(WORK / f"host-{host.name.lower()}"),
                "LMS_DATABASE_URL": f"postgresql+psycopg://postgres@{host.gateway}:{PGBOUNCER_PORT}/{DATABASE}"})
    return env


SETUP = """
import json
from datetime import timedelta
from sqlalchemy import select
from lms.context import Context
from lms.core import services as core
from lms.core.models import Place
from lms.db import make_engine, utcnow, write_session
from lms.plugins.events import services
from lms.plugins.events.services import local
from lms.settings import Settings

phones, password = json.loads({args!r})
settings = Settings()
engine = make_engine(settings)
with write_session(engine) as db:
    commune = db.exec(select(Place).where(Place.kind == "commune")).scalars().first()
    village = db.exec(select(Place).where(Place.kind == "village", Place.parent_id == commune.id)).scalars().first()
    staff = core.create_user(db, full_name="Cán Bộ Cụm Máy", phone=phones.pop("staff"), password=password,
                             role="staff", commune_id=commune.id, settings=settings)
    for name, phone in zip(("Lê Thị Hoa", "Phạm Văn Minh", "Đỗ Thị Lan", "Vũ Văn Nam"), phones.values()):
        core.create_user(db, full_name=name, phone=phone, password=password,
                         role="learner", village_id=village.id, settings=settings)
at = lambda h: local(utcnow() + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M")
made = {{"commune": commune.id}}
for key, title in (("burst", "Lễ phát động"), ("checkin", "Buổi học ở nhà văn hóa")):
    data = services.EventInput(title=title, kind="le-phat-dong", place_text="Hội trường", starts_at=at(1),
                               ends_at=at(4))
    event = services.save_event(Context(engine, None, settings), actor=staff, data=data, known_course_ids=set(),
                                commune_id=commune.id)
    made[key] = {{"id": event.id, "code": event.code}}
print(json.dumps(made))
"""


def prepare_database() -> dict:
    """What bench/_server.py does for one host, once for the installation: migrate (straight to
    PostgreSQL, as deploy/README.md says), courses, places, then accounts and two events."""
    env = host_env(HOSTS[0])
    env["LMS_INSTANCE_DIR"] = str(WORK / "setup")
    lms = [sys.executable, "-m", "lms"]
    direct = {**env, "LMS_DATABASE_URL": f"{POSTGRES}/{DATABASE}"}
    run(*lms, "migrate", env=direct)
    for command in (["courses", "sync"], ["places", "demo"]):
        run(*lms, *command, env=env)
    done = run(sys.executable, "-c", SETUP.format(args=json.dumps([PHONES, PASSWORD])), env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_host(host: Host) -> None:
    host.log = WORK / f"host-{host.name.lower()}.log"
    log = open(host.log, "a")  # noqa: SIM115 - kept open while it runs
    command = ["ip", "netns", "exec", host.netns, sys.executable, "-m", "lms", "serve", "--host", host.address,
               "--port", str(APP_PORT), "--workers", "2"]
    # Its own session: `ip netns exec` becomes the server, leader of a group with its workers.
    host.process = subprocess.Popen(command, env=host_env(host), stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, cwd=ROOT)


def wait_ready(host: Host, seconds: float = 90) -> str:
    """Until the host's /readyz answers 200; returns its body."""
    deadline = time.monotonic() + seconds
    browser = Browser(timeout=5)
    while time.monotonic() < deadline:
        if host.process is not None and host.process.poll() is not None:
            raise RuntimeError(f"host {host.name} exited {host.process.returncode}: {host.log.read_text()[-2000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            answer = browser.get(f"{host.base}/readyz")
            if answer.status == 200:
                return answer.text
        time.sleep(0.3)
    raise RuntimeError(f"host {host.name} not ready after {seconds:.0f} s: {host.log.read_text()[-2000:]}")


def kill_host(host: Host) -> None:
    """The machine dies: SIGKILL to the server and its workers at once, nothing finishes."""
    assert host.process is not None
    os.killpg(host.process.pid, signal.SIGKILL)
    host.process.wait(10)


def worker_pids(host: Host) -> list[int]:
    return _namespace_pids(host.netns)


# --- nginx ---------------------------------------------------------------------------------------

nginx_port = 0


def nginx_config(upstreams: list[Host]) -> tuple[str, str]:
    """deploy/nginx/hocvuso.conf for this machine: (the http{} part, the proxy_next_upstream line)."""
    text = (ROOT / "deploy" / "nginx" / "hocvuso.conf").read_text()

    def replace(pattern: str, new: str, flags: int = re.M) -> None:
        nonlocal text
        text, found = re.subn(pattern, new, text, flags=flags)
        if not found:
            raise RuntimeError(f"deploy/nginx/hocvuso.conf changed shape: no match for {pattern!r}")

    replace(r"^server \{\n(?:(?!^\}).*\n)*?.*return 301.*\n(?:(?!^\}).*\n)*^\}\n", "")  # the port-80 block
    servers = [m for m in re.finditer(r"^(\s*)server \S+:\d+( [^;]*)?;\n", text, re.M)]
    if not servers:
        raise RuntimeError("deploy/nginx/hocvuso.conf changed shape: no upstream server lines")
    indent, params = servers[0].group(1), servers[0].group(2) or ""
    lines = "".join(f"{indent}server {h.upstream}{params};\n" for h in upstreams)
    text = text[:servers[0].start()] + lines + text[servers[-1].end():]
    replace(r"^\s*listen 443 .*;\n", f"    listen 127.0.0.1:{nginx_port};\n")
    replace(r"^\s*listen \[::\]:443 .*;\n", "")
    replace(r"^\s*ssl_certificate(_key)? .*;\n", "")
    replace(r"root /var/www/hocvuso;", f"root {WORK / 'site'};")
    replace(r"^(\s*)location (/|@app) \{\n", r"\1location \2 {\n\1    add_header X-Upstream $upstream_addr always;\n")
    retry = re.search(r"^\s*proxy_next_upstream .*;", text, re.M)
    return text, retry.group(0).strip() if retry else ""


def write_nginx(upstreams: list[Host]) -> str:
    folder = WORK / "nginx"
    folder.mkdir(parents=True, exist_ok=True)
    site, retry = nginx_config(upstreams)
    (folder / "hocvuso.conf").write_text(site)
    (folder / "nginx.conf").write_text(f"""worker_processes 2;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {folder / "client_body"};
    proxy_temp_path {folder / "proxy"};
    fastcgi_temp_path {folder / "fastcgi"};
    uwsgi_temp_path {folder / "uwsgi"};
    scgi_temp_path {folder / "scgi"};
    include {folder / "hocvuso.conf"};
}}
""")
    return retry


def start_nginx(upstreams: list[Host]) -> str:
    # What a release does for nginx (deploy/README.md): the static files under their hashed names.
    run(sys.executable, str(ROOT / "deploy" / "collect_static.py"), str(WORK / "site"), env=base_env())
    retry = write_nginx(upstreams)
    folder = WORK / "nginx"
    conf = str(folder / "nginx.conf")
    run(NGINX, "-t", "-p", str(folder), "-c", conf)
    process = subprocess.Popen([NGINX, "-p", str(folder), "-c", conf, "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    _children.append(process)
    _wait_port("127.0.0.1", nginx_port, 10, lambda: (folder / "error.log").read_text())
    return retry


def reload_nginx(upstreams: list[Host]) -> None:
    write_nginx(upstreams)
    folder = WORK / "nginx"
    run(NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-s", "reload")
    # The old workers finish; new ones take the new upstream list.
    wanted = {h.upstream for h in upstreams}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = set()
        for _ in range(2 * len(wanted) + 2):
            # A new connection each time: an old worker closes its kept ones as it leaves.
            with contextlib.suppress(OSError, http.client.HTTPException):
                seen.add(Browser(timeout=5).get(f"{nginx_base()}/healthz").upstream)
        if seen == wanted:
            return
        time.sleep(0.3)
    raise RuntimeError(f"nginx still sends elsewhere than {wanted} after reload")


# --- A browser ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def upstream(self) -> str:
        return self.headers.get("X-Upstream", "")

    def token(self) -> str:
        found = TOKEN.search(self.text)
        if not found:
            raise AssertionError(f"no CSRF token in the page ({self.status})")
        return found.group(1)


class Browser:
    """One person's browser: its cookies go with it to whichever host it talks to; one
    connection per address. The standard library's client: light on this 2-core machine."""

    def __init__(self, timeout: float = 30) -> None:
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._connections: dict[str, tuple[http.client.HTTPConnection, float]] = {}

    def get(self, url: str, headers: dict | None = None) -> Answer:
        return self.request("GET", url, headers=headers)

    def post(self, url: str, form: dict, headers: dict | None = None) -> Answer:
        return self.request("POST", url, form=form, headers=headers)

    def request(self, method: str, url: str, form: dict | None = None, headers: dict | None = None) -> Answer:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection, used = self._connections.get(parts.netloc, (None, 0.0))
        if connection is None or time.monotonic() - used > 2:  # the app closes idle ones after 5 s
            if connection is not None:
                connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        except Exception:
            connection.close()
            self._connections.pop(parts.netloc, None)
            raise
        self._connections[parts.netloc] = (connection, time.monotonic())
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, value = header.split(";", 1)[0].partition("=")
            if not value or "max-age=0" in header.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return Answer(response.status, response.headers, data.decode("utf-8", "replace"))

    def log_in(self, page_base: str, post_base: str, phone: str, password: str = PASSWORD) -> Answer:
        token = self.get(f"{page_base}/login").token()
        return self.post(f"{post_base}/login", {"csrf_token": token, "phone": phone, "password": password})

    def close(self) -> None:
        for connection, _ in self._connections.values():
            connection.close()
        self._connections.clear()


# --- Checks --------------------------------------------------------------------------------------


@dataclass
class Check:
    title: str
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def figure(self, text: str) -> None:
        self.lines.append(text)
        say(f"    {text}")

    def expect(self, ok: bool, text: str) -> bool:
        if not ok:
            self.failures.append(text)
        say(f"    {'ok ' if ok else 'FAILED'} {text}")
        return ok


def nginx_base() -> str:
    return f"http://127.0.0.1:{nginx_port}"


def _cross_host(page: Answer, load: object, post: object, tries: int = 6) -> tuple[Answer, Answer]:
    """A page loaded through nginx, then its form posted through nginx to the other host (round
    robin alternates; a few tries in case another request took a turn)."""
    for _ in range(tries):
        answer = post(page)
        if answer.upstream != page.upstream:
            return page, answer
        page = load()
    return page, answer


def check_forms(check: Check, world: dict) -> None:
    a, b = HOSTS
    browser = Browser()
    page = browser.get(f"{a.base}/login")
    answer = browser.post(f"{b.base}/login", {"csrf_token": page.token(), "phone": PHONES["forms"],
                                              "password": PASSWORD})
    check.expect(answer.status == 303, f"log-in form from A posted to B: {answer.status} (303 expected)")
    profile = browser.get(f"{a.base}/account/profile")
    check.expect(profile.status == 200, f"the session B started, on A: /account/profile {profile.status}")
    village = re.search(r'<option value="(\d+)" selected', profile.text) or VILLAGE.search(profile.text)
    form = {"full_name": "Trần Thị Cụm Máy", "village_id": village.group(1), "birth_year": ""}
    forged = browser.post(f"{b.base}/account/profile", {**form, "csrf_token": "0" * len(profile.token())})
    check.expect(forged.status == 403, f"a forged token posted to B: {forged.status} (403 expected)")
    answer = browser.post(f"{b.base}/account/profile", {**form, "csrf_token": profile.token()})
    shown = browser.get(f"{a.base}/account").text
    check.expect(answer.status == 303 and "Trần Thị Cụm Máy" in shown,
                 f"profile form from A posted to B: {answer.status}, the new name read on A: "
                 f"{'yes' if 'Trần Thị Cụm Máy' in shown else 'no'}")
    visitor = Browser()
    code = world["burst"]["code"]
    page = visitor.get(f"{a.base}/e/{code}")
    registration = {"csrf_token": page.token(), "idempotency_key": KEY.search(page.text).group(1),
                    "full_name": "Người Dự Hai Máy", "phone": "0900000301",
                    "village_id": VILLAGE.search(page.text).group(1), "audience": "nguoi-dan", "consent": "on"}
    answer = visitor.post(f"{b.base}/e/{code}", registration)
    check.expect(answer.status == 303 and "/t/" in answer.headers.get("Location", ""),
                 f"event registration (no account) from A posted to B: {answer.status} -> "
                 f"{answer.headers.get('Location', '-').split('?')[0][:12]}…")
    # Through nginx: the page from one host, the form to the other.
    proxied = Browser()
    nginx = nginx_base()
    loaded, sent = _cross_host(
        proxied.get(f"{nginx}/login"), lambda: proxied.get(f"{nginx}/login"),
        lambda p: proxied.post(f"{nginx}/login", {"csrf_token": p.token(), "phone": PHONES["forms"],
                                                  "password": PASSWORD}))
    check.expect(sent.status == 303 and loaded.upstream != sent.upstream,
                 f"through nginx, log-in page from {loaded.upstream}, posted via {sent.upstream}: {sent.status}")
    loaded, sent = _cross_host(
        proxied.get(f"{nginx}/account/profile"), lambda: proxied.get(f"{nginx}/account/profile"),
        lambda p: proxied.post(f"{nginx}/account/profile", {**form, "full_name": "Trần Thị Qua Nginx",
                                                            "csrf_token": p.token()}))
    shown = proxied.get(f"{nginx}/account").text
    check.expect(sent.status == 303 and loaded.upstream != sent.upstream and "Trần Thị Qua Nginx" in shown,
                 f"through nginx, profile form from {loaded.upstream}, posted via {sent.upstream}: {sent.status}")


def check_limits(check: Check, world: dict, settings: dict) -> None:
    a, b = HOSTS
    failures = settings["login_max_failures"]
    # Direct: A and B see different client addresses, but the count is per phone number.
    statuses = []
    for i in range(failures):
        host = (a, b)[i % 2]
        statuses.append(Browser().log_in(host.base, host.base, PHONES["throttled_direct"], "sai mật khẩu").status)
    last = Browser().log_in(b.base, b.base, PHONES["throttled_direct"])
    check.expect(statuses == [422] * failures and last.status == 429 and "Vui lòng chờ" in last.text,
                 f"{failures} wrong passwords alternated A, B, A…: {statuses}; then the right one on B: "
                 f"{last.status} (429 expected)")
    nginx = nginx_base()
    statuses, upstreams = [], []
    for i in range(failures):
        answer = _log_in_through_nginx(PHONES["throttled_nginx"], "sai mật khẩu", HOSTS[i % 2].upstream)
        statuses.append(answer.status)
        upstreams.append(answer.upstream)
    last = _log_in_through_nginx(PHONES["throttled_nginx"], PASSWORD, b.upstream)
    check.expect(statuses == [422] * failures and last.status == 429 and len(set(upstreams)) == 2,
                 f"through nginx, {failures} wrong passwords posted to {', '.join(u[:9] for u in upstreams)}: "
                 f"{statuses}; then the right one: {last.status} (429 expected)")
    # Certificate lookups that find nothing: LMS_VERIFY_RATE_LIMIT per client per fixed minute,
    # counted in the database. Each request claims another address in X-Forwarded-For and
    # Forwarded: nginx replaces the one and drops the other, so one client they stay.
    limit = settings["verify_rate_limit"]
    waited = 0.0
    while time.time() % 60 > 40 and waited < 21:  # all in one minute's window
        time.sleep(0.5)
        waited += 0.5
    browser = Browser()
    answers = []
    for i in range(limit + 1):
        spoof = f"192.0.2.{i + 1}"
        code = "HVS-" + "-".join("".join(random.choices("23456789ABCDEFGHJKMNPQRSTUVWXYZ", k=4)) for _ in range(5))
        answers.append(browser.get(f"{nginx}/c/{code}", headers={"X-Forwarded-For": spoof,
                                                                 "Forwarded": f"for={spoof}"}))
    statuses = [x.status for x in answers]
    served = {u: sum(1 for x in answers if x.upstream == u) for u in sorted({x.upstream for x in answers})}
    check.expect(statuses[:limit] == [404] * limit and statuses[limit] == 429 and len(served) == 2,
                 f"{limit + 1} lookups of unknown certificate codes through nginx, each with another "
                 f"spoofed address, answered by {served}: {statuses.count(404)} × 404, then {statuses[limit]} "
                 f"(429 expected)")


def _log_in_through_nginx(phone: str, password: str, post_to: str) -> Answer:
    """The log-in page through nginx, then its form through nginx to `post_to`: round robin
    sends the next request to the other host than the page's."""
    browser = Browser()
    for _ in range(4):
        page = browser.get(f"{nginx_base()}/login")
        if page.upstream != post_to:
            break
    return browser.post(f"{nginx_base()}/login", {"csrf_token": page.token(), "phone": phone, "password": password})


def check_certificate(check: Check, world: dict) -> None:
    import sqlalchemy as sa

    a, b = HOSTS
    learner = Browser()
    check.expect(learner.log_in(a.base, a.base, PHONES["certificate"]).status == 303, "learner logged in on A")
    lessons = re.findall(r"^\s*- slug: (\S+)", (ROOT / "courses" / COURSE / "course.yaml").read_text(), re.M)
    for lesson in lessons:
        token = learner.get(f"{a.base}/courses/{COURSE}/{lesson}").token()
        done = learner.post(f"{a.base}/courses/{COURSE}/{lesson}/done", {"csrf_token": token})
        if done.status != 303:
            check.expect(False, f"lesson {lesson} marked done on A: {done.status}")
    mine = learner.get(f"{a.base}/my/certificates").text
    found = CERTIFICATE_CODE.search(mine)
    if not check.expect(found is not None, f"{len(lessons)} lessons done on A; certificate listed on A: "
                                           f"{found.group(0) if found else 'none'}"):
        return
    code = found.group(0)
    engine = sa.create_engine(f"{POSTGRES}/{DATABASE}")
    with engine.connect() as conn:
        commune = conn.execute(sa.text("SELECT c.commune_id FROM certificates_certificate c JOIN core_user u "
                                       "ON u.id = c.user_id WHERE u.phone = :p"),
                               {"p": PHONES["certificate"]}).scalar()
        keys = list(conn.execute(sa.text("SELECT name FROM core_shared_key ORDER BY name")).scalars())
    engine.dispose()
    files = [f"{h.name}:{p.name}" for h in HOSTS for p in (WORK / f"host-{h.name.lower()}").glob("*")
             if p.name in ("secret_key", "issuer_ed25519.pem")]
    check.expect(keys == ["secret_key", "signing_key"] and not files,
                 f"keys kept in the database: {', '.join(keys)}; key files in the hosts' instance folders: "
                 f"{', '.join(files) or 'none'}")
    paths = ["/issuer", "/.well-known/did.json", "/issuer/status-list", f"/issuer/{commune}",
             f"/issuer/{commune}/did.json", f"/issuer/{commune}/status-list", f"/c/{code}.json"]
    same, documents = [], {}
    for path in paths:
        bodies = [Browser().get(f"{h.base}{path}") for h in HOSTS]
        documents[path] = bodies[1].text
        same.append(bodies[0].status == bodies[1].status == 200 and bodies[0].text == bodies[1].text)
    check.expect(all(same), f"same bytes from A and B for {sum(same)} of {len(paths)} documents "
                            f"({', '.join(p for p, s in zip(paths, same, strict=True) if not s) or 'all'})")
    credential = json.loads(documents[f"/c/{code}.json"])
    issuer = credential["issuer"]["id"] if isinstance(credential["issuer"], dict) else credential["issuer"]
    status_url = credential["credentialStatus"]["statusListCredential"]
    folder = Path(tempfile.mkdtemp(dir=WORK))
    (folder / "credential.json").write_text(documents[f"/c/{code}.json"])
    # The issuer's DID document and status list as B serves them: no byte of A in this check.
    did = json.loads(Browser().get(b.base + urlsplit(_did_url(issuer)).path).text)
    (folder / "did.json").write_text(json.dumps(did))
    (folder / "status.json").write_text(Browser().get(b.base + urlsplit(status_url).path).text)
    lms = [sys.executable, "-m", "lms", "certificates", "verify", str(folder / "credential.json")]
    offline = run(*lms, "--issuer", str(folder / "did.json"), "--status", str(folder / "status.json"),
                  check=False, env=base_env())
    check.expect(offline.returncode == 0, f"credential from B, with B's DID document and status list: "
                                          f"exit {offline.returncode}, {offline.stdout.strip().splitlines()[:1]}")
    online = run(*lms, check=False, env=base_env())
    check.expect(online.returncode == 0, f"same credential, key and status fetched through nginx ({issuer}): "
                                         f"exit {online.returncode}")


def _did_url(did: str) -> str:
    from lms.plugins.certificates.credential import did_web_url

    return did_web_url(did)


@dataclass
class Person:
    index: int
    phone: str
    acknowledged: str | None = None  # the ticket's address the server answered with
    by: str = ""  # the host that answered it
    posts: int = 0
    errors: list[str] = field(default_factory=list)


def check_burst(check: Check, world: dict, total: int, clients: int, retry: str) -> None:
    """Registrations through nginx while host B dies; each person's phone retries a POST that got
    no answer or a 502, with the same form (same idempotency key), as the offline queue does."""
    code = world["burst"]["code"]
    nginx = nginx_base()
    people = [Person(i, f"09{i + 40_000_000:08d}") for i in range(total)]
    lock = threading.Lock()
    stats = {"get_failures": 0, "post_502": 0, "post_no_answer": 0, "post_other": 0, "acknowledged": 0}
    halfway = threading.Event()
    killed_at: list[float] = []
    killed_after: list[int] = []

    def one(person: Person) -> None:
        browser = Browser(timeout=60)
        try:
            for _ in range(3):
                try:
                    page = browser.get(f"{nginx}/e/{code}")
                except (OSError, http.client.HTTPException):
                    page = None
                if page is not None and page.status == 200:
                    break
                with lock:
                    stats["get_failures"] += 1
            else:
                person.errors.append("form never loaded")
                return
            form = {"csrf_token": page.token(), "idempotency_key": KEY.search(page.text).group(1),
                    "full_name": "Người Dự Thử", "phone": person.phone,
                    "village_id": VILLAGE.search(page.text).group(1), "audience": "nguoi-dan", "consent": "on"}
            for attempt in range(6):
                person.posts += 1
                try:
                    answer = browser.post(f"{nginx}/e/{code}", form)
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        stats["post_no_answer"] += 1
                    person.errors.append(type(exc).__name__)
                    time.sleep(0.2 * (attempt + 1))
                    continue
                if answer.status == 303 and "/t/" in answer.headers.get("Location", ""):
                    person.acknowledged = answer.headers["Location"].split("?")[0]
                    person.by = answer.upstream
                    with lock:
                        stats["acknowledged"] += 1
                        if stats["acknowledged"] >= total // 2:
                            halfway.set()
                    return
                with lock:
                    stats["post_502" if answer.status == 502 else "post_other"] += 1
                person.errors.append(str(answer.status))
                time.sleep(0.2 * (attempt + 1))
        finally:
            browser.close()

    def killer() -> None:
        if halfway.wait(120):
            kill_host(HOSTS[1])
            killed_at.append(time.perf_counter())
            with lock:
                killed_after.append(stats["acknowledged"])

    started = time.perf_counter()
    assassin = threading.Thread(target=killer, daemon=True)
    assassin.start()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, people))
    seconds = time.perf_counter() - started
    assassin.join(5)
    rows, phones, duplicated = check_database(f"{POSTGRES}/{DATABASE}", code)
    import sqlalchemy as sa

    engine = sa.create_engine(f"{POSTGRES}/{DATABASE}")
    with engine.connect() as conn:
        stored = {phone: token for phone, token in conn.execute(sa.text(
            "SELECT r.phone, r.token FROM events_registration r JOIN events_event e ON e.id = r.event_id "
            "WHERE e.code = :c"), {"c": code})}
        pending = conn.execute(sa.text("SELECT count(*) FROM core_outbox WHERE delivered_at IS NULL")).scalar()
    engine.dispose()
    acknowledged = [p for p in people if p.acknowledged]
    lost = [p for p in acknowledged if stored.get(p.phone) is None or not p.acknowledged.endswith(stored[p.phone])]
    extra = 1  # the A→B registration of check 1 is in this event too
    unacknowledged_stored = sum(1 for p in people if not p.acknowledged and p.phone in stored)
    check.figure(f"{total} people, {clients} clients through nginx, {seconds:.1f} s "
                 f"({len(acknowledged) / seconds:.0f} registrations/s); host B killed after "
                 f"{(killed_at[0] - started) if killed_at else float('nan'):.1f} s, "
                 f"{killed_after[0] if killed_after else '?'} acknowledged by then")
    check.figure(f"POSTs {sum(p.posts for p in people)}: 502 {stats['post_502']}, no answer "
                 f"{stats['post_no_answer']}, other {stats['post_other']} (each retried with its form); "
                 f"form GETs the client saw fail: {stats['get_failures']}")
    answered = {h.name: sum(1 for p in people if p.by == h.upstream) for h in HOSTS}
    check.expect(bool(killed_at) and answered["B"] > 0,
                 f"host B was killed mid-burst; acknowledged by A {answered['A']}, by B {answered['B']}")
    check.expect(retry.startswith("proxy_next_upstream") and "non_idempotent" not in retry,
                 f"nginx retries on the other host only what can be repeated: {retry}")
    check.expect(not lost and duplicated == 0 and rows == phones,
                 f"acknowledged {len(acknowledged)} of {total}; in the database {rows - extra} registrations, "
                 f"{duplicated} phones duplicated, {len(lost)} acknowledged but lost")
    check.expect(len(acknowledged) == total, f"people never acknowledged after 6 tries: {total - len(acknowledged)} "
                                             f"({unacknowledged_stored} of them stored)")
    check.expect(stats["get_failures"] == 0, f"GETs nginx did not retry on A: {stats['get_failures']}")
    check.figure(f"outbox events undelivered right after: {pending} (those B claimed when it died wait "
                 f"for their claim to lapse, 5 minutes, then any worker delivers them)")
    for person in [p for p in people if p.errors][:3]:
        check.figure(f"e.g. person {person.index}: {person.errors}")


def register_tickets(world: dict, count: int) -> list[str]:
    """`count` registrations for the check-in event, through nginx; their ticket tokens."""
    code = world["checkin"]["code"]
    nginx = nginx_base()

    def one(i: int) -> str:
        browser = Browser()
        page = browser.get(f"{nginx}/e/{code}")
        answer = browser.post(f"{nginx}/e/{code}", {
            "csrf_token": page.token(), "idempotency_key": KEY.search(page.text).group(1),
            "full_name": "Người Điểm Danh", "phone": f"09{i + 50_000_000:08d}",
            "village_id": VILLAGE.search(page.text).group(1), "audience": "nguoi-dan", "consent": "on"})
        browser.close()
        if answer.status != 303:
            raise AssertionError(f"registration {i}: {answer.status}")
        return answer.headers["Location"].split("?")[0].rsplit("/", 1)[1]

    with ThreadPoolExecutor(20) as pool:
        return list(pool.map(one, range(count)))


def check_checkins(check: Check, world: dict, tickets: int) -> None:
    """Every ticket scanned twice at once, by a door scanner on A and one on B."""
    import sqlalchemy as sa

    event_id = world["checkin"]["id"]
    tokens = register_tickets(world, tickets)
    scanners = []
    for host in HOSTS:
        scanner = Browser()
        if scanner.log_in(host.base, host.base, PHONES["staff"]).status != 303:
            check.expect(False, f"staff logged in on {host.name}")
            return
        token = scanner.get(f"{host.base}/staff/events/{event_id}/checkin").token()
        scanners.append((host, scanner.cookies, token))
    scans = [(token, n) for token in tokens for n in range(2)]
    random.shuffle(scans)
    answers: list[dict] = []
    lock = threading.Lock()
    go = threading.Event()

    def scan(item: tuple[str, int]) -> None:
        token, n = item
        host, cookies, csrf = scanners[n]
        browser = Browser(timeout=60)
        browser.cookies = dict(cookies)
        go.wait(30)  # the first hundred leave together
        try:
            answer = browser.post(f"{host.base}/staff/events/{event_id}/checkin",
                                  {"csrf_token": csrf, "scan": token, "nonce": secrets.token_hex(8)},
                                  headers={"Accept": "application/json"})
            result = json.loads(answer.text) if answer.status == 200 else {"status": answer.status}
        except (OSError, http.client.HTTPException, ValueError) as exc:
            result = {"error": type(exc).__name__}
        finally:
            browser.close()
        with lock:
            answers.append(result)

    started = time.perf_counter()
    with ThreadPoolExecutor(100) as pool:
        futures = [pool.submit(scan, item) for item in scans]
        time.sleep(0.5)
        go.set()
        for future in futures:
            future.result()
    seconds = time.perf_counter() - started
    first = sum(1 for r in answers if r.get("ok") and r.get("first_time"))
    again = sum(1 for r in answers if r.get("ok") and not r.get("first_time"))
    failed = [r for r in answers if not r.get("ok")]
    engine = sa.create_engine(f"{POSTGRES}/{DATABASE}")
    with engine.connect() as conn:
        checked = conn.execute(sa.text("SELECT count(*) FROM events_registration WHERE event_id = :e "
                                       "AND checked_in_at IS NOT NULL"), {"e": event_id}).scalar()
        recorded = conn.execute(sa.text("SELECT count(*) FROM core_outbox WHERE name = 'events.checked_in'")).scalar()
    engine.dispose()
    check.figure(f"{len(scans)} scans of {tickets} tickets, 100 at once, half on A and half on B: {seconds:.1f} s")
    check.expect(first == tickets and again == tickets and not failed and checked == tickets and recorded == tickets,
                 f"first check-ins {first}, 'already checked in' {again}, failed {len(failed)} "
                 f"{failed[:2] if failed else ''}; in the database {checked} checked in, {recorded} "
                 f"events.checked_in recorded ({tickets} expected)")


def check_static(check: Check) -> None:
    """nginx serves the hashed names deploy/collect_static.py copied, for a year; anything else
    (a plain name, a digest no file has) goes to the app, which answers as it would alone."""
    nginx = nginx_base()
    page = Browser().get(f"{nginx}{LESSON}").text
    hashed = re.search(r'href="(/static/css/site\.[0-9a-f]{10}\.css)"', page)
    if not check.expect(hashed is not None, "the lesson page links the stylesheet under its hashed name"):
        return
    url = hashed.group(1)
    on_disk = (ROOT / "static" / "css" / "site.css").read_text()
    answers = {
        "hashed": Browser().get(f"{nginx}{url}"),
        "plain": Browser().get(f"{nginx}/static/css/site.css"),
        "unknown hash": Browser().get(f"{nginx}/static/css/site.0123456789.css"),
        "dot file": Browser().get(f"{nginx}/static/.gitignore"),
    }
    hashed_answer = answers["hashed"]
    check.expect(hashed_answer.status == 200 and hashed_answer.text == on_disk and not hashed_answer.upstream
                 and "immutable" in hashed_answer.headers.get("Cache-Control", ""),
                 f"{url}: {hashed_answer.status} from nginx itself, {hashed_answer.headers.get('Cache-Control')}, "
                 f"{hashed_answer.headers.get('Content-Type')}, {len(hashed_answer.text)} bytes as on disk")
    plain = answers["plain"]
    short = plain.headers.get("Cache-Control") == "public, max-age=300"
    check.expect(plain.status == 200 and bool(plain.upstream) and short,
                 f"/static/css/site.css (unhashed): {plain.status} from the app ({plain.upstream}), "
                 f"{plain.headers.get('Cache-Control')}")
    unknown = answers["unknown hash"]
    check.expect(unknown.status == 404 and bool(unknown.upstream),
                 f"a hashed name nginx lacks goes to the app ({unknown.upstream or 'nginx'}): {unknown.status}")
    dot = answers["dot file"]
    check.expect(dot.status == 404 and not dot.upstream, f"/static/.gitignore: {dot.status}, refused by nginx")


def _cpu_busy() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]  # guest is in user
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def _children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _processes(hosts: list[Host]) -> dict[str, list[int]]:
    """The processes whose CPU time a throughput run is split into."""
    import sqlalchemy as sa

    groups = {"app": [p for h in hosts for p in worker_pids(h)]}
    for name, pidfile in (("nginx", WORK / "nginx" / "nginx.pid"), ("PgBouncer", WORK / "pgbouncer" / "pgbouncer.pid")):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().split()[0])
            groups[name] = [pid, *_children_of(pid)]
    engine = sa.create_engine(f"{POSTGRES}/postgres")
    with engine.connect() as conn:
        groups["PostgreSQL"] = list(conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": DATABASE}).scalars())
    engine.dispose()
    return groups


def _wrk(seconds: int, connections: int, hosts: list[Host] | None = None) -> dict:
    """requests/s, p99 and the cores each part used, of the machine's (the rest: other work)."""
    import resource

    groups = _processes(hosts or [])
    before = {name: {pid: _ticks(pid) for pid in pids} for name, pids in groups.items()}
    busy0, total0 = _cpu_busy()
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = run(WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", f"{nginx_base()}{LESSON}",
               timeout=seconds + 30)
    elapsed = time.monotonic() - started
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, total1 = _cpu_busy()
    ticks = os.sysconf("SC_CLK_TCK")
    cores = {}
    for name, pids in before.items():
        used = [(_ticks(pid) or 0) - was for pid, was in pids.items() if was is not None and _ticks(pid) is not None]
        cores[name] = sum(used) / ticks / elapsed
    cores["wrk"] = (wrk1.ru_utime + wrk1.ru_stime - wrk0.ru_utime - wrk0.ru_stime) / elapsed
    busy = (busy1 - busy0) / max(1, total1 - total0) * os.cpu_count()
    # The kernel's share (veth and loopback packets, softirq) and whatever else runs on the machine.
    cores["kernel and other work"] = max(0.0, busy - sum(cores.values()))
    requests = int(re.search(r"(\d+) requests in", done.stdout).group(1))
    not_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", done.stdout)
    p99 = re.search(r"99%\s+(\S+)", done.stdout)
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1)), "busy": busy,
            "p99": p99.group(1) if p99 else "?", "cores": cores, "requests": requests,
            "not_ok": int(not_ok.group(1)) if not_ok else 0,
            "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0}


def check_throughput(check: Check, seconds: int, rounds: int) -> None:
    a, b = HOSTS
    answer = Browser().get(f"{nginx_base()}{LESSON}")
    if not check.expect(answer.status == 200, f"lesson page {LESSON} through nginx: {answer.status}"):
        return
    _wrk(2, 32)  # warm every worker's kept page and nginx's connections
    rates: dict[int, list[float]] = {1: [], 2: []}
    busy_one: list[float] = []
    for _ in range(rounds):  # interleaved, so the machine's other load weighs on both alike
        for count in (1, 2):
            hosts = [a] if count == 1 else [a, b]
            reload_nginx(hosts)
            result = _wrk(seconds, 32, hosts)
            check.expect(result["not_ok"] == 0 and result["socket_errors"] <= result["requests"] // 1000,
                         f"{count} host{'s' if count == 2 else ''}: {result['requests']} answers, non-2xx "
                         f"{result['not_ok']}, socket errors {result['socket_errors']} (at most 1 in 1,000)")
            rates[count].append(result["rate"])
            if count == 1:
                busy_one.append(result["busy"])
            split = ", ".join(f"{name} {used:.2f}" for name, used in result["cores"].items())
            check.figure(f"{count} host{'s' if count == 2 else ' '}: {result['rate']:.0f} req/s, p99 {result['p99']}; "
                         f"cores busy {result['busy']:.2f} of {os.cpu_count()}: {split}")
    best = {count: max(values) for count, values in rates.items()}
    check.figure(f"best of {rounds}: 1 host {best[1]:.0f} req/s, 2 hosts {best[2]:.0f} req/s, "
                 f"ratio {best[2] / best[1]:.2f}")
    check.figure(f"bound: {os.cpu_count()} cores for everything, already {max(busy_one):.2f} busy with 1 host: "
                 f"host B's workers take CPU from A's, nginx's, PostgreSQL's and wrk's instead of adding any, "
                 f"so not 2x here (not asserted); on machines of their own each host brings its cores")


# --- Main ---------------------------------------------------------------------------------------


def prerequisites() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (ip netns): run it with sudo")
    for path, package in ((NGINX, "nginx"), (PGBOUNCER, "pgbouncer"), (WRK, "wrk")):
        if not Path(path).exists():
            missing.append(f"{path} (apt-get install {package})")
    if run("pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432", check=False).returncode != 0:
        missing.append("PostgreSQL on 127.0.0.1:5432")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    global nginx_port

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: 100 registrations from 20 clients, "
                                                             "20 tickets, wrk 3 s once")
    parser.add_argument("-n", "--registrations", type=int, default=None, help="registrations in check 4 (500)")
    parser.add_argument("-c", "--clients", type=int, default=None, help="concurrent clients in check 4 (100)")
    parser.add_argument("--tickets", type=int, default=None, help="tickets scanned twice in check 5 (100)")
    parser.add_argument("--wrk-seconds", type=int, default=None, help="seconds per wrk run in check 6 (6)")
    args = parser.parse_args()
    total = args.registrations or (100 if args.quick else 500)
    clients = args.clients or (20 if args.quick else 100)
    tickets = args.tickets or (20 if args.quick else 100)
    seconds = args.wrk_seconds or (3 if args.quick else 6)
    rounds = 1 if args.quick else 2

    missing = prerequisites()
    if missing:
        say("Cannot run: " + "; ".join(missing))
        return 2
    started = time.monotonic()
    teardown()  # what a crashed run left
    atexit.register(teardown)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    checks: list[Check] = []
    try:
        WORK.mkdir(mode=0o755)
        (WORK / "media").mkdir()
        nginx_port = free_port()
        build_network()
        create_database()
        start_pgbouncer()
        world = prepare_database()
        say(f"set-up: database {DATABASE}, PgBouncer on {', '.join(h.gateway for h in HOSTS)}:{PGBOUNCER_PORT} "
            f"(transaction mode), migrate, courses, places, accounts, 2 events: "
            f"{time.monotonic() - started:.0f} s")
        for host in HOSTS:
            start_host(host)
        for host in HOSTS:
            body = wait_ready(host)
            say(f"host {host.name}: lms serve on {host.upstream} in namespace {host.netns}, /readyz {body}")
        _settle(f"{POSTGRES}/{DATABASE}")  # the sync's events (Hỏi đáp index) delivered before measuring
        retry = start_nginx(HOSTS)
        say(f"nginx on {nginx_base()} -> {', '.join(h.upstream for h in HOSTS)}; {retry}")
        from lms.settings import Settings

        defaults = Settings()
        limits = {"login_max_failures": defaults.login_max_failures, "verify_rate_limit": defaults.verify_rate_limit}
        say(f"ready after {time.monotonic() - started:.0f} s")

        def step(title: str, function: object, *more: object) -> None:
            check = Check(title)
            checks.append(check)
            say(f"({len(checks)}) {title}")
            began = time.monotonic()
            try:
                function(check, *more)
            except Exception as exc:  # noqa: BLE001 - a broken check fails, the others still run
                check.expect(False, f"{type(exc).__name__}: {exc}")
            say(f"    ({time.monotonic() - began:.1f} s)")

        step("forms and sessions across hosts", check_forms, world)
        step("log-in throttling and lookup limit across hosts", check_limits, world, limits)
        step("a certificate issued on A verifies on B", check_certificate, world)
        step("registrations while host B dies", check_burst, world, total, clients, retry)
        HOSTS[1].process = None
        start_host(HOSTS[1])
        wait_ready(HOSTS[1])
        say(f"    host B started again: ready after {time.monotonic() - started:.0f} s in all")
        step("concurrent check-ins on both hosts", check_checkins, world, tickets)
        step("lesson page throughput, 1 host and 2", check_throughput, seconds, rounds)
        step("static files served by nginx", check_static)
    except KeyboardInterrupt as stop:
        say(f"stopped: {stop or 'Ctrl-C'}; torn down")
        return 130
    except Exception:  # noqa: BLE001 - set-up failed: say why, tear down, exit 1
        import traceback

        say("set-up FAILED:")
        say(traceback.format_exc())
        return 1
    finally:
        teardown()
    failed = [c for c in checks if c.failures]
    if failed:
        for log in sorted(LOGS.glob("host-*.log")):
            lines = [line for line in log.read_text().splitlines()
                     if not line.startswith("INFO") and '"level": "info"' not in line]  # lms.logs: JSON lines
            say(f"{log}: {len(lines)} lines other than INFO; the last ones:")
            for line in lines[-15:]:
                say(f"  {line[:300]}")
    for check in failed:
        say(f"FAILED {check.title}: {'; '.join(check.failures)}")
    say(f"cluster test: {time.monotonic() - started:.0f} s in all")
    say(f"{len(checks) - len(failed)} passed, {len(failed)} failed")  # the plain closing line CI reads
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
