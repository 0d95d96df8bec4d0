"""The per-worker answer cache: bounded, dropped with the index, and the served answer unchanged."""
from __future__ import annotations

from app.chat.answer_cache import AnswerCache


def test_a_repeated_question_is_answered_from_memory_until_the_index_changes():
    calls = []

    def compute(value):
        return lambda: calls.append(value) or value

    cache = AnswerCache(2)
    assert cache.get("index-1", "how do i reset my password", compute("a")) == "a"
    assert cache.get("index-1", "how do i reset my password", compute("again")) == "a"
    assert calls == ["a"]
    assert cache.get("index-2", "how do i reset my password", compute("b")) == "b"  # rebuilt index
    assert calls == ["a", "b"]


def test_the_cache_keeps_at_most_its_size_and_forgets_the_least_recent():
    cache = AnswerCache(2)
    for key in ("one", "two"):
        cache.get("i", key, lambda: key)
    cache.get("i", "one", lambda: "recomputed")  # "one" is now the most recent
    cache.get("i", "three", lambda: "three")
    assert cache.get("i", "one", lambda: "recomputed") == "one"
    assert cache.get("i", "two", lambda: "recomputed") == "recomputed"


def test_size_zero_remembers_nothing():
    cache = AnswerCache(0)
    assert cache.get("i", "q", lambda: 1) == 1
    assert cache.get("i", "q", lambda: 2) == 2


def test_a_cached_turn_answers_exactly_like_a_fresh_one(scrubber, embedder, kb_index):
    """The served pipeline with a cache gives the same answer, sources and blocks on a repeat."""
    from app.chat.pipeline import Pipeline
    from app.retrieval.context import TurnContext
    from app.retrieval.live import LiveIndex

    indexes = LiveIndex(kb_index.prepare())
    fresh = Pipeline(scrubber, embedder, indexes, 0.45)
    cached = Pipeline(scrubber, embedder, indexes, 0.45, cache=AnswerCache(16))
    for question in ("How do I reset my password?", "how do i pair the lamp with the app", "Who won the cup?"):
        first, second = cached.answer(question), cached.answer(question)
        assert first == second == fresh.answer(question)
    follow_up = TurnContext(("I forgot my password",), "")
    assert cached.answer("and how long is the link valid?", follow_up) == fresh.answer(
        "and how long is the link valid?", follow_up)
    assert cached.cache.hits == 3 and cached.cache.misses == 4


def test_the_bounded_memory_forgets_the_least_recent_and_size_zero_keeps_nothing():
    from app.chat.bounded import Bounded

    memory = Bounded(2)
    memory.put("one", 1), memory.put("two", 2)
    assert memory.get("one") == 1  # now the most recent
    memory.put("three", 3)
    assert memory.get("two") is None and memory.get("one") == 1 and len(memory) == 2
    nothing = Bounded(0)
    nothing.put("one", 1)
    assert nothing.get("one") is None
