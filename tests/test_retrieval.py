"""Knowledge base: articles parse and chunk, each is found for a question about it, and
off-topic questions get the honest don't-know reply."""
from __future__ import annotations

import pytest

from app.chat.answer import DONT_KNOW
from app.chat.pipeline import Pipeline
from app.retrieval import index as index_store
from app.retrieval.articles import ArticleError, chunk_article, load_articles, parse_article, split_sentences
from app.retrieval.live import LiveIndex
from app.retrieval.onnx_encoder import like_lengths
from app.retrieval.words import unglued
from tests.conftest import KNOWLEDGE

# One question per sample article, worded unlike its listed questions.
QUESTIONS = {
    "accounts": "how can I update the email address on my profile",
    "billing": "which payment cards do you accept",
    "refunds": "I changed my mind, can I send the lamp back and get my money",
    "shipping": "how many days does express delivery take",
    "passwords": "the link to set a new password says it expired",
    "privacy": "is my chat with the assistant saved somewhere",
    "contact-human": "can I speak with a real support agent",
    "orders": "I need to cancel something I ordered yesterday",
    "app-setup": "the lamp shows error E12 while pairing",
    "warranty": "my bulb flickers and is broken after 3 months, is it covered",
}
OFF_TOPIC = ["what's the weather in Paris tomorrow", "who won the football world cup in 1998",
             "write me a poem about cats", "how do I bake sourdough bread"]


@pytest.fixture(scope="module")
def pipeline(scrubber, embedder, kb_index):
    return Pipeline(scrubber, embedder, LiveIndex(kb_index), 0.45)


def test_every_sample_article_has_title_url_and_sections():
    articles = load_articles(KNOWLEDGE)
    assert 8 <= len(articles) <= 12
    assert set(QUESTIONS) == {a.slug for a in articles}
    for article in articles:
        assert article.url.startswith("https://") and article.title
        assert article.body.count("\n## ") >= 3


def test_chunks_respect_the_size_cap_and_keep_their_heading():
    article = parse_article("long", "---\ntitle: Long\nurl: https://x.example/long\n---\n"
                            "## Part one\n" + "This sentence is filler text. " * 80 + "\n## Part two\nShort.")
    passages = [c for c in chunk_article(article, 300) if c.kind == "passage"]
    assert all(len(c.text) <= 300 for c in passages)
    assert {c.heading for c in passages} == {"Part one", "Part two"}
    assert len(passages) > 3


@pytest.mark.parametrize("source, problem", [
    ("no front matter", "missing front matter"),
    ("---\ntitle: [unclosed\n---\nbody", "not valid YAML"),
    ("---\ntitle: Only title\n---\nbody", "needs title and url"),
    ("---\ntitle: T\nurl: https://x\nquestions: 5\n---\nbody", "list of strings"),
])
def test_bad_article_names_the_file_and_problem(source, problem):
    with pytest.raises(ArticleError, match=f"bad.*{problem}"):
        parse_article("bad", source)


@pytest.mark.parametrize("slug, question", sorted(QUESTIONS.items()))
def test_each_article_is_found_for_a_question_about_it(pipeline, slug, question):
    reply = pipeline.answer(question)
    article = next(a for a in load_articles(KNOWLEDGE) if a.slug == slug)
    assert not reply.handoff_offered
    assert [s.url.split("#")[0] for s in reply.sources] == [article.url]
    plain = " ".join(article.body.replace("**", "").split())
    assert all(sentence in plain for sentence in split_sentences(reply.text))  # quoted, not invented


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_get_the_dont_know_reply(pipeline, question):
    reply = pipeline.answer(question)
    assert reply.handoff_offered
    assert reply.text == DONT_KNOW
    assert reply.sources == ()


def test_answer_quotes_sentences_not_the_whole_article(pipeline):
    reply = pipeline.answer("how long is the reset link valid for?")
    article = next(a for a in load_articles(KNOWLEDGE) if a.slug == "passwords")
    assert "60 minutes" in reply.text
    assert len(reply.text) < len(article.body) / 3


def test_saved_index_loads_identically_and_swaps_atomically(tmp_path, kb_index):
    root = tmp_path / "index"
    first = index_store.save(kb_index, root)
    loaded = index_store.load(root)
    assert loaded.chunks == kb_index.chunks and loaded.digest == kb_index.digest
    assert (loaded.vectors == kb_index.vectors).all()
    second = index_store.save(kb_index, root)
    assert not first.exists() and second.exists()
    assert sorted(p.name for p in root.iterdir()) == sorted(["CURRENT", second.name])


