/* Quietdesk console: keep the waiting-visitor badge and an open conversation up to date without a
 * reload. Polls JSON from this console (CSP script-src 'self'); builds the DOM with textContent only.
 * Every 2 s on a conversation page, every 10 s for the badge elsewhere; every 20 s while the tab is hidden. */
(function () {
  "use strict";
  var badge = document.getElementById("waiting-count");
  var list = document.getElementById("messages");
  var LABELS = { visitor: "Visitor", bot: "Assistant", notice: "Notice" };

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("json") < 0) throw new Error("http " + r.status);
      return r.json();
    });
  }

  function showWaiting(count) {
    if (!badge) return;
    badge.textContent = String(count);
    badge.setAttribute("aria-label", count + " waiting");
  }

  function append(message) {
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var item = document.createElement("li");
    item.className = message.role;
    var who = document.createElement("strong");
    who.textContent = message.role === "agent" ? message.author + " (team)" : (LABELS[message.role] || message.role);
    var when = document.createElement("small");
    when.textContent = " " + message.created_at.slice(0, 19).replace("T", " ");
    var text = document.createElement("p");
    text.textContent = message.text;
    item.append(who, when, text);
    list.append(item);
    list.dataset.after = message.id;
  }

  function showHandoff(handoff) {
    var status = document.querySelector(".handoff-status");
    if (status && handoff && status.textContent !== handoff.status) {
      status.textContent = handoff.status;
      var hint = document.getElementById("live-hint") || document.createElement("p");
      hint.id = "live-hint";
      hint.className = "notice";
      hint.setAttribute("role", "status");
      hint.textContent = "The handoff is now " + handoff.status + ". Reload the page for its actions.";
      status.closest(".handoff").append(hint);
    }
  }

  function poll() {
    var url = list ? list.dataset.live + "?after=" + encodeURIComponent(list.dataset.after || "")
      : badge && badge.dataset.live;
    if (!url) return;
    get(url).then(function (data) {
      if (list) {
        data.messages.forEach(append);
        showHandoff(data.handoff);
      }
      showWaiting(data.waiting);
    }, function () { /* signed out or offline: try again on the next tick */ }).then(schedule);
  }

  var timer = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, document.hidden ? 20000 : list ? 2000 : 10000);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { clearTimeout(timer); poll(); }
  });
  schedule();
})();
