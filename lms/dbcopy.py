"""Copy an installation's database to another engine (SQLite → PostgreSQL), and fingerprint tables.

The copy makes the schema by migrations, then moves every table in dependency order inside one
transaction of the target, resets the sequences, and compares row counts and a digest of every
table on both sides before it commits: a copy that does not match leaves the target empty."""

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from lms import migrations
from lms.settings import Settings

BATCH_ROWS = 2000


class CopyRefused(RuntimeError):
    """The copy cannot start or did not match; the message (Vietnamese) says what to do."""


@dataclass(frozen=True)
class TableDigest:
    name: str
    rows: int
    sha256: str


def schema_tables(settings: Settings) -> list[sa.Table]:
    """Every table of the installed code and plugins, parents before children."""
    migrations.import_all_models(settings)
    return list(SQLModel.metadata.sorted_tables)


def _plain(value: Any) -> Any:
    """One value as the same JSON on every engine (SQLite keeps datetimes as text, booleans as 0/1)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _ordered_rows(connection: Connection, table: sa.Table) -> Iterator[sa.Row]:
    key = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
        sa.select(table).order_by(*key))
    yield from result


def table_digest(connection: Connection, table: sa.Table) -> TableDigest:
    digest = hashlib.sha256()
    rows = 0
    names = [c.name for c in table.columns]
    for row in _ordered_rows(connection, table):
        line = json.dumps([_plain(row[i]) for i in range(len(names))], sort_keys=True,
                          ensure_ascii=False, separators=(",", ":"))
        digest.update(line.encode())
        digest.update(b"\n")
        rows += 1
    return TableDigest(table.name, rows, digest.hexdigest())


def database_digests(connection: Connection, tables: list[sa.Table]) -> dict[str, TableDigest]:
    return {t.name: table_digest(connection, t) for t in tables}


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one moment of the database while others go on writing."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # pysqlite starts no transaction for a SELECT; in WAL mode a read transaction
            # keeps its snapshot however long it lasts.
            connection.exec_driver_sql("BEGIN")
        else:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.begin()
        try:
            yield connection
        finally:
            connection.rollback()


def user_tables(engine: Engine) -> list[str]:
    return sorted(sa.inspect(engine).get_table_names())


def copy_database(settings: Settings, source_url: str, target_url: str,
                  progress: Callable[[str, int], None] = lambda name, rows: None) -> list[TableDigest]:
    """Copy every table from `source_url` into the empty database at `target_url`."""
    tables = schema_tables(settings)
    try:
        source, target = sa.create_engine(source_url), sa.create_engine(target_url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise CopyRefused("Địa chỉ cơ sở dữ liệu không hợp lệ; ví dụ: postgresql://người_dùng@máy/tên.") from exc
    try:
        try:
            taken = user_tables(target)
            with source.connect() as probe:
                source_heads = migrations.database_heads(probe)
        except sa.exc.OperationalError as exc:
            raise CopyRefused("Không kết nối được cơ sở dữ liệu nguồn hoặc đích: kiểm tra địa chỉ, người dùng "
                              "và máy chủ có đang chạy.") from exc
        if taken:
            raise CopyRefused("Cơ sở dữ liệu đích không trống (đã có bảng). Chỉ chép vào một cơ sở dữ liệu mới, trống.")
        if source_heads != migrations.script_heads(settings):
            raise CopyRefused("Cơ sở dữ liệu nguồn chưa ở phiên bản mới nhất: hãy chạy `lms migrate` trước.")
        migrations.upgrade(settings, url=target_url)
        with snapshot(source) as reading, target.begin() as writing:
            # Migrations may seed rows (content versions); the source's rows are the truth.
            for table in reversed(tables):
                writing.execute(table.delete())
            for table in tables:
                try:
                    progress(table.name, _copy_table(reading, writing, table))
                except sa.exc.DBAPIError as exc:
                    raise CopyRefused(f"Bảng {table.name} không chép được ({type(exc.orig).__name__}: "
                                      f"{str(exc.orig).splitlines()[0]}). Không có dữ liệu nào được ghi "
                                      "vào đích.") from exc
            if target.dialect.name == "postgresql":
                _reset_sequences(writing, tables)
            copied = [table_digest(writing, t) for t in tables]
            expected = [table_digest(reading, t) for t in tables]
            different = [c.name for c, e in zip(copied, expected, strict=True) if c != e]
            if different:
                raise CopyRefused("Bản chép không khớp với nguồn ở các bảng: " + ", ".join(different)
                                  + ". Không có dữ liệu nào được ghi vào đích.")
        return copied
    finally:
        source.dispose()
        target.dispose()


def _copy_table(reading: Connection, writing: Connection, table: sa.Table) -> int:
    # A row may point at a later row of its own table (an account merged into a newer one):
    # those columns are filled in once every row is there.
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    key = [c.name for c in table.primary_key.columns]
    links: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    count = 0
    for row in _ordered_rows(reading, table):
        values = dict(row._mapping)
        if own and any(values[c] is not None for c in own):
            links.append({**{f"k_{c}": values[c] for c in key}, **{f"v_{c}": values[c] for c in own}})
            values.update({c: None for c in own})
        batch.append(values)
        if len(batch) >= BATCH_ROWS:
            writing.execute(table.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        writing.execute(table.insert(), batch)
        count += len(batch)
    if links:
        statement = (table.update().where(*[table.c[c] == sa.bindparam(f"k_{c}") for c in key])
                     .values({c: sa.bindparam(f"v_{c}") for c in own}))
        for start in range(0, len(links), BATCH_ROWS):
            writing.execute(statement, links[start:start + BATCH_ROWS])
    return count


def _reset_sequences(writing: Connection, tables: list[sa.Table]) -> None:
    """Rows came with their ids: move each serial key's sequence past the largest."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        sequence = writing.execute(sa.select(sa.func.pg_get_serial_sequence(table.name, keys[0].name))).scalar()
        if sequence is not None:
            largest = writing.execute(sa.select(sa.func.max(keys[0]))).scalar()
            writing.execute(sa.select(sa.func.setval(sequence, largest or 1, largest is not None)))
