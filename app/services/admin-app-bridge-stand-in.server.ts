// A small local stand-in for Shopify's App Bridge script (cdn.shopify.com/shopifycloud/
// app-bridge.js), for development and tests on machines without internet. Served by
// app/routes/dev.app-bridge[.]js.tsx only when APP_BRIDGE_URL is set; production loads
// the real script from Shopify's CDN.
//
// What it does, like the real script for an app opened inside the admin:
// - keeps the session token (`id_token`) from the first URL (sessionStorage);
// - defines `window.shopify` with `idToken()`, `toast.show/hide`, `loading()`, `config`;
// - adds `Authorization: Bearer <token>` to the app's own (same-origin) fetches, which
//   is how authenticate.admin recognises Remix data requests;
// - on the bounce page (`/auth/session-token?shopify-reload=<url>`) goes back to that
//   URL (same origin only) with the token;
// - draws `<ui-nav-menu>` as a bar at the top and turns clicks on its links into the
//   `shopify:navigate` event that the Remix AppProvider turns into client navigation;
// - keeps the launch parameters (`embedded=1&shop=&host=`) in the address bar after each
//   client navigation (it wraps history.pushState/replaceState). In the Shopify admin the
//   app runs in an iframe and a reload relaunches it with `shop`, `host` and a fresh
//   `id_token`; here the app is the top-level page, so the address must carry what a reload
//   needs: with those parameters and no token, the Shopify package sends the reload through
//   the bounce page, which comes back with the token. The app's router keeps its own
//   location, so the pages never see the added parameters (until the back button).
// It never makes a request of its own.

