"""Pages of the teams plugin (filled in below)."""

from fastapi import APIRouter

router = APIRouter()
