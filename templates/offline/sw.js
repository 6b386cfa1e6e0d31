/* The site's service worker (scope /), built from the vendored Workbox runtime.
   What it keeps: pages the server marks with X-Offline-Copy (lessons, courses, the catalog: no
   personal data; for a signed-in person, a copy fetched without cookies), hashed static files,
   lesson images. Nothing else, so no page with personal data lands in Cache Storage. */
importScripts({% for url in workbox %}"{{ url }}"{% if not loop.last %}, {% endif %}{% endfor %});

const VERSION = "{{ version }}";
const PAGES = "hvs-trang";
const FILES = "hvs-tep-" + VERSION;
const OFFLINE_URL = "/offline";
const {registerRoute, setCatchHandler} = workbox.routing;
const {NetworkFirst, CacheFirst} = workbox.strategies;
const {ExpirationPlugin} = workbox.expiration;
const {CacheableResponsePlugin} = workbox.cacheableResponse;
const {Queue} = workbox.backgroundSync;
const STYLESHEET = "{{ stylesheet }}";
const FORMS = {{ forms|tojson }}.map((form) => ({pattern: new RegExp(form.pattern), label: form.label}));
const CONFIRM = "hvs-xac-nhan";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const files = await caches.open(FILES);
    await files.addAll({{ precache|tojson }});
    const pages = await caches.open(PAGES);
    await pages.add(new Request(OFFLINE_URL, {credentials: "omit"}));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("hvs-tep-") && name !== FILES) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Which copy of a page may be kept: the server says, page by page.
async function publicCopy(url) {
  try {
    const response = await fetch(url, {credentials: "omit", redirect: "error"});
    if (response.ok && response.headers.get("X-Offline-Copy") === "this") {
      await (await caches.open(PAGES)).put(url, response);
    }
  } catch (error) { /* offline again: the older copy stays */ }
}

function freshKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (c) => ({"+": "-", "/": "_", "=": ""}[c]));
}

