/* Quietdesk chat widget: <script src="https://HOST/widget.js" async></script>
 * Optional data-* attributes: data-title, data-accent, data-greeting, data-position (right|left),
 * data-language (en|de). One IIFE, one global (window.Quietdesk), a Shadow DOM so the host page's
 * CSS cannot reach in, requests only to the origin this file was loaded from, and server text set
 * with textContent only — never innerHTML. While a person from the team is asked or answering
 * (DESIGN §10) the widget polls for new messages every 2 s, slower while the tab is hidden. */
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
      consentCost: "If we don't keep your conversation you can still chat, but you can't rate answers and nobody from the team can follow up with you.",
      policy: "Privacy policy",
      start: "Start chatting", placeholder: "Type your question…", send: "Send", input: "Your message",
      typing: "The assistant is typing…", sources: "Sources:", helpful: "Helpful", notHelpful: "Not helpful",
      thanks: "Thanks for the feedback.", human: "Talk to a human",
      handoffAsk: "A person can only help if we keep this conversation (personal details are removed). Keep it and ask for a person?",
      handoffYes: "Keep and ask for a person", handoffNo: "No thanks",
      declined: "Okay — nothing was stored and nobody was asked.",
      humanDone: "A member of our support team has been asked to join. You can keep asking me meanwhile.",
      outside: "Our team is not available right now (support hours: {}).", outsideNow: "Our team is not available right now.",
      noAnswer: "Nobody from the team is free right now.",
      emailOffer: "Leave your email address and we'll reply to you there.", emailLabel: "Your email address",
      emailBad: "Please enter an email address such as name@example.com.", emailClosed: "This request is no longer open.",
      emailThanks: "Thanks — we'll reply to that address.",
      end: "End conversation with the team", ended: "You ended the conversation with the team. The assistant answers again.",
      closed: "{} closed this conversation.", closedAnon: "The conversation with the team has ended.", team: "Support team",
      download: "Download my data", remove: "Delete my data", privacy: "Privacy settings", save: "Save", shut: "Close",
      confirmDelete: "Delete everything we hold about you, including this conversation? This cannot be undone.",
      confirmYes: "Yes, delete", confirmNo: "Cancel", deleted: "Your data has been deleted.", fresh: "Start a new conversation",
      offline: "We couldn't reach the assistant. Check your connection.",
      busy: "Too many messages at once. Please wait a moment.", failed: "Something went wrong on our side.",
      retry: "Retry", you: "You", bot: "Assistant", saved: "Saved your privacy choices."
    },
    de: {
      open: "Chat öffnen", close: "Chat schließen", title: "Hilfe", menu: "Weitere Optionen",
      consentIntro: "Bevor es losgeht: Dürfen wir dieses Gespräch speichern? Sie können so oder so chatten.",
      consentTranscripts: "Mein Gespräch speichern, damit das Support-Team es prüfen kann (persönliche Angaben werden entfernt, 30 Tage)",
      consentAnalytics: "Meinen Besuch in anonymen Statistiken zählen",
      consentCost: "Wenn wir Ihr Gespräch nicht speichern, können Sie trotzdem chatten, aber keine Antworten bewerten, und niemand aus dem Team kann sich bei Ihnen melden.",
      policy: "Datenschutzerklärung",
      start: "Chat beginnen", placeholder: "Ihre Frage…", send: "Senden", input: "Ihre Nachricht",
      typing: "Der Assistent schreibt…", sources: "Quellen:", helpful: "Hilfreich", notHelpful: "Nicht hilfreich",
      thanks: "Danke für Ihr Feedback.", human: "Mit einem Menschen sprechen",
      handoffAsk: "Ein Mensch kann nur helfen, wenn wir dieses Gespräch speichern (persönliche Angaben werden entfernt). Speichern und nach einem Menschen fragen?",
      handoffYes: "Speichern und Menschen fragen", handoffNo: "Nein danke",
      declined: "In Ordnung — nichts wurde gespeichert und niemand wurde gefragt.",
      humanDone: "Ein Mitglied unseres Support-Teams wurde gebeten, dazuzukommen. Sie können mich in der Zwischenzeit weiter fragen.",
      outside: "Unser Team ist gerade nicht erreichbar (Support-Zeiten: {}).", outsideNow: "Unser Team ist gerade nicht erreichbar.",
      noAnswer: "Gerade ist niemand aus dem Team frei.",
      emailOffer: "Hinterlassen Sie Ihre E-Mail-Adresse, dann antworten wir Ihnen dorthin.", emailLabel: "Ihre E-Mail-Adresse",
      emailBad: "Bitte geben Sie eine E-Mail-Adresse wie name@example.com ein.", emailClosed: "Diese Anfrage ist nicht mehr offen.",
      emailThanks: "Danke — wir antworten an diese Adresse.",
      end: "Gespräch mit dem Team beenden", ended: "Sie haben das Gespräch mit dem Team beendet. Der Assistent antwortet wieder.",
      closed: "{} hat dieses Gespräch beendet.", closedAnon: "Das Gespräch mit dem Team ist beendet.", team: "Support-Team",
      download: "Meine Daten herunterladen", remove: "Meine Daten löschen", privacy: "Datenschutz-Einstellungen",
      save: "Speichern", shut: "Schließen",
      confirmDelete: "Alles löschen, was wir über Sie speichern, einschließlich dieses Gesprächs? Das kann nicht rückgängig gemacht werden.",
      confirmYes: "Ja, löschen", confirmNo: "Abbrechen", deleted: "Ihre Daten wurden gelöscht.", fresh: "Neues Gespräch beginnen",
      offline: "Der Assistent ist nicht erreichbar. Bitte prüfen Sie Ihre Verbindung.",
      busy: "Zu viele Nachrichten auf einmal. Bitte warten Sie kurz.", failed: "Bei uns ist etwas schiefgelaufen.",
      retry: "Erneut versuchen", you: "Sie", bot: "Assistent", saved: "Ihre Datenschutz-Einstellungen wurden gespeichert."
    }
  };
  var lang = (data.language || navigator.language || "en").slice(0, 2).toLowerCase();
  var T = STRINGS[lang] || STRINGS.en;
  var accent = /^#[0-9a-fA-F]{3,8}$/.test(data.accent || "") ? data.accent : "#1f5fbf";
  var left = data.position === "left";
  // A short "yes" right after the bot offered a person accepts the offer (it is not a question): words of
  // assent only, in any order ("yes please", "sure, go ahead and connect me", "ja gerne").
  var YES = new RegExp("^(?:\\W*\\b(?:" + ["yes", "yeah", "yep", "yup", "sure", "ok", "okay", "please",
    "of course", "go ahead", "please do", "do it", "and connect me", "connect me", "i'?d like that",
    "i would(?: like that)?", "that would be great", "thanks", "thank you", "ja", "jawohl", "gerne", "bitte",
    "klar", "mach das", "oui", "d'accord"].join("|") + ")\\b)+\\W*$", "i");

  var NO = /^\W*(?:no|nope|nah|not\s+now|no\s+no|nein|non)\W*$/i; // app/chat/intents.py's _NO

  var CSS = ":host{all:initial!important}*{box-sizing:border-box;letter-spacing:normal;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}[hidden]{display:none!important}" +
    "svg{width:22px;height:22px;fill:currentColor;vertical-align:middle}.rate svg{width:16px;height:16px}" +
    ".launcher{position:fixed;bottom:20px;" + (left ? "left" : "right") + ":20px;z-index:2147483646;width:56px;height:56px;border-radius:50%;border:0;background:ACC;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3)}" +
    ".unread::after{content:'';position:absolute;top:2px;right:2px;width:14px;height:14px;border-radius:50%;background:#c00;border:2px solid #fff}" +
    ".panel{position:fixed;bottom:88px;" + (left ? "left" : "right") + ":20px;z-index:2147483647;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 110px);background:#fff;color:#1a1a1a;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;font-size:15px;line-height:1.45}" +
    "@media (max-width:480px){.panel{top:0;left:0;right:0;bottom:auto;width:100vw;max-width:none;height:100vh;height:100dvh;max-height:none;border-radius:0;box-shadow:none}}" +
    "header{background:ACC;color:#fff;display:flex;align-items:center;gap:6px;padding:10px 12px}" +
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600}header button{background:transparent;border:0;color:#fff;font-size:20px;width:36px;height:36px;border-radius:6px;cursor:pointer}" +
    "button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".menu{border-bottom:1px solid #ddd;display:flex;flex-direction:column;padding:6px}" +
    ".menu button,.act{background:#fff;border:1px solid #767676;color:#1a1a1a;border-radius:6px;padding:8px 10px;margin:3px 0;text-align:left;cursor:pointer;font-size:14px}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px}" +
    ".msg{max-width:88%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".visitor{align-self:flex-end;background:ACC;color:#fff}.bot{align-self:flex-start;background:#f0f2f5;color:#1a1a1a}" +
    ".person{align-self:flex-start;max-width:88%;display:flex;flex-direction:column}.person .msg{max-width:none;background:#fff;border:2px solid ACC;border-top-left-radius:2px}" +
    ".who{font-size:12px;font-weight:700;color:#333;margin:0 0 2px 4px}" +
    ".note{align-self:center;color:#444;font-size:13px;text-align:center}.error{color:#a00000}" +
    ".msg p{margin:0 0 6px}.msg ol,.msg ul{margin:0 0 6px;padding-left:22px}.msg li{margin:2px 0}.msg>:last-child{margin-bottom:0}" +
    ".msg code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:#e3e6ea;border-radius:3px;padding:0 3px}.bot a{color:#0b4fa8}" +
    ".sources{margin-top:6px;font-size:13px}.sources a,.sheet a,.consent a{color:#0b4fa8;display:block}" +
    ".rate{margin-top:6px;display:flex;gap:6px;align-items:center}.rate button{background:#fff;border:1px solid #767676;border-radius:6px;cursor:pointer;padding:2px 8px;font-size:15px}" +
    ".rate button[aria-pressed=true]{background:#dfe9f8;border-color:ACC}.thanks{font-size:13px;color:#444}" +
    ".box .act,.sheet .act{text-align:center}.box{background:#f7f7f7;border:1px solid #bbb;border-radius:8px;padding:10px;display:flex;flex-direction:column;gap:8px}.box p{margin:0}" +
    ".box label{display:flex;flex-direction:column;gap:4px;font-size:14px}.box input{border:1px solid #767676;border-radius:6px;padding:8px;font-size:15px;color:#1a1a1a}" +
    ".consent,.sheet{padding:12px;display:flex;flex-direction:column;gap:10px}.consent label,.sheet label{display:flex;gap:8px;align-items:flex-start}" +
    ".sheet{flex:1;overflow-y:auto}.sheet h3{margin:0;font-size:16px}.small{font-size:13px;color:#444;margin:0}" +
    ".primary{background:ACC;color:#fff;border:0;border-radius:6px;padding:10px;font-size:15px;cursor:pointer}" +
    "form{display:flex;gap:6px;border-top:1px solid #ddd;padding:8px}" +
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
  function fill(template, value) { return template.split("{}").join(value); }

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
  var sheet = el("div", { class: "sheet", role: "region", "aria-label": T.privacy, hidden: "" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": T.title });
  var form = el("form", { hidden: "" });
  var inputLabel = el("label", { class: "sr", for: "qd-input" }, T.input);
  var input = el("textarea", { id: "qd-input", placeholder: T.placeholder, maxlength: "2000", rows: "1" });
  var send = el("button", { class: "primary", type: "submit" }, T.send);
  header.append(heading, menuButton, closeButton);
  form.append(inputLabel, input, send);
  panel.append(header, menu, sheet, log, form);
  root.append(style, launcher, panel);

  var state = load();
  var started = false;
  var seen = {}; // ids of messages on screen, so a poll never shows one twice
  var timer = 0, sending = 0, sent = 0, retried = false, offerPending = false;
  // The visitor's last messages and the last answer's article, sent with the next message so a
  // follow-up is read in context. Memory only: never saved to localStorage.
  var recent = [], article = "";

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  function save() { localStorage.setItem(STORE, JSON.stringify(state)); }
  function conv(path) { return "/conversations/" + encodeURIComponent(state.conversation) + path; }

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

  function scroll() { log.scrollTop = log.scrollHeight; }
  function note(text, extra) {
    var node = el("div", { class: "note" + (extra ? " " + extra : "") }, text);
    log.append(node);
    scroll();
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
  function link(url, text, parent) {
    if (!safeUrl(url)) return;
    var a = el("a", { target: "_blank", rel: "noopener noreferrer" }, text);
    a.href = safeUrl(url);
    parent.append(a);
  }

  function showVisitor(text) {
    var node = el("div", { class: "msg visitor" });
    node.append(el("span", { class: "sr" }, T.you + ": "), document.createTextNode(text));
    log.append(node);
    scroll();
  }

  /* An answer's `blocks` (paragraphs, lists, spans with emphasis, code and http(s) links), built
   * with DOM methods only; a span with an unsafe link stays plain text. */
  function spans(list, parent) {
    (list || []).forEach(function (s) {
      var node = document.createTextNode(s.text || "");
      ["code", "em", "strong"].forEach(function (tag) {
        if (s[tag]) { var wrap = el(tag); wrap.append(node); node = wrap; }
      });
      if (s.href && safeUrl(s.href)) {
        var a = el("a", { target: "_blank", rel: "noopener noreferrer" });
        a.href = safeUrl(s.href);
        a.append(node); node = a;
      }
      parent.append(node);
    });
  }
  function blocks(list, parent) {
    list.forEach(function (b) {
      if (b.type === "list") {
        var items = el(b.ordered ? "ol" : "ul");
        (b.items || []).forEach(function (item) { var li = el("li"); spans(item, li); items.append(li); });
        parent.append(items);
      } else {
        var p = el("p");
        spans(b.spans, p);
        parent.append(p);
      }
    });
  }

  function showBot(reply) {
    var node = el("div", { class: "msg bot" });
    node.append(el("span", { class: "sr" }, T.bot + ": "));
    if (Array.isArray(reply.blocks) && reply.blocks.length) blocks(reply.blocks, node);
    else node.append(document.createTextNode(reply.answer || reply.text));
    var sources = (reply.sources || []).filter(function (s) { return safeUrl(s.url); });
    if (sources.length) {
      var list = el("div", { class: "sources" }, T.sources);
      sources.forEach(function (s) { link(s.url, s.title, list); });
      node.append(list);
    }
    var id = reply.message_id || reply.id;
    seen[id] = 1;
    // Only an answer from the articles, or an "I don't know", is rated: not "Hello!", "You're welcome!" or
    // "I'm sorry that didn't help" (small talk is sure of itself: confidence 1, no sources).
    var answered = (reply.sources || []).length || (reply.handoff_offered && reply.confidence < 1);
    if (id && answered && state.consent && state.consent.transcripts) node.append(rating(id, reply.feedback, node));
    if (reply.handoff_offered) node.append(humanButton());
    log.append(node);
    scroll();
  }

  /* A person from the team: their alias above the bubble, read out as "<alias>: ". */
  function showAgent(message) {
    var name = message.author || T.team;
    var row = el("div", { class: "person" });
    var bubble = el("div", { class: "msg agent" });
    bubble.append(el("span", { class: "sr" }, name + ": "), document.createTextNode(message.text));
    row.append(el("div", { class: "who", "aria-hidden": "true" }, name), bubble);
    log.append(row);
    scroll();
  }

  function render(message) {
    seen[message.id] = 1;
    if (message.role === "visitor") showVisitor(message.text);
    else if (message.role === "agent") showAgent(message);
    else if (message.role === "notice") note(message.text);
    else showBot(message);
  }

  function rating(id, current, bubble) {
    var box = el("div", { class: "rate", role: "group", "aria-label": T.helpful + " / " + T.notHelpful });
    [["up", false, T.helpful], ["down", true, T.notHelpful]].forEach(function (r) {
      var b = el("button", { type: "button", "aria-label": r[2], "aria-pressed": String(current === r[0]), "data-rating": r[0] });
      b.append(icon(THUMB, r[1]));
      b.addEventListener("click", function () {
        call("POST", "/messages/" + encodeURIComponent(id) + "/feedback", { rating: r[0] }).then(function () {
          box.querySelectorAll("button").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
          // One thanks per answer, in place: no stacked lines, no jump to the bottom of the log.
          (box.querySelector(".thanks") || box.appendChild(el("span", { class: "thanks", role: "status" }))).textContent = T.thanks;
          if (r[0] === "down" && !bubble.querySelector(".human")) bubble.append(humanButton());
        }, function (e) { failure(e); });
      });
      box.append(b);
    });
    return box;
  }

  function humanButton() {
    var b = el("button", { class: "act human", type: "button" }, T.human);
    b.addEventListener("click", askHuman);
    return b;
  }

  /* Ask for a person. That needs the conversation kept: without `transcripts` consent, one sentence
   * asks for it first; "No thanks" sends nothing at all. */
  function askHuman() {
    if (!state.conversation) return;
    offerPending = false;
    if (state.consent && state.consent.transcripts) return handoff(false);
    var box = log.querySelector(".ask");
    if (!box) {
      box = el("div", { class: "box ask", role: "group", "aria-label": T.human });
      var yes = el("button", { class: "primary", type: "button" }, T.handoffYes);
      var no = el("button", { class: "act", type: "button" }, T.handoffNo);
      yes.addEventListener("click", function () { box.remove(); handoff(true); });
      no.addEventListener("click", function () { box.remove(); note(T.declined); input.focus(); });
      box.append(el("p", null, T.handoffAsk), yes, no);
    }
    log.append(box); // one offer at a time, always the newest thing in the log
    scroll();
    box.querySelector("button").focus();
  }

  function handoff(grant) {
    call("POST", conv("/handoff"), grant ? { grant_transcripts: true } : null).then(function (status) {
      if (grant) state.consent = Object.assign({}, state.consent, { transcripts: true });
      if (status.nobody_around) nobody(status, true);
      else if (status.status === "open") note(T.humanDone);
      track(status, false);
    }, function (e) {
      if (e.message === "consent_required") { state.consent = Object.assign({}, state.consent, { transcripts: false }); return askHuman(); }
      failure(e, function () { handoff(grant); });
    });
  }

  /* Nobody can answer (outside support hours, or no one claimed in time): say so, and offer once
   * per handoff to leave an email address for a reply. */
  function nobody(status, again) {
    var offered = state.offered === status.requested_at;
    if (offered && !again) return;
    note(status.nobody_around === "outside_hours" ? (status.support_hours ? fill(T.outside, status.support_hours) : T.outsideNow) : T.noAnswer);
    state.offered = status.requested_at;
    save();
    if (offered || status.contact_left) return;
    var box = el("div", { class: "box" });
    var label = el("label");
    var field = el("input", { type: "email", autocomplete: "email", maxlength: "254" });
    var go = el("button", { class: "primary", type: "button" }, T.send);
    var problem = el("p", { class: "error", role: "alert", hidden: "" });
    label.append(el("span", null, T.emailLabel), field);
    box.append(el("p", null, T.emailOffer), label, go, problem);
    function leave() {
      call("POST", conv("/contact"), { email: field.value.trim() }).then(function () {
        var thanks = el("div", { class: "note" }, T.emailThanks);
        box.replaceWith(thanks);
      }, function (e) {
        if (e.status !== 400 && e.status !== 409) return failure(e, leave);
        problem.textContent = e.status === 400 ? T.emailBad : T.emailClosed;
        problem.hidden = false;
        if (e.status === 409) { label.remove(); go.remove(); } else field.focus();
      });
    }
    go.addEventListener("click", leave);
    field.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); leave(); } });
    log.append(box);
    scroll();
  }

  /* Polling: only while a handoff is open or claimed, from the newest message id seen. */
  function active() { var s = state.handoff && state.handoff.status; return s === "open" || s === "claimed"; }
  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms || (document.hidden ? 15000 : 2000));
  }
  function stop() { clearTimeout(timer); timer = 0; }

  function poll(quiet) {
    stop();
    if (!state.conversation) return;
    var before = sent;
    call("GET", conv("/messages") + (state.lastId ? "?after=" + encodeURIComponent(state.lastId) : "")).then(function (result) {
      // A turn in flight is stored before its id reaches us: wait for it rather than show it twice.
      if (sending || before !== sent) return schedule(300);
      var notice = false;
      result.messages.forEach(function (m) {
        state.lastId = m.id;
        // Our own messages are on screen already; after "end", the note about it is ours too.
        if (seen[m.id] || m.role === "visitor" || (quiet && m.role === "notice" && !m.author)) return;
        notice = notice || m.role === "notice";
        if (panel.hidden && m.role === "agent") launcher.classList.add("unread");
        render(m);
      });
      track(result.handoff, notice);
    }, function (e) {
      if (e.status === 401) return reset();
      if (active()) schedule(e.status === 429 ? 30000 : 5000); // back off quietly, never an error bubble
    });
  }

  function track(status, notice) {
    var was = active(), before = state.handoff;
    state.handoff = status;
    save();
    endItem.hidden = !active();
    if (active()) {
      if (status.nobody_around) nobody(status, false);
      return schedule();
    }
    stop();
    if (!was || notice) { retried = false; return; }
    // The closing notice may be committed a moment after the status: look once more before saying it.
    if (!retried) { retried = true; state.handoff = before; endItem.hidden = false; return schedule(2000); }
    retried = false;
    note(status.agent ? fill(T.closed, status.agent) : T.closedAnon);
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden && timer) poll(); });

  function typing() {
    var node = el("div", { class: "note", "aria-live": "off" }, T.typing);
    log.append(node);
    scroll();
    return node;
  }

  /* Keep what the next turn's `context` needs: the visitor's texts, the last answer's first source (kept
     through a reply that cites none, "I don't know" or "You're welcome!"; none after "which one do you
     mean?", which lists sources it did not use; one that answered one question of two has one). */
  function remember(message) {
    if (message.role === "visitor") recent = recent.concat(message.text).slice(-5);
    else if (message.role !== "agent" && message.role !== "notice") {
      var first = (message.sources || [])[0];
      if (message.asked_which) article = "";
      else if (first) article = typeof first.url === "string" && first.url.length <= 500 ? first.url : "";
    }
  }

  function ask(text, declined) {
    var person = state.handoff && state.handoff.status === "claimed";
    var indicator = person ? null : typing();
    var body = { text: text }, context = {};
    if (recent.length) context.previous = recent.slice(-5);
    if (article && !declined) context.article = article;
    if (context.previous || context.article) body.context = context;
    sending++; sent++;
    call("POST", conv("/messages"), body).then(function (reply) {
      sending--;
      if (indicator) indicator.remove();
      seen[reply.message_id] = 1;
      remember({ role: "visitor", text: text });
      if (reply.handoff) track(reply.handoff, false);
      if (reply.answer == null) return; // a person is answering: the message went to them
      remember(reply);
      if (!active()) { state.lastId = reply.message_id; save(); }
      showBot(reply);
      offerPending = reply.handoff_offered;
      if (reply.human_requested) askHuman();
    }, function (e) {
      sending--;
      if (indicator) indicator.remove();
      if (e.status === 401) return reset();
      failure(e, function () { ask(text, declined); });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    showVisitor(text);
    if (offerPending && YES.test(text)) return askHuman();
    // "no" to it goes without the last article, which the server reads as the offer turned down (after an
    // answer, "no" may say it missed); a reply that answered one question of two offers a person and cites one
    var declined = offerPending && NO.test(text);
    offerPending = false;
    ask(text, declined);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  /* On a phone the panel is the visible viewport: keep the newest message in view when the
   * on-screen keyboard opens (it shrinks the visual viewport, not always the layout one). */
  var view = window.visualViewport;
  var narrow = window.matchMedia("(max-width: 480px)");
  function fit() {
    var small = view && narrow.matches && !panel.hidden;
    panel.style.height = small ? view.height + "px" : "";
    panel.style.top = small ? view.offsetTop + "px" : "";
    scroll();
  }
  if (view) view.addEventListener("resize", fit);
  input.addEventListener("focus", function () { scroll(); setTimeout(scroll, 300); });

  function choices(box) {
    var checks = {};
    [["transcripts", T.consentTranscripts], ["analytics", T.consentAnalytics]].forEach(function (c) {
      var label = el("label");
      var check = el("input", { type: "checkbox", name: c[0] });
      check.checked = !!(state.consent && state.consent[c[0]]);
      checks[c[0]] = check;
      label.append(check, el("span", null, c[1]));
      box.append(label);
    });
    box.append(el("p", { class: "small" }, T.consentCost));
    if (state.policy) link(state.policy, T.policy, box);
    return checks;
  }
  function wanted(checks) { return { transcripts: checks.transcripts.checked, analytics: checks.analytics.checked }; }

  function showForm() { form.hidden = !(state.asked && state.conversation) || !!log.querySelector(".consent"); }
  function consented(consent) {
    state.consent = consent; state.asked = true; save();
    var first = log.querySelector(".consent");
    if (first) {
      first.remove();
      if (!log.querySelector(".msg")) note(data.greeting || state.greeting || "");
    }
    showForm();
  }

  function consentStep() {
    form.hidden = true;
    var box = el("div", { class: "consent" });
    box.append(el("p", null, T.consentIntro));
    var checks = choices(box);
    var go = el("button", { class: "primary", type: "button" }, T.start);
    go.addEventListener("click", function () {
      call("PUT", "/consent", wanted(checks)).then(function (consent) {
        consented(consent);
        input.focus();
      }, function (e) { failure(e); });
    });
    box.append(go);
    log.append(box);
    checks.transcripts.focus();
  }

  /* "Privacy settings": its own panel over the conversation, rebuilt on each opening (never two). */
  function privacyPanel() {
    sheet.textContent = "";
    sheet.append(el("h3", null, T.privacy));
    var checks = choices(sheet);
    var keep = el("button", { class: "primary", type: "button" }, T.save);
    var shut = el("button", { class: "act", type: "button" }, T.shut);
    keep.addEventListener("click", function () {
      call("PUT", "/consent", wanted(checks)).then(function (consent) {
        consented(consent);
        closeSheet();
        note(T.saved);
      }, function (e) { closeSheet(); failure(e); });
    });
    shut.addEventListener("click", closeSheet);
    sheet.append(keep, shut);
    sheet.hidden = false; log.hidden = true; form.hidden = true;
    checks.transcripts.focus();
  }
  function closeSheet() {
    sheet.hidden = true; sheet.textContent = ""; log.hidden = false;
    showForm();
    scroll();
    (form.hidden ? menuButton : input).focus();
  }

  function begin() {
    started = true;
    call("POST", "/sessions", {}).then(function (session) {
      if (session.visitor_token) state.token = session.visitor_token;
      state.conversation = session.conversation_id;
      state.consent = session.consent;
      state.greeting = session.greeting;
      state.policy = session.privacy_policy_url;
      save();
      if (!state.asked) return consentStep();
      showForm();
      input.focus();
      return call("GET", conv("/messages")).then(function (history) {
        var last = history.messages[history.messages.length - 1];
        history.messages.forEach(render);
        history.messages.forEach(remember);
        if (last) state.lastId = last.id;
        offerPending = !!(last && last.handoff_offered);
        if (!history.messages.length) note(data.greeting || state.greeting);
        track(history.handoff, true); // resumes polling while a person is asked or answering
      });
    }, function (e) {
      started = false;
      if (e.status === 401) return reset();
      failure(e, begin);
    });
  }

  function clear() {
    stop();
    state = {}; seen = {}; offerPending = false; recent = []; article = ""; localStorage.removeItem(STORE);
    log.textContent = ""; started = false; endItem.hidden = true;
    if (!sheet.hidden) closeSheet();
  }
  function reset() { clear(); if (!panel.hidden) begin(); } // never a new visitor nobody asked for

  function openPanel() {
    panel.hidden = false;
    launcher.classList.remove("unread");
    launcher.setAttribute("aria-expanded", "true");
    fit();
    if (!started) begin(); else (form.hidden ? panel.querySelector(".consent input, .consent button, .sheet input") || closeButton : input).focus();
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
    return b;
  }
  menuButton.addEventListener("click", function () {
    menu.hidden = !menu.hidden;
    menuButton.setAttribute("aria-expanded", String(!menu.hidden));
    if (!menu.hidden) menu.querySelector("button:not([hidden])").focus();
  });
  menuItem(T.human, askHuman);
  var endItem = menuItem(T.end, function end() {
    call("POST", conv("/handoff/end")).then(function (status) {
      stop();
      state.handoff = status; save();
      endItem.hidden = true;
      note(T.ended);
      poll(true); // take in what arrived meanwhile; the stored note about ending is not shown again
    }, function (e) { failure(e, end); });
  });
  endItem.hidden = true;
  menuItem(T.privacy, privacyPanel);
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
        clear();
        form.hidden = true;
        var done = note(T.deleted);
        var fresh = el("button", { class: "act", type: "button" }, T.fresh);
        fresh.addEventListener("click", function () { done.remove(); begin(); });
        done.append(el("br"), fresh);
        fresh.focus();
      }, function (e) { failure(e); });
    });
    no.addEventListener("click", function () { box.remove(); input.focus(); });
    box.append(el("br"), yes, no);
    yes.focus();
  });

  (document.body || document.documentElement).append(host);
  window.Quietdesk = { open: openPanel, close: closePanel };
  if (state.token && active()) begin(); // a person was asked or is answering: keep listening across pages
})();
