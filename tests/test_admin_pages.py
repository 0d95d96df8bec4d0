"""Console pages: the role matrix over every /admin route, conversation filters, the handoff queue,
knowledge gaps, data-subject requests through keyed hashes, the audit log, users and index rebuilds."""
from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest

from app.admin import accounts, audit
from app.db import connect
from tests.conftest import TEST_SUBJECT_KEY, Visitor

PASSWORD = "violet-harbour-lantern-42"


def database(app):
    return connect(app.config["DB_PATH"], app.extensions["db_key"])


@pytest.fixture
def staff(app):
    db = database(app)
    return {"admin": accounts.create_user(db, "lead@example.com", "admin", PASSWORD),
            "reviewer": accounts.create_user(db, "rev@example.com", "reviewer", PASSWORD)}


class Console:
    """A browser session on the console: signs in, reads pages, posts forms with their CSRF token."""

    def __init__(self, app, email: str | None = None) -> None:
        self.client = app.test_client()
        if email:
            response = self.post("/admin/login", {"email": email, "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)

    def token(self) -> str:
        page = self.client.get("/admin/login").get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def text(self, path: str, **kwargs) -> str:
        response = self.client.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict | None = None):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token()})


def chat(app, *lines: str, rate: str | None = None, handoff: bool = False, consent: bool = True) -> Visitor:
    """A visitor who says each line (with consent to keep the transcript by default)."""
    visitor = Visitor(app.test_client())
    if consent:
        visitor.consent(transcripts=True)
    for line in lines:
        reply = visitor.say(line)
        assert reply.status_code == 200, reply.json
    if rate:
        assert visitor.client.post(f"/api/v1/messages/{reply.json['message_id']}/feedback", json={"rating": rate},
                                   headers=visitor.auth).status_code in (200, 204)
    if handoff:
        assert visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/handoff",
                                   headers=visitor.auth).status_code in (200, 201)
    return visitor


def handoff_id(app, conversation_id: str) -> int:
    return database(app).execute("SELECT id FROM handoffs WHERE conversation_id = ?", (conversation_id,)).fetchone()[0]


def wait_for_builds() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("index-build-"):
            thread.join(timeout=120)


# --- role matrix ----------------------------------------------------------------------------

