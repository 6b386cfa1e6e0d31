"""Building the search index: every FAQ entry and every lesson section becomes a passage; its
folded words (and pairs of adjacent words: Vietnamese words are mostly two syllables) become
postings with their weighted frequency. Rebuilt whole in one transaction (a few thousand
passages take about a second); readers keep the old index until it commits."""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from lms.db import insert_ignore, utcnow
from lms.plugins.courses import services as courses
from lms.plugins.hoi_dap.fold import MARKED, tokens
from lms.plugins.hoi_dap.models import Embedding, FaqEntry, IndexState, Passage, Posting, Word
from lms.plugins.hoi_dap.semantic import passage_text, text_hash

# A word in the question or the heading counts this many times one in the body.
HEAD_WEIGHT = 3.0
SNIPPET_CHARS = 320
MAX_WORD = 39  # longer "words" are pasted links or codes; a pair of two still fits the column
SKIPPED_SECTIONS = frozenset({"nguon-tham-khao"})  # the list of sources is not an answer


@dataclass
class _Passage:
    kind: str
    url: str
    title: str
    section: str
    group: str
    text: str
    head: str
    reviewed: date | None
    commune_id: int | None


# Written in batches: all of them at once (~150,000 rows for the shipped content) held a worker's
# memory tens of MB above its usual size after every rebuild.
POSTINGS_PER_INSERT = 5000


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _terms(text: str, weight: float, counts: Counter) -> float:
    pieces = [(word, marked) for word, marked in tokens(text) if len(word) <= MAX_WORD]
    found = [word for word, _marked in pieces]
    for word, marked in pieces:
        counts[word] += weight
        if marked is not None:
            counts[MARKED + marked] += weight
    for first, second in zip(found, found[1:], strict=False):
        counts[f"{first}_{second}"] += weight
    return weight * len(found)


def _faq_passages(db: Session) -> list[_Passage]:
    from lms.plugins.hoi_dap.markup import plain_text

    rows = db.exec(select(FaqEntry).where(FaqEntry.retired.is_(False)).order_by(FaqEntry.id)).scalars().all()
    return [_Passage("faq", f"/hoi-dap/{row.slug}", row.question, "", row.topic_title, plain_text(row.answer_md),
                     " ".join([row.question, *row.also_asked]), row.reviewed, row.commune_id) for row in rows]


def _lesson_passages(db: Session) -> list[_Passage]:
    out = []
    for part in courses.lesson_sections(db):
        if part.anchor in SKIPPED_SECTIONS or not part.text.strip():
            continue
        url = f"/courses/{part.course_slug}/{part.lesson_slug}" + (f"#{part.anchor}" if part.anchor else "")
        out.append(_Passage("lesson", url, part.lesson_title, part.heading, part.course_title, part.text,
                            f"{part.lesson_title} {part.heading}", None, part.commune_id))
    return out


def _embed_new(db: Session, passages: list[_Passage]) -> None:
    from lms.plugins.hoi_dap import semantic

    if not semantic.available():
        return
    texts = {text_hash(t): t for t in (passage_text(p.title, p.section, p.text) for p in passages)}
    known = set(db.exec(select(Embedding.text_hash).where(Embedding.text_hash.in_(list(texts)))).scalars().all())
    missing = [(key, text) for key, text in texts.items() if key not in known]
    if missing:
        vectors = semantic.embed_passages([text for _key, text in missing])
        db.execute(insert(Embedding), [{"text_hash": key, "vector": vector}
                                       for (key, _text), vector in zip(missing, vectors, strict=True)])


def rebuild(db: Session, *, semantic: bool = False) -> int:
    """Replace the whole index inside the caller's transaction; returns the passages indexed.
    `semantic`: also embed, with the optional model, the passages not embedded before.

    Two rebuilds at once (a sync while a worker handles courses.content_changed) take turns on
    the state row's lock: the second deletes what the first wrote instead of colliding with it."""
    insert_ignore(db, IndexState, {"id": 1, "version": 0, "passages": 0, "average_length": 0.0,
                                   "built_at": utcnow()}, ["id"])
    state = db.exec(select(IndexState).where(IndexState.id == 1).with_for_update()).scalars().one()
    passages = _faq_passages(db) + _lesson_passages(db)
    db.execute(delete(Posting))
    db.execute(delete(Word))
    db.execute(delete(Passage))
    documents: Counter = Counter()
    total_length = 0.0
    postings = []
    for passage in passages:
        counts: Counter = Counter()
        length = _terms(passage.head, HEAD_WEIGHT, counts) + _terms(passage.text, 1.0, counts)
        row = Passage(kind=passage.kind, url=passage.url, title=passage.title, section=passage.section,
                      group=passage.group, snippet=snippet(passage.text), reviewed=passage.reviewed,
                      commune_id=passage.commune_id, length=int(length),
                      text_hash=text_hash(passage_text(passage.title, passage.section, passage.text)))
        db.add(row)
        db.flush()
        total_length += length
        documents.update(counts.keys())
        postings += [{"term": term, "passage_id": row.id, "tf": tf} for term, tf in counts.items()]
        if len(postings) >= POSTINGS_PER_INSERT:
            db.execute(insert(Posting), postings)
            postings = []
    if postings:
        db.execute(insert(Posting), postings)
    if documents:
        db.execute(insert(Word), [{"term": term, "df": df} for term, df in documents.items()])
    if semantic and passages:
        _embed_new(db, passages)
    state.version += 1
    state.passages = len(passages)
    state.average_length = total_length / len(passages) if passages else 0.0
    state.built_at = utcnow()
    db.add(state)
    return len(passages)
