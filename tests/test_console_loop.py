"""Closing the loop in the console: knowledge gaps become article questions or are dismissed, the
conversation list shows first questions and searches stored messages (and forgets erased ones),
downloads as CSV, error pages keep the console around them, and a refused tag says why."""
from __future__ import annotations

import csv
import io
import os
import re
import shutil

import pytest
import yaml

from app import create_app
from app.admin import accounts, audit
from tests.conftest import KNOWLEDGE, TEST_SUBJECT_KEY, Visitor
from tests.test_admin_pages import PASSWORD, Console, chat, database, wait_for_builds
from tests.test_answers import hotel_articles

UNANSWERED = "Do you offer a discount for students?"


@pytest.fixture
def staff(app):
    db = database(app)
    return {"admin": accounts.create_user(db, "lead@example.com", "admin", PASSWORD),
            "reviewer": accounts.create_user(db, "rev@example.com", "reviewer", PASSWORD)}


def actions(app) -> list[tuple[str, str, str]]:
    return [(e.action, e.subject, e.detail) for e in audit.entries(database(app), 500)]


def gap_sections(page: str) -> dict[str, str]:
    """Map each gap's heading to its section's HTML."""
    sections = re.findall(r'<section class="gap".*?</section>', page, re.DOTALL)
    return {re.search(r'<h2 id="gap-\d+">([^<]+)</h2>', s).group(1): s for s in sections}


def front_matter_and_body(raw: bytes) -> tuple[dict, bytes]:
    match = re.match(rb"\A---\s*\n(.*?)\n---\s*\n", raw, re.DOTALL)
    return yaml.safe_load(match.group(1)), raw[match.end():]


# --- knowledge gaps -------------------------------------------------------------------------

def test_gap_phrasings_become_article_questions_and_the_article_then_answers_them(tmp_path, instance, scrubber,
                                                                                  embedder, monkeypatch):
    for name in [k for k in os.environ if k.startswith("QUIETDESK_")]:
        monkeypatch.delenv(name)
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "SUBJECT_KEY": TEST_SUBJECT_KEY, "KNOWLEDGE_DIR": str(knowledge)})
    db = database(app)
    accounts.create_user(db, "lead@example.com", "admin", PASSWORD)
    asking = Visitor(app.test_client())
    asking.consent(transcripts=True)
    assert asking.say(UNANSWERED).json["handoff_offered"]  # the gap is real
    chat(app, "Hi, I'm Jane Doe. Do you offer a discount for students?")
    admin = Console(app, "lead@example.com")
    section = next(s for heading, s in gap_sections(admin.text("/admin/gaps")).items() if "students" in heading)
    offered = dict((label, value) for value, label in re.findall(
        r'name="message" value="([^"]+)"[^>]*>\s*<label for="[^"]+">([^<]+)</label>', section))
    placeholder = next(label for label in offered if "<PERSON" in label.replace("&lt;", "<"))
    assert f'value="{offered[placeholder]}" disabled' in section and "cannot be added" in section
    article = re.search(r'<option value="(billing@[0-9a-f]{64})">', section).group(1)
    path = knowledge / "billing.md"
    before = path.read_bytes()
    old_meta, old_body = front_matter_and_body(before)

    path.write_bytes(before + b"\n")  # someone edits the file after the page was shown
    refused = admin.post("/admin/gaps/questions", {"article": article, "message": offered[UNANSWERED]})
    assert "changed since this page was shown" in admin.text(refused.headers["Location"])
    assert path.read_bytes() == before + b"\n"
    path.write_bytes(before)

    response = admin.client.post("/admin/gaps/questions", data={
        "article": article, "message": [offered[UNANSWERED], offered[placeholder]], "csrf_token": admin.token()})
    assert "Added 1 phrasing" in admin.text(response.headers["Location"])
    after = path.read_bytes()
    new_meta, new_body = front_matter_and_body(after)
    assert new_body == old_body and after.endswith(old_body)  # the body, byte for byte
    assert new_meta == {**old_meta, "questions": old_meta["questions"] + [UNANSWERED]}
    assert b"<PERSON" not in after and b"Jane" not in after
    assert "  - Do you offer a discount for students?\n---\n" in after.decode()  # listed like the others
    assert [p.name for p in knowledge.iterdir() if not p.name.endswith(".md")] == []  # no temporary file left
    assert ("add_gap_questions", "article:billing", "questions:1") in actions(app)
    wait_for_builds()
    reply = Visitor(app.test_client()).say(UNANSWERED).json
    assert not reply["handoff_offered"] and reply["sources"][0]["title"] == old_meta["title"]


