"""The design's rules, checked: import contracts per plugin, routers that never own a
transaction, handlers that never block the event loop, reads that cannot write."""

import ast
import inspect
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

import lms
from lms.db import ReadOnlySession, read_session
from lms.plugin_host import ENTRY_POINT_GROUP, build_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
LMS = Path(lms.__file__).parent


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def _builtin_plugins(settings) -> dict[str, list[str]]:
    pm = build_plugin_manager(settings)
    out = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        module = pm.get_plugin(entry.name)
        if module is not None and entry.value.startswith("lms.plugins."):
            out[entry.name] = list(module.meta.requires)
    return out


def test_every_plugin_has_a_contract_that_matches_its_requires(settings):
    contracts = _contracts()
    plugins = _builtin_plugins(settings)
    assert set(plugins) == {"courses", "quiz", "certificates", "events", "teams", "stats", "sms", "programmes",
                            "hoi_dap", "tin_tuc", "mo_hinh", "ke_hoach"}
    assert set(contracts["core"]["forbidden_modules"]) == {f"lms.plugins.{name}" for name in plugins}
    for name, requires in plugins.items():
        contract = contracts[f"plugin-{name}"]
        assert contract["source_modules"] == [f"lms.plugins.{name}"]
        assert set(contract["forbidden_modules"]) == {f"lms.plugins.{other}" for other in plugins if other != name}
        allowed = {line.split(" -> ")[1] for line in contract.get("ignore_imports", [])}
        assert allowed == {f"lms.plugins.{required}.services" for required in requires}, name


def test_every_core_module_is_under_the_core_contract():
    sources = set(_contracts()["core"]["source_modules"])
    modules = {f"lms.{path.stem}" for path in LMS.glob("*.py") if path.stem != "__init__"} - {"lms.__main__"}
    assert modules | {"lms.core"} == sources


def test_import_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROKEN" not in result.stdout and "0 broken" in result.stdout


def _router_modules() -> list[Path]:
    return sorted(p for p in LMS.rglob("*.py") if p.name in ("router.py", "api.py"))


@pytest.mark.parametrize("path", _router_modules(), ids=lambda p: str(p.relative_to(LMS)))
def test_routers_never_own_a_transaction(path):
    tree = ast.parse(path.read_text())
    owning = {"commit", "rollback", "begin", "begin_nested", "write_session", "writer", "Session"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in owning:
                found.append(f"{name}() on line {node.lineno}")
    assert not found, f"{path.name} owns a transaction: {found}"


def test_route_handlers_are_plain_functions(app):
    # An async handler that touches the database would block every request of the worker.
    coroutines = [route.path for route in app.routes
                  if isinstance(route, APIRoute) and inspect.iscoroutinefunction(route.endpoint)]
    assert coroutines == []


def test_route_handlers_return_responses_not_data():
    """FastAPI checks a returned dict or list in one more trip to the thread pool, while the
    request still holds its database connection: with every thread waiting for a connection,
    that trip never comes (tests/events/test_burst.py). Handlers return a Response."""
    found = []
    for path in sorted(LMS.rglob("*.py")):
        for handler in ast.walk(ast.parse(path.read_text())):
            if not isinstance(handler, ast.FunctionDef) or not any(
                    isinstance(d, ast.Call) and getattr(d.func, "attr", "") in ("get", "post", "head", "api_route")
                    for d in handler.decorator_list):
                continue
            for node in ast.walk(handler):
                if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict | ast.DictComp | ast.List):
                    found.append(f"{path.relative_to(LMS)}:{node.lineno} {handler.name}")
    assert found == []


def test_a_read_session_cannot_write(engine):
    from sqlalchemy import text

    with read_session(engine) as db:
        assert db.execute(text("SELECT 1")).scalar() == 1
        with pytest.raises(ReadOnlySession):
            db.execute(text("UPDATE core_user SET full_name = 'x'"))
