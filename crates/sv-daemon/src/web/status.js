// supervisor-rs status page: live rows, actions without reloads, filter.
//
// * Follows the server-sent events of `events` and patches the table in
//   place: the row's `data-state` (the stylesheet shows the actions that
//   fit the state), state text and colour, description, pid, uptime, and
//   the counts in the header. Uptimes tick locally every second. On
//   "resync" (this client fell behind, a big burst, groups changed) the
//   page reloads, at most once a second.
// * The action forms are sent to `action` (POST, with the session's CSRF
//   token) and the answer shown above the table; the row changes arrive
//   on the event stream. Without this script the same forms post to
//   `index.html` and the page reloads with the message.
// * The filter box hides the rows whose name and state do not contain
//   its text; it is kept in the URL's fragment across reloads.
"use strict";

(function () {
  var CLASSES = {
    RUNNING: "st-running",
    FATAL: "st-error",
    BACKOFF: "st-error",
    STARTING: "st-busy",
    STOPPING: "st-busy",
    EXITED: "st-warn",
    UNKNOWN: "st-warn"
  };

  // Supervisor's `str(timedelta)`: H:MM:SS, with "N day(s), " in front.
  function uptimeText(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    var clock = Math.floor(rest / 3600) + ":" + two(Math.floor(rest % 3600 / 60)) +
      ":" + two(rest % 60);
    if (days === 0) { return clock; }
    return days + (days === 1 ? " day, " : " days, ") + clock;
  }

  // Running rows: uptime cell -> its start (ms, local clock).
  var ticking = new Map();

  function tick() {
    var now = Date.now();
    ticking.forEach(function (start, cell) {
      if (!cell.isConnected) { ticking.delete(cell); return; }
      cell.textContent = uptimeText((now - start) / 1000);
    });
  }

  var rows = new Map();
  function indexRows() {
    rows.clear();
    document.querySelectorAll("tr[data-namespec]").forEach(function (row) {
      rows.set(row.getAttribute("data-namespec"), row);
    });
  }

  function apply(change) {
    var row = rows.get(change.namespec);
    if (!row) { scheduleReload(); return; }
    row.setAttribute("data-state", change.statename);
    var state = row.querySelector(".state");
    if (state) {
      state.className = "state " + (CLASSES[change.statename] || "st-stopped");
      state.textContent = change.statename.toLowerCase();
    }
    var desc = row.querySelector(".desc");
    if (desc) { desc.textContent = change.description; }
    var pid = row.querySelector(".pid");
    if (pid) { pid.textContent = change.pid > 0 ? String(change.pid) : ""; }
    var uptime = row.querySelector(".uptime");
    if (uptime) {
      if (change.statename === "RUNNING") {
        ticking.set(uptime, Date.now() - 1000 * Math.max(0, change.now - change.start));
      } else {
        ticking.delete(uptime);
        uptime.textContent = "";
      }
    }
  }

  // The header's "N running, M stopped" from the rows, ordered by state
  // name as the server orders it.
  function recount() {
    var counts = document.getElementById("counts");
    if (!counts) { return; }
    var byState = {};
    rows.forEach(function (row) {
      var name = (row.getAttribute("data-state") || "").toLowerCase();
      byState[name] = (byState[name] || 0) + 1;
    });
    counts.textContent = Object.keys(byState).sort().map(function (name) {
      return byState[name] + " " + name;
    }).join(", ");
    applyFilter();
  }

  var reloadTimer = null;
  function scheduleReload() {
    if (reloadTimer === null) {
      reloadTimer = setTimeout(function () { window.location.reload(); }, 1000);
    }
  }

  function showMessage(text, failed) {
    var message = document.getElementById("message");
    if (!message) { return; }
    message.textContent = text;
    message.hidden = false;
    message.classList.toggle("failed", !!failed);
  }

  // Send an action form to `action`; the answer is a message, the state
  // changes come over the event stream.
  function onSubmit(event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("act")) { return; }
    var button = event.submitter;
    var data = new URLSearchParams(new FormData(form, button));
    event.preventDefault();
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    showMessage("Working: " + data.get("action") +
      (data.get("processname") ? " " + data.get("processname") : "") + "…");
    // An absolute URL: a page opened as http://user:pw@host/ keeps the
    // credentials in its base URL, and fetch() refuses such URLs.
    fetch(new URL("action", window.location.href), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        showMessage(body.message, !response.ok || /^ERROR|unexpected rpc fault|^No such/.test(body.message));
      });
    }).catch(function () {
      showMessage("The daemon did not answer", true);
    }).then(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  function applyFilter() {
    var box = document.getElementById("filter");
    if (!box) { return; }
    var needle = box.value.trim().toLowerCase();
    rows.forEach(function (row, namespec) {
      var state = (row.getAttribute("data-state") || "").toLowerCase();
      var match = needle === "" || namespec.toLowerCase().indexOf(needle) >= 0 ||
        state.indexOf(needle) >= 0;
      row.hidden = !match;
    });
    document.querySelectorAll("tbody[data-group]").forEach(function (body) {
      var head = body.querySelector("tr.group-head");
      if (!head) { return; }
      head.hidden = !body.querySelector("tr[data-namespec]:not([hidden])");
    });
  }

  function setupFilter() {
    var box = document.getElementById("filter");
    if (!box) { return; }
    box.hidden = false;
    var match = /(?:^#|&)filter=([^&]*)/.exec(window.location.hash);
    if (match) {
      try { box.value = decodeURIComponent(match[1]); } catch (e) { box.value = ""; }
    }
    box.addEventListener("input", function () {
      var url = window.location.pathname + window.location.search +
        (box.value ? "#filter=" + encodeURIComponent(box.value) : "");
      history.replaceState(null, "", url);
      applyFilter();
    });
    applyFilter();
  }

  function start() {
    indexRows();
    var loaded = Date.now();
    document.querySelectorAll("td.uptime[data-uptime]").forEach(function (cell) {
      var seconds = Number(cell.getAttribute("data-uptime"));
      if (!isNaN(seconds)) { ticking.set(cell, loaded - 1000 * seconds); }
    });
    setInterval(tick, 1000);
    setupFilter();
    document.addEventListener("submit", onSubmit);
    // A message from a reload-style action should not come back on reload.
    if (/[?&]message=/.test(window.location.search)) {
      history.replaceState(null, "", window.location.pathname + window.location.hash);
    }
    if (!window.EventSource) { return; }
    // The change count the table was rendered at: the stream answers
    // "resync" at once if anything changed before it opened.
    var main = document.getElementById("main");
    var since = main ? main.getAttribute("data-changes") : null;
    var source = new EventSource(since ? "events?since=" + encodeURIComponent(since) : "events");
    source.addEventListener("state", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      (message.changes || []).forEach(apply);
      recount();
      tick();
    });
    source.addEventListener("resync", scheduleReload);
    // After a reconnect (the daemon restarted, the network blinked) the
    // changes in between are lost: reload once the stream is back.
    var broken = false;
    source.addEventListener("error", function () { broken = true; });
    source.addEventListener("open", function () { if (broken) { scheduleReload(); } });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
