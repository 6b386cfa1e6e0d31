"""/staff/sms: what the development gateway would have sent."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from lms import security as access
from lms.core.models import User
from lms.core.recovery_services import active_gateway
from lms.db import get_session
from lms.plugins.sms import services
from lms.templating import render

router = APIRouter()


@router.get("/staff/sms")
def outbox(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    gateway = active_gateway(request.app.state.context)
    return render(request, "sms/outbox.html", {
        "rows": services.messages_for(db, user), "gateway": gateway, "keep_days": services.KEEP_DAYS,
    }, headers={"Cache-Control": "no-store"})
