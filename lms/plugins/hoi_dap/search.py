"""Answering a question: fold it, mend misspelt words against the index's vocabulary, rank the
passages with BM25 over words and word pairs, and say whether the best one answers at all.

The same code and the same tables on SQLite and PostgreSQL (the engines' own ranking functions
differ, so one of them would be evaluated and the other trusted); the postings of the question's
terms are read through the (term, passage) index, a few hundred rows."""

import math
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from lms.plugins.hoi_dap.fold import FILLER, MARKED, tokens
from lms.plugins.hoi_dap.models import Embedding, IndexState, Passage, Posting, Word

K1, B = 1.2, 0.75
MAX_QUESTION = 300  # characters read of a question
MAX_TERMS = 24
RESULTS = 5
# The best passage must hold words carrying this share of the question's weight (IDF).
MIN_COVERAGE = 0.5
PAIR_BOOST = 1.5  # two words found side by side, as asked, count a little more
WRONG_MARK_WEIGHT = 0.3  # "lúa" typed, "lua"/"lừa" found: a little, in case the mark was wrong
# With the semantic ranker: a passage close in meaning answers with less of the words.
MIN_SIMILARITY = 0.86
MIN_COVERAGE_WITH_MEANING = 0.3
RRF_K = 60  # reciprocal rank fusion: 1 / (60 + rank) from each ranking
# The semantic ranking's share beside BM25's. Measured on bench/hoi_dap (116 questions, most
# typed without marks): every share above 0 ranked worse (top-3 92 % → 89 % at 0.25, 85 % at 1),
# so the model only helps say whether the best passage answers (MIN_SIMILARITY).
SEMANTIC_WEIGHT = 0.0
CANDIDATES = 30
MENDED_WEIGHT = 0.7  # a word read as another ("thuy" as "thu") is less sure than one typed right


@dataclass(frozen=True)
class Hit:
    kind: str
    url: str
    title: str
    section: str
    group: str
    snippet: str
    reviewed: date | None
    score: float
    coverage: float
    similarity: float = 0.0  # the semantic ranker's cosine, when it ranked


@dataclass(frozen=True)
class Answer:
    question: str
    words: tuple[str, ...]  # what was searched, misspellings mended
    mended: tuple[tuple[str, str], ...]  # (typed, read as)
    hits: tuple[Hit, ...]

    @property
    def answered(self) -> bool:
        return bool(self.hits) and (self.hits[0].coverage >= MIN_COVERAGE or (
            self.hits[0].similarity >= MIN_SIMILARITY and self.hits[0].coverage >= MIN_COVERAGE_WITH_MEANING))


class _Vocabulary:
    """The index's words and their document counts, per worker, reloaded when a rebuild
    bumps the index version (one small query per question checks it)."""

    def __init__(self) -> None:
        self.version = -1
        self.df: dict[str, int] = {}
        self.by_length: dict[int, list[str]] = {}
        self.passages = 0
        self.average_length = 1.0
        self._lock = threading.Lock()

    def refresh(self, db: Session) -> "_Vocabulary":
        state = db.exec(select(IndexState.version, IndexState.passages, IndexState.average_length)
                        .where(IndexState.id == 1)).first()
        version = state[0] if state else 0
        if version == self.version:
            return self
        with self._lock:
            df = dict(db.exec(select(Word.term, Word.df)).all())
            by_length: dict[int, list[str]] = defaultdict(list)
            for term in df:
                if "_" not in term and not term.startswith(MARKED):
                    by_length[len(term)].append(term)
            self.df, self.by_length = df, dict(by_length)
            self.passages = state[1] if state else 0
            self.average_length = (state[2] if state else 0) or 1.0
            self.version = version
        return self

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.passages - df + 0.5) / (df + 0.5))

    def mend(self, word: str) -> str | None:
        """The indexed word closest to a misspelt one ("chuyne" → "chuyen", "dnah" → "danh"):
        one edit away (two for long words), the most common such word when several are. A short
        syllable one letter off is most often another real word ("thuy" → "thu"), so below five
        letters only two neighbours swapped are mended."""
        if word in self.df:
            return word
        if len(word) < 4 or word.isdigit():
            return None
        if len(word) == 4:
            swaps = [word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(3)]
            known = [swap for swap in swaps if swap in self.df and "_" not in swap]
            return max(known, key=lambda term: self.df[term]) if known else None
        allowed = 1 if len(word) < 8 else 2
        best: tuple[int, int, str] | None = None
        for size in range(len(word) - allowed, len(word) + allowed + 1):
            for term in self.by_length.get(size, ()):
                distance = _edits(word, term, allowed)
                if distance <= allowed and (best is None or (distance, -self.df[term]) < best[:2]):
                    best = (distance, -self.df[term], term)
        return best[2] if best else None

    @property
    def unknown_idf(self) -> float:
        return math.log(1 + (self.passages + 0.5) / 0.5)

    def split(self, word: str) -> list[str] | None:
        """A run of syllables typed without spaces ("dichvucong") cut into indexed words."""
        if len(word) < 6:
            return None
        best: list[list[str] | None] = [None] * (len(word) + 1)
        best[0] = []
        for end in range(1, len(word) + 1):
            for start in range(max(0, end - 7), end):
                head, piece, current = best[start], word[start:end], best[end]
                if head is not None and len(piece) >= 2 and piece in self.df and (
                        current is None or len(head) + 1 < len(current)):
                    best[end] = [*head, piece]
        return best[len(word)] if best[len(word)] and len(best[len(word)]) > 1 else None