def test_asking_which_inn_was_meant_is_no_knowledge_gap_and_the_console_says_so(tmp_path, instance, scrubber,
                                                                                embedder, monkeypatch):
    """Six inns answer "Is parking available?"; the bot asks which one. The articles exist, so the gaps
    page must not send the team to write one, nor count it unanswered; a real "I don't know" still is."""
    for name in [k for k in os.environ if k.startswith("QUIETDESK_")]:
        monkeypatch.delenv(name)
    knowledge = tmp_path / "inns"
    knowledge.mkdir()
    for slug, text in hotel_articles().items():
        (knowledge / f"{slug}.md").write_text(text)
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "SUBJECT_KEY": TEST_SUBJECT_KEY, "KNOWLEDGE_DIR": str(knowledge)})
    accounts.create_user(database(app), "lead@example.com", "admin", PASSWORD)
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True)
    asked = visitor.say("Is parking available?").json
    assert asked["answer"].startswith("That depends on which one you mean") and asked["sources"]
    assert visitor.say("Do you sell gift cards?").json["answer"].startswith("I'm sorry")  # a real gap
    admin = Console(app, "lead@example.com")
    assert list(gap_sections(admin.text("/admin/gaps"))) == ["Do you sell gift cards?"]
    page = admin.text(f"/admin/conversations/{visitor.conversation_id}")
    assert page.count("asked which one was meant") == 1 and page.count("unanswered, offered a human") == 1
    listed = admin.text("/admin/conversations")
    assert re.search(r'<td data-label="Unanswered">1</td>', listed)
    exported = visitor.client.get("/api/v1/me/export", headers=visitor.auth).json
    bot = [m for m in exported["conversations"][0]["messages"] if m["role"] == "bot"]
    assert [m["asked_which"] for m in bot] == [True, False]


def test_dismissed_gap_stays_hidden_until_someone_asks_something_new_like_it(app, staff):
    chat(app, "What is the meaning of life?")
    chat(app, "What is the meaning of life?")
    chat(app, "Can I visit your shop in person?")
    admin = Console(app, "lead@example.com")
    sections = gap_sections(admin.text("/admin/gaps"))
    members = re.findall(r'type="hidden" name="message" value="([^"]+)"', sections["What is the meaning of life?"])
    assert len(members) == 2
    response = admin.client.post("/admin/gaps/dismiss", data={"message": members, "csrf_token": admin.token()})
    page = admin.text(response.headers["Location"])
    assert "Dismissed a group of 2 questions" in page and "1 dismissed group is hidden" in page
    assert list(gap_sections(page)) == ["Can I visit your shop in person?"]
    assert ("dismiss_knowledge_gap", "questions:2", "") in actions(app)
    stored = database(app).execute("SELECT * FROM gap_dismissals").fetchall()
    assert {row["message_id"] for row in stored} == set(members)
    assert not any("meaning" in str(value) for row in stored for value in row)  # ids, never text
    chat(app, "What's the meaning of life, really?")
    sections = gap_sections(admin.text("/admin/gaps"))
    back = next(s for heading, s in sections.items() if "meaning" in heading)
    assert "<strong>Asked 3 times</strong>" in back


