"""The quiz plugin: question types as plugins, attempts graded on the server."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta
from lms.plugins.quiz import hookspecs  # noqa: F401 - question types, assisted learners
from lms.plugins.quiz.merging import merge_accounts  # noqa: F401 - a hook implementation
from lms.plugins.quiz.personal_data import (  # noqa: F401 - hook implementations
    personal_data_erase,
    personal_data_export,
)

meta = PluginMeta(name="quiz", label="Bài kiểm tra", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.quiz.router import router
    from lms.plugins.quiz.studio import router as studio

    return [router, studio]


@hookimpl
def question_types() -> list[Any]:
    from lms.plugins.quiz.builtin_types import builtin_types

    return builtin_types()


@hookimpl
def course_requirements(db: Any, course: Any, user_id: int) -> list[Any]:
    from lms.plugins.courses.services import Requirement
    from lms.plugins.quiz import services

    quiz = services.quiz_of(db, course)
    if not quiz:
        return []
    passed = services.has_passed(db, user_id=user_id, course_id=course.id)
    return [Requirement(f"Đạt bài kiểm tra cuối khóa (từ {quiz['pass_mark']}% trở lên)", passed,
                        f"/quiz/{course.slug}")]


@hookimpl(optionalhook=True)
def resident_sections(request: Any, db: Any, person: Any, helper: Any) -> list[Any]:
    # The teams plugin's resident page; teams may be disabled, hence optional.
    from lms.plugins.quiz.sections import resident_section

    return [resident_section(request, db, person)]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("staff", "admin"):
        return [NavItem("Thống kê bài kiểm tra", "/staff/quizzes", 75, area="staff")]
    return []


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from lms.plugins.quiz.figures import stats_figures as figures

    return figures(scope, period)



@hookimpl(optionalhook=True)
def studio_sections(request: Any, db: Any, draft: Any) -> list[Any]:
    # The courses plugin's editor page: this course's quiz and the way to its editor.
    from lms.plugins.quiz.studio import studio_section

    return [studio_section(request, db, draft)]
