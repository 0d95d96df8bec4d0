/* Quietdesk chat widget: <script src="https://HOST/widget.js" async></script>
 * Optional data-* attributes: data-title, data-accent, data-greeting, data-position (right|left),
 * data-language (en|de). One IIFE, one global (window.Quietdesk), a Shadow DOM so the host page's
 * CSS cannot reach in, requests only to the origin this file was loaded from, and server text set
 * with textContent only — never innerHTML. */
(function () {
  "use strict";
  if (window.Quietdesk) return;
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var data = (script && script.dataset) || {};
  var API = new URL(script.src, location.href).origin + "/api/v1";
  var STORE = "quietdesk:" + API;

  var STRINGS = {
    en: {
      open: "Open chat", close: "Close chat", title: "Help", menu: "More options",
      consentIntro: "Before we start: may we keep this conversation? You can chat either way.",
      consentTranscripts: "Keep my conversation so the support team can review it (personal details are removed, kept 30 days)",
      consentAnalytics: "Count my visit in anonymous statistics",
      start: "Start chatting", placeholder: "Type your question…", send: "Send", input: "Your message",
      typing: "The assistant is typing…", sources: "Sources:", helpful: "Helpful", notHelpful: "Not helpful",
      thanks: "Thanks for the feedback.", human: "Talk to a human",
      humanDone: "A member of our support team has been asked to join this conversation.",
      download: "Download my data", remove: "Delete my data", privacy: "Privacy settings",
      confirmDelete: "Delete everything we hold about you, including this conversation? This cannot be undone.",
      confirmYes: "Yes, delete", confirmNo: "Cancel", deleted: "Your data has been deleted.",
      offline: "We couldn't reach the assistant. Check your connection.",
      busy: "Too many messages at once. Please wait a moment.", failed: "Something went wrong on our side.",
      retry: "Retry", you: "You", bot: "Assistant", saved: "Saved your privacy choices."
    },
    de: {
      open: "Chat öffnen", close: "Chat schließen", title: "Hilfe", menu: "Weitere Optionen",
      consentIntro: "Bevor es losgeht: Dürfen wir dieses Gespräch speichern? Sie können so oder so chatten.",
      consentTranscripts: "Mein Gespräch speichern, damit das Support-Team es prüfen kann (persönliche Angaben werden entfernt, 30 Tage)",
      consentAnalytics: "Meinen Besuch in anonymen Statistiken zählen",
      start: "Chat beginnen", placeholder: "Ihre Frage…", send: "Senden", input: "Ihre Nachricht",
      typing: "Der Assistent schreibt…", sources: "Quellen:", helpful: "Hilfreich", notHelpful: "Nicht hilfreich",
      thanks: "Danke für Ihr Feedback.", human: "Mit einem Menschen sprechen",
      humanDone: "Ein Mitglied unseres Support-Teams wurde gebeten, dieses Gespräch zu übernehmen.",
      download: "Meine Daten herunterladen", remove: "Meine Daten löschen", privacy: "Datenschutz-Einstellungen",
      confirmDelete: "Alles löschen, was wir über Sie speichern, einschließlich dieses Gesprächs? Das kann nicht rückgängig gemacht werden.",
      confirmYes: "Ja, löschen", confirmNo: "Abbrechen", deleted: "Ihre Daten wurden gelöscht.",
      offline: "Der Assistent ist nicht erreichbar. Bitte prüfen Sie Ihre Verbindung.",
      busy: "Zu viele Nachrichten auf einmal. Bitte warten Sie kurz.", failed: "Bei uns ist etwas schiefgelaufen.",
      retry: "Erneut versuchen", you: "Sie", bot: "Assistent", saved: "Ihre Datenschutz-Einstellungen wurden gespeichert."
    }
  };
  var lang = (data.language || navigator.language || "en").slice(0, 2).toLowerCase();
  var T = STRINGS[lang] || STRINGS.en;
  var accent = /^#[0-9a-fA-F]{3,8}$/.test(data.accent || "") ? data.accent : "#1f5fbf";
  var left = data.position === "left";

  var CSS = ":host{all:initial!important}*{box-sizing:border-box;letter-spacing:normal;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    "svg{width:22px;height:22px;fill:currentColor;vertical-align:middle}.rate svg{width:16px;height:16px}" +
    ".launcher{position:fixed;bottom:20px;" + (left ? "left" : "right") + ":20px;z-index:2147483646;width:56px;height:56px;border-radius:50%;border:0;background:ACC;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3)}" +
    ".panel{position:fixed;bottom:88px;" + (left ? "left" : "right") + ":20px;z-index:2147483647;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 110px);background:#fff;color:#1a1a1a;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;font-size:15px;line-height:1.45}" +
    ".panel[hidden]{display:none}header{background:ACC;color:#fff;display:flex;align-items:center;gap:6px;padding:10px 12px}" +
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600}header button{background:transparent;border:0;color:#fff;font-size:20px;width:36px;height:36px;border-radius:6px;cursor:pointer}" +
    "button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".menu{border-bottom:1px solid #ddd;display:flex;flex-direction:column;padding:6px}.menu[hidden]{display:none}" +
    ".menu button,.act{background:#fff;border:1px solid #767676;color:#1a1a1a;border-radius:6px;padding:8px 10px;margin:3px 0;text-align:left;cursor:pointer;font-size:14px}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px}" +
    ".msg{max-width:88%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".visitor{align-self:flex-end;background:ACC;color:#fff}.bot{align-self:flex-start;background:#f0f2f5;color:#1a1a1a}" +
    ".note{align-self:center;color:#444;font-size:13px;text-align:center}.error{color:#a00000}" +
    ".sources{margin-top:6px;font-size:13px}.sources a{color:#0b4fa8;display:block}" +
    ".rate{margin-top:6px;display:flex;gap:6px}.rate button{background:#fff;border:1px solid #767676;border-radius:6px;cursor:pointer;padding:2px 8px;font-size:15px}" +
    ".rate button[aria-pressed=true]{background:#dfe9f8;border-color:ACC}" +
    ".consent{padding:12px;display:flex;flex-direction:column;gap:10px}.consent label{display:flex;gap:8px;align-items:flex-start}" +
    ".primary{background:ACC;color:#fff;border:0;border-radius:6px;padding:10px;font-size:15px;cursor:pointer}" +
    "form{display:flex;gap:6px;border-top:1px solid #ddd;padding:8px}form[hidden]{display:none}" +
    "textarea{flex:1;resize:none;height:42px;border:1px solid #767676;border-radius:6px;padding:8px;font-size:15px;color:#1a1a1a}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";

  function icon(path, flip) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    if (flip) svg.setAttribute("transform", "rotate(180)");
    var shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }
  var BUBBLE = "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";
  var THUMB = "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6V3a1.5 1.5 0 0 0-.4-1L13.2 1 7.6 6.6A2 2 0 0 0 7 8v11a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    if (text != null) node.textContent = text;
    return node;
  }

  var host = el("div", { id: "quietdesk-widget" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = CSS.split("ACC").join(accent);
  var launcher = el("button", { class: "launcher", type: "button", "aria-label": T.open, "aria-expanded": "false" });
  launcher.append(icon(BUBBLE));
  var panel = el("section", { class: "panel", role: "dialog", "aria-label": data.title || T.title, hidden: "" });
  var header = el("header");
  var heading = el("h2", null, data.title || T.title);
  var menuButton = el("button", { type: "button", "aria-label": T.menu, "aria-expanded": "false" }, "⋮");
  var closeButton = el("button", { type: "button", "aria-label": T.close }, "×");
  var menu = el("div", { class: "menu", hidden: "" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": T.title });
  var form = el("form", { hidden: "" });
  var inputLabel = el("label", { class: "sr", for: "qd-input" }, T.input);
  var input = el("textarea", { id: "qd-input", placeholder: T.placeholder, maxlength: "2000", rows: "1" });
  var send = el("button", { class: "primary", type: "submit" }, T.send);
  header.append(heading, menuButton, closeButton);
  form.append(inputLabel, input, send);
  panel.append(header, menu, log, form);
  root.append(style, launcher, panel);

  var state = load();
  var started = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  function save() { localStorage.setItem(STORE, JSON.stringify(state)); }

  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(API + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        return response.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
          if (!response.ok) { var error = new Error((json && json.error) || "http_" + response.status); error.status = response.status; throw error; }
          return json;
        });
      });
  }

  function note(text, extra) {
    var node = el("div", { class: "note" + (extra ? " " + extra : "") }, text);
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function failure(error, retry) {
    var text = !error.status ? T.offline : error.status === 429 ? T.busy : T.failed;
    var box = note(text, "error");
    if (retry) {
      var again = el("button", { class: "act", type: "button" }, T.retry);
      again.addEventListener("click", function () { box.remove(); retry(); });
      box.append(el("br"), again);
    }
  }

  function safeUrl(url) {
    try { var parsed = new URL(url); return /^https?:$/.test(parsed.protocol) ? parsed.href : null; } catch (e) { return null; }
  }

  function showVisitor(text) {
    var node = el("div", { class: "msg visitor" });
    node.append(el("span", { class: "sr" }, T.you + ": "), document.createTextNode(text));
    log.append(node);
  }

  function showBot(reply) {
    var node = el("div", { class: "msg bot" });
    node.append(el("span", { class: "sr" }, T.bot + ": "), document.createTextNode(reply.answer || reply.text));
    var sources = (reply.sources || []).filter(function (s) { return safeUrl(s.url); });
    if (sources.length) {
      var list = el("div", { class: "sources" }, T.sources);
      sources.forEach(function (s) {
        var link = el("a", { target: "_blank", rel: "noopener noreferrer" }, s.title);
        link.href = safeUrl(s.url);
        list.append(link);
      });
      node.append(list);
    }
    var id = reply.message_id || reply.id;
    if (id && state.consent && state.consent.transcripts) node.append(rating(id, reply.feedback));
    if (reply.handoff_offered) node.append(humanButton());
    log.append(node);
    log.scrollTop = log.scrollHeight;
  }

  function rating(id, current) {
    var box = el("div", { class: "rate", role: "group", "aria-label": T.helpful + " / " + T.notHelpful });
    [["up", false, T.helpful], ["down", true, T.notHelpful]].forEach(function (r) {
      var b = el("button", { type: "button", "aria-label": r[2], "aria-pressed": String(current === r[0]), "data-rating": r[0] });
      b.append(icon(THUMB, r[1]));
      b.addEventListener("click", function () {
        call("POST", "/messages/" + encodeURIComponent(id) + "/feedback", { rating: r[0] }).then(function () {
          box.querySelectorAll("button").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
          note(T.thanks);
        }, function (e) { failure(e); });
      });
      box.append(b);
    });
    return box;
  }

  function humanButton() {
    var b = el("button", { class: "act", type: "button" }, T.human);
    b.addEventListener("click", askHuman);
    return b;
  }

  function askHuman() {
    call("POST", "/conversations/" + encodeURIComponent(state.conversation) + "/handoff").then(function () {
      note(T.humanDone);
    }, function (e) { failure(e, askHuman); });
  }

  function typing() {
    var node = el("div", { class: "note", "aria-live": "off" }, T.typing);
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function ask(text) {
    var indicator = typing();
    call("POST", "/conversations/" + encodeURIComponent(state.conversation) + "/messages", { text: text })
      .then(function (reply) { indicator.remove(); showBot(reply); },
        function (e) { indicator.remove(); if (e.status === 401) return reset(); failure(e, function () { ask(text); }); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    showVisitor(text);
    ask(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  function consentStep() {
    form.hidden = true;
    var box = el("div", { class: "consent" });
    box.append(el("p", null, T.consentIntro));
    var choices = {};
    [["transcripts", T.consentTranscripts], ["analytics", T.consentAnalytics]].forEach(function (c) {
      var label = el("label");
      var check = el("input", { type: "checkbox", name: c[0] });
      check.checked = !!(state.consent && state.consent[c[0]]);
      choices[c[0]] = check;
      label.append(check, el("span", null, c[1]));
      box.append(label);
    });
    var go = el("button", { class: "primary", type: "button" }, T.start);
    go.addEventListener("click", function () {
      var wanted = { transcripts: choices.transcripts.checked, analytics: choices.analytics.checked };
      call("PUT", "/consent", wanted).then(function (consent) {
        state.consent = consent; state.asked = true; save();
        box.remove(); form.hidden = false;
        if (!log.querySelector(".msg")) note(data.greeting || state.greeting || "");
        input.focus();
      }, function (e) { failure(e); });
    });
    box.append(go);
    log.append(box);
    choices.transcripts.focus();
  }

  function begin() {
    started = true;
    call("POST", "/sessions", {}).then(function (session) {
      if (session.visitor_token) state.token = session.visitor_token;
      state.conversation = session.conversation_id;
      state.consent = session.consent;
      state.greeting = session.greeting;
      save();
      if (!state.asked) return consentStep();
      form.hidden = false;
      input.focus();
      return call("GET", "/conversations/" + encodeURIComponent(state.conversation) + "/messages").then(function (history) {
        history.messages.forEach(function (m) { if (m.role === "visitor") showVisitor(m.text); else showBot(m); });
        if (!history.messages.length) note(data.greeting || state.greeting);
      });
    }, function (e) {
      started = false;
      if (e.status === 401) return reset();
      failure(e, begin);
    });
  }

  function reset() {
    state = {}; localStorage.removeItem(STORE);
    log.textContent = ""; started = false; begin();
  }

  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (!started) begin(); else (form.hidden ? panel.querySelector(".consent input, .consent button") || closeButton : input).focus();
  }
  function closePanel() {
    panel.hidden = true; menu.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { panel.hidden ? openPanel() : closePanel(); });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") closePanel(); });

  function menuItem(label, action) {
    var b = el("button", { type: "button" }, label);
    b.addEventListener("click", function () { menu.hidden = true; menuButton.setAttribute("aria-expanded", "false"); action(); });
    menu.append(b);
  }
  menuButton.addEventListener("click", function () {
    menu.hidden = !menu.hidden;
    menuButton.setAttribute("aria-expanded", String(!menu.hidden));
    if (!menu.hidden) menu.querySelector("button").focus();
  });
  menuItem(T.human, askHuman);
  menuItem(T.privacy, consentStep);
  menuItem(T.download, function download() {
    call("GET", "/me/export").then(function (documentJson) {
      var blob = new Blob([JSON.stringify(documentJson, null, 2)], { type: "application/json" });
      var link = el("a", { download: "my-data.json" });
      link.href = URL.createObjectURL(blob);
      root.append(link); link.click(); link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    }, function (e) { failure(e, download); });
  });
  menuItem(T.remove, function () {
    var box = note(T.confirmDelete);
    var yes = el("button", { class: "act", type: "button" }, T.confirmYes);
    var no = el("button", { class: "act", type: "button" }, T.confirmNo);
    yes.addEventListener("click", function () {
      call("DELETE", "/me").then(function () {
        state = {}; localStorage.removeItem(STORE);
        log.textContent = ""; form.hidden = true; started = false;
        note(T.deleted);
      }, function (e) { failure(e); });
    });
    no.addEventListener("click", function () { box.remove(); input.focus(); });
    box.append(el("br"), yes, no);
    yes.focus();
  });

  (document.body || document.documentElement).append(host);
  window.Quietdesk = { open: openPanel, close: closePanel };
})();
