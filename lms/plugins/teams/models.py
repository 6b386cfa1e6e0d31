"""Community digital technology teams, their villages and members, residents they help, login cards."""

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class Team(SQLModel, table=True):
    """Tổ công nghệ số cộng đồng: one or more villages of a commune."""

    __tablename__ = "teams_team"

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="core_place.id", index=True)
    name: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow)


class TeamVillage(SQLModel, table=True):
    __tablename__ = "teams_team_village"

    team_id: int = Field(foreign_key="teams_team.id", primary_key=True)
    village_id: int = Field(foreign_key="core_place.id", primary_key=True, index=True)


class TeamMember(SQLModel, table=True):
    __tablename__ = "teams_member"

    team_id: int = Field(foreign_key="teams_team.id", primary_key=True)
    user_id: int = Field(foreign_key="core_user.id", primary_key=True, index=True)
    added_at: datetime = Field(default_factory=utcnow)


class AssistedResident(SQLModel, table=True):
    """A resident a team member registered on their behalf."""

    __tablename__ = "teams_assisted_resident"

    user_id: int = Field(foreign_key="core_user.id", primary_key=True)
    team_id: int = Field(foreign_key="teams_team.id", index=True)
    registered_by_id: int = Field(foreign_key="core_user.id")
    registered_at: datetime = Field(default_factory=utcnow, index=True)


class LoginCard(SQLModel, table=True):
    """A printed card whose QR signs a resident in without a password."""

    __tablename__ = "teams_login_card"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    # Only the digest is kept: the token exists on the printed card alone.
    token_digest: str = Field(max_length=64, unique=True)
    created_by_id: int = Field(foreign_key="core_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = Field(default=None)


class ImportBatch(SQLModel, table=True):
    """An uploaded list, parsed and checked, waiting for the member to confirm it."""

    __tablename__ = "teams_import_batch"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams_team.id", index=True)
    member_id: int = Field(foreign_key="core_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    confirmed_at: datetime | None = Field(default=None)
    rows: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
