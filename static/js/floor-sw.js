/* The floor's service worker: pages and static files from the network when it answers, else from the
   cache, so an operator's page opens without Wi-Fi. Reports are never cached: floor.js keeps them in
   IndexedDB and sends them when the network is back. */
const CACHE = "orderbridge-floor-v1";

self.addEventListener("install", (event) => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (!(url.pathname.startsWith("/floor/") || url.pathname.startsWith("/static/"))) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === "basic") {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request).then((hit) => hit || Response.error()))
  );
});
