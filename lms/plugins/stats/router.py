"""Statistics pages for staff: dashboard, printable report, CSV/XLSX export, targets, API tokens."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core.models import Place, User
from lms.core.services import AUDIENCES
from lms.db import get_session
from lms.errors import FormErrors
from lms.forms import FormValues, ObjectId
from lms.plugins.stats import charts, export, job, services
from lms.stats_scope import local_today
from lms.templating import is_htmx, render
from lms.text import fold

# HTML pages stay out of the OpenAPI document; the JSON API (api.py) is described there.
# The router's lifespan starts the job that sums the days that are over (job.py).
router = APIRouter(include_in_schema=False, lifespan=job.lifespan)


def _view(request: Request, db: Session, user: User) -> services.View | None:
    """None for a staff account that belongs to no commune: it has nothing to see."""
    if user.role != "admin" and not user.commune_id:
        return None
    # Another commune's place asked for by URL raises NotFound: the app answers 404.
    return services.open_view(context_of(request), db, request.query_params,
                              commune_id=user.commune_id, everywhere=user.role == "admin")


def chart_images(board: services.Dashboard) -> dict[str, Any]:
    out = {}
    for name, table in board.tables.items():
        column = next((c for c in table.columns if c.key == table.chart_key), None)
        if column is None:
            continue
        points = [(row.label, row.values.get(column.key)) for row in table.rows]
        if name == "week":
            out[name] = charts.columns(f"bieu-do-{name}", table.chart_title, points)
        else:
            out[name] = charts.bars(f"bieu-do-{name}", table.chart_title, points, column.unit)
    return out


def _page_context(view: services.View | None, raw: dict[str, str]) -> dict[str, Any]:
    filters = view.filters if view else None
    board = view.board if view else None
    today = local_today()
    return {
        "view": view, "board": board, "filters": filters, "errors": view.errors if view else {},
        # What was typed, shown again in the form (a bad date stays visible to correct).
        "raw": raw if view and view.errors else (filters.params() if filters else {}),
        "no_commune": view is None, "audiences": AUDIENCES, "courses": view.courses if view else [],
        "fmt": charts.number, "charts": chart_images(board) if board else {},
        "presets": [(label, filters.query(**{"from": start.isoformat() if start else "", "to": end.isoformat()}))
                    for label, start, end in services.presets(today)] if filters else [],
    }


@router.get("/stats")
def dashboard(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    view = _view(request, db, user)
    raw = {k: str(v)[:40] for k, v in request.query_params.items()}
    # htmx swaps no 4xx answer: the fragment that explains the bad filter comes as a 200.
    status = 422 if view and view.errors and not is_htmx(request) else 200
    return render(request, "stats/dashboard.html", _page_context(view, raw), status_code=status, block="results")


def _board_or_back(request: Request, db: Session, user: User) -> services.Dashboard | Response:
    view = _view(request, db, user)
    if view is None or view.board is None:
        # Exports and the printable page have no form: the dashboard shows what to fix.
        return RedirectResponse(f"/stats?{request.url.query}", status_code=303)
    return view.board


@router.get("/stats/report")
def report(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    board = _board_or_back(request, db, user)
    if isinstance(board, Response):
        return board
    return render(request, "stats/report.html", {
        "board": board, "fmt": charts.number, "report": export.report_table(board), "today": local_today(),
        "charts": chart_images(board)})


def _file_name(board: services.Dashboard, suffix: str) -> str:
    place = "".join(ch if ch.isalnum() else "-" for ch in fold(board.scope_name)).strip("-")
    start = board.filters.start.isoformat() if board.filters.start else "tu-dau"
    return f"thong-ke-{place}-{start}-{board.filters.end.isoformat()}.{suffix}"


@router.get("/stats/export.csv")
def export_csv(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    board = _board_or_back(request, db, user)
    if isinstance(board, Response):
        return board
    return Response(export.to_csv(board), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_file_name(board, "csv")}"'})


@router.get("/stats/export.xlsx")
def export_xlsx(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    board = _board_or_back(request, db, user)
    if isinstance(board, Response):
        return board
    return Response(export.to_xlsx(board, today=local_today()),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_file_name(board, "xlsx")}"'})


# --- Targets --------------------------------------------------------------------------------


def _targets_page(request: Request, db: Session, user: User, commune: Place | None, *,
                  values: dict | None = None, errors: dict | None = None, status: int = 200) -> Any:
    courses = services.course_choices(request.app.state.pm, db)
    return render(request, "stats/targets.html", {
        "commune": commune, "targets": services.targets_of(db, commune.id if commune else None),
        "courses": courses, "course_titles": {c.id: c.label for c in courses}, "audiences": AUDIENCES,
        "kinds": services.TARGET_KINDS, "values": values or {}, "errors": errors or {},
        "communes": services.communes_of(db) if user.role == "admin" else [],
        "saved": request.query_params.get("saved")}, status_code=status)


@router.get("/stats/targets")
def targets(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    if user.role != "admin" and not user.commune_id:
        return render(request, "stats/dashboard.html", _page_context(None, {}))
    commune = services.target_commune(db, user, request.query_params.get("commune"))
    return _targets_page(request, db, user, commune)


def _back_to_targets(commune: Place | None, saved: str) -> RedirectResponse:
    commune_part = f"commune={commune.id}&" if commune else ""
    return RedirectResponse(f"/stats/targets?{commune_part}saved={saved}", status_code=303)


@router.post("/stats/targets")
def target_save(request: Request, values: FormValues, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    commune = services.target_commune(db, user, values.get("commune"))
    data = services.TargetInput(**{k: values.get(k, "")[:40] for k in ("audience", "kind", "course", "value")})
    try:
        services.save_target(context_of(request), actor=user, commune=values.get("commune"), data=data)
    except FormErrors as exc:
        return _targets_page(request, db, user, commune, values=values, errors=exc.errors, status=422)
    return _back_to_targets(commune, "1")


@router.post("/stats/targets/{target_id}/delete")
def target_delete(request: Request, target_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    commune = services.target_commune(db, user, values.get("commune"))
    services.delete_target(context_of(request), actor=user, commune=values.get("commune"), target_id=target_id)
    return _back_to_targets(commune, "deleted")


# --- API tokens (administrators) ------------------------------------------------------------


def _tokens_page(request: Request, db: Session, *, created: Any = None, secret: str | None = None,
                 values: dict | None = None, errors: dict | None = None, status: int = 200) -> Any:
    communes = services.communes_of(db)
    return render(request, "stats/tokens.html", {
        "tokens": services.tokens(db), "communes": communes, "place_names": {p.id: p.name for p in communes},
        "created": created, "secret": secret, "values": values or {}, "errors": errors or {},
        "base": request.app.state.settings.base_url.rstrip("/"), "revoked": request.query_params.get("revoked")},
        status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/stats/tokens")
def tokens(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    return _tokens_page(request, db)


@router.post("/stats/tokens")
def token_create(request: Request, values: FormValues, user: User = Depends(access.admin),
                 db: Session = Depends(get_session)) -> Any:
    try:
        token, secret = services.create_token(context_of(request), actor=user, name=values.get("name", ""),
                                              commune=values.get("commune", "")[:12])
    except FormErrors as exc:
        return _tokens_page(request, db, values=values, errors=exc.errors, status=422)
    # Shown once, in this response only: never in a URL or a redirect, never stored in clear.
    return _tokens_page(request, db, created=token, secret=secret)


@router.post("/stats/tokens/{token_id}/revoke")
def token_revoke(request: Request, token_id: ObjectId, user: User = Depends(access.admin)) -> Any:
    services.revoke_token(context_of(request), token_id=token_id)
    return RedirectResponse("/stats/tokens?revoked=1", status_code=303)
