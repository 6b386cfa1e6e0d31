"""Staff pages of the plan follow-up: plans, tasks grouped by body (late first), a task's status
and evidence, the example import, and the periodic report (print page and XLSX)."""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from lms import security as access
from lms.channels import EvidenceChoice
from lms.context import context_of
from lms.core.models import User
from lms.db import get_session
from lms.errors import FormErrors
from lms.forms import FormValues, ObjectId
from lms.plugin_host import flatten
from lms.plugins.ke_hoach import report as reports
from lms.plugins.ke_hoach import services
from lms.plugins.ke_hoach.periods import RECURRENCES
from lms.stats_scope import local_today
from lms.templating import render
from lms.text import official_date

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
BASE = "/staff/ke-hoach"


def _offered(request: Request, db: Session, user: User) -> list[EvidenceChoice]:
    """What the plugins offer this person as evidence now: asked again when a choice is sent,
    so a key typed into the form reaches nothing else."""
    offered = flatten(request.app.state.pm.hook.evidence_choices(db=db, user=user))
    return [choice for choice in offered if isinstance(choice, EvidenceChoice)]


# --- Plans of a commune ----------------------------------------------------------------------


def _plans_page(request: Request, db: Session, user: User, *, commune_raw: Any = None, values: dict | None = None,
                errors: dict | None = None, status: int = 200) -> Any:
    if user.role != "admin" and not user.commune_id:
        return render(request, "ke_hoach/plans.html", {"no_commune": True}, status_code=status, headers=NO_STORE)
    commune = services.commune_for(db, user, commune_raw)
    plans = services.plans_of(db, commune.id) if commune else []
    return render(request, "ke_hoach/plans.html", {
        "commune": commune, "plans": plans, "counts": services.task_counts(db, [p.id for p in plans]),
        "communes": services.communes(db) if user.role == "admin" else [], "values": values or {},
        "errors": errors or {}, "done": request.query_params.get("da"),
        "added": request.query_params.get("them", ""),
    }, status_code=status, headers=NO_STORE)