LOGIN = "login"  # expected: a redirect to the sign-in page
ROLES = ("anonymous", "reviewer", "admin")
# (method, rule, concrete path, {role: expected}); order matters: state changes come late.
MATRIX = [
    ("GET", "/admin/login", "/admin/login", (200, 200, 200)),
    ("POST", "/admin/login", "/admin/login", (401, 401, 401)),  # wrong password for everyone
    ("GET", "/admin/static/<path:filename>", "/admin/static/console.css", (200, 200, 200)),
    ("GET", "/admin/", "/admin/", (LOGIN, 200, 200)),
    ("GET", "/admin/conversations", "/admin/conversations", (LOGIN, 200, 200)),
    ("GET", "/admin/conversations.csv", "/admin/conversations.csv", (LOGIN, 200, 200)),
    ("GET", "/admin/conversations/<conversation_id>", "/admin/conversations/{conversation}", (LOGIN, 200, 200)),
    ("GET", "/admin/handoffs", "/admin/handoffs", (LOGIN, 200, 200)),
    ("GET", "/admin/handoffs/waiting", "/admin/handoffs/waiting", (LOGIN, 200, 200)),
    ("GET", "/admin/conversations/<conversation_id>/live", "/admin/conversations/{conversation}/live",
     (LOGIN, 200, 200)),
    ("POST", "/admin/handoffs/<int:handoff_id>/contact", "/admin/handoffs/{handoff}/contact", (LOGIN, 200, 200)),
    ("GET", "/admin/gaps", "/admin/gaps", (LOGIN, 200, 200)),
    ("GET", "/admin/knowledge", "/admin/knowledge", (LOGIN, 200, 200)),
    ("GET", "/admin/analytics", "/admin/analytics", (LOGIN, 200, 200)),
    ("GET", "/admin/analytics/<name>.csv", "/admin/analytics/activity.csv", (LOGIN, 200, 200)),
    ("GET", "/admin/requests", "/admin/requests", (LOGIN, 403, 200)),
    ("GET", "/admin/requests/<int:request_id>", "/admin/requests/{request}", (LOGIN, 403, 200)),
    ("POST", "/admin/requests/<int:request_id>/decide/<int:visitor_id>",
     "/admin/requests/{request}/decide/{visitor}", (LOGIN, 403, 302)),
    ("POST", "/admin/requests/<int:request_id>/export/<int:visitor_id>",
     "/admin/requests/{request}/export/{visitor}", (LOGIN, 403, 200)),
    ("GET", "/admin/audit", "/admin/audit", (LOGIN, 403, 200)),
    ("GET", "/admin/users", "/admin/users", (LOGIN, 403, 200)),
    ("POST", "/admin/handoffs/<int:handoff_id>/<any(claim, resolve):action>", "/admin/handoffs/{handoff}/claim",
     (LOGIN, 302, 302)),
    ("POST", "/admin/conversations/<conversation_id>/reply", "/admin/conversations/{conversation}/reply",
     (LOGIN, 302, 302)),
    ("POST", "/admin/handoffs/<int:handoff_id>/assign", "/admin/handoffs/{handoff}/assign", (LOGIN, 403, 302)),
    ("POST", "/admin/conversations/<conversation_id>/tags", "/admin/conversations/{conversation}/tags",
     (LOGIN, 302, 302)),
    ("POST", "/admin/conversations/<conversation_id>/tags/<tag>/remove",
     "/admin/conversations/{conversation}/tags/billing/remove", (LOGIN, 302, 302)),
    ("POST", "/admin/requests", "/admin/requests", (LOGIN, 403, 302)),
    ("POST", "/admin/requests/<int:request_id>/<any(erase, complete, reject):action>",
     "/admin/requests/{request}/complete", (LOGIN, 403, 302)),
    ("POST", "/admin/users", "/admin/users", (LOGIN, 403, 302)),
    ("POST", "/admin/users/<int:user_id>/<any(disable, enable, password, alias):action>", "/admin/users/{other}/password",
     (LOGIN, 403, 302)),
    ("POST", "/admin/knowledge/rebuild", "/admin/knowledge/rebuild", (LOGIN, 403, 302)),
    ("POST", "/admin/gaps/questions", "/admin/gaps/questions", (LOGIN, 403, 302)),  # nothing chosen: told so
    ("POST", "/admin/gaps/dismiss", "/admin/gaps/dismiss", (LOGIN, 403, 302)),
    ("POST", "/admin/knowledge/import", "/admin/knowledge/import", (LOGIN, 403, 302)),  # no file: told so
    ("GET", "/admin/knowledge/import/<pending_id>", "/admin/knowledge/import/0123456789abcdef",
     (LOGIN, 403, 404)),  # no such pending import
    ("POST", "/admin/knowledge/import/<pending_id>/publish", "/admin/knowledge/import/0123456789abcdef/publish",
     (LOGIN, 403, 404)),
    ("POST", "/admin/knowledge/import/<pending_id>/discard", "/admin/knowledge/import/0123456789abcdef/discard",
     (LOGIN, 403, 302)),
    ("POST", "/admin/logout", "/admin/logout", (LOGIN, LOGIN, LOGIN)),  # signed out, back to the sign-in page
    ("GET", "/admin/", "/admin/", (LOGIN, LOGIN, LOGIN)),
]


def test_role_matrix_covers_every_console_route(app):
    rules = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert rules == {(method, rule) for method, rule, _, _ in MATRIX}
    assert len(MATRIX) * len(ROLES) == 117


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, staff, role):
    visitor = chat(app, "My email is quinn.harlow@example.net, is shipping free?", handoff=True)
    assert visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/contact",
                               json={"email": "quinn.reply@example.net"}, headers=visitor.auth).status_code == 200
    db = database(app)
    from app.privacy import requests
    from app.privacy.placeholders import fingerprint
    key = fingerprint(TEST_SUBJECT_KEY.encode(), "EMAIL_ADDRESS", "quinn.harlow@example.net")
    request_id = requests.open_request(db, requests.NewRequest("access", "gdpr", "EMAIL_ADDRESS", key, "test",
                                                               "2026-01-01", "2026-01-31"), staff["admin"].id)
    values = {"conversation": visitor.conversation_id, "handoff": handoff_id(app, visitor.conversation_id),
              "request": request_id, "visitor": db.execute("SELECT id FROM visitors").fetchone()[0],
              "other": staff["reviewer"].id}
    console = Console(app, None if role == "anonymous" else staff[role].email)
    forms = {"/admin/login": {"email": "lead@example.com", "password": "not-the-password-1"},
             "/admin/requests": {"identifier": "quinn.harlow@example.net", "kind": "access", "law": "gdpr",
                                 "reason": "email to privacy@, verified by reply"},
             "/admin/requests/{request}/complete": {"note": "export sent by email"},
             "/admin/requests/{request}/decide/{visitor}": {"decision": "confirmed"},
             "/admin/handoffs/{handoff}/contact": {"reason": "customer asked us to write back"},
             "/admin/conversations/{conversation}/reply": {"text": "Hello, this is the support team."},
             "/admin/handoffs/{handoff}/assign": {"user_id": str(staff["admin"].id)},
             "/admin/conversations/{conversation}/tags": {"tag": "billing"},
             "/admin/users": {"email": "new.member@example.com", "role": "reviewer", "password": PASSWORD},
             "/admin/users/{other}/password": {"password": "quiet-copper-meadow-17"}}
    seen, wanted = [], []
    for method, _, path, expected in MATRIX:
        url = path.format(**values)
        response = console.get(url) if method == "GET" else console.post(url, forms.get(path))
        response.close()
        status = response.status_code
        if status == 302 and "/admin/login" in response.headers["Location"]:
            status = LOGIN
        seen.append((method, path, status))
        wanted.append((method, path, expected[ROLES.index(role)]))
    wait_for_builds()
    assert seen == wanted


