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

const keepMarkedPages = {
  cacheWillUpdate: async ({request, response}) => {
    if (!response || response.status !== 200 || response.redirected) return null;
    const marked = response.headers.get("X-Offline-Copy");
    if (marked === "this") return response;
    if (marked === "public") publicCopy(request.url);
    return null;
  },
};

registerRoute(
  ({request, url}) => request.mode === "navigate" && url.origin === self.location.origin,
  new NetworkFirst({cacheName: PAGES, networkTimeoutSeconds: 4, plugins: [keepMarkedPages]}),
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
