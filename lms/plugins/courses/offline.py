"""A course saved for reading without a network: the list of its pages and images, with a
version that changes whenever a sync or the editor publishes new content."""

import hashlib
import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from lms import security as access
from lms.db import get_session
from lms.plugins.courses.services import catalog

router = APIRouter()

# Same-site images of a lesson body: src and every srcset candidate.
_IMAGE_URL = re.compile(r'(?:src="|srcset="|,\s*)(/(?:media|course-assets)/[^"\s,]+)')

OFFLINE_PAGES = ["/courses", "/courses/{slug}", "/courses/{slug}/{lesson_slug}"]


def offline_manifest(request: Request, db: Session, slug: str) -> dict[str, Any] | None:
    # What a visitor sees: the saved copies are fetched without cookies, so hold no personal data.
    cat = catalog(request, db)
    course = cat.visible(slug, None)
    if course is None:
        return None
    pages = [f"/courses/{course.slug}"] + [f"/courses/{course.slug}/{lesson.slug}" for lesson in course.lessons]
    digest = hashlib.sha256(course.title.encode())
    images: list[str] = []
    if course.cover is not None:
        images.append(course.cover.url)
    for lesson in course.lessons:
        body = cat.body(db, lesson.id)
        digest.update(f"\0{lesson.slug}\0{lesson.title}\0".encode() + body.encode())
        images += [url for url in _IMAGE_URL.findall(body) if url not in images]
    return {"course": course.slug, "title": course.title, "lessons": len(course.lessons),
            "version": digest.hexdigest()[:16], "pages": pages, "images": images}


@router.get("/course-offline/{slug}.json", dependencies=[access.PUBLIC_ROUTE])
def course_offline(request: Request, slug: str, db: Session = Depends(get_session)) -> Any:
    manifest = offline_manifest(request, db, slug)
    if manifest is None:
        raise HTTPException(404)
    return JSONResponse(manifest, headers={"Cache-Control": "no-cache"})
