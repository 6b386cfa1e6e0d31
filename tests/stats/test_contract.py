"""The plugin contract: stats imports no other plugin; plugins give figures through the hook."""

from datetime import timedelta
from pathlib import Path

import pytest

import lms.plugins.stats as stats_package
from lms.plugins import flatten
from lms.stats_scope import Figure, StatsDimension, StatsPeriod, StatsScope, local_today


def test_stats_imports_no_other_plugin():
    for path in Path(stats_package.__file__).parent.rglob("*.py"):
        source = path.read_text()
        for other in ("courses", "quiz", "certificates", "events", "teams"):
            assert f"lms.plugins.{other}" not in source, f"{path.name} imports {other}"


def test_each_plugin_gives_its_figures_as_facts(app, db):
    today = local_today()
    period = StatsPeriod(today - timedelta(days=7), today)
    results = flatten(app.state.pm.hook.stats_figures(scope=StatsScope(db), period=period))
    figures = {r.key: r for r in results if isinstance(r, Figure)}
    assert set(figures) == {"courses.lessons_completed", "courses.completed", "quiz.submitted", "quiz.passed",
                            "quiz.pass_rate", "certificates.issued", "certificates.revoked",
                            "events.registered", "events.checked_in"}
    for figure in figures.values():
        if figure.ratio:
            assert set(figure.ratio) <= set(figures)
            continue
        columns = set(figure.facts.subquery().c.keys())
        assert columns == {"at", "user_id", "course_id"}, figure.key
        assert db.exec(figure.facts).all() == []  # a valid query on an empty database
    assert {f.key for f in figures.values() if f.activity} == {
        "courses.lessons_completed", "quiz.submitted", "events.checked_in"}
    assert [r.name for r in results if isinstance(r, StatsDimension)] == ["course"]


@pytest.mark.parametrize("scope", ["all", None, object()])
def test_a_scope_that_is_not_a_stats_scope_gets_nothing(app, scope):
    assert flatten(app.state.pm.hook.stats_figures(scope=scope, period=None)) == []