def test_missing_or_invalid_csrf_token_is_rejected_on_every_console_form(app, staff):
    console = Console(app, "lead@example.com")
    for path in ("/admin/logout", "/admin/users", "/admin/knowledge/rebuild", "/admin/requests"):
        for data in ({}, {"csrf_token": "forged"}):
            response = console.client.post(path, data=data)
            assert response.status_code == 400 and "form expired" in response.get_data(as_text=True)
    assert console.get("/admin/").status_code == 200  # still signed in: the forged logout did nothing


# --- conversations and handoffs ------------------------------------------------------------

def test_conversation_filters(app, staff):
    happy = chat(app, "Is shipping free?", rate="up")
    lost = chat(app, "Do you sell gift cards?", handoff=True)
    grumpy = chat(app, "How long is the warranty?", rate="down")
    console = Console(app, "rev@example.com")

    def listed(**query) -> set[str]:
        page = console.text("/admin/conversations", query_string=query)
        return {v.conversation_id for v in (happy, lost, grumpy) if v.conversation_id in page}

    everyone = {happy.conversation_id, lost.conversation_id, grumpy.conversation_id}
    assert listed() == everyone
    assert listed(answered="unanswered") == {lost.conversation_id}
    assert listed(answered="answered") == {happy.conversation_id, grumpy.conversation_id}
    assert listed(rating="down") == {grumpy.conversation_id} and listed(rating="up") == {happy.conversation_id}
    assert listed(rating="none") == {lost.conversation_id}
    assert listed(handoff="open") == {lost.conversation_id} and listed(handoff="none") == everyone - {lost.conversation_id}
    today = date.today()
    assert listed(since=today.isoformat(), until=today.isoformat()) == everyone
    assert listed(since=(today + timedelta(days=1)).isoformat()) == set()
    assert listed(until=(today - timedelta(days=1)).isoformat()) == set()
    bad = console.get("/admin/conversations", query_string={"rating": "'; DROP TABLE messages; --"})
    assert bad.status_code == 400 and "Unknown rating filter" in bad.get_data(as_text=True)
    assert console.get("/admin/conversations", query_string={"since": "yesterday"}).status_code == 400
    assert listed() == everyone


def test_tags_label_conversations_filter_the_list_and_travel_with_the_export(app, staff):
    billing, other = chat(app, "How do I pay my invoice?"), chat(app, "Is shipping free?")
    reviewer = Console(app, "rev@example.com")
    page = f"/admin/conversations/{billing.conversation_id}"
    for tag in ("Billing ", "invoice-question"):
        reviewer.post(f"{page}/tags", {"tag": tag})
    refused = reviewer.text(reviewer.post(f"{page}/tags", {"tag": "jane@example.com"}).headers["Location"])
    assert "Not tagged: That looks like personal data (an email address)" in refused
    assert "jane@example.com" not in refused.split("Not tagged")[0]
    text = reviewer.text(page)
    assert '<span class="tag">billing</span>' in text and '<span class="tag">invoice-question</span>' in text
    listing = reviewer.text("/admin/conversations", query_string={"tag": "billing"})
    assert billing.conversation_id in listing and other.conversation_id not in listing
    assert reviewer.get("/admin/conversations", query_string={"tag": "no spaces allowed"}).status_code == 400
    reviewer.post(f"{page}/tags/invoice-question/remove")
    exported = billing.client.get("/api/v1/me/export", headers=billing.auth).json
    assert exported["conversations"][0]["tags"] == ["billing"]
    assert reviewer.post("/admin/conversations/nope/tags", {"tag": "x"}).status_code == 404
    actions = [(e.action, e.subject) for e in audit.entries(database(app))]
    subject = f"conversation:{billing.conversation_id}"
    assert ("tag_conversation", subject) in actions and ("untag_conversation", subject) in actions
    billing.client.delete("/api/v1/me", headers=billing.auth)
    assert database(app).execute("SELECT count(*) FROM conversation_tags").fetchone()[0] == 0