def test_reviewer_sees_gaps_without_the_actions_and_cannot_act(app, staff):
    chat(app, "What is the meaning of life?")
    reviewer = Console(app, "rev@example.com")
    page = reviewer.text("/admin/gaps")
    assert "What is the meaning of life?" in page
    assert "Dismiss this group" not in page and "Add and rebuild" not in page and 'name="message"' not in page
    message_id = database(app).execute("SELECT id FROM messages WHERE role = 'visitor'").fetchone()[0]
    for path, form in (("/admin/gaps/dismiss", {"message": message_id}),
                       ("/admin/gaps/questions", {"message": message_id, "article": "billing@" + "0" * 64})):
        refused = reviewer.post(path, form)
        assert refused.status_code == 403 and 'aria-label="Console"' in refused.get_data(as_text=True)
    assert database(app).execute("SELECT count(*) FROM gap_dismissals").fetchone()[0] == 0
    assert "What is the meaning of life?" in reviewer.text("/admin/gaps")


# --- conversation list: first question, search, CSV ------------------------------------------

def listed(console: Console, **query) -> list[str]:
    page = console.text("/admin/conversations", query_string=query)
    return re.findall(r'<td data-label="Conversation"><a href="/admin/conversations/([^"]+)">', page)


def fts_shadow_bytes(app) -> bytes:
    """Every byte stored in the full-text index's shadow tables."""
    db = database(app)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                       "name LIKE 'messages_fts_%'")]
    assert {"messages_fts_data", "messages_fts_idx"} <= set(tables)
    return b"".join(value if isinstance(value, bytes) else str(value).encode()
                    for table in tables for row in db.execute(f"SELECT * FROM {table}") for value in row)


def test_list_shows_first_questions_and_search_finds_stored_scrubbed_words(app, staff, instance):
    first = chat(app, "My email is jane.roe@example.com, my lamp hums like a kettle", "Is shipping free?")
    other = chat(app, "How long is the warranty?")
    reviewer = Console(app, "rev@example.com")
    page = reviewer.text("/admin/conversations")
    assert "My email is &lt;EMAIL_ADDRESS_1&gt;, my lamp hums like a kettle" in page  # scrubbed, as stored
    assert "How long is the warranty?" in page and "jane.roe" not in page
    assert "Is shipping free?" not in page  # the first question, not the latest
    assert listed(reviewer, q="kettle") == [first.conversation_id]
    assert listed(reviewer, q="KETTLES hums") == [] and listed(reviewer, q="hum kett") == [first.conversation_id]
    assert other.conversation_id in listed(reviewer, q="warranty")
    assert listed(reviewer, q="jane") == []  # the address never reached the database
    assert listed(reviewer, q='"kettle* (') == [first.conversation_id]  # search syntax is taken as words
    bad = reviewer.get("/admin/conversations", query_string={"q": "!!! ???"})
    assert bad.status_code == 400 and "Search for words" in bad.get_data(as_text=True)
    assert ("search_conversations", "page:1", "results:1") in actions(app)
    assert not any("kettle" in " ".join(entry) for entry in actions(app))  # the term is never recorded
    written = [path for path in instance.rglob("*") if path.is_file()]
    assert not any(b"kettle" in path.read_bytes() for path in written)  # the index is inside the encrypted file


@pytest.mark.parametrize("how", ["erasure", "retention"])
def test_search_forgets_erased_and_purged_messages(app, staff, runner, how):
    gone = chat(app, "My grandmother's lamp hums like a kettle at night")
    kept = chat(app, "Is shipping free?")
    reviewer = Console(app, "rev@example.com")
    assert listed(reviewer, q="kettle") == [gone.conversation_id]
    assert b"kettle" in fts_shadow_bytes(app) and b"grandmother" in fts_shadow_bytes(app)  # the check can see
    if how == "erasure":
        assert gone.client.delete("/api/v1/me", headers=gone.auth).status_code == 200
    else:
        with database(app) as db:
            old = "2001-01-01T00:00:00.000Z"
            visitor_id = db.execute("SELECT visitor_id FROM conversations WHERE id = ?",
                                    (gone.conversation_id,)).fetchone()[0]
            db.execute("UPDATE visitors SET last_seen_at = ? WHERE id = ?", (old, visitor_id))
            db.execute("UPDATE conversations SET created_at = ? WHERE id = ?", (old, gone.conversation_id))
            db.execute("UPDATE messages SET created_at = ? WHERE conversation_id = ?", (old, gone.conversation_id))
        assert runner.invoke(args=["purge"]).exit_code == 0
    assert database(app).execute("SELECT count(*) FROM messages WHERE conversation_id = ?",
                                 (gone.conversation_id,)).fetchone()[0] == 0
    assert listed(reviewer, q="kettle") == [] and listed(reviewer, q="grandmother") == []
    shadow = fts_shadow_bytes(app)
    assert b"kettle" not in shadow and b"grandmother" not in shadow
    assert listed(reviewer, q="shipping") == [kept.conversation_id]  # the index still works for the rest
    database(app).execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")


