"""Page weight of the learner pages on a 360×740 phone in headless Chromium.

Prints, per page, the requests and bytes sent over the network (compressed, as
transferred; images apart) on a first visit, and what a repeat visit fetches.
Target (issue #3): at most 50 KB in at most 6 requests; a repeat visit fetches
only the HTML. A lesson (issue #17): at most 10 KB in 2 requests (HTML and stylesheet).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import running_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
PAGES = {
    "home": "/",
    "catalog": "/courses?audience=nguoi-dan",
    "course": "/courses/vneid-va-dich-vu-cong",
    "lesson": "/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2",
}
BUDGET_BYTES, BUDGET_REQUESTS = 50 * 1024, 6
BUDGETS = {"lesson": (10 * 1024, 2)}


def measure(context, url: str) -> tuple[int, int, list[str]]:
    """(requests that went to the network, bytes transferred, their URLs), images excluded."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    requests: dict[str, dict] = {}

    def sent(event):
        requests[event["requestId"]] = {"url": event["request"]["url"], "type": event.get("type"),
                                        "bytes": 0, "cached": False}

    def cached(event):
        requests[event["requestId"]]["cached"] = True

    def finished(event):
        if event["requestId"] in requests:
            requests[event["requestId"]]["bytes"] = event["encodedDataLength"]

    def received(event):
        item = requests.get(event["requestId"])
        if item and (event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache")):
            item["cached"] = True

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.requestServedFromCache", cached)
    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    page.goto(url, wait_until="networkidle")
    page.close()
    fetched = [r for r in requests.values() if not r["cached"] and r["type"] != "Image"]
    return len(fetched), sum(r["bytes"] for r in fetched), [r["url"] for r in fetched]


def main() -> int:
    from playwright.sync_api import sync_playwright

    failures = 0
    with running_server() as (base, _env), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        print(f"{'page':<8} {'requests':>8} {'KB sent':>8} {'repeat visit':>13}  verdict")
        for name, path in PAGES.items():
            context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
            count, size, urls = measure(context, base + path)
            repeat_count, repeat_size, repeat_urls = measure(context, base + path)
            only_html = repeat_count == 1 and repeat_urls[0].startswith(base + path.split("?")[0])
            budget_bytes, budget_requests = BUDGETS.get(name, (BUDGET_BYTES, BUDGET_REQUESTS))
            ok = size <= budget_bytes and count <= budget_requests and only_html
            failures += not ok
            print(f"{name:<8} {count:>8} {size / 1024:>8.1f} {repeat_count:>4} req "
                  f"{repeat_size / 1024:>5.1f} KB  {'ok' if ok else 'OVER BUDGET'}")
            print("         " + " ".join(u.removeprefix(base) for u in urls))
            context.close()
        browser.close()
    print(f"budget: {BUDGET_BYTES // 1024} KB and {BUDGET_REQUESTS} requests per first visit (a lesson: 10 KB "
          "and 2); a repeat visit fetches only the HTML")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
