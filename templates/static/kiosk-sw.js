// Hailong kiosk service worker, served at /k/sw.js (scope /k/), registered by
// /static/kiosk.js. It keeps what a kiosk needs to show its form when the
// network is down, so a reload or a restart of the tablet while offline still
// collects answers (kiosk.js queues them in localStorage):
// - the kiosk page (/k/{token}, optionally ?lang=): network first, falling
//   back to the cache when the network fails or does not answer in time;
// - the stylesheet and the two scripts: cache first, refreshed in the
//   background.
// It caches nothing else: never a POST, never a page with answers in it, never
// the answers themselves. When the server says the kiosk page is gone (404:
// revoked or unknown kiosk; 409/410: campaign not open), it deletes its cache,
// so a revoked kiosk stops collecting at the next reload.
"use strict";

var CACHE = "hailong-kiosk-v1";
var STATIC = ["/static/app.css", "/static/conditions.js", "/static/kiosk.js"];
// How long the page may take before the cached copy is shown instead.
var PAGE_TIMEOUT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(STATIC);
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("hailong-kiosk-") === 0 && n !== CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () {
      return self.clients.claim();
    })
  );
});

// A kiosk page: /k/{token} with no query but the language.
function isKioskPage(url) {
  if (url.origin !== self.location.origin || !/^\/k\/[0-9a-fA-F]{64}$/.test(url.pathname)) {
    return false;
  }
  var keys = Array.from(url.searchParams.keys());
  return keys.every(function (k) { return k === "lang"; });
}

function gone(status) {
  return status === 404 || status === 409 || status === 410;
}

// Fetches a kiosk page and keeps a copy of a good answer; forgets everything
// when the kiosk is gone.
function fetchPage(request) {
  return fetch(request, { cache: "no-store", credentials: "same-origin" }).then(function (res) {
    if (res.status === 200 && !res.redirected) {
      var copy = res.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(request.url, copy); });
    } else if (gone(res.status)) {
      caches.delete(CACHE);
    }
    return res;
  });
}

function cachedPage(url) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(url).then(function (hit) {
      // Another language's copy is better than the browser's offline page.
      return hit || cache.match(url, { ignoreSearch: true });
    });
  });
}

function networkFirst(request) {
  return new Promise(function (resolve, reject) {
    var settled = false;
    function fallback() {
      if (settled) { return; }
      cachedPage(request.url).then(function (hit) {
        if (settled) { return; }
        if (hit) { settled = true; resolve(hit); }
      });
    }
    var timer = setTimeout(fallback, PAGE_TIMEOUT_MS);
    fetchPage(request).then(function (res) {
      clearTimeout(timer);
      if (settled) { return; }
      // A server error is not the kiosk's end: the cached form still collects.
      if (res.status >= 500) {
        return cachedPage(request.url).then(function (hit) {
          settled = true;
          resolve(hit || res);
        });
      }
      settled = true;
      resolve(res);
    }, function (err) {
      clearTimeout(timer);
      cachedPage(request.url).then(function (hit) {
        if (settled) { return; }
        settled = true;
        if (hit) { resolve(hit); } else { reject(err); }
      });
    });
  });
}

function cacheFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request.url).then(function (hit) {
      var fresh = fetch(request.url, { cache: "no-cache" }).then(function (res) {
        if (res.status === 200) { cache.put(request.url, res.clone()); }
        return res;
      });
      if (hit) {
        fresh.catch(function () { return null; });
        return hit;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin === self.location.origin && STATIC.indexOf(url.pathname) >= 0 && !url.search) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" && isKioskPage(url)) {
    event.respondWith(networkFirst(request));
  }
});

// kiosk.js asks for the page in each language, so that the language link
// works offline too.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (!Array.isArray(data.pages)) { return; }
  var pages = data.pages.filter(function (p) {
    return typeof p === "string" && isKioskPage(new URL(p, self.location.origin));
  });
  event.waitUntil(Promise.all(pages.map(function (p) {
    var url = new URL(p, self.location.origin).href;
    return fetchPage(new Request(url, { credentials: "same-origin" })).catch(function () { return null; });
  })));
});
