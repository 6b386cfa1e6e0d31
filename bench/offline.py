"""Reading offline, measured in Chromium at 360×740 against the real server: what the service
worker costs, how long saving a course takes and how much it keeps, how fast a lesson reopens
with the network off. Target (issue #18): a lesson opened online reopens offline in under 1 s.

    python bench/offline.py [--course vneid-va-dich-vu-cong]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import running_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
KEPT = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    let bytes = 0, entries = 0;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      bytes += (await (await cache.match(request)).arrayBuffer()).byteLength;
      entries += 1;
    }
    out[name] = [entries, bytes];
  }
  return out;
}"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--course", default="vneid-va-dich-vu-cong")
    args = parser.parse_args()
    with running_server(workers=1) as (base, _env), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="vi-VN")
        page = context.new_page()
        worker_bytes: list[int] = []
        context.on("response", lambda r: worker_bytes.append(len(r.body())) if (
            "/sw.js" in r.url or "workbox-" in r.url) else None)
        course = f"{base}/courses/{args.course}"
        page.goto(course)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        started = time.perf_counter()
        page.get_by_role("button", name="Lưu để học khi không có mạng").click()
        page.get_by_text("để học khi không có mạng.").last.wait_for(timeout=60_000)
        saving = time.perf_counter() - started
        kept = page.evaluate(KEPT)
        lessons = page.evaluate(f"fetch('/course-offline/{args.course}.json').then(r => r.json())")["pages"][1:]
        context.set_offline(True)
        reopen = []
        for lesson in lessons:
            started = time.perf_counter()
            page.goto(f"{base}{lesson}")
            page.locator("main h1, main h2").first.wait_for()
            reopen.append(time.perf_counter() - started)
        browser.close()
    print(f"service worker and Workbox: {sum(worker_bytes) / 1024:.1f} KB, loaded after the page")
    print(f"saving {args.course}: {saving * 1000:.0f} ms")
    for name, (entries, size) in sorted(kept.items()):
        print(f"  cache {name}: {entries} entries, {size / 1024:.1f} KB")
    worst = max(reopen)
    print(f"lessons reopened offline: {len(reopen)}, median {sorted(reopen)[len(reopen) // 2] * 1000:.0f} ms, "
          f"worst {worst * 1000:.0f} ms (target < 1000 ms) {'ok' if worst < 1 else 'SLOW'}")
    return 0 if worst < 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
