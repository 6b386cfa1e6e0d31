"""Provinces and communes from the national list (two levels since 1/7/2025), with their codes.

The list ships in the `vietnam-provinces` package (the statistics office's codes). Units are
matched by code, so running an import again changes nothing and a renamed unit is renamed here;
a unit typed in by hand before, under the same name, is given its code instead of a twin."""

import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlmodel import Session

from lms.core.models import Place
from lms.text import fold

# Prefixes people leave out when they name a province ("Hải Phòng" for "Thành phố Hải Phòng").
_PROVINCE_PREFIX = re.compile(r"^(tinh|thanh pho|tp\.?)\s+")


@dataclass(frozen=True)
class OfficialUnit:
    code: str
    name: str


@dataclass(frozen=True)
class OfficialProvince:
    code: str
    name: str
    communes: tuple[OfficialUnit, ...]


@dataclass
class PlacesImport:
    province: Place
    added: int = 0
    renamed: int = 0
    coded: int = 0  # typed in by hand before, now carrying their code
    unchanged: int = 0


@cache
def provinces() -> tuple[OfficialProvince, ...]:
    from vietnam_provinces import Province, Ward

    wards: dict[int, list[OfficialUnit]] = {}
    for ward in Ward.iter_all():
        wards.setdefault(int(ward.province_code), []).append(OfficialUnit(str(int(ward.code)), ward.name))
    return tuple(sorted(
        (OfficialProvince(str(int(p.code)), _province_name(p.name, p.division_type.value),
                          tuple(sorted(wards.get(int(p.code), []), key=lambda u: fold(u.name))))
         for p in Province.iter_all()), key=lambda p: _bare(p.name)))


def _province_name(name: str, division: str) -> str:
    # The list names cities "Thành phố Hải Phòng" but provinces bare ("Cao Bằng").
    return f"Tỉnh {name}" if division == "tỉnh" and not fold(name).startswith("tinh ") else name


def data_version() -> str:
    import vietnam_provinces

    return vietnam_provinces.__data_version__


def _bare(name: str) -> str:
    return _PROVINCE_PREFIX.sub("", fold(name).strip())


def find_province(query: str) -> OfficialProvince | None:
    """By code ("31") or by name, with or without marks and "Tỉnh"/"Thành phố"."""
    wanted = query.strip()
    for province in provinces():
        if wanted == province.code or _bare(wanted) == _bare(province.name):
            return province
    return None


def import_province(db: Session, official: OfficialProvince) -> PlacesImport:
    """Load the province and all its communes; the caller's transaction commits it."""
    province, how = _upsert(db, kind="province", unit=OfficialUnit(official.code, official.name), parent_id=None)
    report = PlacesImport(province=province)
    _count(report, how)
    for unit in official.communes:
        _, how = _upsert(db, kind="commune", unit=unit, parent_id=province.id)
        _count(report, how)
    db.flush()
    return report


def _count(report: PlacesImport, how: str) -> None:
    setattr(report, how, getattr(report, how) + 1)


def upsert(db: Session, *, kind: str, unit: OfficialUnit, parent_id: int | None) -> Place:
    """One official unit, found by its code (or by its name if typed in by hand), else added."""
    return _upsert(db, kind=kind, unit=unit, parent_id=parent_id)[0]


def _upsert(db: Session, *, kind: str, unit: OfficialUnit, parent_id: int | None) -> tuple[Place, str]:
    place = db.exec(select(Place).where(Place.kind == kind, Place.code == unit.code)).scalars().first()
    if place is not None:
        if place.name == unit.name and place.parent_id == parent_id:
            return place, "unchanged"
        place.name, place.parent_id = unit.name, parent_id
        db.add(place)
        return place, "renamed"
    candidates = db.exec(select(Place).where(Place.kind == kind, Place.code.is_(None))).scalars().all()
    wanted = _bare(unit.name) if kind == "province" else fold(unit.name)
    for candidate in candidates:
        same = _bare(candidate.name) if kind == "province" else fold(candidate.name)
        if same == wanted and (kind == "province" or candidate.parent_id == parent_id):
            candidate.code, candidate.name = unit.code, unit.name
            db.add(candidate)
            return candidate, "coded"
    place = Place(kind=kind, name=unit.name, code=unit.code, parent_id=parent_id)
    db.add(place)
    db.flush()
    return place, "added"