def _edits(a: str, b: str, limit: int) -> int:
    """Edits from a to b (insert, delete, replace, swap two neighbours), or limit + 1 once over."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class _Meanings:
    """The passages' vectors, per worker, as one matrix, reloaded when the index version moves."""

    def __init__(self) -> None:
        self.version = -1
        self.ids: list[int] = []
        self.communes: list[int | None] = []
        self.matrix: Any = None
        self._lock = threading.Lock()

    def closest(self, db: Session, version: int, question: str, commune_id: int | None, count: int
                ) -> dict[int, float]:
        from lms.plugins.hoi_dap import semantic

        if not question or not semantic.available():
            return {}
        import numpy

        if version != self.version:
            with self._lock:
                rows = db.exec(select(Passage.id, Passage.commune_id, Embedding.vector)
                               .join(Embedding, Embedding.text_hash == Passage.text_hash)
                               .order_by(Passage.id)).all()
                self.ids = [row[0] for row in rows]
                self.communes = [row[1] for row in rows]
                self.matrix = numpy.vstack([numpy.frombuffer(row[2], dtype=numpy.float32) for row in rows]) \
                    if rows else None
                self.version = version
        if self.matrix is None:
            return {}
        similarity = self.matrix @ semantic.embed_question(question)
        order = numpy.argsort(-similarity)
        out: dict[int, float] = {}
        for index in order:
            if self.communes[index] is None or self.communes[index] == commune_id:
                out[self.ids[index]] = float(similarity[index])
                if len(out) == count:
                    break
        return out


_vocabulary = _Vocabulary()
_meanings = _Meanings()


def vocabulary(db: Session) -> _Vocabulary:
    return _vocabulary.refresh(db)


@dataclass(frozen=True)
class _Word:
    folded: str
    marked: str | None  # as typed with its marks, when they tell it apart
    mended: bool = False
    filler: bool = False
    unknown: bool = False  # in no passage: nothing can answer it, so it weighs as the rarest word


def _read_words(text: str, vocab: _Vocabulary) -> tuple[list[_Word], list[tuple[str, str]]]:
    read: list[_Word] = []
    mended: list[tuple[str, str]] = []
    for word, marked in tokens(text[:MAX_QUESTION])[:MAX_TERMS]:
        if word in FILLER:
            read.append(_Word(word, marked, filler=True))
            continue
        known = vocab.mend(word)
        if known == word:
            read.append(_Word(word, marked))
        elif known is not None:
            read.append(_Word(known, None, mended=True))
            mended.append((marked or word, known))
        elif pieces := vocab.split(word):
            read += [_Word(piece, None, mended=True) for piece in pieces]
            mended.append((word, " ".join(pieces)))
        else:
            read.append(_Word(word, marked, unknown=True))
    return read, mended


