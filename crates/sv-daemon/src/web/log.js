// supervisor-rs log view: live follow, search within the shown lines.
//
// The page holds a window of whole lines (`div.l`) and, in `data-follow`,
// the URL of `logevents` from the byte offset where the window ends. While
// "Follow" is on, appended text arrives as server-sent `append` messages
// and is split into lines here (a line may arrive in pieces); `reset` marks
// a rotation or clear. The page keeps at most `data-keep` lines, dropping
// the oldest. The search box hides the lines that do not contain its text
// (case-insensitive) and counts those that do, new lines included.
"use strict";

(function () {
  var log, source = null, open = false, keep = 5000, end = null, followUrl = "";

  function atBottom() {
    var doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 40;
  }

  function needle() {
    var box = document.getElementById("search");
    return box ? box.value.trim().toLowerCase() : "";
  }

  function matches(line, text) {
    return text === "" || line.textContent.toLowerCase().indexOf(text) >= 0;
  }

  function newLine(text) {
    var div = document.createElement("div");
    div.className = "l";
    div.textContent = text;
    log.appendChild(div);
    return div;
  }

  function append(text) {
    var follow = atBottom();
    var parts = text.split("\n");
    var search = needle();
    var touched = [];
    parts.forEach(function (part, i) {
      var last = i === parts.length - 1;
      if (last && part === "") { open = false; return; }
      if (i === 0 && open && log.lastElementChild) {
        log.lastElementChild.textContent += part;
        touched.push(log.lastElementChild);
      } else {
        touched.push(newLine(part));
      }
      open = last;
    });
    touched.forEach(function (line) { line.hidden = !matches(line, search); });
    while (log.childElementCount > keep) { log.removeChild(log.firstElementChild); }
    if (search !== "") { count(); }
    if (follow) { window.scrollTo(0, document.documentElement.scrollHeight); }
  }

  function marker(text) {
    var div = newLine(text);
    div.className = "l marker";
    open = false;
  }

  function followFrom() {
    if (end === null) { return followUrl; }
    return followUrl.replace(/([?&]offset=)[^&]*/, "$1" + end);
  }

  function startFollowing() {
    if (source || !window.EventSource) { return; }
    source = new EventSource(followFrom());
    source.addEventListener("append", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (typeof message.end === "number") { end = message.end; }
      append(message.text || "");
    });
    source.addEventListener("reset", function () {
      end = 0;
      marker("— the log was rotated or cleared; following the new file —");
    });
  }

  function stopFollowing() {
    if (source) { source.close(); source = null; }
  }

  function count() {
    var text = needle();
    var shown = document.getElementById("search-count");
    var lines = log.querySelectorAll("div.l:not(.marker)");
    if (text === "") {
      lines.forEach(function (line) { line.hidden = false; });
      if (shown) { shown.textContent = ""; }
      return;
    }
    var n = 0;
    lines.forEach(function (line) {
      var hit = matches(line, text);
      line.hidden = !hit;
      if (hit) { n += 1; }
    });
    if (shown) { shown.textContent = n + " of " + lines.length + " lines match"; }
  }

  function start() {
    log = document.getElementById("log");
    var tools = document.getElementById("log-tools");
    if (!log) { return; }
    if (tools) { tools.hidden = false; }
    open = log.getAttribute("data-open") === "true";
    keep = Number(log.getAttribute("data-keep")) || keep;
    followUrl = log.getAttribute("data-follow") || "";
    var box = document.getElementById("search");
    if (box) { box.addEventListener("input", count); }
    var follow = document.getElementById("follow");
    if (follow) {
      follow.addEventListener("change", function () {
        if (follow.checked) { startFollowing(); } else { stopFollowing(); }
      });
    }
    window.scrollTo(0, document.documentElement.scrollHeight);
    if (!follow || follow.checked) { startFollowing(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