def test_tag_text_cannot_carry_an_identifier_past_an_erasure(app, staff):
    """Security review finding 7: `jane-roe-ssn-078051120` stayed on the audit page after DELETE /me."""
    visitor = chat(app, "How do I pay my invoice?")
    reviewer = Console(app, "rev@example.com")
    page = f"/admin/conversations/{visitor.conversation_id}"
    refused = reviewer.text(reviewer.post(f"{page}/tags", {"tag": "jane-roe-ssn-078051120"}).headers["Location"])
    assert "at most 4 digits" in refused and "078051120" not in refused
    reviewer.post(f"{page}/tags", {"tag": "jane-roe-vip"})
    reviewer.post(f"{page}/tags", {"tag": "renewal-2026"})
    assert "jane-roe-vip" in reviewer.text(page)
    visitor.client.delete("/api/v1/me", headers=visitor.auth)
    admin = Console(app, "lead@example.com")
    trail = admin.text("/admin/audit") + admin.text("/admin/audit?page=2")
    assert "tag conversation" in trail and "jane-roe" not in trail and "renewal" not in trail
    assert not any("jane" in e.detail for e in audit.entries(database(app)))


def test_handoff_queue_claim_and_resolve(app, staff):
    waiting = chat(app, "Do you sell gift cards?", handoff=True)
    number = handoff_id(app, waiting.conversation_id)
    reviewer, admin = Console(app, "rev@example.com"), Console(app, "lead@example.com")
    assert waiting.conversation_id in reviewer.text("/admin/handoffs")
    assert "Handoffs waiting for a human: <strong>1</strong>" in reviewer.text("/admin/")
    reviewer.post(f"/admin/handoffs/{number}/claim")
    assert "Someone else already claimed" in admin.text(admin.post(f"/admin/handoffs/{number}/claim").headers["Location"])
    queue = admin.text("/admin/handoffs")
    assert "claimed" in queue and "rev@example.com" in queue
    page = f"/admin/conversations/{waiting.conversation_id}"
    response = reviewer.post(f"/admin/handoffs/{number}/resolve", {"next": page})
    assert response.headers["Location"].endswith(page)  # back where the form was
    assert "Handoff resolved." in reviewer.text(page)
    assert waiting.conversation_id not in reviewer.text("/admin/handoffs")
    assert waiting.conversation_id in reviewer.text("/admin/handoffs?show=all")
    assert reviewer.post(f"/admin/handoffs/{number}/resolve", {"next": "https://evil.example/"}).headers[
        "Location"].endswith("/admin/handoffs")
    db = database(app)
    actions = [(e.actor, e.action, e.subject) for e in audit.entries(db)]
    assert (f"user:{staff['reviewer'].id}", "claim_handoff", f"handoff:{number}") in actions
    assert (f"user:{staff['reviewer'].id}", "resolve_handoff", f"handoff:{number}") in actions
    assert audit.first_broken(db) is None


@pytest.mark.parametrize("target", ["/admin/handoffs\n", "/admin/handoffs\r\nSet-Cookie: x=1",
                                    "/admin/\t/evil.example/", "/admin/caf\u00e9"])
def test_a_return_path_with_control_characters_goes_back_to_the_queue(app, staff, target):
    """Found by wapiti signed in: a newline in a form's `next` was a 500 (no Location header holds it)."""
    waiting = chat(app, "Do you sell gift cards?", handoff=True)
    number = handoff_id(app, waiting.conversation_id)
    admin = Console(app, "lead@example.com")
    for action, data in (("claim", {}), ("assign", {"user_id": str(staff["reviewer"].id)}), ("resolve", {})):
        response = admin.post(f"/admin/handoffs/{number}/{action}", {**data, "next": target})
        assert response.status_code == 302, action
        assert response.headers["Location"].endswith("/admin/handoffs"), action


# --- knowledge gaps ---------------------------------------------------------------------------

