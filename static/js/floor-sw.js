/* The floor's service worker: pages and static files from the network when it answers, else from the
   cache, so an operator's page opens without Wi-Fi. Reports are never cached: floor.js keeps them in
   IndexedDB and sends them when the network is back. */
const CACHE = "orderbridge-floor-v1";
// Shown for a floor page never opened on this phone, while offline (its pending reports still listed).
const OFFLINE_URL = "/floor/offline/";

function keepOfflinePage() {
  // Fetched again after each page the network served: it names the operator now signed in.
  return caches.open(CACHE).then((cache) => cache.add(OFFLINE_URL)).catch(() => {});
}

self.addEventListener("install", (event) => { self.skipWaiting(); event.waitUntil(keepOfflinePage()); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (!(url.pathname.startsWith("/floor/") || url.pathname.startsWith("/static/"))) return;
  const page = request.mode === "navigate";
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === "basic") {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
          if (page && url.pathname !== OFFLINE_URL) event.waitUntil(keepOfflinePage());
        }
        return response;
      })
      .catch(async () => (await caches.match(request)) || (page && (await caches.match(OFFLINE_URL))) || Response.error())
  );
});
