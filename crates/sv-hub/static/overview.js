// supervisor-hub's fleet overview: draws the table from the page's data
// block, keeps it live from /api/v2/events/, filters, sorts, selects and
// acts through the JSON API. Plain JavaScript, no build step.
//
// Rows are patched in place: a node event updates, adds or removes only
// that node's rows; nothing reloads the page. A node that stops answering
// keeps its last known rows, greyed (tbody.stale).
"use strict";
(function () {
  var H = window.SvHub;
  var el = H.el;
  var ACTS = {
    start: { label: "Start", past: "started", doing: "starting…" },
    stop: { label: "Stop", past: "stopped", doing: "stopping…" },
    restart: { label: "Restart", past: "restarted", doing: "restarting…" },
    signal: { label: "Signal…", past: "signalled", doing: "signalling…" },
    clear: { label: "Clear log", past: "log cleared", doing: "clearing…" }
  };
  var DESTRUCTIVE = { stop: true, restart: true, signal: true, clear: true };
  var PER_NODE = 4; // calls under way at once on one node

  var table, canOperate, columns, pollMs;
  var nodes = new Map(); // name → node
  var rowsAll = []; // every row, for filtering
  var selected = new Set();
  var sortKey = "group", sortDir = 1;
  var terms = [], envFilter = "";
  var stream = null, live = false, downSince = null;
  var recountQueued = false;

  function nodeUrl(name) { return "/nodes/" + encodeURIComponent(name); }
  function processUrl(node, uname) {
    return nodeUrl(node) + "/processes/" + encodeURIComponent(uname);
  }
  function apiProcess(node, uname) {
    return "/api/v2/nodes/" + encodeURIComponent(node) + "/processes/" + encodeURIComponent(uname) + "/";
  }

  // ---- nodes -------------------------------------------------------------

  function makeNode(info) {
    var node = {
      name: info.name, environment: info.environment || "",
      health: info.health, connected: !!info.connected, error: info.error || null,
      freshAt: typeof info.age_ms === "number" ? performance.now() - info.age_ms : null,
      rows: new Map()
    };
    node.tbody = el("tbody", { "data-node": node.name, "data-env": node.environment });
    node.badge = el("span", { "class": "health" });
    node.tally = el("span", { "class": "node-tally" });
    node.result = el("span", { "class": "node-result", role: "status" });
    var th = el("th", { colspan: String(columns), scope: "rowgroup" },
      el("a", { "class": "node-name", href: nodeUrl(node.name) }, node.name), " ",
      node.badge, " ", node.tally);
    if (canOperate) {
      var acts = el("span", { "class": "node-acts", role: "group", "aria-label": "All processes of " + node.name });
      ["start", "stop", "restart"].forEach(function (verb) {
        acts.appendChild(el("button", {
          type: "button", "data-node-act": verb, "class": verb === "stop" ? "danger" : null,
          "aria-label": ACTS[verb].label + " all processes of " + node.name
        }, ACTS[verb].label + " all"));
      });
      th.appendChild(acts);
    }
    th.appendChild(node.result);
    node.head = el("tr", { "class": "node-head" }, th);
    node.tbody.appendChild(node.head);
    // The card above the table.
    node.cardBadge = el("span", { "class": "health" });
    node.cardAge = el("div", { "class": "age" });
    node.cardWhy = el("div", { "class": "why" });
    node.cardTally = el("div", { "class": "tally" });
    node.card = el("article", { "class": "node-card", "data-node": node.name, "aria-label": "Node " + node.name },
      el("div", { "class": "title" },
        el("a", { href: nodeUrl(node.name) }, node.name), node.cardBadge),
      el("div", { "class": "env" }, node.environment || "(no environment)"),
      node.cardTally, node.cardAge, node.cardWhy);
    nodes.set(node.name, node);
    return node;
  }

  function placeNodes() {
    // Grouped by environment (first seen first), nodes in config order,
    // unless the table is sorted by node or environment.
    var list = Array.from(nodes.values());
    var envOrder = [];
    list.forEach(function (n) { if (envOrder.indexOf(n.environment) < 0) { envOrder.push(n.environment); } });
    var configIndex = new Map(list.map(function (n, i) { return [n, i]; }));
    list.sort(function (a, b) {
      if (sortKey === "node") { return sortDir * cmp(a.name, b.name); }
      var e = envOrder.indexOf(a.environment) - envOrder.indexOf(b.environment);
      if (sortKey === "environment") { e = sortDir * cmp(a.environment, b.environment); }
      return e || configIndex.get(a) - configIndex.get(b);
    });
    var cards = document.getElementById("nodes");
    list.forEach(function (n) {
      table.appendChild(n.tbody);
      cards.appendChild(n.card);
    });
    fillEnvironments();
  }

  function fillEnvironments() {
    var select = document.getElementById("env");
    var seen = [];
    nodes.forEach(function (n) { if (seen.indexOf(n.environment) < 0) { seen.push(n.environment); } });
    var current = Array.from(select.options).slice(1).map(function (o) { return o.value; });
    if (current.join("\n") === seen.join("\n")) { return; }
    while (select.options.length > 1) { select.remove(1); }
    seen.forEach(function (env) { select.appendChild(el("option", { value: env }, env || "(none)")); });
    select.value = seen.indexOf(envFilter) >= 0 ? envFilter : "";
  }

  var HEALTH_TEXT = {
    connected: "connected", slow: "slow", unreachable: "unreachable",
    auth_failed: "auth failed", not_supervisor: "not supervisor", pending: "pending"
  };

  function nodeAge(node) {
    if (node.freshAt === null) { return node.connected ? "" : "never answered"; }
    var ms = performance.now() - node.freshAt;
    if (node.connected && ms < 3 * pollMs + 2000) { return "answered " + H.age(ms); }
    return "last good answer " + H.age(ms);
  }

  function paintNode(node) {
    var text = HEALTH_TEXT[node.health] || node.health;
    [node.badge, node.cardBadge].forEach(function (badge) {
      badge.className = "health " + node.health;
      badge.textContent = text;
    });
    node.tbody.classList.toggle("stale", !node.connected);
    node.card.classList.toggle("down", !node.connected && node.health !== "pending");
    node.card.setAttribute("data-health", node.health);
    node.cardWhy.textContent = !node.connected && node.error ? node.error : "";
    paintAge(node);
  }

  function paintAge(node) {
    var text = nodeAge(node);
    if (node.cardAge.textContent !== text) { node.cardAge.textContent = text; }
  }

  function removeNode(node) {
    node.rows.forEach(function (row) { dropRow(row); });
    node.tbody.remove();
    node.card.remove();
    nodes.delete(node.name);
  }

  // ---- rows --------------------------------------------------------------

  function makeRow(node, p) {
    var uname = p.group + ":" + p.name;
    var row = { node: node, uname: uname, group: p.group, name: p.name };
    row.tr = el("tr", { "class": "proc", "data-node": node.name, "data-uname": uname });
    if (canOperate) {
      row.check = el("input", { type: "checkbox", "aria-label": "Select " + uname + " on " + node.name });
      row.tr.appendChild(el("td", { "class": "sel" }, row.check));
    }
    row.tr.appendChild(el("td", { "class": "node" }, node.name));
    row.tr.appendChild(el("td", { "class": "env" }, node.environment));
    row.tr.appendChild(el("td", { "class": "group" }, canOperate
      ? el("button", { type: "button", "class": "subtle grp", "aria-label": "Select group " + p.group + " on " + node.name }, p.group)
      : p.group));
    row.tr.appendChild(el("td", { "class": "name" }, el("a", { href: processUrl(node.name, uname) }, p.name)));
    row.stateEl = el("span", { "class": "state" });
    row.tr.appendChild(el("td", { "class": "state" }, row.stateEl));
    row.descEl = el("td", { "class": "desc" });
    row.tr.appendChild(row.descEl);
    row.uptimeEl = el("td", { "class": "uptime" });
    row.tr.appendChild(row.uptimeEl);
    if (canOperate) {
      var acts = el("span", { "class": "row-acts" });
      Object.keys(ACTS).forEach(function (act) {
        acts.appendChild(el("button", {
          type: "button", "data-act": act, "class": "a-" + act + (act === "stop" ? " danger" : ""),
          "aria-label": ACTS[act].label.replace("…", "") + " " + uname + " on " + node.name
        }, ACTS[act].label));
      });
      row.resultEl = el("span", { "class": "result", role: "status" });
      row.tr.appendChild(el("td", { "class": "acts" }, acts, row.resultEl));
    }
    row.tr._row = row;
    node.rows.set(uname, row);
    rowsAll.push(row);
    updateRow(row, p);
    return row;
  }

  function updateRow(row, p) {
    row.statename = p.statename;
    row.state = p.state;
    row.description = p.description || "";
    row.pid = p.pid;
    row.base = p.statename === "RUNNING" ? Math.max(0, p.now - p.start) : null;
    row.at = performance.now();
    row.text = (row.node.name + " " + row.node.environment + " " + row.uname + " " +
      row.statename + " " + row.description).toLowerCase();
    if (row.tr.getAttribute("data-state") !== p.statename) {
      row.tr.setAttribute("data-state", p.statename);
      row.stateEl.className = "state " + H.stateClass(p.statename);
      row.stateEl.textContent = p.statename.toLowerCase();
    }
    if (row.descEl.textContent !== row.description) { row.descEl.textContent = row.description; }
    paintUptime(row);
  }

  function uptimeOf(row) {
    if (row.base === null) { return null; }
    return row.base + (performance.now() - row.at) / 1000;
  }

  function paintUptime(row) {
    var up = uptimeOf(row);
    var text = up === null ? "" : H.duration(up);
    if (row.uptimeEl.textContent !== text) { row.uptimeEl.textContent = text; }
  }

  function dropRow(row) {
    row.tr.remove();
    row.node.rows.delete(row.uname);
    selected.delete(row);
    var i = rowsAll.indexOf(row);
    if (i >= 0) { rowsAll.splice(i, 1); }
  }

  // A node's processes as the hub now knows them.
  function reconcile(node, processes) {
    var seen = new Set();
    var added = false;
    processes.forEach(function (p) {
      var uname = p.group + ":" + p.name;
      seen.add(uname);
      var row = node.rows.get(uname);
      if (row) {
        updateRow(row, p);
      } else {
        makeRow(node, p);
        added = true;
      }
    });
    node.rows.forEach(function (row) { if (!seen.has(row.uname)) { dropRow(row); } });
    if (added || sortKey !== "group") { sortNode(node); }
    matchRows(node);
  }

  // ---- sorting -----------------------------------------------------------

  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function keyOf(row) {
    switch (sortKey) {
      case "name": return [row.name.toLowerCase(), row.group.toLowerCase()];
      case "state": return [row.statename, row.group, row.name];
      case "description": return [row.description.toLowerCase(), row.group, row.name];
      case "uptime": return [uptimeOf(row) === null ? -1 : uptimeOf(row), row.group, row.name];
      default: return [row.group.toLowerCase(), row.name.toLowerCase()];
    }
  }
  function compareRows(a, b) {
    var ka = keyOf(a), kb = keyOf(b);
    for (var i = 0; i < ka.length; i++) {
      var c = cmp(ka[i], kb[i]);
      if (c) { return (i === 0 ? sortDir : 1) * c; }
    }
    return 0;
  }
  function sortNode(node) {
    var rows = Array.from(node.rows.values());
    if (sortKey === "node" || sortKey === "environment") {
      rows.sort(function (a, b) { return cmp(a.group, b.group) || cmp(a.name, b.name); });
    } else {
      rows.sort(compareRows);
    }
    rows.forEach(function (row) { node.tbody.appendChild(row.tr); });
  }
  function sortBy(key) {
    if (sortKey === key) { sortDir = -sortDir; } else { sortKey = key; sortDir = 1; }
    document.querySelectorAll("#fleet thead button.sort").forEach(function (b) {
      var th = b.parentElement;
      if (b.getAttribute("data-sort") === sortKey) {
        th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
    placeNodes();
    nodes.forEach(sortNode);
  }

  // ---- filtering and counts ---------------------------------------------

  var KEYS = { state: "state", node: "node", group: "group", name: "name", env: "env", environment: "env" };
  function parseFilter(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean).map(function (token) {
      var m = /^([a-z]+):(.*)$/.exec(token);
      if (m && KEYS[m[1]] && m[2] !== "") { return { key: KEYS[m[1]], value: m[2] }; }
      return { key: null, value: token };
    });
  }
  function rowMatches(row) {
    if (envFilter && row.node.environment !== envFilter) { return false; }
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i];
      var ok;
      switch (t.key) {
        case "state": ok = row.statename.toLowerCase().indexOf(t.value) === 0; break;
        case "node": ok = row.node.name.toLowerCase().indexOf(t.value) >= 0; break;
        case "group": ok = row.group.toLowerCase().indexOf(t.value) >= 0; break;
        case "name": ok = row.uname.toLowerCase().indexOf(t.value) >= 0; break;
        case "env": ok = row.node.environment.toLowerCase().indexOf(t.value) >= 0; break;
        default: ok = row.text.indexOf(t.value) >= 0;
      }
      if (!ok) { return false; }
    }
    return true;
  }
  // Whether a node's head shows although none of its rows match: only
  // node and environment terms, and they match the node.
  function nodeMatches(node) {
    if (envFilter && node.environment !== envFilter) { return false; }
    return terms.every(function (t) {
      if (t.key === "node") { return node.name.toLowerCase().indexOf(t.value) >= 0; }
      if (t.key === "env") { return node.environment.toLowerCase().indexOf(t.value) >= 0; }
      return false;
    });
  }
  function matchRows(node) {
    node.rows.forEach(function (row) {
      var show = rowMatches(row);
      if (row.tr.hidden === show) { row.tr.hidden = !show; }
    });
    queueRecount();
  }
  function applyFilter() {
    terms = parseFilter(document.getElementById("filter").value);
    for (var i = 0; i < rowsAll.length; i++) {
      var row = rowsAll[i];
      var show = rowMatches(row);
      if (row.tr.hidden === show) { row.tr.hidden = !show; }
    }
    recount();
  }
  function queueRecount() {
    if (recountQueued) { return; }
    recountQueued = true;
    Promise.resolve().then(function () { recountQueued = false; recount(); });
  }
  function tallyText(counts) {
    return Object.keys(counts).sort().map(function (s) { return counts[s] + " " + s.toLowerCase(); }).join(" · ");
  }
  function recount() {
    var shown = 0, total = 0, shownCounts = {};
    var filtering = terms.length > 0 || envFilter !== "";
    nodes.forEach(function (node) {
      var nShown = 0, nTotal = 0, counts = {};
      node.rows.forEach(function (row) {
        nTotal++;
        counts[row.statename] = (counts[row.statename] || 0) + 1;
        if (!row.tr.hidden) {
          nShown++;
          shownCounts[row.statename] = (shownCounts[row.statename] || 0) + 1;
        }
      });
      shown += nShown;
      total += nTotal;
      var tally = nTotal === 0 ? "no processes known"
        : (nTotal + " process" + (nTotal === 1 ? "" : "es") + ": " + tallyText(counts));
      var headTally = filtering && nShown !== nTotal ? tally + " (" + nShown + " shown)" : tally;
      if (node.tally.textContent !== headTally) { node.tally.textContent = headTally; }
      if (node.cardTally.textContent !== tally) { node.cardTally.textContent = tally; }
      var hideNode = filtering && nShown === 0 && !nodeMatches(node);
      if (node.tbody.hidden !== hideNode) { node.tbody.hidden = hideNode; }
    });
    var text = (filtering ? shown + " of " + total : String(total)) + " process" + (total === 1 ? "" : "es") +
      " on " + nodes.size + " node" + (nodes.size === 1 ? "" : "s") + (shown ? " — " + tallyText(shownCounts) : "");
    var counter = document.getElementById("shown");
    if (counter.textContent !== text) { counter.textContent = text; }
    document.getElementById("empty").hidden = !(filtering && shown === 0);
    paintSelection();
  }

  // ---- selection ---------------------------------------------------------

  function setSelected(row, on) {
    if (on) { selected.add(row); } else { selected.delete(row); }
    if (row.check.checked !== on) { row.check.checked = on; }
    row.tr.classList.toggle("selected", on);
  }
  function paintSelection() {
    if (!canOperate) { return; }
    var n = selected.size;
    var nodesOf = new Set();
    selected.forEach(function (r) { nodesOf.add(r.node.name); });
    document.getElementById("selected").textContent = n === 0 ? "None selected"
      : n + " selected on " + nodesOf.size + " node" + (nodesOf.size === 1 ? "" : "s");
    document.querySelectorAll("#bulk button").forEach(function (b) { b.disabled = n === 0; });
    var visible = rowsAll.filter(function (r) { return !r.tr.hidden && !r.node.tbody.hidden; });
    var all = document.getElementById("select-shown");
    var chosen = visible.filter(function (r) { return selected.has(r); }).length;
    all.checked = visible.length > 0 && chosen === visible.length;
    all.indeterminate = chosen > 0 && chosen < visible.length;
  }

  // ---- actions -----------------------------------------------------------

  var ask = null;
  // Resolves {ok: bool, signal}. The dialog is modal: focus moves into it
  // and back to the button that opened it.
  function confirmAction(text, withSignal) {
    return new Promise(function (resolve) {
      ask = ask || document.getElementById("ask");
      var opener = document.activeElement;
      document.getElementById("ask-text").textContent = text;
      document.getElementById("ask-signal-row").hidden = !withSignal;
      ask.returnValue = "";
      function done() {
        ask.removeEventListener("close", done);
        var ok = ask.returnValue === "ok";
        if (opener && opener.focus) { opener.focus(); }
        resolve({ ok: ok, signal: document.getElementById("ask-signal").value });
      }
      ask.addEventListener("close", done);
      ask.showModal();
      (withSignal ? document.getElementById("ask-signal") : document.getElementById("ask-ok")).focus();
    });
  }

  function callProcess(row, act, signal) {
    var url = apiProcess(row.node.name, row.uname);
    if (act === "signal") { url += "signal/" + encodeURIComponent(signal) + "/"; }
    else if (act === "clear") { url += "clear/"; }
    else { url += act + "/"; }
    if (row.resultEl) {
      row.resultEl.className = "result";
      row.resultEl.textContent = ACTS[act].doing;
    }
    return H.api("POST", url).then(function (r) {
      var text = r.ok ? ACTS[act].past + (act === "signal" ? " " + signal : "") : "failed: " + r.message;
      if (row.resultEl) {
        row.resultEl.className = "result " + (r.ok ? "ok" : "failed");
        row.resultEl.textContent = text;
      }
      return { ok: r.ok, message: r.message };
    });
  }

  // Runs `work` over `items`, at most `limit` at once.
  function pool(items, limit, work) {
    var results = new Array(items.length);
    var next = 0;
    function lane() {
      if (next >= items.length) { return Promise.resolve(); }
      var i = next++;
      return work(items[i]).then(function (r) { results[i] = r; return lane(); });
    }
    var lanes = [];
    for (var k = 0; k < Math.min(limit, items.length); k++) { lanes.push(lane()); }
    return Promise.all(lanes).then(function () { return results; });
  }

  function showResults() {
    var box = document.getElementById("results");
    var list = document.getElementById("results-list");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    box.hidden = false;
    return list;
  }

  // The selected rows, node by node: each node's calls run in parallel
  // with the others', and its result shows as soon as it is complete.
  function runBulk(rows, act, signal) {
    var byNode = new Map();
    rows.forEach(function (row) {
      if (!byNode.has(row.node.name)) { byNode.set(row.node.name, []); }
      byNode.get(row.node.name).push(row);
    });
    var list = showResults();
    var runs = [];
    byNode.forEach(function (nodeRows, name) {
      var li = el("li", { "class": "pending", "data-node": name },
        name + ": " + ACTS[act].doing.replace("…", "") + " " + nodeRows.length + " process" + (nodeRows.length === 1 ? "" : "es") + "…");
      list.appendChild(li);
      runs.push(pool(nodeRows, PER_NODE, function (row) { return callProcess(row, act, signal); })
        .then(function (results) {
          var failed = results.filter(function (r) { return !r.ok; });
          var text;
          if (failed.length === 0) {
            text = name + ": " + nodeRows.length + " " + ACTS[act].past;
          } else {
            var why = Array.from(new Set(failed.map(function (r) { return r.message; }))).join("; ");
            text = name + ": " + failed.length + " of " + nodeRows.length + " failed — " + why;
          }
          li.className = failed.length ? "failed" : "ok";
          li.textContent = text;
          return failed.length === 0;
        }));
    });
    return Promise.all(runs).then(function (oks) {
      var bad = oks.filter(function (ok) { return !ok; }).length;
      H.announce(ACTS[act].label.replace("…", "") + ": " + (oks.length - bad) + " of " + oks.length + " nodes succeeded");
    });
  }

  function describe(rows) {
    var names = new Set(rows.map(function (r) { return r.node.name; }));
    return rows.length + " process" + (rows.length === 1 ? "" : "es") + " on " + names.size +
      " node" + (names.size === 1 ? "" : "s") + " (" + Array.from(names).join(", ") + ")";
  }

  function bulk(act) {
    var rows = Array.from(selected);
    if (rows.length === 0) { return; }
    var go = DESTRUCTIVE[act] || act === "signal"
      ? confirmAction(ACTS[act].label.replace("…", "") + " " + describe(rows) + "?", act === "signal")
      : Promise.resolve({ ok: true });
    go.then(function (answer) {
      if (answer.ok) { runBulk(rows, act, answer.signal); }
    });
  }

  function rowAction(row, act) {
    var go = act === "signal"
      ? confirmAction("Send a signal to " + row.uname + " on " + row.node.name + ".", true)
      : Promise.resolve({ ok: true });
    go.then(function (answer) {
      if (!answer.ok) { return; }
      callProcess(row, act, answer.signal).then(function (r) {
        H.announce(row.uname + " on " + row.node.name + ": " + (r.ok ? ACTS[act].past : "failed: " + r.message));
      });
    });
  }

  function nodeAction(node, verb) {
    var go = DESTRUCTIVE[verb]
      ? confirmAction(ACTS[verb].label + " every process of " + node.name + "?", false)
      : Promise.resolve({ ok: true });
    go.then(function (answer) {
      if (!answer.ok) { return; }
      node.result.className = "node-result";
      node.result.textContent = ACTS[verb].doing;
      H.api("POST", "/api/v2/nodes/" + encodeURIComponent(node.name) + "/all-processes/" + verb + "/").then(function (r) {
        var results = r.json && Array.isArray(r.json.results) ? r.json.results : [];
        var failed = results.filter(function (x) { return !x.ok; });
        var ok = r.ok && failed.length === 0;
        var text = !r.ok ? "failed: " + r.message
          : failed.length ? failed.length + " of " + results.length + " failed — " + failed.map(function (x) { return x.name + ": " + x.message; }).join("; ")
          : results.length + " " + ACTS[verb].past;
        node.result.className = "node-result result " + (ok ? "ok" : "failed");
        node.result.textContent = text;
        H.announce(node.name + ": " + text);
      });
    });
  }

  // ---- live --------------------------------------------------------------

  function clock(ms) {
    var d = new Date(ms);
    return d.toLocaleTimeString();
  }

  function paintLive() {
    var banner = document.getElementById("stale");
    if (live) {
      banner.hidden = true;
      return;
    }
    banner.hidden = false;
    banner.textContent = "Live updates interrupted: reconnecting… The table shows the fleet as of " +
      clock(downSince || Date.now()) + ".";
  }

  function onNode(d) {
    var node = nodes.get(d.name);
    if (!node) {
      node = makeNode({ name: d.name, environment: d.environment, health: d.health, connected: false });
      placeNodes();
    }
    var general = d.node && d.node.general ? d.node.general : {};
    node.health = d.health;
    node.connected = !!general.connected;
    if (node.connected) {
      node.freshAt = performance.now();
      node.error = null;
      reconcile(node, Array.isArray(d.node.processes) ? d.node.processes : []);
    }
    paintNode(node);
    queueRecount();
  }

  // Health, ages and reasons of every node, and the node list itself.
  function refreshFleet() {
    return H.api("GET", "/api/v2/fleet/").then(function (r) {
      if (!r.ok || !r.json || !Array.isArray(r.json.nodes)) { return false; }
      var names = new Set();
      var changed = false;
      r.json.nodes.forEach(function (info) {
        names.add(info.name);
        var node = nodes.get(info.name);
        if (!node) {
          node = makeNode(info);
          changed = true;
        }
        node.health = info.health;
        node.connected = !!info.connected;
        node.error = info.error || null;
        node.freshAt = typeof info.age_ms === "number" ? performance.now() - info.age_ms : node.freshAt;
        paintNode(node);
      });
      nodes.forEach(function (node) {
        if (!names.has(node.name)) { removeNode(node); changed = true; }
      });
      if (changed) { placeNodes(); queueRecount(); }
      return changed;
    });
  }

  function tick() {
    nodes.forEach(function (node) {
      paintAge(node);
      if (!node.connected || node.tbody.hidden) { return; }
      node.rows.forEach(function (row) { if (row.base !== null && !row.tr.hidden) { paintUptime(row); } });
    });
  }

  // ---- wiring ------------------------------------------------------------

  function wire() {
    var filter = document.getElementById("filter");
    filter.addEventListener("input", applyFilter);
    filter.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && filter.value) { filter.value = ""; applyFilter(); }
    });
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      var typing = t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
      if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        filter.focus();
      }
    });
    document.getElementById("env").addEventListener("change", function (e) {
      envFilter = e.target.value;
      applyFilter();
    });
    document.querySelectorAll("#fleet thead button.sort").forEach(function (b) {
      b.addEventListener("click", function () { sortBy(b.getAttribute("data-sort")); });
    });
    if (!canOperate) { return; }
    table.addEventListener("click", function (e) {
      var button = e.target.closest("button");
      var tr = e.target.closest("tr");
      if (button && tr && tr._row) {
        var row = tr._row;
        if (button.hasAttribute("data-act")) { rowAction(row, button.getAttribute("data-act")); }
        if (button.classList.contains("grp")) {
          var members = Array.from(row.node.rows.values()).filter(function (r) { return r.group === row.group; });
          var on = !members.every(function (r) { return selected.has(r); });
          members.forEach(function (r) { setSelected(r, on); });
          paintSelection();
        }
        return;
      }
      if (button && button.hasAttribute("data-node-act")) {
        var name = button.closest("tbody").getAttribute("data-node");
        var node = nodes.get(name);
        if (node) { nodeAction(node, button.getAttribute("data-node-act")); }
      }
    });
    table.addEventListener("change", function (e) {
      var tr = e.target.closest("tr");
      if (e.target.type === "checkbox" && tr && tr._row) {
        setSelected(tr._row, e.target.checked);
        paintSelection();
      }
    });
    document.getElementById("select-shown").addEventListener("change", function (e) {
      var on = e.target.checked;
      rowsAll.forEach(function (row) {
        if (!row.tr.hidden && !row.node.tbody.hidden) { setSelected(row, on); }
      });
      paintSelection();
    });
    document.getElementById("select-clear").addEventListener("click", function () {
      Array.from(selected).forEach(function (row) { setSelected(row, false); });
      paintSelection();
    });
    document.querySelectorAll("#bulk button[data-bulk]").forEach(function (b) {
      b.addEventListener("click", function () { bulk(b.getAttribute("data-bulk")); });
    });
    document.getElementById("results-close").addEventListener("click", function () {
      document.getElementById("results").hidden = true;
    });
  }

  function start() {
    table = document.getElementById("fleet");
    if (!table) { return; }
    canOperate = table.getAttribute("data-can-operate") === "true";
    columns = table.querySelectorAll("thead th").length;
    var data = JSON.parse(document.getElementById("fleet-data").textContent);
    pollMs = data.poll_interval_ms || 2000;
    data.nodes.forEach(function (info) {
      var node = makeNode(info);
      (info.processes || []).forEach(function (p) { makeRow(node, p); });
      paintNode(node);
    });
    placeNodes();
    nodes.forEach(sortNode);
    wire();
    applyFilter();
    var drawnMs = performance.now();
    stream = H.live({
      onOpen: function () { live = true; downSince = null; paintLive(); },
      onNode: onNode,
      onResync: function () { refreshFleet().then(function () { stream.restart(); }); },
      onDown: function () {
        if (live || downSince === null) { downSince = Date.now(); }
        live = false;
        paintLive();
      }
    });
    setInterval(tick, 1000);
    setInterval(refreshFleet, Math.max(5000, pollMs));
    // For the bench: how long one filter pass takes, in milliseconds.
    H.overview = {
      filter: function (text) {
        var input = document.getElementById("filter");
        input.value = text;
        var t0 = performance.now();
        applyFilter();
        return performance.now() - t0;
      },
      rows: function () { return rowsAll.length; },
      drawnMs: drawnMs
    };
  }

  document.addEventListener("DOMContentLoaded", start);
})();
