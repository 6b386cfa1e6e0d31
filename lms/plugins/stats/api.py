"""Read-only JSON of the dashboard's figures for the city's own systems, behind API tokens."""

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session

from lms.context import context_of
from lms.core.models import Place
from lms.db import get_session
from lms.errors import NotFound, ServiceError
from lms.plugins.stats import services
from lms.plugins.stats.models import ApiToken
from lms.security import AccessPolicy

# API requests carry a bearer token, not a session: no role is asked of a signed-in user
# (roles=None), the token itself is checked in the dependency below. GET only, so CSRF
# does not apply.
API_TOKEN = AccessPolicy("api_token", None)
bearer = HTTPBearer(auto_error=False, scheme_name="apiToken", bearerFormat="hvs_…",
                    description="Mã do quản trị viên tạo tại /stats/tokens; gửi trong tiêu đề "
                                "`Authorization: Bearer <mã>`.")
UNAUTHORISED = "Thiếu mã truy cập hoặc mã không hợp lệ (gửi tiêu đề Authorization: Bearer <mã>)."
OUT_OF_SCOPE = "Không thuộc phạm vi của mã truy cập này."


def api_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> ApiToken:
    token = services.use_token(context_of(request), secret=credentials.credentials if credentials else "")
    if token is None:
        raise ServiceError("unauthorised", UNAUTHORISED, 401, headers={"WWW-Authenticate": "Bearer"})
    return token


api_token.access_policy = API_TOKEN  # type: ignore[attr-defined]

router = APIRouter(prefix="/api/stats", tags=["Thống kê"], responses={
    401: {"description": "Thiếu hoặc sai mã truy cập"},
    404: {"description": "Xã/phường hoặc thôn không thuộc phạm vi của mã"},
    422: {"description": "Bộ lọc không hợp lệ (thông báo tiếng Việt trong `errors`)"}})


class ScopeOut(BaseModel):
    name: str = Field(description="Tên đơn vị: xã/phường, thôn, hoặc toàn bộ")
    commune_id: int | None
    village_id: int | None
    audience: str | None = Field(description="can-bo | doanh-nghiep | to-cong-nghe | nguoi-dan")
    course: str | None = Field(description="Mã (slug) khóa học")


class PeriodOut(BaseModel):
    start: date | None = Field(description="Ngày đầu kỳ (giờ Việt Nam); null: từ khi bắt đầu")
    end: date = Field(description="Ngày cuối kỳ, tính trọn ngày")


class FigureOut(BaseModel):
    key: str
    label: str
    value: float | None
    unit: str
    note: str = ""


class TargetOut(BaseModel):
    audience: str
    kind: Literal["hoan-thanh", "dang-ky"]
    course_id: int | None
    description: str
    goal: int
    achieved: float | None
    percent_of_goal: int


class SummaryOut(BaseModel):
    scope: ScopeOut
    period: PeriodOut
    figures: list[FigureOut]
    targets: list[TargetOut]
    generated_at: datetime


class ColumnOut(BaseModel):
    key: str
    label: str
    unit: str


class RowOut(BaseModel):
    id: str | int | None = Field(description="Mã nhóm, id xã/thôn, slug khóa học hoặc ngày đầu tuần")
    label: str
    values: dict[str, float | None]


class BreakdownOut(BaseModel):
    scope: ScopeOut
    period: PeriodOut
    name: str
    title: str
    columns: list[ColumnOut]
    rows: list[RowOut]
    total: RowOut | None


class VillageOut(BaseModel):
    id: int
    name: str


class CommuneOut(BaseModel):
    id: int
    name: str
    villages: list[VillageOut]


class ProblemOut(BaseModel):
    detail: str
    errors: dict[str, str] = {}


FILTER_DOC = {
    "commune": "Id xã/phường (xem /api/stats/places); bỏ trống: tất cả",
    "village": "Id thôn/tổ dân phố",
    "audience": "can-bo | doanh-nghiep | to-cong-nghe | nguoi-dan",
    "course": "Slug khóa học",
    "from": "Từ ngày, YYYY-MM-DD (giờ Việt Nam)",
    "to": "Đến hết ngày, YYYY-MM-DD; mặc định hôm nay",
}


def _view(request: Request, db: Session, token: ApiToken) -> services.View:
    try:
        return services.open_view(context_of(request), db, request.query_params,
                                  commune_id=token.commune_id, everywhere=token.commune_id is None)
    except NotFound as exc:
        if exc.code != services.OUT_OF_SCOPE:
            raise
        raise NotFound(services.OUT_OF_SCOPE, OUT_OF_SCOPE) from exc


