// supervisor-rs status page: live rows.
//
// Follows the server-sent events of `events` and patches the table in
// place: state (text and colour class), description, pid, uptime and the
// row's actions. The uptime of running processes ticks locally every
// second. On "resync" (this client fell behind, a big burst, or groups
// changed) the page reloads. Without this script the page still works:
// every action is a plain link and Refresh reloads.
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

  // Running rows: the uptime cell's seconds at `base` (ms, local clock).
  var ticking = new Map();

  function tick() {
    var now = Date.now();
    ticking.forEach(function (start, cell) {
      if (!cell.isConnected) { ticking.delete(cell); return; }
      cell.textContent = uptimeText((now - start) / 1000);
    });
  }

  function link(namespec, action, label) {
    var a = document.createElement("a");
    a.className = "button";
    a.href = "index.html?processname=" + encodeURIComponent(namespec) +
      "&action=" + action;
    a.textContent = label;
    return a;
  }

  function follow(namespec, stream, label) {
    var a = document.createElement("a");
    a.className = "button";
    a.href = "logtail/" + encodeURIComponent(namespec) + stream;
    a.textContent = label;
    return a;
  }

  // The same action set as the server renders for each state.
  function renderActions(cell, namespec, statename) {
    var actions = [];
    if (statename === "RUNNING") {
      actions = [["restart", "Restart"], ["stop", "Stop"]];
    } else if (statename === "STOPPED" || statename === "EXITED" ||
               statename === "FATAL") {
      actions = [["start", "Start"]];
    }
    actions.push(["clearlog", "Clear log"]);
    var nodes = actions.map(function (a) { return link(namespec, a[0], a[1]); });
    nodes.push(follow(namespec, "", "Follow stdout"));
    nodes.push(follow(namespec, "/stderr", "Follow stderr"));
    cell.textContent = "";
    nodes.forEach(function (node) {
      cell.appendChild(node);
      cell.appendChild(document.createTextNode(" "));
    });
  }

  function rowFor(namespec) {
    var rows = document.querySelectorAll("tr[data-namespec]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-namespec") === namespec) { return rows[i]; }
    }
    return null;
  }

  function apply(change) {
    var row = rowFor(change.namespec);
    if (!row) { scheduleReload(); return; }
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
    var actions = row.querySelector(".actions");
    if (actions) { renderActions(actions, change.namespec, change.statename); }
  }

  // The header's "N running, M stopped" from the rows, in the server's
  // order (by state name).
  function recount() {
    var counts = document.querySelector(".counts");
    if (!counts) { return; }
    var byState = {};
    document.querySelectorAll("tr[data-namespec] .state").forEach(function (cell) {
      var name = cell.textContent;
      byState[name] = (byState[name] || 0) + 1;
    });
    counts.textContent = Object.keys(byState).sort().map(function (name) {
      return byState[name] + " " + name;
    }).join(", ");
  }

  var reloadTimer = null;
  function scheduleReload() {
    // At most one reload a second, however many resyncs arrive.
    if (reloadTimer === null) {
      reloadTimer = setTimeout(function () { window.location.reload(); }, 1000);
    }
  }

  function start() {
    var loaded = Date.now();
    document.querySelectorAll("td.uptime[data-uptime]").forEach(function (cell) {
      var seconds = Number(cell.getAttribute("data-uptime"));
      if (!isNaN(seconds)) { ticking.set(cell, loaded - 1000 * seconds); }
    });
    setInterval(tick, 1000);
    if (!window.EventSource) { return; }
    var source = new EventSource("events");
    source.addEventListener("state", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      (message.changes || []).forEach(apply);
      recount();
      tick();
    });
    source.addEventListener("resync", scheduleReload);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
