"""Pages of the courses plugin: catalog, course, lesson, my courses, lesson images."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms import share_images, visitor_pages
from lms.context import context_of
from lms.core.models import User
from lms.core.services import AUDIENCES
from lms.db import get_session
from lms.media import media_url
from lms.plugins.courses import audio, embeds, services
from lms.plugins.courses.markdown import reading_minutes
from lms.plugins.courses.models import CourseAsset, Enrolment
from lms.plugins.courses.packs import COMPETENCE_LABELS, DOMAINS
from lms.templating import render

router = APIRouter()
catalog = services.catalog


def _og(request: Request, title: str, description: str, path: str) -> dict[str, str]:
    base = request.app.state.settings.base_url.rstrip("/")
    return {"title": title, "description": description[:300], "url": f"{base}{path}",
            "image": f"{base}{request.app.state.static.url('img/og-default.png')}"}


def _course_card(request: Request, course: Any) -> share_images.ShareCard:
    return share_images.ShareCard(title=course.title, kicker="Khóa học miễn phí",
                                  footer=request.app.state.settings.site_name)


def _lesson_card(request: Request, course: Any, lesson: Any) -> share_images.ShareCard:
    return share_images.ShareCard(title=lesson.title, kicker=f"Bài học · {course.title}",
                                  footer=request.app.state.settings.site_name)


def _share(request: Request, card: share_images.ShareCard, description: str, path: str) -> Any:
    return share_images.SharePreview.of(request, card, description=description, path=path,
                                        image_path=f"{path}/anh-chia-se.png")


def _done(db: Session, user: User | None, course_id: int | None = None) -> dict[int, set[int]]:
    if user is None:
        return {}
    return services.done_lessons(db, user_id=user.id, course_id=course_id)


@router.get("/courses", dependencies=[access.PUBLIC_ROUTE])
def catalog_page(request: Request, db: Session = Depends(get_session)) -> Any:
    audience = request.query_params.get("audience") or ""
    domain = request.query_params.get("domain") or ""
    audience = audience if audience in AUDIENCES else ""
    domain = domain if domain in DOMAINS else ""
    user = request.state.user
    cat = catalog(request, db)
    skills = cat.skills(user)
    skill = request.query_params.get("skill") or ""
    skill = skill if skill in skills else ""
    courses = cat.for_audience(audience or None, domain or None, user=user, skill=skill or None)
    done = _done(db, user)
    rows = [(c, services.progress_of(c, done.get(c.id, set())) if user else None) for c in courses]
    heading = f"Khóa học cho {AUDIENCES[audience].lower()}" if audience else "Tất cả khóa học"
    _keep_for_visitors(request, cat)
    return render(request, "courses/catalog.html", {
        "rows": rows, "audience": audience, "domain": domain, "audiences": AUDIENCES,
        "domains": DOMAINS, "heading": heading, "skills": skills, "skill": skill,
        "skill_labels": COMPETENCE_LABELS,
        "og": _og(request, heading, "Các khóa học kỹ năng số ngắn, miễn phí, học trên điện thoại.",
                  str(request.url.path) + (f"?audience={audience}" if audience else "")),
    }, block="results")


@router.get("/my/courses")
def my_courses(request: Request, user: User = Depends(access.signed_in),
               db: Session = Depends(get_session)) -> Any:
    cat = catalog(request, db)
    done = _done(db, user)
    rows = []
    for enrolment in services.enrolments(db, user_id=user.id):
        course = next((c for c in cat.courses if c.id == enrolment.course_id), None)
        if course is None:
            continue
        done_ids = done.get(course.id, set())
        rows.append((course, services.progress_of(course, done_ids), enrolment,
                     services.resume_lesson(course, done_ids)))
    return render(request, "courses/mine.html", {"rows": rows})


def _course_or_404(request: Request, db: Session, slug: str) -> services.CourseOutline:
    # Another commune's own course does not exist for this visitor: the same 404.
    course = catalog(request, db).visible(slug, request.state.user)
    if course is None:
        raise HTTPException(404)
    return course


@router.get("/courses/{slug}", dependencies=[access.PUBLIC_ROUTE])
def course_page(request: Request, slug: str, db: Session = Depends(get_session)) -> Any:
    cat = catalog(request, db)
    course = _course_or_404(request, db, slug)
    user = request.state.user
    done_ids = _done(db, user, course.id).get(course.id, set())
    enrolment = None
    if user:
        enrolment = db.exec(select(Enrolment).where(
            Enrolment.user_id == user.id, Enrolment.course_id == course.id)).scalars().first()
    prerequisites = [p for p in (cat.visible(s, user) for s in course.prerequisites) if p is not None]
    requirements = []
    if user:
        requirements = services.requirements_of(db, pm=request.app.state.pm, course=course,
                                                user_id=user.id)
    _keep_for_visitors(request, cat)
    return render(request, "courses/course.html", {
        "course": course, "done_ids": done_ids, "progress": services.progress_of(course, done_ids),
        "resume": services.resume_lesson(course, done_ids), "enrolment": enrolment,
        "prerequisites": prerequisites, "audiences": AUDIENCES, "requirements": requirements,
        "share": _share(request, _course_card(request, course), course.summary, f"/courses/{course.slug}"),
    })


@router.get("/courses/{slug}/anh-chia-se.png", dependencies=[access.PUBLIC_ROUTE], include_in_schema=False)
def course_share_image(request: Request, slug: str, db: Session = Depends(get_session)) -> Any:
    course = _course_or_404(request, db, slug)
    return share_images.response(request.app.state.settings, _course_card(request, course),
                                 request.query_params.get("v", ""), request=request)


@router.get("/courses/{slug}/{lesson_slug}/anh-chia-se.png", dependencies=[access.PUBLIC_ROUTE],
            include_in_schema=False)
def lesson_share_image(request: Request, slug: str, lesson_slug: str, db: Session = Depends(get_session)) -> Any:
    course = _course_or_404(request, db, slug)
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        raise HTTPException(404)
    return share_images.response(request.app.state.settings, _lesson_card(request, course, lesson),
                                 request.query_params.get("v", ""), request=request)


def _keep_for_visitors(request: Request, cat: services.Catalog) -> None:
    """A visitor's catalog, course and lesson pages are made from the catalog alone."""
    if request.state.user is None:
        visitor_pages.keep(request, services.catalog_version, cat.version)