def test_knowledge_gaps_group_paraphrases_most_frequent_first(app, staff):
    for question in ("Do you sell gift cards?", "Can I buy a gift card for a friend?", "Are gift vouchers available?",
                     "Do you have a physical store in Berlin?", "Can I visit your store in person?",
                     "What is the meaning of life?"):
        chat(app, question)
    chat(app, "Is shipping free?", rate="down")
    chat(app, "How long is the warranty?", rate="up")  # answered and liked: not a gap
    chat(app, "Do you accept gift cards as payment?", consent=False)  # not stored, so not shown
    reviewer = Console(app, "rev@example.com")
    page = reviewer.text("/admin/gaps")
    headings = re.findall(r'<h2 id="gap-\d+">([^<]+)</h2>', page)
    counts = [int(n) for n in re.findall(r"<strong>Asked (\d+) time", page)]
    assert counts == [3, 2, 1, 1] and len(headings) == 4
    assert "gift" in headings[0].lower() and "store" in headings[1].lower()
    assert "Is shipping free?" in page and "warranty" not in page and "as payment" not in page
    with database(app) as db:  # rows stored before vectors were kept are encoded on the fly, alike
        db.execute("UPDATE messages SET vector = NULL WHERE text LIKE '%voucher%' OR text LIKE '%Berlin%'")
    again = reviewer.text("/admin/gaps")
    assert [int(n) for n in re.findall(r"<strong>Asked (\d+) time", again)] == [3, 2, 1, 1]
    assert ("view_knowledge_gaps", "questions:7") in [(e.action, e.subject) for e in audit.entries(database(app))]
    stored = database(app).execute("SELECT role, vector FROM messages WHERE text = 'Is shipping free?'").fetchone()
    assert len(stored["vector"]) == 384 * 4  # kept with the question, so the page need not re-encode it


def test_a_follow_up_gap_shows_the_message_it_followed(app, staff):
    """"how long does that take?" says nothing on its own: the team sees what it came after."""
    chat(app, "do you have a store in Berlin?", "how long does that take to get there?")
    page = Console(app, "rev@example.com").text("/admin/gaps")
    assert "how long does that take to get there?</a> <small class=\"follows\">after “do you have a store in " \
           "Berlin?”</small>" in page
    assert "Berlin?</a></li>" in page  # the first message followed nothing


# --- data-subject requests -------------------------------------------------------------------

def open_request(console: Console, identifier: str, kind: str = "erasure", law: str = "gdpr", **extra):
    return console.post("/admin/requests", {"identifier": identifier, "kind": kind, "law": law,
                                            "reason": "Email from jane.doe@example.com to privacy@, verified "
                                                      "by order LL-123456", **extra})


def test_subject_request_finds_a_visitor_by_the_email_they_typed_and_by_nothing_else(app, staff):
    chat(app, "Hi, I'm Jane Doe, my email is Jane.Doe@Example.com. Is shipping free?")
    other = chat(app, "Reach me at sam.ortiz@example.org please, how long is the warranty?")
    quiet = chat(app, "My email is jane.doe@example.com, do you ship to Canada?", consent=False)
    admin = Console(app, "lead@example.com")
    found = admin.get(open_request(admin, "jane.doe@example.com").headers["Location"]).get_data(as_text=True)
    assert "Visitor 1 of 1" in found and "Visitor 1 of 2" not in found
    for miss in ("Jane Doe", "jane.doe@example.co", "doe@example.com", "+1 415 555 0100"):
        response = open_request(admin, miss)
        if response.status_code == 302:
            assert "No stored conversation contains this identifier" in admin.text(response.headers["Location"])
        else:
            assert response.status_code == 400 and "Enter the email address or phone number" in response.get_data(
                as_text=True)
    db = database(app)
    stored = [tuple(row) for row in db.execute("SELECT * FROM dsar_requests")]
    assert not any("jane" in str(value).lower() for row in stored for value in row)  # identifier and reason
    assert "<EMAIL_ADDRESS" in stored[0][5]  # the reason is kept, scrubbed
    assert other.client.get("/api/v1/me/export", headers=other.auth).status_code == 200
    assert quiet.client.get("/api/v1/me/export", headers=quiet.auth).status_code == 200