@router.get(BASE)
def plans(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return _plans_page(request, db, user, commune_raw=request.query_params.get("commune"))


def _plan_input(values: dict) -> services.PlanInput:
    return services.PlanInput(**{name: values.get(name, "") for name in services.PlanInput.__dataclass_fields__})


@router.post(f"{BASE}/nhap-mau")
def import_example(request: Request, values: FormValues, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    commune = services.commune_for(db, user, values.get("commune_id"))
    if commune is None:
        raise HTTPException(404)
    result = services.import_example(context_of(request), commune_id=commune.id, actor=user)
    return RedirectResponse(f"{BASE}/{result.plan.id}?{urlencode({'da': 'nhap', 'them': len(result.added)})}",
                            status_code=303)


@router.post(BASE)
def new_plan(request: Request, values: FormValues, user: User = Depends(access.staff),
             db: Session = Depends(get_session)) -> Any:
    commune = services.commune_for(db, user, values.get("commune_id"))
    if commune is None:
        raise HTTPException(404)
    try:
        plan = services.save_plan(context_of(request), actor=user, data=_plan_input(values), commune_id=commune.id)
    except FormErrors as exc:
        return _plans_page(request, db, user, commune_raw=values.get("commune_id"), values=values,
                           errors=exc.errors, status=422)
    return RedirectResponse(f"{BASE}/{plan.id}?da=tao", status_code=303)


# --- One plan --------------------------------------------------------------------------------


def _plan_page(request: Request, db: Session, user: User, plan_id: int, *, values: dict | None = None,
               errors: dict | None = None, status: int = 200) -> Any:
    plan = services.plan_for(db, user, plan_id)
    today = local_today()
    if values is None:
        values = {"title": plan.title, "year": str(plan.year or ""), "document_number": plan.document_number,
                  "document_date": plan.document_date}
    return render(request, "ke_hoach/plan.html", {
        "plan": plan, "board": services.board(db, plan, today=today), "values": values, "errors": errors or {},
        "done": request.query_params.get("da"), "added": request.query_params.get("them", ""),
    }, status_code=status, headers=NO_STORE)


@router.get(f"{BASE}/{{plan_id}}")
def plan_page(request: Request, plan_id: ObjectId, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    return _plan_page(request, db, user, plan_id)


@router.post(f"{BASE}/{{plan_id}}")
def change_plan(request: Request, plan_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    try:
        services.save_plan(context_of(request), actor=user, data=_plan_input(values), plan_id=plan_id)
    except FormErrors as exc:
        return _plan_page(request, db, user, plan_id, values=values, errors=exc.errors, status=422)
    return RedirectResponse(f"{BASE}/{plan_id}?da=luu", status_code=303)


# --- Tasks -----------------------------------------------------------------------------------


def _task_input(values: dict) -> services.TaskInput:
    return services.TaskInput(**{name: values.get(name, "") for name in services.TaskInput.__dataclass_fields__})


def _task_values(task: Any) -> dict[str, str]:
    return {"title": task.title, "section": task.section, "details": task.details, "body": task.body,
            "partners": task.partners, "deadline": task.deadline.isoformat() if task.deadline else "",
            "recurrence": task.recurrence, "starts_on": task.starts_on.isoformat() if task.starts_on else "",
            "status": task.status, "notes": task.notes}


def _form_context(values: dict, errors: dict) -> dict[str, Any]:
    return {"values": values, "errors": errors, "bodies": services.BODIES, "statuses": services.STATUSES,
            "recurrences": RECURRENCES}


@router.get(f"{BASE}/{{plan_id}}/viec-moi")
def new_task_form(request: Request, plan_id: ObjectId, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    plan = services.plan_for(db, user, plan_id)
    return render(request, "ke_hoach/new_task.html", {
        "plan": plan, **_form_context({"status": "chua-bat-dau", "body": "van-phong"}, {})}, headers=NO_STORE)


@router.post(f"{BASE}/{{plan_id}}/viec-moi")
def new_task(request: Request, plan_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
             db: Session = Depends(get_session)) -> Any:
    try:
        task = services.save_task(context_of(request), actor=user, data=_task_input(values), plan_id=plan_id)
    except FormErrors as exc:
        plan = services.plan_for(db, user, plan_id)
        return render(request, "ke_hoach/new_task.html", {"plan": plan, **_form_context(values, exc.errors)},
                      status_code=422, headers=NO_STORE)
    return RedirectResponse(f"{BASE}/viec/{task.id}?da=tao", status_code=303)


def _task_page(request: Request, db: Session, user: User, task_id: int, *, values: dict | None = None,
               errors: dict | None = None, link: dict | None = None, link_errors: dict | None = None,
               choice_error: str = "", status: int = 200) -> Any:
    task, plan = services.task_for(db, user, task_id)
    today = local_today()
    evidence = services.evidence_of(db, [task.id])[task.id]
    attached = {e.key for e in evidence}
    groups: dict[str, list[EvidenceChoice]] = {}
    for choice in services.choices_for(plan, _offered(request, db, user)):
        if choice.key not in attached:
            groups.setdefault(choice.group, []).append(choice)
    return render(request, "ke_hoach/task.html", {
        "plan": plan, "task": task, "state": services.assess(task, evidence, today=today),
        "choice_groups": groups, "changes": services.changes_of(db, task_id=task.id),
        "link": link or {"day": today.isoformat()}, "link_errors": link_errors or {}, "choice_error": choice_error,
        "done": request.query_params.get("da"), "today": today, "local_day": services.local_day,
        **_form_context(values if values is not None else _task_values(task), errors or {}),
    }, status_code=status, headers=NO_STORE)


@router.get(f"{BASE}/viec/{{task_id}}")
def task_page(request: Request, task_id: ObjectId, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    return _task_page(request, db, user, task_id)


@router.post(f"{BASE}/viec/{{task_id}}")
def change_task(request: Request, task_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    try:
        services.save_task(context_of(request), actor=user, data=_task_input(values), task_id=task_id)
    except FormErrors as exc:
        return _task_page(request, db, user, task_id, values=values, errors=exc.errors, status=422)
    return RedirectResponse(f"{BASE}/viec/{task_id}?da=luu", status_code=303)


@router.post(f"{BASE}/viec/{{task_id}}/minh-chung")
def attach_choice(request: Request, task_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    offered = _offered(request, db, user)
    try:
        services.attach_choice(context_of(request), actor=user, task_id=task_id, key=values.get("key", ""),
                               offered=offered)
    except FormErrors as exc:
        return _task_page(request, db, user, task_id, choice_error=exc.errors.get("key", exc.message), status=422)
    return RedirectResponse(f"{BASE}/viec/{task_id}?da=minh-chung#minh-chung", status_code=303)


@router.post(f"{BASE}/viec/{{task_id}}/lien-ket")
def attach_link(request: Request, task_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    link = {name: values.get(name, "") for name in ("url", "label", "day")}
    try:
        services.attach_link(context_of(request), actor=user, task_id=task_id, **link)
    except FormErrors as exc:
        return _task_page(request, db, user, task_id, link=link, link_errors=exc.errors, status=422)
    return RedirectResponse(f"{BASE}/viec/{task_id}?da=minh-chung#minh-chung", status_code=303)


@router.post(f"{BASE}/viec/{{task_id}}/minh-chung/{{evidence_id}}/go")
def remove_evidence(request: Request, task_id: ObjectId, evidence_id: ObjectId,
                    user: User = Depends(access.staff)) -> Any:
    services.remove_evidence(context_of(request), actor=user, task_id=task_id, evidence_id=evidence_id)
    return RedirectResponse(f"{BASE}/viec/{task_id}?da=go#minh-chung", status_code=303)


# --- The periodic report ---------------------------------------------------------------------


def _report_or_form(request: Request, db: Session, user: User, plan_id: int) -> Any:
    """The report asked for, or the page that chooses its period (with what is wrong)."""
    plan = services.plan_for(db, user, plan_id)
    params = request.query_params
    period, errors = reports.parse_period(params) if params.get("ky") else (None, {})
    if period is None:
        raw = {k: str(v)[:20] for k, v in params.items()}
        today = local_today()
        raw.setdefault("thang", f"{today:%Y-%m}")
        raw.setdefault("nam", str(today.year))
        return render(request, "ke_hoach/report_choose.html", {
            "plan": plan, "kinds": reports.KINDS, "values": raw, "errors": errors,
        }, status_code=422 if errors else 200, headers=NO_STORE)
    return reports.build(context_of(request), db, plan, period)


@router.get(f"{BASE}/{{plan_id}}/bao-cao")
def report_page(request: Request, plan_id: ObjectId, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    found = _report_or_form(request, db, user, plan_id)
    if isinstance(found, Response):
        return found
    return render(request, "ke_hoach/report.html", {
        "report": found, "fmt": reports.number, "local_day": services.local_day,
        "query": urlencode(found.period.query()), "signed_on": official_date(found.today)}, headers=NO_STORE)


@router.get(f"{BASE}/{{plan_id}}/bao-cao.xlsx")
def report_xlsx(request: Request, plan_id: ObjectId, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    found = _report_or_form(request, db, user, plan_id)
    if isinstance(found, Response):
        # A file link has no form: the page that chooses the period says what to fix.
        return RedirectResponse(f"{BASE}/{plan_id}/bao-cao?{request.url.query}", status_code=303)
    return Response(reports.to_xlsx(found),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{reports.file_name(found, "xlsx")}"',
                             **NO_STORE})
