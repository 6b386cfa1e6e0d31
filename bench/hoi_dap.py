"""The Q&A assistant against its evaluation set (bench/hoi_dap/*.yaml: questions written the way
residents type them, each with the answers that would be right): top-1 and top-3 accuracy,
and the time to answer, in the service and through the real server's /hoi-dap page.
Target (issue #19): top-3 ≥ 90 %, p95 ≤ 300 ms, on SQLite and PostgreSQL.

    python bench/hoi_dap.py [--postgres postgresql://postgres@127.0.0.1:5432/test] [--misses]
"""

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2 as httpx  # noqa: E402

from bench._server import running_server  # noqa: E402

HERE = Path(__file__).parent / "hoi_dap"


def questions() -> list[dict]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        out += yaml.safe_load(path.read_text("utf-8"))
    return out


def _right(url: str, expect: list[str]) -> bool:
    target = url.split("#")[0]
    return any(target == (f"/hoi-dap/{e[4:]}" if e.startswith("faq:") else e) for e in expect)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@dataclass
class Result:
    top1: int = 0
    top3: int = 0
    answered: int = 0
    refused: int = 0
    service_ms: list = field(default_factory=list)
    misses: list = field(default_factory=list)
    false_answers: list = field(default_factory=list)


def evaluate(db, cases: list[dict], negatives: list[dict], *, semantic: bool) -> Result:
    from lms.plugins.hoi_dap import services

    result = Result()
    services.ask(db, "khởi động", semantic=semantic)  # a worker's first question loads its caches
    for case in cases:
        started = time.perf_counter()
        answer = services.ask(db, case["q"], semantic=semantic)
        result.service_ms.append((time.perf_counter() - started) * 1000)
        urls = [hit.url for hit in answer.hits]
        result.top1 += bool(urls) and _right(urls[0], case["expect"])
        hit3 = any(_right(url, case["expect"]) for url in urls[:3])
        result.top3 += hit3
        result.answered += answer.answered
        if not hit3:
            result.misses.append((case["q"], case["expect"], urls[:3]))
    for case in negatives:
        answer = services.ask(db, case["q"], semantic=semantic)
        result.refused += not answer.answered
        if answer.answered:
            result.false_answers.append((case["q"], [hit.url for hit in answer.hits[:1]]))
    return result


def report(name: str, result: Result, n: int, negatives: int, misses: bool) -> None:
    print(f"{name}: top-1 {result.top1 / n:.1%}, top-3 {result.top3 / n:.1%}; says it has an answer for "
          f"{result.answered / n:.1%} of the answerable and for {negatives - result.refused} of {negatives} "
          f"questions nothing answers")
    print(f"  service time: p50 {statistics.median(result.service_ms):.1f} ms, "
          f"p95 {_percentile(result.service_ms, 0.95):.1f} ms, max {max(result.service_ms):.1f} ms")
    if misses:
        for question, expect, got in result.misses:
            print(f"  miss: {question!r} expected {expect} got {got}")
        for question, got in result.false_answers:
            print(f"  answered though nothing should: {question!r} got {got}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a PostgreSQL URL; a new schema is made and dropped")
    parser.add_argument("--misses", action="store_true", help="list the questions not answered in the top 3")
    args = parser.parse_args()
    database_url, schema = None, None
    if args.postgres:
        import sqlalchemy as sa

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://"))
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        database_url = f"{args.postgres}?options=-csearch_path%3D{schema}"
    everything = questions()
    negatives = [case for case in everything if not case["expect"]]
    cases = [case for case in everything if case["expect"]]
    fused = embed_seconds = None
    try:
        with running_server(workers=1, database_url=database_url) as (base, env):
            subprocess.run([sys.executable, "-m", "lms", "hoi-dap", "sync"], env=env, check=True, capture_output=True)
            from lms.db import make_engine, read_session, write_session
            from lms.plugins.hoi_dap import index, semantic
            from lms.settings import Settings

            settings = Settings(instance_dir=Path(env["LMS_INSTANCE_DIR"]),
                                database_url=env.get("LMS_DATABASE_URL", ""))
            engine = make_engine(settings)
            with read_session(engine) as db:
                bm25 = evaluate(db, cases, negatives, semantic=False)
            if semantic.available():
                started = time.perf_counter()
                with write_session(engine) as db:
                    index.rebuild(db, semantic=True)
                embed_seconds = time.perf_counter() - started
                fused = {}
                from lms.plugins.hoi_dap import search

                configured = search.SEMANTIC_WEIGHT
                for weight in sorted({0.0, 0.25, 0.5, 1.0, configured}):
                    search.SEMANTIC_WEIGHT = weight
                    with read_session(engine) as db:
                        fused[weight] = evaluate(db, cases, negatives, semantic=True)
                search.SEMANTIC_WEIGHT = configured
            engine.dispose()
            page_ms = []
            with httpx.Client(base_url=base, timeout=30) as client:
                client.get("/hoi-dap", params={"q": "khởi động"})
                for case in cases[:29]:  # under the per-client limit of 30 a minute
                    started = time.perf_counter()
                    response = client.get("/hoi-dap", params={"q": case["q"]})
                    page_ms.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.status_code
    finally:
        if schema:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    n = len(cases)
    engine_name = "PostgreSQL" if args.postgres else "SQLite"
    files = len(list(HERE.glob("*.yaml")))
    print(f"{engine_name}: {n} questions with an answer, {len(negatives)} without, from {files} files")
    report("BM25", bm25, n, len(negatives), args.misses)
    if fused is None:
        print("fused ranking: not measured (pip install '.[semantic]' for the semantic ranker)")
    else:
        print(f"semantic ranker: passages embedded in {embed_seconds:.1f} s")
        for weight, result in fused.items():
            report(f"BM25 + semantic, reciprocal rank fusion with the semantic ranking at {weight:g}", result, n,
                   len(negatives), args.misses and weight == 0.0)
    print(f"/hoi-dap page through the server (BM25): p50 {statistics.median(page_ms):.1f} ms, "
          f"p95 {_percentile(page_ms, 0.95):.1f} ms ({len(page_ms)} requests)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
