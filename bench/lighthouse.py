"""Lighthouse (mobile) on the pages a resident opens: a lesson, the catalog, an event's
registration form and a certificate's verification page, against the real server with demo data.

Prints each category's score. Target (issue #17): performance and accessibility 100 on all four;
the commune page, news and models (issue #20) are measured beside them.
A certificate page is deliberately kept out of search engines (`noindex`: it names a person), which
Lighthouse's SEO category counts against it. Needs `npm ci --prefix bench` and /usr/bin/chromium.
"""

import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import running_server  # noqa: E402

LIGHTHOUSE = Path(__file__).resolve().parent / "node_modules" / ".bin" / "lighthouse"
FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update " \
        "--disable-sync"


def main() -> int:
    if not LIGHTHOUSE.exists():
        print("Lighthouse is missing: npm ci --prefix bench")
        return 1
    with running_server() as (base, env), tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "lms", "demo-data", "--communes", "1", "--learners", "50"],
                       env=env, check=True, capture_output=True)
        with sqlite3.connect(Path(env["LMS_INSTANCE_DIR"]) / "hocvuso.db") as db:
            code = db.execute("SELECT code FROM certificates_certificate LIMIT 1").fetchone()[0]
            event = db.execute("SELECT code FROM events_event ORDER BY starts_at DESC LIMIT 1").fetchone()[0]
            commune = db.execute("SELECT id FROM core_place WHERE kind = 'commune' LIMIT 1").fetchone()[0]
        pages = {"lesson": "/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2", "catalog": "/courses",
                 "event form": f"/e/{event}", "certificate": f"/c/{code}", "commune": f"/xa/{commune}",
                 "news": "/tin-tuc", "models": "/mo-hinh"}
        print(f"{'page':<12}{'perf':>6}{'a11y':>6}{'best':>6}{'seo':>6}")
        for name, path in pages.items():
            report = Path(tmp) / "report.json"
            subprocess.run([str(LIGHTHOUSE), base + path, "--quiet", "--output=json", f"--output-path={report}",
                            "--only-categories=performance,accessibility,best-practices,seo",
                            f"--chrome-flags={FLAGS}"], env={**env, "CHROME_PATH": "/usr/bin/chromium"},
                           check=True, capture_output=True, timeout=180)
            scores = {k: round(v["score"] * 100) for k, v in json.loads(report.read_text())["categories"].items()}
            print(f"{name:<12}{scores['performance']:>6}{scores['accessibility']:>6}{scores['best-practices']:>6}"
                  f"{scores['seo']:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
