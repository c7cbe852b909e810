// supervisor-hub's page: what every page shares, as window.SvHub.
// Loaded in <head> without defer so the chosen theme applies before the
// first paint; everything touching the DOM waits for DOMContentLoaded.
//
//   SvHub.api(method, url, body?)  fetch with the page token (X-CSRF-Token);
//                                   resolves {ok, status, message, json}
//   SvHub.live({onOpen, onNode, onResync, onDown})  the /api/v2/events/ stream,
//                                   reconnecting with backoff; onOpen(again)
//                                   is followed by every node's state (a resync)
//   SvHub.duration(seconds)        Supervisor's "H:MM:SS" / "N days, H:MM:SS"
//   SvHub.age(ms)                  "4 s ago"
//   SvHub.stateClass(statename)    the colour class of a state
//   SvHub.el(tag, attrs, ...kids)  a DOM element (text is always textContent)
//   SvHub.announce(text)           say something to screen readers (#announce)
"use strict";
(function () {
  var THEMES = ["auto", "light", "dark"];
  function storedTheme() {
    try { return localStorage.getItem("svhub-theme") || "auto"; } catch (e) { return "auto"; }
  }
  function applyTheme(theme) {
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    } else {
      document.documentElement.removeAttribute("data-theme");
    }
  }
  applyTheme(storedTheme());

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function sessionExpired() {
    var banner = document.getElementById("session-gone");
    if (banner) { return; }
    banner = el("p", { id: "session-gone", "class": "banner", role: "alert" },
      "Your session has ended. ",
      el("a", { href: "/login?next=" + encodeURIComponent(location.pathname + location.search) }, "Log in again"));
    var main = document.getElementById("main");
    if (main) { main.insertBefore(banner, main.firstChild); }
  }

  function api(method, url, body) {
    var headers = { "X-CSRF-Token": csrf(), "Accept": "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        if (response.status === 401) { sessionExpired(); }
        var message = json && typeof json.message === "string" ? json.message
          : (response.ok ? "" : "HTTP " + response.status);
        return { ok: response.ok, status: response.status, message: message, json: json };
      });
    }, function (error) {
      return { ok: false, status: 0, message: "network error: " + error.message, json: null };
    });
  }

  function live(handlers) {
    var source = null;
    var opened = false;
    var delay = 1000;
    var timer = null;
    function connect() {
      timer = null;
      source = new EventSource("/api/v2/events/");
      source.addEventListener("open", function () {
        delay = 1000;
        if (handlers.onOpen) { handlers.onOpen(opened); }
        opened = true;
      });
      source.addEventListener("node", function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        if (handlers.onNode) { handlers.onNode(data); }
      });
      source.addEventListener("resync", function () {
        if (handlers.onResync) { handlers.onResync(); }
      });
      source.addEventListener("error", function () {
        if (handlers.onDown) { handlers.onDown(); }
        // The browser retries by itself while CONNECTING; a refusal
        // (401, 503) closes the stream for good: retry ourselves.
        if (source.readyState === EventSource.CLOSED && timer === null) {
          timer = setTimeout(connect, delay);
          delay = Math.min(delay * 2, 15000);
        }
      });
    }
    connect();
    return {
      restart: function () {
        if (source) { source.close(); }
        if (timer !== null) { clearTimeout(timer); }
        connect();
      }
    };
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var hms = Math.floor(rest / 3600) + ":" + pad(Math.floor(rest % 3600 / 60)) + ":" + pad(rest % 60);
    if (days > 0) { return days + (days === 1 ? " day, " : " days, ") + hms; }
    return hms;
  }
  function age(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) { return s + " s ago"; }
    if (s < 3600) { return Math.floor(s / 60) + " min ago"; }
    if (s < 86400) { return Math.floor(s / 3600) + " h ago"; }
    return Math.floor(s / 86400) + " d ago";
  }
  function stateClass(statename) {
    switch (statename) {
      case "RUNNING": return "st-running";
      case "FATAL": case "UNKNOWN": return "st-error";
      case "STARTING": case "STOPPING": return "st-busy";
      case "BACKOFF": case "EXITED": return "st-warn";
      default: return "st-stopped";
    }
  }
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, key) && attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) {
          node.setAttribute(key, attrs[key] === true ? "" : attrs[key]);
        }
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      var kid = arguments[i];
      if (kid === null || kid === undefined) { continue; }
      node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid);
    }
    return node;
  }
  function announce(text) {
    var region = document.getElementById("announce");
    if (region) { region.textContent = text; }
  }

  function wireTheme() {
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    function label() {
      var theme = storedTheme();
      button.textContent = "Theme: " + theme;
      button.setAttribute("aria-label", "Colour theme: " + (theme === "auto" ? "follow the system" : theme) + " (change)");
    }
    label();
    button.addEventListener("click", function () {
      var next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
      try { localStorage.setItem("svhub-theme", next); } catch (e) { /* private mode: this page only */ }
      applyTheme(next);
      label();
    });
  }
  document.addEventListener("DOMContentLoaded", wireTheme);

  window.SvHub = {
    api: api, live: live, csrf: csrf, duration: duration, age: age,
    stateClass: stateClass, el: el, announce: announce, applyTheme: applyTheme,
    sessionExpired: sessionExpired
  };
})();
