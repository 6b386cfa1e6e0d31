"""What workers keep in memory (village pickers) is read again only after the data changed."""

from sqlalchemy import event, select, text

from lms.core.models import Place
from lms.core.services import village_choices
from lms.db import read_session
from lms.versions import ContentVersion
from tests.factories import fresh, make_places


def _statements(engine):
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def _names(choices):
    return [(commune.name, [v.name for v in villages]) for commune, villages in choices]


def test_a_picker_is_read_once_and_again_after_a_rename_made_elsewhere(engine, db, make_app):
    places = make_places(db)
    # Two workers: two apps with their own engines on one database.
    first, second = make_app(), make_app()
    seen = _statements(first.state.engine)
    with read_session(first.state.engine) as reads:
        assert _names(village_choices(reads, places.commune.id)) == [("Xã Minh Châu", ["Thôn Đoài", "Thôn Đông"])]
        read_first = len(seen)
        assert _names(village_choices(reads, places.commune.id))[0][1] == ["Thôn Đoài", "Thôn Đông"]
    # Kept: the second look-up read only the version, no place.
    again = seen[read_first:]
    assert len(again) == 1 and "core_content_version" in again[0] and "core_place" not in again[0]

    with second.state.context.transaction() as write:
        write.get(Place, places.villages[0].id).name = "Thôn Đông Hạ"
        write.add(Place(kind="village", name="Thôn Bắc", parent_id=places.commune.id))
    with read_session(first.state.engine) as reads:
        assert _names(village_choices(reads, places.commune.id))[0][1] == ["Thôn Bắc", "Thôn Đoài", "Thôn Đông Hạ"]
    # A village closed is gone from the picker at once.
    with second.state.context.transaction() as write:
        write.get(Place, places.villages[1].id).active = False
    with read_session(first.state.engine) as reads:
        assert _names(village_choices(reads, places.commune.id))[0][1] == ["Thôn Bắc", "Thôn Đông Hạ"]


def test_a_bulk_update_through_a_session_also_changes_the_version(engine, db, make_app):
    from sqlalchemy import update

    places = make_places(db)
    app = make_app()
    with read_session(app.state.engine) as reads:
        assert _names(village_choices(reads))[0][1] == ["Thôn Đoài", "Thôn Đông"]
    with app.state.context.transaction() as write:
        write.execute(update(Place).where(Place.id == places.villages[1].id).values(name="Thôn Đoài Thượng"))
    with read_session(app.state.engine) as reads:
        assert _names(village_choices(reads))[0][1] == ["Thôn Đoài Thượng", "Thôn Đông"]


def test_without_a_version_nothing_is_kept(engine, db, make_app):
    """A database emptied and filled again (no version row) never gets an older copy."""
    places = make_places(db)
    app = make_app()
    with read_session(app.state.engine) as reads:
        assert _names(village_choices(reads))[0][1] == ["Thôn Đoài", "Thôn Đông"]
    # As a restore or a hand-made change would: behind the sessions' back.
    db.connection().exec_driver_sql("DELETE FROM core_content_version")
    db.connection().execute(text("DELETE FROM core_place WHERE id = :id"), {"id": places.villages[0].id})
    db.commit()
    fresh(db)
    assert db.exec(select(ContentVersion)).scalars().all() == []
    with read_session(app.state.engine) as reads:
        assert _names(village_choices(reads))[0][1] == ["Thôn Đoài"]
