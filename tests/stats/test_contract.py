"""The plugin contract: stats imports no other plugin; plugins give figures through the hook."""

import ast
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import lms.plugins.stats as stats_package
from lms.plugin_host import flatten
from lms.stats_scope import Figure, StatsDimension, StatsPeriod, StatsScope, local_today

OTHERS = ("courses", "quiz", "certificates", "events", "teams")


def test_stats_imports_no_other_plugin():
    for path in Path(stats_package.__file__).parent.rglob("*.py"):
        source = path.read_text()
        for other in OTHERS:
            assert f"lms.plugins.{other}" not in source, f"{path.name} imports {other}"
        # The text test above misses `from lms.plugins import courses`.
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module == "lms.plugins":
                assert not {a.name for a in node.names} & set(OTHERS), f"{path.name} imports another plugin"


def test_loading_every_stats_module_loads_no_other_plugin():
    # In a fresh interpreter: this one has loaded every plugin already. Indirect imports count too.
    code = ("import importlib, pkgutil, sys, lms.plugins.stats as s\n"
            "for m in pkgutil.iter_modules(s.__path__): importlib.import_module('lms.plugins.stats.' + m.name)\n"
            "print(sorted({k.split('.')[2] for k in sys.modules if k.startswith('lms.plugins.')}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['stats']"


def test_each_plugin_gives_its_figures_as_facts(app, db):
    today = local_today()
    period = StatsPeriod(today - timedelta(days=7), today)
    results = flatten(app.state.pm.hook.stats_figures(scope=StatsScope(db), period=period))
    figures = {r.key: r for r in results if isinstance(r, Figure)}
    assert set(figures) == {"courses.lessons_completed", "courses.completed", "quiz.submitted", "quiz.passed",
                            "quiz.pass_rate", "certificates.issued", "certificates.revoked",
                            "events.registered", "events.checked_in", "hoi_dap.questions", "hoi_dap.unanswered"}
    for figure in figures.values():
        if figure.value is not None:
            # Questions come from visitors too: no learner to count by, so the plugin counts.
            assert figure.key.startswith("hoi_dap.") and figure.value == 0
            continue
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