def test_csv_download_is_the_filtered_list(app, staff):
    formula = chat(app, "=1+2 is shipping free?")
    lost = chat(app, "Do you sell gift cards?")
    chat(app, "How long is the warranty?")
    reviewer = Console(app, "rev@example.com")
    downloads = []
    for query in ({}, {"answered": "unanswered"}, {"q": "shipping"}, {"q": "warranty", "answered": "unanswered"}):
        response = reviewer.get("/admin/conversations.csv", query_string=query)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert [row["id"] for row in rows] == listed(reviewer, **query)
        downloads.append(("export_conversation_list", f"conversations:{len(rows)}", "searched" if "q" in query else ""))
    assert [a for a in actions(app) if a[0] == "export_conversation_list"] == downloads[::-1]
    assert downloads[0][1] == "conversations:3" and downloads[1][1] == "conversations:1"
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(
        reviewer.get("/admin/conversations.csv").get_data(as_text=True)))}
    assert rows[formula.conversation_id]["first_question"] == "'=1+2 is shipping free?"  # never a formula
    assert rows[lost.conversation_id]["first_question"] == "Do you sell gift cards?"
    assert rows[lost.conversation_id]["unanswered"] == "1"
    page = reviewer.text("/admin/conversations", query_string={"answered": "unanswered"})
    assert "/admin/conversations.csv?answered=unanswered" in page and "1 conversation matches" in page


# --- error pages and tags --------------------------------------------------------------------

def test_console_error_pages_keep_the_navigation_and_the_api_stays_json(app, staff, client):
    reviewer = Console(app, "rev@example.com")
    for path, status, says in (("/admin/conversations/no-such-id", 404, "No stored conversation has that id"),
                               ("/admin/no-such-page", 404, "Not found"),
                               ("/admin/users", 403, "Only an admin can use this page"),
                               ("/admin/conversations?rating=sideways", 400, "Unknown rating filter")):
        response = reviewer.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == status and says in page, path
        assert 'aria-label="Console"' in page and 'href="/admin/conversations"' in page, path
        assert "console.css" in page and "Traceback" not in page
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    anonymous = client.get("/admin/no-such-page")
    assert anonymous.status_code == 404 and 'aria-label="Console"' not in anonymous.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["error"] == "not_found"


@pytest.mark.parametrize("tag, reason", [
    ("jane@example.com", "looks like personal data (an email address)"),
    ("order-55512345", "looks like personal data: a tag holds at most 4 digits"),
    ("vip customer", "that one has a space"),
    ("a" * 40, "at most 32 characters, starting with a letter or digit; that one has 40 characters"),
    ("-urgent", "that one starts with a hyphen"),
    ("billing.eu", "that one has “.”"),
])
def test_refused_tag_says_why(app, staff, tag, reason):
    visitor = chat(app, "How do I pay my invoice?")
    reviewer = Console(app, "rev@example.com")
    page = f"/admin/conversations/{visitor.conversation_id}"
    shown = reviewer.text(reviewer.post(f"{page}/tags", {"tag": tag}).headers["Location"])
    notice = re.search(r'<p class="notice" role="status">([^<]*)</p>', shown).group(1).replace("&#39;", "'")
    assert notice.startswith("Not tagged: ") and reason in notice
    assert tag.strip() not in notice  # a refused tag may be personal data: it is not echoed
    assert database(app).execute("SELECT count(*) FROM conversation_tags").fetchone()[0] == 0
