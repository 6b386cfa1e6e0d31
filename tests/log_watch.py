"""A pytest plugin: no log line written during the test run holds a phone number or the name of a
person the tests created (Law 91/2025/QH15: logs hold no personal data).

It collects every record that reaches the root logger (the app's "lms" loggers at INFO) and the
log file of each real server the `live_server` fixture started, learns the names and phones the
tests put in the database (mapper events on every row with a `full_name` or `phone` column:
core_user, events_registration, ...), and at the end scans everything once. Any Vietnamese mobile
number counts, recorded or not (the servers create people this process never sees).

Each xdist worker writes its findings to a folder the controller made; the controller prints
them all and fails the run. `LMS_LOG_WATCH=0` turns it off."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lms.personal_data import ERASED_NAME

ENV = "LMS_LOG_WATCH"
DIR_KEY = "lms_log_watch_dir"
MAX_LINE = 200
SHOWN = 50
# The loggers that would stay at WARNING without a configuration (the server sets them to INFO).
APP_LOGGERS = ("lms", "uvicorn", "uvicorn.error")
# The test client's own request lines ("HTTP Request: GET http://testserver/..." at INFO when a
# test lowers the level): what the test sent, not anything the app writes.
CLIENT_LOGGERS = ("httpx", "httpcore")
# A Vietnamese mobile: 0 or +84 or 84, then 3/5/7/8/9 and eight digits, standing alone.
PHONE = re.compile(r"(?<![\w+])(?:0|\+84|84)[35789]\d{8}(?!\w)")


@dataclass(frozen=True)
class Finding:
    nodeid: str
    source: str
    kind: str  # "phone" or "name"
    line: str

    def describe(self) -> str:
        return f"{self.nodeid}: {self.kind} in {self.source}: {self.line}"


@dataclass
class Watch:
    """What one process saw: log text with the test it was written in, and the people created."""

    current: str = "(outside a test)"
    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (nodeid, source, text)
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    def add(self, source: str, text: str, nodeid: str | None = None) -> None:
        self.entries.append((nodeid or self.current, source, text))

    def remember(self, full_name: Any = None, phone: Any = None) -> None:
        if isinstance(full_name, str):
            self.names.add(full_name)
        if isinstance(phone, str) and phone:
            self.phones.add(phone)

    def add_file(self, path: Path, nodeid: str | None = None) -> None:
        """A server's log file (stdout and stderr of `lms serve`), one entry per line."""
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        for line in text.splitlines():
            if line.strip():
                self.add(Path(path).name, line, nodeid)

    def findings(self) -> list[Finding]:
        return scan(self.entries, self.names, self.phones)


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def watched_names(names: set[str]) -> set[str]:
    """Full names worth looking for: two words or more, not the erasure placeholder."""
    kept = set()
    for name in names:
        name = " ".join(_nfc(name).split())
        if len(name.split()) >= 2 and name != ERASED_NAME:
            kept.add(name)
    return kept


def literal_pattern(words: set[str]) -> re.Pattern[str] | None:
    """One regex for many literal phrases, as whole words: a trie, so each position costs one
    character test rather than one per phrase."""
    if not words:
        return None
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alternatives = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not alternatives:
            return ""
        ends_here = "" in node
        if len(alternatives) == 1 and not ends_here:
            return alternatives[0]
        group = "(?:" + "|".join(alternatives) + ")"
        return group + "?" if ends_here else group

    return re.compile(r"(?<!\w)" + build(trie) + r"(?!\w)")


def scan(entries: list[tuple[str, str, str]], names: set[str], phones: set[str]) -> list[Finding]:
    """Each log line holding a mobile number, a recorded phone or a recorded full name."""
    people = literal_pattern(watched_names(names) | {p for p in phones if p.isdigit()})
    found: dict[tuple[str, str, str], Finding] = {}
    for nodeid, source, text in entries:
        for line in _nfc(text).splitlines():
            if PHONE.search(line):
                kind = "phone"
            elif people is not None and (match := people.search(line)):
                kind = "phone" if match.group(0).isdigit() else "name"
            else:
                continue
            shown = line.strip()[:MAX_LINE]
            found.setdefault((nodeid, source, shown), Finding(nodeid, source, kind, shown))
    return list(found.values())


