// supervisor-hub's process view: the process (live from /api/v2/events/),
// its config summary, observed state history and activity, its actions,
// and its log — stdout/stderr tabs, whole-line windows, older lines, live
// follow (polling the log route by byte offset), search with highlights,
// download. Everything from the API is drawn with textContent.
"use strict";
(function () {
  var S = window.SvHub;
  var el = S.el;
  var FOLLOW_EVERY = 1000;      // ms between follow polls
  var KEEP_LINES = 10000;       // lines kept on the page while following

  function enc(s) { return encodeURIComponent(s); }
  function bytes(line) { return new TextEncoder().encode(line).length + 1; }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function byId(id) { return document.getElementById(id); }
  function when(seconds) { return seconds ? new Date(seconds * 1000).toLocaleString() : "—"; }

  document.addEventListener("DOMContentLoaded", function () {
    var root = byId("process-view");
    if (!root) { return; }
    var node = root.getAttribute("data-node");
    var uname = root.getAttribute("data-uname");
    var canLogs = root.getAttribute("data-can-logs") === "true";
    var base = "/api/v2/nodes/" + enc(node) + "/processes/" + enc(uname) + "/";
    var namespec = uname;
    var bare = uname.indexOf(":") >= 0 ? uname.slice(uname.indexOf(":") + 1) : uname;
    byId("node-link").href = "/nodes/" + enc(node);

    function problem(text) {
      var p = byId("proc-error");
      p.textContent = text || "";
      p.hidden = !text;
    }

    // ---- the process ------------------------------------------------
    var lastState = null;
    function setState(p) {
      var state = byId("proc-state");
      state.textContent = p.statename;
      state.className = "state " + S.stateClass(p.statename);
      byId("proc-desc").textContent = p.description || "";
      root.setAttribute("data-state", p.statename);
      var changed = lastState !== null && lastState !== p.statename;
      lastState = p.statename;
      return changed;
    }

    var CONFIG_KEYS = ["command", "directory", "uid", "autostart", "priority", "group_priority",
      "startsecs", "startretries", "stopsignal", "stopwaitsecs", "killasgroup", "exitcodes",
      "redirect_stderr", "stdout_logfile", "stdout_logfile_maxbytes", "stdout_logfile_backups",
      "stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups", "serverurl", "inuse"];
    function shown(v) {
      if (v === null || v === undefined) { return "—"; }
      if (Array.isArray(v)) { return v.join(", "); }
      return String(v);
    }
    function renderConfig(config, why) {
      var dl = byId("proc-config");
      clear(dl);
      if (!config) {
        dl.appendChild(el("dt", null, "—"));
        dl.appendChild(el("dd", null, why || (canLogs ? "Not available (the node does not answer)."
          : "Your role may not read the configuration.")));
        return;
      }
      CONFIG_KEYS.forEach(function (key) {
        if (!(key in config)) { return; }
        dl.appendChild(el("dt", null, key));
        dl.appendChild(el("dd", { "class": key === "command" ? "mono" : null }, shown(config[key])));
      });
    }
    function renderHistory(list) {
      var ol = byId("proc-history");
      clear(ol);
      if (!list || !list.length) { ol.appendChild(el("li", { "class": "muted" }, "Nothing seen yet.")); return; }
      list.slice().reverse().forEach(function (t) {
        var change = t.from ? t.from + " → " + t.to : "first seen " + t.to;
        ol.appendChild(el("li", null,
          el("span", { "class": "when" }, when(t.time)), " ",
          el("span", { "class": "state " + S.stateClass(t.to) }, change),
          t.description ? el("span", { "class": "muted" }, " · " + t.description) : null));
      });
    }
    function loadActivity() {
      S.api("GET", "/api/v2/activity/?limit=20&node=" + enc(node) + "&process=" + enc(bare)).then(function (r) {
        var ul = byId("proc-activity");
        clear(ul);
        var entries = r.ok && r.json ? r.json.entries : [];
        if (!entries.length) { ul.appendChild(el("li", { "class": "muted" }, r.ok ? "No activity." : r.message)); return; }
        entries.forEach(function (e) {
          ul.appendChild(el("li", { "class": e.ok ? "" : "failed" },
            el("span", { "class": "when" }, new Date(e.time).toLocaleString()), " ", e.message));
        });
        ul.appendChild(el("li", null, el("a", { href: "/activity?node=" + enc(node) + "&process=" + enc(bare) }, "All activity of this process")));
      });
    }
    function loadDetail() {
      return S.api("GET", base + "detail/").then(function (r) {
        if (!r.ok) { problem(r.message); return; }
        problem("");
        var d = r.json;
        namespec = d.namespec;
        setState(d.process);
        renderConfig(d.config, d.config_error);
        renderHistory(d.history);
        if (!d.live) { problem("The node does not answer: this is the last known state."); }
        loadActivity();
      });
    }
    loadDetail();

    S.live({
      onNode: function (data) {
        if (data.name !== node || !data.node || !data.node.processes) { return; }
        data.node.processes.forEach(function (p) {
          if (p.group + ":" + p.name === namespec && setState(p)) { loadDetail(); }
        });
      },
      onResync: function () { loadDetail(); }
    });

    // ---- actions (rendered for operators and admins only) -------------
    var actions = byId("proc-actions");
    if (actions) {
      actions.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-act]");
        if (!button) { return; }
        var act = button.getAttribute("data-act");
        var url = base + act + "/";
        if (act === "signal") { url = base + "signal/" + enc(byId("proc-signal").value) + "/"; }
        var out = byId("proc-result");
        out.className = "result pending";
        out.textContent = act + "…";
        button.disabled = true;
        S.api("POST", url).then(function (r) {
          button.disabled = false;
          out.className = "result " + (r.ok ? "ok" : "failed");
          out.textContent = r.ok ? act + ": done" : act + " failed: " + r.message;
          S.announce(out.textContent);
          loadDetail();
          if (act === "clear" && log) { log.reload(); }
        });
      });
    }

    // ---- the log ------------------------------------------------------
    var log = canLogs && byId("log") ? logView() : null;

    function logView() {
      var text = byId("log-text");
      var status = byId("log-status");
      var follow = byId("log-follow");
      var olderButton = byId("log-older");
      var stream = "stdout";
      var lines = [];           // shown lines
      var start = 0;            // byte offset of lines[0]
      var end = 0;              // byte offset after the last line
      var timer = null;
      var searching = false;
      var generation = 0;       // drops answers of a stream or window left behind

      function logUrl() { return base + "log/" + stream + "/"; }
      function atBottom() { return text.scrollHeight - text.scrollTop - text.clientHeight < 24; }
      function draw(keepBottom) {
        var stick = keepBottom || atBottom();
        text.textContent = lines.join("\n");
        if (stick) { text.scrollTop = text.scrollHeight; }
      }
      function say(message) { status.textContent = message; }
      function schedule() {
        if (timer !== null) { clearTimeout(timer); }
        timer = null;
        if (follow.checked && !searching) { timer = setTimeout(poll, FOLLOW_EVERY); }
      }
      function missing(r) {
        if (r.json && r.json.log && r.json.log.missing) {
          lines = [];
          draw(true);
          say("No " + stream + " log: " + r.json.log.missing);
          return true;
        }
        return false;
      }
      function load() {
        var mine = ++generation;
        say("Loading…");
        S.api("GET", logUrl() + "?lines=" + enc(byId("log-lines").value)).then(function (r) {
          if (mine !== generation) { return; }
          if (!r.ok) { say(r.message); schedule(); return; }
          if (missing(r)) { return; }
          lines = r.json.log.lines;
          start = r.json.log.start;
          end = r.json.log.end;
          olderButton.disabled = start <= 0;
          draw(true);
          say(lines.length + " lines" + (follow.checked ? ", following" : ""));
          schedule();
        });
      }
      function poll() {
        timer = null;
        var mine = generation;
        S.api("GET", logUrl() + "?after=" + end).then(function (r) {
          if (mine !== generation || searching) { return; }
          if (!r.ok) { say("Following paused: " + r.message); schedule(); return; }
          if (missing(r)) { schedule(); return; }
          var w = r.json.log;
          if (w.reset) {
            lines = w.lines;
            start = w.start;
            say("The log was cleared or rotated; showing it from its new end.");
          } else {
            if (w.gap && w.lines.length) { lines.push("… more was written than one read holds; lines skipped …"); }
            Array.prototype.push.apply(lines, w.lines);
            while (lines.length > KEEP_LINES) { start += bytes(lines.shift()); }
            if (w.lines.length) { say(lines.length + " lines, following"); }
          }
          end = w.end;
          if (w.lines.length || w.reset) { draw(false); }
          schedule();
        });
      }
      olderButton.addEventListener("click", function () {
        var mine = generation;
        S.api("GET", logUrl() + "?before=" + start + "&lines=" + enc(byId("log-lines").value)).then(function (r) {
          if (mine !== generation) { return; }
          if (!r.ok) { say(r.message); return; }
          var w = r.json.log;
          var height = text.scrollHeight;
          lines = w.lines.concat(lines);
          start = w.start;
          text.textContent = lines.join("\n");
          text.scrollTop = text.scrollHeight - height;
          olderButton.disabled = start <= 0;
          say(w.lines.length ? w.lines.length + " older lines" : "This is the start of the log file.");
        });
      });
      follow.addEventListener("change", function () {
        if (follow.checked) { poll(); } else { schedule(); say("Not following"); }
      });
      byId("log-lines").addEventListener("change", load);
      function setStream(next) {
        stream = next;
        ["stdout", "stderr"].forEach(function (s) {
          byId("tab-" + s).setAttribute("aria-selected", s === stream ? "true" : "false");
        });
        byId("log-download").href = logUrl() + "download/";
        endSearch();
        load();
      }
      byId("tab-stdout").addEventListener("click", function () { setStream("stdout"); });
      byId("tab-stderr").addEventListener("click", function () { setStream("stderr"); });

      // Search: the server looks through a bounded window (the last MiB)
      // and says which bytes it searched.
      function highlighted(line, needle, exact) {
        var hay = exact ? line : line.toLowerCase();
        var want = exact ? needle : needle.toLowerCase();
        var row = el("span", { "class": "hit" });
        var at = 0;
        var i = hay.indexOf(want);
        while (i >= 0 && want.length) {
          row.appendChild(document.createTextNode(line.slice(at, i)));
          row.appendChild(el("mark", null, line.slice(i, i + want.length)));
          at = i + want.length;
          i = hay.indexOf(want, at);
        }
        row.appendChild(document.createTextNode(line.slice(at) + "\n"));
        return row;
      }
      function endSearch() {
        searching = false;
        byId("log-search-clear").hidden = true;
      }
      byId("log-search").addEventListener("submit", function (event) {
        event.preventDefault();
        var needle = byId("log-q").value;
        if (!needle) { return; }
        var exact = byId("log-case").checked;
        searching = true;
        schedule();
        var mine = ++generation;
        say("Searching…");
        S.api("GET", logUrl() + "search/?q=" + enc(needle) + (exact ? "&case=1" : "")).then(function (r) {
          if (mine !== generation) { return; }
          byId("log-search-clear").hidden = false;
          if (!r.ok) { say(r.message); return; }
          if (missing(r)) { return; }
          var found = r.json.log;
          clear(text);
          found.matches.forEach(function (m) { text.appendChild(highlighted(m.line, needle, exact)); });
          var kib = Math.max(1, Math.round((found.to - found.from) / 1024));
          say(found.matches.length + (found.matches.length === 1 ? " matching line" : " matching lines") + " in the last " + kib + " KiB searched" +
            (found.from > 0 ? " (older bytes not searched)" : "") +
            (found.truncated ? "; only the newest " + found.matches.length + " shown" : ""));
          S.announce(status.textContent);
        });
      });
      byId("log-search-clear").addEventListener("click", function () { byId("log-q").value = ""; endSearch(); load(); });

      setStream("stdout");
      return { reload: load };
    }
  });
})();