def _problems(view: services.View) -> JSONResponse:
    return JSONResponse(ProblemOut(detail="Bộ lọc không hợp lệ.", errors=view.errors).model_dump(),
                        status_code=422)


def _scope(board: services.Dashboard) -> ScopeOut:
    f = board.filters
    return ScopeOut(name=board.scope_name, commune_id=f.commune.id if f.commune else None,
                    village_id=f.village.id if f.village else None, audience=f.audience,
                    course=f.course.slug if f.course else None)


def _row(row: services.Row) -> RowOut:
    ident: Any = row.id.isoformat() if isinstance(row.id, date) else row.id
    return RowOut(id=ident, label=row.label, values=row.values)


@router.get("/summary", response_model=SummaryOut, responses={422: {"model": ProblemOut}})
def summary_view(request: Request, token: ApiToken = Depends(api_token), db: Session = Depends(get_session),
                 commune: str | None = Query(None, description=FILTER_DOC["commune"]),
                 village: str | None = Query(None, description=FILTER_DOC["village"]),
                 audience: str | None = Query(None, description=FILTER_DOC["audience"]),
                 course: str | None = Query(None, description=FILTER_DOC["course"]),
                 start: str | None = Query(None, alias="from", description=FILTER_DOC["from"]),
                 end: str | None = Query(None, alias="to", description=FILTER_DOC["to"])) -> Any:
    """Headline figures and progress against targets for a scope and period."""
    view = _view(request, db, token)
    if view.board is None:
        return _problems(view)
    board = view.board
    return SummaryOut(
        scope=_scope(board), period=PeriodOut(start=board.filters.start, end=board.filters.end),
        figures=[FigureOut(key=h.key, label=h.label, value=h.value, unit=h.unit, note=h.note)
                 for h in board.headline],
        targets=[TargetOut(audience=p.target.audience, kind=p.target.kind, course_id=p.target.course_id or None,
                           description=p.description, goal=p.goal, achieved=p.achieved,
                           percent_of_goal=p.percent_of_goal) for p in board.targets],
        generated_at=board.generated_at)


@router.get("/breakdown/{dimension}", response_model=BreakdownOut, responses={422: {"model": ProblemOut}})
def breakdown_view(request: Request, dimension: Literal["audience", "place", "course", "week"],
                   token: ApiToken = Depends(api_token), db: Session = Depends(get_session),
                   commune: str | None = Query(None, description=FILTER_DOC["commune"]),
                   village: str | None = Query(None, description=FILTER_DOC["village"]),
                   audience: str | None = Query(None, description=FILTER_DOC["audience"]),
                   course: str | None = Query(None, description=FILTER_DOC["course"]),
                   start: str | None = Query(None, alias="from", description=FILTER_DOC["from"]),
                   end: str | None = Query(None, alias="to", description=FILTER_DOC["to"])) -> Any:
    """Figures per audience, per place (villages of one commune, or communes), per course or per week."""
    view = _view(request, db, token)
    if view.board is None:
        return _problems(view)
    board = view.board
    table = board.tables.get(dimension)
    if table is None:
        raise NotFound("no_table", "Không có bảng số liệu này.")
    return BreakdownOut(
        scope=_scope(board), period=PeriodOut(start=board.filters.start, end=board.filters.end),
        name=table.name, title=table.title,
        columns=[ColumnOut(key=c.key, label=c.label, unit=c.unit) for c in table.columns],
        rows=[_row(r) for r in table.rows], total=_row(table.total) if table.total else None)


@router.get("/places", response_model=list[CommuneOut])
def places_view(token: ApiToken = Depends(api_token), db: Session = Depends(get_session)) -> Any:
    """Communes and their villages with their ids, for the commune and village filters."""
    communes = services.communes_of(db)
    if token.commune_id is not None:
        communes = [c for c in communes if c.id == token.commune_id]
    villages = db.exec(select(Place).where(Place.kind == "village",
                                           Place.parent_id.in_([c.id for c in communes]))).scalars().all()
    by_commune: dict[int, list[VillageOut]] = {}
    for village in sorted(villages, key=lambda p: services.natural_key(p.name)):
        by_commune.setdefault(village.parent_id or 0, []).append(VillageOut(id=village.id, name=village.name))
    return [CommuneOut(id=c.id, name=c.name, villages=by_commune.get(c.id, [])) for c in communes]
