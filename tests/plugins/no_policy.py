"""A test plugin whose page forgets to declare who may open it."""

from typing import Any

from fastapi import APIRouter

from lms.hookspecs import hookimpl
from lms.plugin_host import PluginMeta

meta = PluginMeta(name="no_policy", label="Thiếu chính sách truy cập")
router = APIRouter()


@router.get("/no-policy")
def page() -> dict[str, str]:
    return {"ok": "no"}


@hookimpl
def register_routers() -> list[Any]:
    return [router]
