// supervisor-hub's users view (admins): the users with role, environments,
// live sessions and tokens; add a user; change role and environments;
// reset a password; revoke sessions and tokens; delete. Every action goes
// through the JSON API (the server checks the role and writes the
// activity line). Drawn with textContent only.
"use strict";
(function () {
  var S = window.SvHub;
  var el = S.el;
  function enc(s) { return encodeURIComponent(s); }
  function byId(id) { return document.getElementById(id); }
  function envList(text) {
    return text.split(",").map(function (s) { return s.trim(); }).filter(function (s) { return s.length > 0; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!byId("users")) { return; }
    var me = (byId("whoami") && byId("whoami").firstChild) ? byId("whoami").firstChild.textContent.trim() : "";

    function report(r, done) {
      var p = byId("users-result");
      p.hidden = false;
      p.className = "message" + (r.ok ? "" : " failed");
      p.textContent = r.ok ? done : r.message;
      S.announce(p.textContent);
      if (r.ok) { load(); }
    }

    function row(u) {
      var base = "/api/v2/users/" + enc(u.name) + "/";
      var role = el("select", { "aria-label": "Role of " + u.name });
      [["0", "admin"], ["1", "operator"], ["2", "viewer"]].forEach(function (o) {
        role.appendChild(el("option", { value: o[0], selected: String(u.type) === o[0] }, o[1]));
      });
      if (u.type > 2) { role.appendChild(el("option", { value: String(u.type), selected: true }, "restricted")); }
      var envs = el("input", { value: (u.environments || []).join(", "), placeholder: "all", size: "14", "aria-label": "Environments of " + u.name });
      var save = el("button", { type: "button" }, "Save");
      save.addEventListener("click", function () {
        var list = envList(envs.value);
        S.api("PUT", base, { usertype: Number(role.value), environments: list.length ? list : null })
          .then(function (r) { report(r, "Saved " + u.name + "."); });
      });
      var reset = el("button", { type: "button" }, "Reset password…");
      reset.addEventListener("click", function () {
        var pw = window.prompt("New password for " + u.name + " (their sessions end):");
        if (!pw) { return; }
        S.api("PUT", base + "password/", { password: pw }).then(function (r) { report(r, "Password of " + u.name + " reset."); });
      });
      var revoke = el("button", { type: "button", "class": "danger" }, "Revoke sessions and tokens");
      revoke.addEventListener("click", function () {
        if (!window.confirm("End every session and revoke every API token of " + u.name + "?")) { return; }
        S.api("POST", base + "revoke/").then(function (r) {
          report(r, r.ok ? "Revoked " + r.json.sessions + " sessions and " + r.json.tokens + " tokens of " + u.name + "." : "");
        });
      });
      var del = el("button", { type: "button", "class": "danger", disabled: u.protected || u.name === me }, "Delete");
      del.addEventListener("click", function () {
        if (!window.confirm("Delete the user " + u.name + "?")) { return; }
        S.api("DELETE", base).then(function (r) { report(r, "Deleted " + u.name + "."); });
      });
      var tokens = (u.tokens || []).map(function (t) { return t.name; }).join(", ");
      return el("tr", { "data-user": u.name },
        el("td", { "class": "name" }, u.name, u.protected ? el("span", { "class": "muted" }, " (protected)") : null),
        el("td", null, role),
        el("td", null, envs, " ", save),
        el("td", null, String(u.sessions)),
        el("td", null, tokens || "—"),
        el("td", { "class": "acts" }, el("span", { "class": "row-acts" }, reset, revoke, del)));
    }

    function load() {
      S.api("GET", "/api/v2/users/?detail=1").then(function (r) {
        var body = byId("user-rows");
        while (body.firstChild) { body.removeChild(body.firstChild); }
        if (!r.ok) { report(r, ""); return; }
        r.json.users.forEach(function (u) { body.appendChild(row(u)); });
      });
    }
    load();

    byId("user-add").addEventListener("submit", function (event) {
      event.preventDefault();
      var name = byId("add-name").value.trim();
      var body = {
        username: name,
        password: byId("add-password").value,
        usertype: Number(byId("add-role").value)
      };
      var list = envList(byId("add-envs").value);
      if (list.length) { body.environments = list; }
      S.api("POST", "/api/v2/users/", body).then(function (r) {
        report(r, "Added " + name + ".");
        if (r.ok) { byId("user-add").reset(); }
      });
    });
  });
})();
