"""`lms courses check` and `lms courses sync`."""

from pathlib import Path

import typer

from lms.plugins import build_plugin_manager, flatten
from lms.settings import Settings


def load(settings: Settings):  # type: ignore[no-untyped-def]
    """Packs and problems, with quiz questions checked by whatever question types are installed."""
    from lms.plugins.courses.packs import load_packs

    pm = build_plugin_manager(settings)
    dirs = [Path(folder) for folder in flatten(pm.hook.course_pack_dirs())]
    types = None
    if hasattr(pm.hook, "question_types"):
        types = {t.identifier: t for t in flatten(pm.hook.question_types())}
    return load_packs(dirs, types)


def check_packs(settings: Settings | None = None) -> int:
    settings = settings or Settings()
    packs, problems = load(settings)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} lỗi trong các gói khóa học.", err=True)
        return 1
    lessons = sum(len(pack.lessons) for pack in packs)
    typer.echo(f"Các gói khóa học hợp lệ: {len(packs)} khóa, {lessons} bài học.")
    return 0


def sync_packs(settings: Settings | None = None) -> int:
    from lms.db import make_engine, write_session
    from lms.plugins.courses import services

    settings = settings or Settings()
    packs, problems = load(settings)
    if problems:
        for problem in problems:
            typer.echo(str(problem), err=True)
        typer.echo("Chưa nạp gì: hãy sửa các lỗi trên rồi chạy lại.", err=True)
        return 1
    engine = make_engine(settings)
    try:
        with write_session(engine) as db:
            report = services.sync_packs(db, packs)
    finally:
        engine.dispose()
    for slug in report.conflicts:
        typer.echo(f"Bỏ qua gói “{slug}”: mã này đã thuộc một khóa học soạn trên trang web.", err=True)
    typer.echo(
        f"Đã nạp khóa học: {len(report.created)} mới, {len(report.updated)} cập nhật, "
        f"{len(report.retired)} ngừng, {len(report.unchanged)} không đổi."
    )
    return 0