const keepMarkedPages = {
  cacheWillUpdate: async ({request, response}) => {
    if (!response || response.status !== 200 || response.redirected) return null;
    const marked = response.headers.get("X-Offline-Copy");
    if (marked === "this") return response;
    if (marked === "public") publicCopy(request.url);
    return null;
  },
  // A form shown from the phone's copy gets a key of its own, made here: two people registering
  // from one kept page are two registrations, one person tapping twice is one.
  cachedResponseWillBeUsed: async ({cachedResponse}) => {
    if (!cachedResponse) return cachedResponse;
    const html = await cachedResponse.clone().text();
    if (!html.includes('name="idempotency_key"')) return cachedResponse;
    const keyed = html.replace(/(name="idempotency_key" value=")[^"]*(")/g, (all, start, end) => start + freshKey() + end);
    return new Response(keyed, {status: 200, headers: cachedResponse.headers});
  },
};

// --- Forms sent with no network: kept, shown as waiting, sent when the network is back. ---

function formOf(url) {
  return url.origin === self.location.origin ? FORMS.find((form) => form.pattern.test(url.pathname)) : undefined;
}

async function keyOf(request) {
  try {
    const key = (await request.clone().formData()).get("idempotency_key");
    return key || new URL(request.url).pathname;
  } catch (error) {
    return new URL(request.url).pathname;
  }
}

async function confirmations() {
  const cache = await caches.open(CONFIRM);
  const out = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    out.push({url: new URL(request.url).pathname, label: decodeURIComponent(response.headers.get("X-Label") || ""),
              at: Number(response.headers.get("X-At")) || 0, key: response.headers.get("X-Key") || ""});
  }
  return out;
}

async function waitingList() {
  // The entry being sent has left the queue but is not sent until the server answers.
  const entries = (sending ? [sending] : []).concat(await queue.getAll());
  return {waiting: entries.map((entry) => ({label: entry.metadata.label, at: entry.timestamp})),
          confirm: (await confirmations()).map(({url, label, at}) => ({url, label, at}))};
}

async function tellPages() {
  const list = await waitingList();
  const counts = {waiting: list.waiting.length, confirm: list.confirm.length};
  for (const client of await self.clients.matchAll({includeUncontrolled: true})) client.postMessage(counts);
}

async function forgetConfirmation(key) {
  const cache = await caches.open(CONFIRM);
  for (const item of await confirmations()) {
    if (item.key === key) await cache.delete(item.url);
  }
}

// A refusal needs the person: the page the server sent back (their input kept, a fresh token)
// is kept until they send it again. Only the queued request's own data is in it.
async function keepForConfirmation(entry, response) {
  const id = freshKey();
  const key = await keyOf(entry.request);
  await forgetConfirmation(key);
  const headers = {"Content-Type": "text/html; charset=utf-8", "X-Label": encodeURIComponent(entry.metadata.label),
                   "X-At": String(entry.timestamp), "X-Key": key};
  await (await caches.open(CONFIRM)).put(`/offline/xac-nhan/${id}`,
    new Response(await response.text(), {status: 200, headers}));
}

let replaying = null;
let sending = null;
async function replay() {
  let entry;
  while ((entry = await queue.shiftRequest())) {
    sending = entry;
    try {
      let response;
      try {
        response = await fetch(entry.request.clone(), {redirect: "manual"});
      } catch (error) {
        await queue.unshiftRequest(entry);
        throw error;
      }
      if (response.status >= 400 && response.status < 500) {
        await keepForConfirmation(entry, response);
      } else if (response.status >= 500) {
        await queue.unshiftRequest(entry);
        throw new Error("máy chủ bận");
      }
    } finally {
      sending = null;
    }
  }
}

async function replayOnce() {
  if (!replaying) replaying = replay().catch(() => {}).finally(() => { replaying = null; });
  await replaying;
  await tellPages();
}

const queue = new Queue("hvs-cho-gui", {
  maxRetentionTime: 14 * 24 * 60,
  onSync: async () => { await replayOnce(); },
});

function queuedPage(label, count) {
  const html = `<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Chờ gửi</title>
<link rel="stylesheet" href="${STYLESHEET}"></head><body><main id="noi-dung" class="wrap">
<h1>Đã lưu trên điện thoại, chờ gửi</h1>
<div class="alert info" role="status">Không có mạng nên “${label}” chưa gửi được. Điện thoại sẽ tự gửi khi có mạng trở lại; bạn không cần làm lại.</div>
<p><strong>Chờ gửi (${count})</strong></p>
<p><a class="btn block" href="/offline#cho-gui">Xem những gì đang chờ gửi</a></p>
<p><a href="/courses">Tiếp tục học</a></p></main></body></html>`;
  return new Response(html, {status: 202, headers: {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}});
}

async function sendOrKeep({request, url}) {
  const form = formOf(url);
  const kept = request.clone();
  try {
    const response = await fetch(request);
    if (response.status < 400) forgetConfirmation(await keyOf(kept)).then(tellPages);
    return response;
  } catch (error) {
    await queue.pushRequest({request: kept, metadata: {label: form.label}});
    tellPages();
    return queuedPage(form.label, (await queue.getAll()).length);
  }
}

registerRoute(({url, request}) => request.method === "POST" && formOf(url) !== undefined, sendOrKeep, "POST");

// A refusal kept for the person to confirm: its own page, from the phone.
registerRoute(
  ({url, request}) => request.method === "GET" && url.origin === self.location.origin &&
    url.pathname.startsWith("/offline/xac-nhan/"),
  async ({url}) => (await (await caches.open(CONFIRM)).match(url.pathname)) ||
    (await caches.match(OFFLINE_URL)) || Response.error(),
);

self.addEventListener("message", (event) => {
  if (event.data === "gui-lai") {
    event.waitUntil(replayOnce());
  } else if (event.data === "danh-sach" && event.ports[0]) {
    event.waitUntil(waitingList().then((list) => event.ports[0].postMessage(list)));
  }
});

registerRoute(
  ({request, url}) => request.mode === "navigate" && url.origin === self.location.origin,
  new NetworkFirst({cacheName: PAGES, networkTimeoutSeconds: 4, plugins: [keepMarkedPages],
                   matchOptions: {ignoreVary: true}}),
);
registerRoute(
  ({url}) => url.origin === self.location.origin && url.pathname.startsWith("/static/"),
  new CacheFirst({cacheName: FILES, plugins: [new CacheableResponsePlugin({statuses: [200]})]}),
);
// Lesson images (not audio: a player asks for ranges, answered 206, which are not kept).
registerRoute(
  ({request, url}) => url.origin === self.location.origin && request.destination === "image" &&
    (url.pathname.startsWith("/media/") || url.pathname.startsWith("/course-assets/")),
  new CacheFirst({cacheName: "hvs-anh", plugins: [
    new CacheableResponsePlugin({statuses: [200]}),
    new ExpirationPlugin({maxEntries: 400, maxAgeSeconds: 60 * 60 * 24 * 90}),
  ]}),
);

// No network and no copy: the offline page, which lists what is saved.
setCatchHandler(async ({request}) => {
  if (request.mode === "navigate") {
    return (await caches.match(OFFLINE_URL)) || Response.error();
  }
  return Response.error();
});