def test_subject_request_export_is_the_widgets_document_and_erasure_is_recorded(app, staff):
    jane = chat(app, "My phone is (415) 555-0134, is shipping free?", handoff=True)
    other = chat(app, "Call me on 415 555 0199, how long is the warranty?")
    admin = Console(app, "lead@example.com")
    location = open_request(admin, "+1 415-555-0134", law="ccpa").headers["Location"]
    number = int(location.rsplit("/", 1)[1])
    page = admin.text(location)
    assert f"<strong>{(date.today() + timedelta(days=45)).isoformat()}</strong>" in page
    visitor_id = int(re.search(r"/decide/(\d+)", page).group(1))
    assert admin.post(f"/admin/requests/{number}/export/{visitor_id}").status_code == 404  # not confirmed yet
    assert "Confirm which matching visitor" in admin.text(
        admin.post(f"/admin/requests/{number}/erase", {"note": "customer asked by phone"}).headers["Location"])
    assert admin.post(f"/admin/requests/{number}/decide/{visitor_id}", {"decision": "confirmed"}).status_code == 302
    download = admin.post(f"/admin/requests/{number}/export/{visitor_id}")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    own = jane.client.get("/api/v1/me/export", headers=jane.auth).json
    exported = download.json
    assert {**exported, "exported_at": None} == {**own, "exported_at": None}
    other_id = database(app).execute("SELECT visitor_id FROM conversations WHERE id = ?",
                                     (other.conversation_id,)).fetchone()[0]
    assert admin.post(f"/admin/requests/{number}/export/{other_id}").status_code == 404  # not this subject
    assert "Record why" in admin.text(admin.post(f"/admin/requests/{number}/erase", {"note": ""}).headers["Location"])
    done = admin.text(admin.post(f"/admin/requests/{number}/erase",
                                 {"note": "customer asked by phone, identity checked"}).headers["Location"])
    assert "completed" in done and "Erased 1 visitor record(s) and 2 message(s)" in done
    assert jane.client.get("/api/v1/me/export", headers=jane.auth).status_code == 401
    assert other.client.get("/api/v1/me/export", headers=other.auth).json["conversations"][0]["messages"]
    db = database(app)
    entries = [(e.action, e.subject) for e in audit.entries(db)]
    assert {("open_request", f"request:{number}"), ("view_request", f"request:{number}"),
            ("decide_subject", f"visitor:{visitor_id}"), ("export_subject", f"visitor:{visitor_id}"), ("erase_subject", f"visitor:{visitor_id}"),
            ("close_request", f"request:{number}")} <= set(entries)
    assert not any("415" in e.detail or "555" in e.detail for e in audit.entries(db))
    assert audit.first_broken(db) is None
    listing = admin.text("/admin/requests")
    assert "CCPA" in listing and "completed" in listing


def visitor_id_of(app, visitor: Visitor) -> int:
    return database(app).execute("SELECT visitor_id FROM conversations WHERE id = ?",
                                  (visitor.conversation_id,)).fetchone()[0]


def test_subject_request_acts_only_on_the_visitors_the_admin_confirmed(app, staff):
    """Security review finding 5: a visitor who merely mentioned the identifier was exported and erasable."""
    colleague = chat(app, "Please send the invoice to my colleague bob@example.com. How do refunds work?")
    bob = chat(app, "Hi, this is Bob, my email is bob@example.com. How long is the warranty?")
    admin = Console(app, "lead@example.com")
    location = open_request(admin, "bob@example.com").headers["Location"]
    number = int(location.rsplit("/", 1)[1])
    page = admin.text(location)
    assert "Visitor 2 of 2" in page and page.count("not decided yet") == 2
    assert "to my colleague <mark>&lt;EMAIL_ADDRESS_1&gt;</mark>." in page  # where it was typed, highlighted
    assert "my email is <mark>&lt;EMAIL_ADDRESS_1&gt;</mark>." in page
    assert "Download JSON export" not in page and "Erase all data" not in page
    ids = {"colleague": visitor_id_of(app, colleague), "bob": visitor_id_of(app, bob)}
    assert admin.post(f"/admin/requests/{number}/export/{ids['bob']}").status_code == 404
    erased = admin.text(admin.post(f"/admin/requests/{number}/erase", {"note": "asked by email"}).headers["Location"])
    assert "Confirm which matching visitor" in erased and "open" in erased
    assert admin.post(f"/admin/requests/{number}/decide/{ids['colleague']}", {"decision": "excluded"}).status_code == 302
    assert admin.post(f"/admin/requests/{number}/decide/{ids['bob']}", {"decision": "confirmed"}).status_code == 302
    assert admin.post(f"/admin/requests/{number}/decide/{ids['bob']}", {"decision": "maybe"}).status_code == 400
    assert admin.post(f"/admin/requests/{number}/export/{ids['colleague']}").status_code == 404
    assert admin.post(f"/admin/requests/{number}/export/{ids['bob']}").status_code == 200
    page = admin.text(location)
    assert "confirmed as the person asking" in page and "only mentioned the identifier" in page
    assert "Erase all data of the 1 confirmed visitor and complete" in page
    late = chat(app, "Forward the manual to bob@example.com please")  # matches now, was never confirmed
    done = admin.text(admin.post(f"/admin/requests/{number}/erase", {"note": "asked by email"}).headers["Location"])
    assert "Erased 1 visitor record(s)" in done
    assert bob.client.get("/api/v1/me/export", headers=bob.auth).status_code == 401
    for kept in (colleague, late):
        assert kept.client.get("/api/v1/me/export", headers=kept.auth).json["conversations"][0]["messages"]
    decisions = {(e.subject, e.detail) for e in audit.entries(database(app)) if e.action == "decide_subject"}
    assert decisions == {(f"visitor:{ids['colleague']}", f"request:{number} excluded"),
                         (f"visitor:{ids['bob']}", f"request:{number} confirmed")}
    assert admin.post(f"/admin/requests/{number}/decide/{ids['colleague']}",
                      {"decision": "confirmed"}).status_code == 404  # closed: decisions are final


