// supervisor-hub's activity view: the activity log filtered by user,
// node, process, action, result and time (the form is a plain GET, so a
// filtered view is a link), newest first, a page at a time ("Older
// entries" asks for the page before the last id shown). textContent only.
"use strict";
(function () {
  var S = window.SvHub;
  var el = S.el;
  var PAGE = 100;
  function byId(id) { return document.getElementById(id); }

  document.addEventListener("DOMContentLoaded", function () {
    var form = byId("activity-filter");
    if (!form) { return; }
    var params = new URLSearchParams(window.location.search);
    var query = new URLSearchParams();
    ["user", "node", "process", "action", "result"].forEach(function (key) {
      var value = params.get(key);
      if (value) {
        form.elements[key].value = value;
        query.set(key, value);
      }
    });
    // Times: the form's local date-times, the API's milliseconds.
    ["since", "until"].forEach(function (key) {
      var value = params.get(key);
      if (!value) { return; }
      form.elements[key].value = value;
      var ms = new Date(value).getTime();
      if (!isNaN(ms)) { query.set(key, String(ms)); }
    });
    query.set("limit", String(PAGE));
    var next = null;

    function load() {
      var q = new URLSearchParams(query);
      if (next !== null) { q.set("before", String(next)); }
      S.api("GET", "/api/v2/activity/?" + q.toString()).then(function (r) {
        var err = byId("activity-error");
        err.hidden = r.ok;
        err.textContent = r.ok ? "" : r.message;
        if (!r.ok) { return; }
        var body = byId("activity-rows");
        r.json.entries.forEach(function (e) {
          body.appendChild(el("tr", { "class": e.ok ? "" : "failed", "data-id": String(e.id) },
            el("td", { "class": "uptime" }, new Date(e.time).toLocaleString()),
            el("td", null, e.user),
            el("td", null, e.action),
            el("td", null, e.node || ""),
            el("td", null, e.process || ""),
            el("td", { "class": e.ok ? "st-running" : "st-error" }, e.ok ? "ok" : "failed"),
            el("td", { "class": "desc" }, e.message)));
        });
        next = r.json.next;
        byId("activity-more").hidden = next === null;
        byId("activity-empty").hidden = body.children.length > 0;
      });
    }
    byId("activity-more").addEventListener("click", load);
    load();
  });
})();
