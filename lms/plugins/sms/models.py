"""Messages the development gateway "sent": kept here instead of reaching a phone."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from lms.db import utcnow


class SmsMessage(SQLModel, table=True):
    __tablename__ = "sms_message"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=10, index=True)
    text: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
