// supervisor-hub's node view: the node's health and its processes, live
// from /api/v2/events/, with per-process and node-level actions (the
// JSON API; operators and admins only). Drawn with textContent only.
"use strict";
(function () {
  var S = window.SvHub;
  var el = S.el;
  function enc(s) { return encodeURIComponent(s); }
  function byId(id) { return document.getElementById(id); }

  document.addEventListener("DOMContentLoaded", function () {
    var root = byId("node-view");
    if (!root) { return; }
    var node = root.getAttribute("data-node");
    var canOperate = root.getAttribute("data-can-operate") === "true";
    var api = "/api/v2/nodes/" + enc(node) + "/";
    var results = {};          // namespec -> last action's result text
    var processes = [];
    var freshAt = null;

    function health(fleetEntry) {
      var badge = byId("node-health");
      badge.textContent = fleetEntry.health;
      badge.className = "health " + fleetEntry.health;
      var err = byId("node-error");
      err.textContent = fleetEntry.error || "";
      err.hidden = !fleetEntry.error;
      freshAt = fleetEntry.age_ms === null || fleetEntry.age_ms === undefined ? null : Date.now() - fleetEntry.age_ms;
      stale(fleetEntry.connected);
    }
    function stale(connected) {
      var banner = byId("stale");
      banner.hidden = connected;
      banner.textContent = connected ? "" : "This node does not answer: its last known processes are shown.";
      byId("node-processes").classList.toggle("stale", !connected);
    }
    function tick() {
      byId("node-age").textContent = freshAt === null ? "no answer yet" : "last good answer " + S.age(Date.now() - freshAt);
    }
    setInterval(tick, 1000);

    function act(url, out, label) {
      out.className = "result pending";
      out.textContent = label + "…";
      return S.api("POST", url).then(function (r) {
        out.className = "result " + (r.ok ? "ok" : "failed");
        out.textContent = r.ok ? label + ": done" : label + " failed: " + r.message;
        S.announce(out.textContent);
        return r;
      });
    }
    function row(p) {
      var spec = p.group + ":" + p.name;
      var link = el("a", { href: "/nodes/" + enc(node) + "/processes/" + enc(spec) }, p.name);
      var tr = el("tr", { "class": "proc", "data-state": p.statename, "data-namespec": spec },
        el("td", null, p.group),
        el("td", { "class": "name" }, link),
        el("td", { "class": "state " + S.stateClass(p.statename) }, p.statename),
        el("td", { "class": "desc" }, p.description || ""),
        el("td", { "class": "uptime" }, p.state === 20 ? S.duration(p.now - p.start) : ""));
      if (canOperate) {
        var out = el("span", { "class": "result" }, results[spec] || "");
        var cell = el("td", { "class": "acts" });
        var acts = el("span", { "class": "row-acts" });
        [["start", "Start"], ["stop", "Stop"], ["restart", "Restart"]].forEach(function (a) {
          var b = el("button", { type: "button", "class": "a-" + a[0] }, a[1]);
          b.setAttribute("aria-label", a[1] + " " + spec);
          b.addEventListener("click", function () {
            act(api + "processes/" + enc(spec) + "/" + a[0] + "/", out, a[0] + " " + spec).then(function () {
              results[spec] = out.textContent;
              refresh();
            });
          });
          acts.appendChild(b);
        });
        cell.appendChild(acts);
        cell.appendChild(out);
        tr.appendChild(cell);
      }
      return tr;
    }
    function draw() {
      var body = byId("node-rows");
      while (body.firstChild) { body.removeChild(body.firstChild); }
      var tally = {};
      processes.forEach(function (p) {
        body.appendChild(row(p));
        tally[p.statename] = (tally[p.statename] || 0) + 1;
      });
      byId("node-empty").hidden = processes.length > 0;
      byId("node-tally").textContent = Object.keys(tally).sort().map(function (k) { return tally[k] + " " + k; }).join(", ");
    }
    function refresh() {
      S.api("GET", "/api/v2/fleet/").then(function (r) {
        if (!r.ok || !r.json) { return; }
        r.json.nodes.forEach(function (n) { if (n.name === node) { health(n); } });
        tick();
      });
      S.api("GET", api).then(function (r) {
        if (!r.ok || !r.json || !r.json.node) { return; }
        if (r.json.node.general.connected) {
          processes = r.json.node.processes || [];
          draw();
        }
      });
    }
    refresh();
    S.live({
      onNode: function (data) {
        if (data.name !== node || !data.node) { return; }
        if (data.node.general && data.node.general.connected) {
          processes = data.node.processes || [];
          draw();
        }
        refresh();
      },
      onResync: refresh,
      onDown: function () { byId("stale").hidden = false; byId("stale").textContent = "Live updates interrupted; reconnecting…"; },
      onOpen: function () { refresh(); }
    });

    document.querySelectorAll("button[data-node-act]").forEach(function (b) {
      b.addEventListener("click", function () {
        var verb = b.getAttribute("data-node-act");
        if (verb !== "start" && !window.confirm(verb + " every process of " + node + "?")) { return; }
        b.disabled = true;
        act(api + "all-processes/" + verb + "/", byId("node-result"), verb + " all").then(function (r) {
          b.disabled = false;
          if (r.ok && r.json && r.json.results) {
            r.json.results.forEach(function (x) { results[x.name] = x.ok ? verb + ": done" : verb + " failed: " + x.message; });
          }
          refresh();
        });
      });
    });
  });
})();
