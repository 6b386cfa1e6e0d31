"""`lms ke-hoach import-example --commune <id>`."""

import typer

from lms.settings import Settings


def import_example(commune_id: int, settings: Settings | None = None) -> int:
    from lms.context import Context
    from lms.db import make_engine
    from lms.errors import ServiceError
    from lms.plugin_host import build_plugin_manager
    from lms.plugins.ke_hoach import services

    settings = settings or Settings()
    engine = make_engine(settings)
    try:
        result = services.import_example(Context(engine, build_plugin_manager(settings), settings),
                                         commune_id=commune_id, actor=None)
    except ServiceError as exc:
        typer.echo(f"Chưa nhập: {exc.message} (mã xã/phường {commune_id}).", err=True)
        return 1
    finally:
        engine.dispose()
    plan = "đã tạo kế hoạch" if result.created_plan else "kế hoạch đã có"
    typer.echo(f"Kế hoạch mẫu (mã {result.plan.id}): {plan}; thêm {len(result.added)} nhiệm vụ, "
               f"giữ nguyên {result.kept} nhiệm vụ đã nhập trước.")
    return 0