def _weights(read: list[_Word], vocab: _Vocabulary) -> tuple[dict[str, float], set[str]]:
    """Each term searched and its weight; and the terms that say whether a passage answers.

    A word typed with its marks is searched as typed ("lúa" is not "lừa"); as folded it still
    counts a little, for a mark typed wrong. Filler is searched only inside a pair found in the
    index ("một cửa")."""
    weights: dict[str, float] = {}
    decisive: set[str] = set()
    words = [word for word in read if not word.filler] or read
    for word in words:
        if word.unknown:
            term = word.folded
            weights[term] = vocab.unknown_idf
        elif word.marked and MARKED + word.marked in vocab.df:
            term = MARKED + word.marked
            weights[term] = vocab.idf(term)
            weights.setdefault(word.folded, WRONG_MARK_WEIGHT * vocab.idf(word.folded))
        else:
            term = word.folded
            weights[term] = vocab.idf(term) * (MENDED_WEIGHT if word.mended else 1.0)
        decisive.add(term)
    for first, second in zip(read, read[1:], strict=False):
        pair = f"{first.folded}_{second.folded}"
        if pair in vocab.df:
            weights[pair] = vocab.idf(pair) * PAIR_BOOST
            decisive.add(pair)
    return weights, decisive


def ask(db: Session, question: str, *, commune_id: int | None = None, limit: int = RESULTS,
        semantic: bool = False) -> Answer:
    """The passages answering `question`, best first. `commune_id`: the asker's commune, whose
    own entries and courses are searched beside the installation's. `semantic`: fuse BM25's
    ranking with the semantic ranker's (when its package is installed)."""
    question = " ".join((question or "").split())[:MAX_QUESTION]
    vocab = vocabulary(db)
    read, mended = _read_words(question, vocab)
    searched = tuple(word.folded for word in read)
    weights, decisive = _weights(read, vocab)
    if not weights or not vocab.passages:
        return Answer(question, searched, tuple(mended), ())
    visible = Passage.commune_id.is_(None) if commune_id is None else or_(
        Passage.commune_id.is_(None), Passage.commune_id == commune_id)
    rows = db.exec(select(Posting.term, Posting.passage_id, Posting.tf, Passage.length)
                   .join(Passage, Passage.id == Posting.passage_id)
                   .where(Posting.term.in_(list(weights)), visible)).all()
    scores: dict[int, float] = defaultdict(float)
    found: dict[int, set[str]] = defaultdict(set)
    for term, passage_id, tf, length in rows:
        norm = K1 * (1 - B + B * length / vocab.average_length)
        scores[passage_id] += weights[term] * tf * (K1 + 1) / (tf + norm)
        found[passage_id].add(term)
    asked = sum(weights[term] for term in decisive) or 1.0
    best = sorted(scores, key=lambda pid: (-scores[pid], pid))
    similar: dict[int, float] = {}
    if semantic:
        similar = _meanings.closest(db, vocab.version, question, commune_id, CANDIDATES)
    if similar:
        fused: dict[int, float] = defaultdict(float)
        for rank, pid in enumerate(best[:CANDIDATES]):
            fused[pid] += 1 / (RRF_K + rank)
        for rank, pid in enumerate(sorted(similar, key=lambda pid: -similar[pid])):
            fused[pid] += SEMANTIC_WEIGHT / (RRF_K + rank)
        best = sorted(fused, key=lambda pid: (-fused[pid], pid))
    best = best[:limit]
    passages = {p.id: p for p in db.exec(select(Passage).where(Passage.id.in_(best))).scalars().all()} if best else {}
    hits = tuple(
        Hit(p.kind, p.url, p.title, p.section, p.group, p.snippet, p.reviewed, round(scores.get(pid, 0.0), 3),
            round(sum(weights[t] for t in found[pid] & decisive) / asked, 3), round(similar.get(pid, 0.0), 3))
        for pid in best if (p := passages.get(pid)) is not None)
    return Answer(question, searched, tuple(mended), hits)