def test_phone_numbers_without_country_code_follow_the_configured_region(instance, scrubber, embedder, kb_index,
                                                                        monkeypatch):
    import copy

    from app import create_app
    british = copy.copy(scrubber)
    british.region = "GB"
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": british, "EMBEDDER": embedder,
                      "INDEX": kb_index, "SUBJECT_KEY": TEST_SUBJECT_KEY, "PHONE_REGION": "gb"})
    accounts.create_user(database(app), "lead@example.com", "admin", PASSWORD)
    chat(app, "Please ring me on 020 7946 0958 about my order")
    admin = Console(app, "lead@example.com")
    page = admin.text(open_request(admin, "+44 20 7946 0958", kind="access").headers["Location"])
    assert "Visitor 1 of 1" in page
    with pytest.raises(Exception, match="QUIETDESK_PHONE_REGION"):
        create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": british, "EMBEDDER": embedder,
                    "INDEX": kb_index, "PHONE_REGION": "Narnia"})


def test_subject_request_form_errors_are_readable(app, staff):
    admin = Console(app, "lead@example.com")
    future = (date.today() + timedelta(days=3)).isoformat()
    for data, message in ((dict(identifier="not an identifier"), "Enter the email address or phone number"),
                          (dict(identifier="a@example.com", law="hipaa"), "Choose the kind of request"),
                          (dict(identifier="a@example.com", received_on=future), "must be within the last year"),
                          (dict(identifier="a@example.com", reason=""), "Record how the request arrived")):
        response = open_request(admin, **{"kind": "access", "law": "gdpr", **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
        assert "a@example.com" not in response.get_data(as_text=True)  # the identifier is not echoed back


# --- users, audit log, knowledge base --------------------------------------------------------

def test_admin_manages_users(app, staff):
    admin = Console(app, "lead@example.com")
    weak = admin.post("/admin/users", {"email": "new@example.com", "role": "reviewer", "password": "short"})
    assert weak.status_code == 400 and "at least 12 characters" in weak.get_data(as_text=True)
    mailish = admin.post("/admin/users", {"email": "new@example.com", "role": "reviewer", "password": PASSWORD,
                                          "alias": "new@example.com"})
    assert mailish.status_code == 400 and "not an email address" in mailish.get_data(as_text=True)
    assert admin.post("/admin/users", {"email": "new@example.com", "role": "reviewer",
                                       "password": PASSWORD, "alias": "Kim"}).status_code == 302
    newcomer = Console(app, "new@example.com")
    assert newcomer.get("/admin/").status_code == 200
    new_id = accounts.find_by_email(database(app), "new@example.com").id
    assert accounts.find(database(app), new_id).alias == "Kim"
    admin.post(f"/admin/users/{new_id}/alias", {"alias": "Kim from Support"})
    assert "Kim from Support" in admin.text("/admin/users")
    admin.post(f"/admin/users/{new_id}/password", {"password": "quiet-copper-meadow-17"})
    assert newcomer.get("/admin/").status_code == 302  # the reset ended the old session
    assert newcomer.post("/admin/login", {"email": "new@example.com", "password": "quiet-copper-meadow-17"}
                         ).status_code == 302
    admin.post(f"/admin/users/{new_id}/disable")
    assert newcomer.get("/admin/").status_code == 302
    assert newcomer.post("/admin/login", {"email": "new@example.com", "password": "quiet-copper-meadow-17"}
                         ).status_code == 401
    refused = admin.text(admin.post(f"/admin/users/{staff['admin'].id}/disable").headers["Location"])
    assert "last enabled admin cannot be disabled" in refused and admin.get("/admin/").status_code == 200
    actions = [(e.action, e.subject) for e in audit.entries(database(app))]
    assert {("create_user", f"user:{new_id}"), ("reset_password", f"user:{new_id}"),
            ("disable_user", f"user:{new_id}"), ("rename_user", f"user:{new_id}")} <= set(actions)


def test_audit_log_page_names_actors_and_reports_tampering(app, staff):
    visitor = chat(app, "Is shipping free?")
    reviewer, admin = Console(app, "rev@example.com"), Console(app, "lead@example.com")
    reviewer.text(f"/admin/conversations/{visitor.conversation_id}")
    page = admin.text("/admin/audit")
    assert "Hash chain intact" in page and "rev@example.com" in page and "view conversation" in page
    db = database(app)
    with db:
        db.execute("UPDATE audit_log SET actor = 'user:999' WHERE action = 'view_conversation'")
    assert "The hash chain is broken at entry" in admin.text("/admin/audit")


def test_knowledge_status_and_rebuild_swap_in_a_new_article_without_restart(tmp_path, instance, scrubber, embedder,
                                                                             monkeypatch):
    import shutil

    from app import create_app
    from tests.conftest import KNOWLEDGE
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "SUBJECT_KEY": TEST_SUBJECT_KEY, "KNOWLEDGE_DIR": str(knowledge)})
    db = database(app)
    accounts.create_user(db, "lead@example.com", "admin", PASSWORD)
    accounts.create_user(db, "rev@example.com", "reviewer", PASSWORD)
    admin, reviewer = Console(app, "lead@example.com"), Console(app, "rev@example.com")
    page = reviewer.text("/admin/knowledge")
    assert "up to date" in page and "Rebuild index now" not in page and page.count('data-label="Article"') == 10
    question = "Do you sell gift cards?"
    assert Visitor(app.test_client()).say(question).json["handoff_offered"]  # not in the articles yet
    (knowledge / "gift-cards.md").write_text(
        "---\ntitle: Gift cards\nurl: https://help.example.com/gift-cards\nquestions:\n  - Do you sell gift cards?\n"
        "---\n# Gift cards\nYes: digital gift cards from $10 to $500 are sold in the shop and never expire.\n",
        encoding="utf-8")
    assert "changed since the last build" in admin.text("/admin/knowledge")
    admin.post("/admin/knowledge/rebuild")
    wait_for_builds()
    page = admin.text("/admin/knowledge")
    assert "11 articles" in page and "up to date" in page and page.count('data-label="Article"') == 11
    reply = Visitor(app.test_client()).say(question).json
    assert not reply["handoff_offered"] and reply["sources"][0]["title"] == "Gift cards"
    assert ("rebuild_index", "build:1") in [(e.action, e.subject) for e in audit.entries(db)]