export const APP_BRIDGE_STAND_IN_JS = String.raw`/* App Bridge local stand-in (development and tests only). */
(function () {
  "use strict";
  if (window.shopify && window.shopify.__standIn) return;
  var KEY = "app-bridge-stand-in:id_token";
  var script = document.currentScript;
  var apiKey = (script && script.getAttribute("data-api-key")) || "";
  var here = new URL(window.location.href);
  var fromUrl = here.searchParams.get("id_token");
  try { if (fromUrl) window.sessionStorage.setItem(KEY, fromUrl); } catch (e) { /* storage disabled */ }
  var memoryToken = fromUrl || "";
  function token() {
    try { return window.sessionStorage.getItem(KEY) || memoryToken; } catch (e) { return memoryToken; }
  }
  function whenBody(fn) {
    if (document.body) fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // Bounce page: go back to the app URL with a session token.
  var reload = here.searchParams.get("shopify-reload");
  if (reload) {
    var target;
    try { target = new URL(reload, window.location.origin); } catch (e) { target = null; }
    if (target && target.origin === window.location.origin && token()) {
      target.searchParams.set("id_token", token());
      window.location.replace(target.toString());
    } else {
      whenBody(function () {
        var p = document.createElement("p");
        p.setAttribute("data-app-bridge-stand-in", "bounce-failed");
        p.textContent = "App Bridge stand-in: no session token to reload " + reload + " with. Open the app with ?id_token=...";
        document.body.appendChild(p);
      });
    }
    return;
  }

  var LAUNCH_KEY = "app-bridge-stand-in:launch";
  var saved = {};
  try { saved = JSON.parse(window.sessionStorage.getItem(LAUNCH_KEY) || "{}") || {}; } catch (e) { saved = {}; }
  var shop = here.searchParams.get("shop") || saved.shop || "";
  var host = here.searchParams.get("host") || saved.host || "";
  try { if (shop && host) window.sessionStorage.setItem(LAUNCH_KEY, JSON.stringify({ shop: shop, host: host })); } catch (e) { /* storage disabled */ }
  try {
    var payload = JSON.parse(atob(token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (payload && payload.dest) shop = new URL(payload.dest).hostname;
  } catch (e) { /* no or malformed token */ }

  // What a reload needs stays in the address: each client navigation's URL gets the
  // launch parameters back (same origin only; parameters already there are left alone).
  function withLaunchParams(url) {
    if (!shop || !host || url === undefined || url === null) return url;
    try {
      var target = new URL(String(url), window.location.href);
      if (target.origin !== window.location.origin) return url;
      if (target.searchParams.get("embedded") === "1" && target.searchParams.get("shop") && target.searchParams.get("host")) return url;
      target.searchParams.set("embedded", "1");
      target.searchParams.set("shop", shop);
      target.searchParams.set("host", host);
      return target.pathname + target.search + target.hash;
    } catch (e) { return url; }
  }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = window.history[name];
    window.history[name] = function (state, unused, url) {
      return original.call(window.history, state, unused, withLaunchParams(url));
    };
  });

  // Same-origin fetches carry the session token, as with the real App Bridge.
  var originalFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    try {
      var href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      var url = new URL(href, window.location.href);
      if (url.origin === window.location.origin && token()) {
        var headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
        if (!headers.has("Authorization")) headers.set("Authorization", "Bearer " + token());
        init = Object.assign({}, init, { headers: headers });
      }
    } catch (e) { /* leave the request as it is */ }
    return originalFetch(input, init);
  };

  var style = document.createElement("style");
  style.textContent = [
    "ui-nav-menu{display:flex;gap:4px;align-items:center;padding:8px 16px;background:#1a1a1a;font:500 13px/20px -apple-system,BlinkMacSystemFont,'San Francisco','Segoe UI',Roboto,'Helvetica Neue',sans-serif}",
    "ui-nav-menu a{color:#e3e3e3;text-decoration:none;padding:4px 10px;border-radius:8px}",
    "ui-nav-menu a:hover{background:#303030;color:#fff}",
    "ui-nav-menu a[rel=home]{color:#fff;font-weight:650;margin-right:8px}",
    "[data-app-bridge-toast]{position:fixed;left:50%;bottom:32px;transform:translateX(-50%);z-index:2147483647;background:#1a1a1a;color:#fff;padding:10px 16px;border-radius:10px;font:500 14px/20px -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;box-shadow:0 8px 24px rgba(0,0,0,.25)}",
    "[data-app-bridge-toast][data-error=true]{background:#8e1f0b}",
    "[data-app-bridge-loading]{position:fixed;top:0;left:0;height:3px;width:100%;z-index:2147483647;background:linear-gradient(90deg,#303030 0,#8a8a8a 50%,#303030 100%);background-size:200% 100%;animation:app-bridge-loading 1s linear infinite}",
    "@keyframes app-bridge-loading{from{background-position:200% 0}to{background-position:0 0}}"
  ].join("\n");
  (document.head || document.documentElement).appendChild(style);

  // Admin navigation: the real App Bridge renders the menu in the admin and fires
  // shopify:navigate on the link; here the links are shown in place.
  document.addEventListener("click", function (event) {
    var el = event.target instanceof Element ? event.target.closest("ui-nav-menu a[href]") : null;
    if (!el || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    event.stopPropagation();
    el.dispatchEvent(new CustomEvent("shopify:navigate", { bubbles: true }));
  }, true);

  var toastSeq = 0;
  var toasts = {};
  function hideToast(id) {
    var el = toasts[id];
    if (el && el.parentNode) el.parentNode.removeChild(el);
    delete toasts[id];
  }
  var loadingBar = null;

  window.shopify = {
    __standIn: true,
    config: { apiKey: apiKey, shop: shop, host: host, locale: "en" },
    origin: window.location.origin,
    ready: Promise.resolve(),
    environment: { embedded: true, mobile: false, pos: false },
    idToken: function () { return Promise.resolve(token()); },
    toast: {
      show: function (message, options) {
        var id = "toast-" + (++toastSeq);
        var duration = (options && options.duration) || 5000;
        whenBody(function () {
          var el = document.createElement("div");
          el.setAttribute("role", "status");
          el.setAttribute("aria-live", "polite");
          el.setAttribute("data-app-bridge-toast", id);
          el.setAttribute("data-error", options && options.isError ? "true" : "false");
          el.textContent = String(message);
          document.body.appendChild(el);
          toasts[id] = el;
          setTimeout(function () { hideToast(id); if (options && options.onDismiss) options.onDismiss(); }, duration);
        });
        return id;
      },
      hide: hideToast
    },
    loading: function (isLoading) {
      if (isLoading === undefined) return Boolean(loadingBar);
      whenBody(function () {
        if (isLoading && !loadingBar) {
          loadingBar = document.createElement("div");
          loadingBar.setAttribute("data-app-bridge-loading", "");
          document.body.appendChild(loadingBar);
        } else if (!isLoading && loadingBar) {
          loadingBar.parentNode && loadingBar.parentNode.removeChild(loadingBar);
          loadingBar = null;
        }
      });
    }
  };
})();
`;

const CDN_APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

/**
 * The Shopify package adds `Link: <cdn.shopify.com/.../app-bridge.js>; rel="preload"` to
 * document responses (app pages, and the bounce and exit-iframe pages it renders itself),
 * even when APP_BRIDGE_URL points elsewhere. When APP_BRIDGE_URL is set, preload that
 * script instead, so the browser never reaches for the CDN. No-op in production.
 */
export function preloadLocalAppBridge(headers: Headers, appBridgeUrl: string | undefined): void {
  if (!appBridgeUrl) return;
  const link = headers.get("Link");
  if (link?.includes(CDN_APP_BRIDGE)) headers.set("Link", link.replaceAll(CDN_APP_BRIDGE, appBridgeUrl));
}