def test_a_serving_process_follows_a_new_saved_index_and_reads_the_pointer_only_when_it_changes(
        tmp_path, kb_index, monkeypatch):
    root = tmp_path / "index"
    index_store.save(kb_index, root)
    switched = []
    live = LiveIndex(index_store.load(root).prepare(), root, on_switch=switched.append)
    reads = []
    pointer = LiveIndex._pointer
    monkeypatch.setattr(LiveIndex, "_pointer", lambda self: reads.append(1) or pointer(self))
    first = live.current()
    assert live.current() is first and reads == [] and switched == []  # unchanged: one stat, no read
    index_store.save(kb_index, root)  # a rebuild elsewhere rewrites CURRENT
    second = live.current()
    assert second is not first and switched == [second] and len(reads) == 1
    assert live.current() is second and len(reads) == 1


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(index_store.IndexLoadError, match="cannot read the index"):
        index_store.load(tmp_path / "nothing-here")


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to encode."""

    def __init__(self, embedder) -> None:
        self.embedder, self.encoded = embedder, []
        self.name, self.identity, self.dimension = embedder.name, embedder.identity, embedder.dimension

    def encode(self, texts):
        self.encoded += texts
        return self.embedder.encode(texts)


def test_rebuild_after_one_article_changed_encodes_only_that_article(tmp_path, embedder, kb_index):
    import dataclasses

    import numpy as np
    articles = load_articles(KNOWLEDGE)
    changed = dataclasses.replace(articles[0], body=articles[0].body + "\n\nLamps ship with a printed quick guide.")
    counting = CountingEmbedder(embedder)
    rebuilt = index_store.build([changed, *articles[1:]], counting, 900, previous=kb_index)
    assert counting.encoded and all(changed.title in t or t in changed.body or t in changed.questions
                                    for t in counting.encoded)
    assert len(counting.encoded) < len(rebuilt.chunks) / 5
    fresh = index_store.build([changed, *articles[1:]], embedder, 900)
    assert np.allclose(rebuilt.vectors, fresh.vectors, atol=1e-5)
    assert np.allclose(rebuilt.sentence_vectors, fresh.sentence_vectors, atol=1e-5)
    other_model = dataclasses.replace(kb_index, model="another-model")
    counting.encoded = []
    index_store.build(articles, counting, 900, previous=other_model)
    assert len(counting.encoded) >= len(kb_index.chunks)  # vectors of another model are never reused


def test_article_scores_without_sorting_match_the_sorted_way(kb_index):
    """Each article's mean over its best two entries, read group by group, equals the sorting way: ties
    (a best entry twice), one-entry articles and top 1 included."""
    from types import SimpleNamespace

    import numpy as np

    from app.retrieval import search

    assert kb_index.article_starts is not None  # as built, each article's entries are consecutive
    rng = np.random.default_rng(7)
    sizes = np.array([1, 2, 3, 1, 7, 2, 1, 12])
    numbers = np.repeat(np.arange(len(sizes)), sizes)
    fake = SimpleNamespace(entry_article=numbers, articles=len(sizes))
    starts = np.flatnonzero(np.diff(numbers, prepend=-1))
    for similarities in (rng.random(len(numbers), dtype=np.float32),
                         np.round(rng.random(len(numbers)), 1).astype(np.float32)):  # many ties
        for top in (1, 2):
            expected = search._article_means(fake, np.arange(len(numbers)), similarities, top)
            assert np.array_equal(search._best_two_means(starts, similarities, top), expected)
    query = kb_index.vectors[5]
    assert np.array_equal(search.dense_scores(kb_index, query, 2),
                          search._article_means(kb_index, np.arange(len(kb_index.chunks)), kb_index.vectors @ query, 2))


def test_a_text_gets_the_same_vector_alone_or_encoded_with_others(embedder):
    texts = ["and how long is the link valid?", "I forgot my password and how long is the link valid?",
             "E12", "my lamp arrived broken, can I get a refund? " * 8, "Is shipping free?"]
    together = embedder.encode(texts)
    for text, vector in zip(texts, together):
        assert float(embedder.encode([text])[0] @ vector) > 0.99999


@pytest.mark.parametrize("lengths, groups", [
    ([9, 20], [[0], [1]]),  # a turn and its joined reading: two runs, nothing padded to twice its length
    ([12, 10, 14], [[1, 0, 2]]),
    ([30, 8, 11, 200, 45], [[1, 2], [0, 4], [3]]),
    ([], []),
])
def test_texts_run_together_only_with_texts_of_like_length(lengths, groups):
    assert like_lengths(lengths) == groups


def test_question_words_leave_out_chat_filler_and_meet_their_stems():
    from app.retrieval.words import asked, stems
    assert asked("Hi! Could you tell me if they have parking, please?") == {"park"}
    assert asked("Are the rooms cleaned daily?") <= stems("Housekeeping cleans every room daily.")


@pytest.mark.parametrize("text, read", [
    ("is 5ghz ok?", "is 5 ghz ok?"), ("my router is 2.4GHz", "my router is 2.4 GHz"),
    ("30days return", "30 days return"), ("open till 6pm", "open till 6 pm"),
    ("my 2nd lamp", "my 2nd lamp"), ("an E27 bulb", "an E27 bulb"), ("order 12345", "order 12345"),
])
def test_a_number_glued_to_its_unit_is_searched_as_two_words(text, read):
    assert unglued(text) == read  # ordinals, codes that start with a letter and bare numbers stay