def _lesson_context(request: Request, db: Session, course: services.CourseOutline,
                    lesson: services.LessonOutline) -> dict[str, Any]:
    user = request.state.user
    done_ids = _done(db, user, course.id).get(course.id, set())
    index = course.lessons.index(lesson)
    return {
        "course": course, "lesson": lesson, "done_ids": done_ids,
        "is_done": lesson.id in done_ids,
        "previous": course.lessons[index - 1] if index > 0 else None,
        "next": course.lessons[index + 1] if index + 1 < len(course.lessons) else None,
        "progress": services.progress_of(course, done_ids),
        "minutes": reading_minutes(lesson.word_count),
        "lesson_path": f"/courses/{course.slug}/{lesson.slug}", "skill_labels": COMPETENCE_LABELS,
    }


@router.get("/courses/{slug}/{lesson_slug}", dependencies=[access.PUBLIC_ROUTE])
def lesson_page(request: Request, slug: str, lesson_slug: str,
                db: Session = Depends(get_session)) -> Any:
    course = _course_or_404(request, db, slug)
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        raise HTTPException(404)
    context = _lesson_context(request, db, course, lesson)
    body = catalog(request, db).body(db, lesson.id)
    context["body"] = embeds.expand(db, request.app.state.pm, body)
    context["share"] = _share(request, _lesson_card(request, course, lesson), lesson.excerpt or course.summary,
                              context["lesson_path"])
    context["just_done"] = request.query_params.get("done") == "1"
    context["listening"] = catalog(request, db).memo(("listening", lesson.id), lambda: audio.listening(
        db, lesson_id=lesson.id, lesson_path=context["lesson_path"],
        voice=audio.voice_of(request.app.state.settings)))
    context["browser_voice"] = audio.browser_voice_tag()
    # A card from another plugin changes without the catalog's version: made again each time.
    if not embeds.has_embeds(body):
        _keep_for_visitors(request, catalog(request, db))
    return render(request, "courses/lesson.html", context)


@router.api_route("/courses/{slug}/{lesson_slug}/giong-may.mp3", methods=["GET", "HEAD"],
                  dependencies=[access.PUBLIC_ROUTE], include_in_schema=False)
def lesson_machine_voice(request: Request, slug: str, lesson_slug: str,
                         db: Session = Depends(get_session)) -> Any:
    """The machine voice of the lesson as it is now: made on the first listen (once, whatever the
    number of workers), then a redirect to its immutable media address, where Range is served."""
    course = _course_or_404(request, db, slug)
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        raise HTTPException(404)
    key = audio.machine_audio(context_of(request), lesson_id=lesson.id)
    # Not cached: the next version of the lesson has another voice file.
    return RedirectResponse(media_url(key, "audio/mpeg"), status_code=302,
                            headers={"Cache-Control": "no-cache"})


@router.post("/courses/{slug}/{lesson_slug}/done")
def lesson_done(request: Request, slug: str, lesson_slug: str,
                user: User = Depends(access.signed_in), db: Session = Depends(get_session)) -> Any:
    course = _course_or_404(request, db, slug)
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        raise HTTPException(404)
    services.mark_lesson_done(context_of(request), user_id=user.id, course=course, lesson_id=lesson.id)
    path = f"/courses/{course.slug}/{lesson.slug}"
    if request.headers.get("hx-request") == "true":
        context = _lesson_context(request, db, course, lesson)
        context["just_done"] = True
        return render(request, "courses/lesson.html", context, block="done")
    return RedirectResponse(f"{path}?done=1#hoan-thanh", status_code=303)


@router.get("/course-assets/{slug}/{digest}/{name}", dependencies=[access.PUBLIC_ROUTE])
def course_asset(slug: str, digest: str, name: str, request: Request,
                 db: Session = Depends(get_session)) -> Any:
    course = catalog(request, db).visible(slug, request.state.user)
    if course is None:
        raise HTTPException(404)
    asset = db.exec(select(CourseAsset).where(CourseAsset.course_id == course.id,
                                              CourseAsset.name == name)).scalars().first()
    if asset is None or asset.digest != digest:
        raise HTTPException(404)
    return Response(asset.data, media_type=asset.media_type,
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})