class Collector(logging.Handler):
    """Keeps each record's message and exception text; the scanning waits for the end."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(logging.INFO)
        self.watch = watch
        self.exceptions = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(CLIENT_LOGGERS):
            return
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + self.exceptions.formatException(record.exc_info)
            elif record.exc_text:
                text += "\n" + record.exc_text
            if record.stack_info:
                text += "\n" + record.stack_info
        except Exception:  # noqa: BLE001 - a broken record is the logging module's business
            return
        self.watch.add(f"log {record.name}", text)


# The watch of this process; None when the plugin is off (LMS_LOG_WATCH=0) or not configured.
_watch: Watch | None = None


def add_server_log(path: Path) -> None:
    """Scan a `live_server` log file too (called by the fixture after the server stopped)."""
    if _watch is not None:
        _watch.add_file(path)


def _mapper_listener(_mapper: Any, _connection: Any, target: Any) -> None:
    # Loaded values only (the instance's __dict__): reading an expired attribute here would
    # query the database in the middle of a flush.
    if _watch is not None:
        loaded = getattr(target, "__dict__", {})
        _watch.remember(loaded.get("full_name"), loaded.get("phone"))


class LogWatchPlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.watch = Watch()
        self.collector = Collector(self.watch)
        self.levels: dict[str, int] = {}
        self.folder: Path | None = None
        self.owns_folder = False
        self.reported: list[Finding] = []
        workerinput = getattr(config, "workerinput", None)
        self.worker_id: str | None = workerinput.get("workerid") if workerinput is not None else None
        if workerinput is not None and workerinput.get(DIR_KEY):
            self.folder = Path(workerinput[DIR_KEY])

    def start(self) -> None:
        global _watch
        _watch = self.watch
        root = logging.getLogger()
        root.addHandler(self.collector)
        for name in APP_LOGGERS:
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                self.levels[name] = logger.level
                logger.setLevel(logging.INFO)
        from sqlalchemy import event
        from sqlalchemy.orm import Mapper

        for name in ("before_insert", "before_update"):
            if not event.contains(Mapper, name, _mapper_listener):
                event.listen(Mapper, name, _mapper_listener)

    def stop(self) -> None:
        global _watch
        logging.getLogger().removeHandler(self.collector)
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)
        from sqlalchemy import event
        from sqlalchemy.orm import Mapper

        for name in ("before_insert", "before_update"):
            if event.contains(Mapper, name, _mapper_listener):
                event.remove(Mapper, name, _mapper_listener)
        if _watch is self.watch:
            _watch = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """On the xdist controller, before each worker starts: the folder for its findings."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="lms-log-watch-"))
            self.owns_folder = True
        node.workerinput[DIR_KEY] = str(self.folder)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        self.watch.current = item.nodeid
        try:
            return (yield)
        finally:
            self.watch.current = "(outside a test)"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        findings = self.watch.findings()
        if self.worker_id is not None:
            if self.folder is not None:
                out = self.folder / f"{self.worker_id}.json"
                out.write_text(json.dumps([asdict(f) for f in findings], ensure_ascii=False), encoding="utf-8")
            return
        if self.folder is not None:
            for path in sorted(self.folder.glob("*.json")):
                findings += [Finding(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
        self.reported = sorted(set(findings), key=lambda f: (f.nodeid, f.source, f.line))
        if self.reported and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.reported:
            return
        terminalreporter.section("personal data in the logs (tests/log_watch.py)", red=True, bold=True)
        for finding in self.reported[:SHOWN]:
            terminalreporter.line(finding.describe())
        if len(self.reported) > SHOWN:
            terminalreporter.line(f"... and {len(self.reported) - SHOWN} more")
        terminalreporter.line(f"{len(self.reported)} log line(s) hold a phone number or a name the tests created; "
                              f"{ENV}=0 turns this check off.")

    def pytest_unconfigure(self) -> None:
        self.stop()
        if self.owns_folder and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(ENV, "1") == "0":
        return
    plugin = LogWatchPlugin(config)
    config.pluginmanager.register(plugin, "lms-log-watch")
    plugin.start()
