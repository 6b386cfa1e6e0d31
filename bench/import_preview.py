"""Preview of a 5,000-row resident list (target: under 10 seconds).

Builds a commune, a team and 1,000 existing residents, writes an XLSX of 5,000
rows (good rows, duplicates and errors mixed) and times `services.preview` on
it, then the whole upload through HTTP. Prints the figures.
"""

import io
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROWS = 5_000
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Quốc"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Lan", "Linh", "Mai",
         "Nam", "Nga", "Phúc", "Quân", "Tâm", "Thảo", "Tuấn", "Vân", "Xuân", "Yến"]


def main() -> int:
    from fastapi.testclient import TestClient
    from openpyxl import Workbook
    from sqlmodel import SQLModel

    from lms.app import create_app
    from lms.core.models import Place, User
    from lms.core.services import password_context
    from lms.db import make_engine, write_session
    from lms.migrations import import_all_models
    from lms.plugins.teams import services
    from lms.plugins.teams.models import Team, TeamMember, TeamVillage
    from lms.settings import Settings

    rng = random.Random(57)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(instance_dir=Path(tmp), secret_key="bench", argon2_time_cost=1,
                            argon2_memory_cost=1024)
        import_all_models(settings)
        engine = make_engine(settings)
        SQLModel.metadata.create_all(engine)
        with write_session(engine) as db:
            province = Place(kind="province", name="Tỉnh Thử")
            db.add(province)
            db.flush()
            commune = Place(kind="commune", name="Xã Thử", parent_id=province.id)
            db.add(commune)
            db.flush()
            villages = [Place(kind="village", name=f"Thôn {i}", parent_id=commune.id) for i in range(1, 13)]
            db.add_all(villages)
            db.flush()
            team = Team(commune_id=commune.id, name="Tổ thử")
            db.add(team)
            db.flush()
            for v in villages:
                db.add(TeamVillage(team_id=team.id, village_id=v.id))
            member = User(full_name="Thành Viên Tổ", phone="0900000009", role="team_member",
                          commune_id=commune.id, password_hash=password_context(settings).hash("mật khẩu thử"))
            db.add(member)
            db.flush()
            db.add(TeamMember(team_id=team.id, user_id=member.id))
            for i in range(1_000):
                db.add(User(full_name=_name(rng), phone=f"09{20_000_000 + i:08d}", role="learner",
                            village_id=rng.choice(villages).id, commune_id=commune.id,
                            birth_year=rng.randint(1940, 2000)))
            team_id = team.id
        book = Workbook()
        sheet = book.active
        sheet.append(services.IMPORT_HEADERS)
        for i in range(ROWS):
            kind = rng.random()
            phone = f"09{30_000_000 + i:08d}" if kind < 0.6 else ""
            if kind > 0.97:
                phone = "12345"  # an error
            elif 0.9 < kind <= 0.97:
                phone = f"09{20_000_000 + rng.randint(0, 999):08d}"  # a duplicate of someone
            sheet.append([_name(rng), phone, f"Thôn {rng.randint(1, 13)}", "Người dân", rng.randint(1940, 2005)])
        buffer = io.BytesIO()
        book.save(buffer)
        data = buffer.getvalue()

        from sqlmodel import Session

        with Session(engine) as db:
            team = db.get(Team, team_id)
            started = time.perf_counter()
            table = services.read_table("ds.xlsx", data)
            read = time.perf_counter() - started
            rows = services.preview(db, team=team, table=table)
            checked = time.perf_counter() - started - read
        counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("create", "duplicate", "error")}
        print(f"{ROWS} rows ({len(data) // 1024} KB XLSX): read {read:.2f} s, checked {checked:.2f} s; "
              f"{counts['create']} to create, {counts['duplicate']} duplicates, {counts['error']} errors")

        app = create_app(settings)
        with TestClient(app) as client:
            page = client.get("/login").text
            import re

            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
            client.post("/login", data={"csrf_token": token, "phone": "0900000009", "password": "mật khẩu thử"})
            form_page = client.get(f"/teams/{team_id}/import").text
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form_page).group(1)
            started = time.perf_counter()
            response = client.post(f"/teams/{team_id}/import", data={"csrf_token": token},
                                   files={"file": ("ds.xlsx", data, "application/octet-stream")},
                                   follow_redirects=False)
            upload = time.perf_counter() - started
            started = time.perf_counter()
            preview_page = client.get(response.headers["location"])
            shown = time.perf_counter() - started
        total = upload + shown
        print(f"through HTTP: upload and preview {upload:.2f} s, preview page {shown:.2f} s "
              f"(status {response.status_code}/{preview_page.status_code}); target under 10 s: "
              f"{'ok' if total < 10 else 'TOO SLOW'}")
        engine.dispose()
        return 0 if total < 10 else 1


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


if __name__ == "__main__":
    raise SystemExit(main())