def test_a_rebuilt_index_brings_its_articles_words_to_the_scrubber_without_restart(tmp_path, instance, embedder):
    """A product added to the articles is no longer masked as a name once the index is rebuilt (issue 14):
    the app loads its own scrubber here, since only that one follows the index."""
    import shutil

    from app import create_app
    from tests.conftest import KNOWLEDGE
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "EMBEDDER": embedder,
                      "SUBJECT_KEY": TEST_SUBJECT_KEY, "KNOWLEDGE_DIR": str(knowledge)})
    accounts.create_user(database(app), "lead@example.com", "admin", PASSWORD)
    question = "Is the Kestrel Nimbus waterproof?"

    def history(text):
        visitor = Visitor(app.test_client())
        visitor.consent(transcripts=True)
        assert visitor.say(text).status_code == 200
        page = visitor.client.get(f"/api/v1/conversations/{visitor.conversation_id}/messages", headers=visitor.auth)
        return [m["text"] for m in page.json["messages"] if m["role"] == "visitor"]

    assert history(question) == ["Is the <PERSON_1> waterproof?"]  # an unknown capitalised name
    (knowledge / "kestrel-nimbus.md").write_text(
        "---\ntitle: Kestrel Nimbus\nurl: https://help.example.com/kestrel-nimbus\n---\n# Kestrel Nimbus\n"
        "The Kestrel Nimbus outdoor lamp is rated IP65: rain and garden hoses do it no harm.\n", encoding="utf-8")
    Console(app, "lead@example.com").post("/admin/knowledge/rebuild")
    wait_for_builds()
    assert history(question) == [question]
