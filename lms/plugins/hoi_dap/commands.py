"""`lms hoi-dap check` and `lms hoi-dap sync`."""

from pathlib import Path

import typer

from lms.plugins import build_plugin_manager, flatten
from lms.settings import Settings


def known_lessons(pm) -> set[str]:  # type: ignore[no-untyped-def]
    """/courses/<course>/<lesson> of every lesson file in the installed course pack folders."""
    found = set()
    for folder in flatten(pm.hook.course_pack_dirs()):
        for lesson in Path(folder).glob("*/*.md"):
            found.add(f"/courses/{lesson.parent.name}/{lesson.stem}")
    return found


def _load(settings: Settings):  # type: ignore[no-untyped-def]
    from lms.plugins.hoi_dap.faq import load_pack

    pm = build_plugin_manager(settings)
    return pm, *load_pack(known_lessons=known_lessons(pm))


def check_pack(settings: Settings | None = None) -> int:
    _pm, entries, problems = _load(settings or Settings())
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} lỗi trong gói hỏi đáp.", err=True)
        return 1
    topics = len({entry.topic for entry in entries})
    typer.echo(f"Gói hỏi đáp hợp lệ: {len(entries)} mục, {topics} chủ đề.")
    return 0


def sync_pack(settings: Settings | None = None) -> int:
    from lms.context import Context
    from lms.db import make_engine
    from lms.plugins.hoi_dap import services

    settings = settings or Settings()
    pm, entries, problems = _load(settings)
    if problems:
        for problem in problems:
            typer.echo(str(problem), err=True)
        typer.echo("Chưa nạp gì: hãy sửa các lỗi trên rồi chạy lại.", err=True)
        return 1
    engine = make_engine(settings)
    try:
        report = services.sync_pack(Context(engine, pm, settings), entries)
    finally:
        engine.dispose()
    for slug in report.conflicts:
        typer.echo(f"Bỏ qua mục “{slug}”: mã này đã thuộc một mục soạn trên trang web.", err=True)
    typer.echo(f"Đã nạp hỏi đáp: {len(report.created)} mới, {len(report.updated)} cập nhật, "
               f"{len(report.retired)} ngừng; chỉ mục có {report.passages} đoạn trả lời.")
    return 0
