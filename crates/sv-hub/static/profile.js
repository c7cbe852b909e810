// supervisor-hub's profile view: change one's password, see one's
// sessions (this one marked; never a token) and end them, create and
// revoke one's API tokens (a new token is shown once). JSON API only;
// drawn with textContent.
"use strict";
(function () {
  var S = window.SvHub;
  var el = S.el;
  function enc(s) { return encodeURIComponent(s); }
  function byId(id) { return document.getElementById(id); }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function when(seconds) { return new Date(seconds * 1000).toLocaleString(); }
  function result(id, r, done) {
    var p = byId(id);
    p.className = "result " + (r.ok ? "ok" : "failed");
    p.textContent = r.ok ? done : r.message;
    S.announce(p.textContent);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!byId("sessions")) { return; }

    S.api("GET", "/api/v2/profile/").then(function (r) {
      if (r.ok) { byId("me").textContent = r.json.user.name; }
    });

    function sessions() {
      S.api("GET", "/api/v2/profile/sessions/").then(function (r) {
        var ul = byId("sessions");
        clear(ul);
        if (!r.ok) { ul.appendChild(el("li", { "class": "failed" }, r.message)); return; }
        r.json.sessions.forEach(function (s) {
          var end = el("button", { type: "button", "class": "subtle danger" }, s.current ? "Log out" : "End");
          end.setAttribute("aria-label", (s.current ? "End this session" : "End the session started ") + when(s.created));
          end.addEventListener("click", function () {
            S.api("DELETE", "/api/v2/profile/sessions/" + enc(s.id) + "/").then(function (x) {
              result("sessions-result", x, "Session ended.");
              if (s.current && x.ok) { window.location.assign("/login"); return; }
              sessions();
            });
          });
          ul.appendChild(el("li", { "data-session": s.id, "class": s.current ? "current" : "" },
            "Started " + when(s.created) + ", expires " + when(s.expires),
            s.current ? el("strong", null, " (this session)") : null, " ", end));
        });
      });
    }
    sessions();
    byId("sessions-others").addEventListener("click", function () {
      S.api("DELETE", "/api/v2/profile/sessions/").then(function (r) {
        result("sessions-result", r, r.ok ? "Ended " + r.json.ended + " other sessions." : "");
        sessions();
      });
    });

    function tokens() {
      S.api("GET", "/api/v2/profile/tokens/").then(function (r) {
        var ul = byId("tokens");
        clear(ul);
        if (!r.ok) { ul.appendChild(el("li", { "class": "failed" }, r.message)); return; }
        if (!r.json.tokens.length) { ul.appendChild(el("li", { "class": "muted" }, "No API tokens.")); }
        r.json.tokens.forEach(function (t) {
          var revoke = el("button", { type: "button", "class": "subtle danger" }, "Revoke");
          revoke.setAttribute("aria-label", "Revoke the token " + t.name);
          revoke.addEventListener("click", function () {
            if (!window.confirm("Revoke the API token " + t.name + "? Scripts using it stop working.")) { return; }
            S.api("DELETE", "/api/v2/profile/tokens/" + enc(t.name) + "/").then(function (x) {
              result("tokens-result", x, "Revoked " + t.name + ".");
              byId("token-new").hidden = true;
              tokens();
            });
          });
          ul.appendChild(el("li", { "data-token": t.name }, el("code", null, t.name), " created " + when(t.created) + " ", revoke));
        });
      });
    }
    tokens();
    byId("token-add").addEventListener("submit", function (event) {
      event.preventDefault();
      var name = byId("token-name").value.trim();
      S.api("POST", "/api/v2/profile/tokens/", { name: name }).then(function (r) {
        result("tokens-result", r, "Created " + name + ".");
        if (r.ok) {
          byId("token-name-shown").textContent = r.json.name;
          byId("token-value").textContent = r.json.token;
          byId("token-new").hidden = false;
          byId("token-add").reset();
        }
        tokens();
      });
    });

    byId("password").addEventListener("submit", function (event) {
      event.preventDefault();
      var fresh = byId("pw-new").value;
      if (fresh !== byId("pw-again").value) {
        result("pw-result", { ok: false, message: "The new passwords differ." }, "");
        return;
      }
      S.api("PUT", "/api/v2/profile/password/", { oldPassword: byId("pw-old").value, newPassword: fresh })
        .then(function (r) {
          result("pw-result", r, "Password changed; your other sessions ended.");
          if (r.ok) { byId("password").reset(); sessions(); }
        });
    });
  });
})();
