"""`run.py eval`: answer quality and scrubbing quality on labelled data, printed side by side
with baselines measured in the same run. Figures only; nothing here passes or fails.
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from pathlib import Path

import click

from app import config
from app.privacy.pii_cli import eval_pii


def _settings() -> dict:
    try:
        return config.load(os.environ)
    except config.ConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group("eval")
def eval_cli() -> None:
    """Measure answer quality and PII scrubbing on labelled data (see shared/eval/README.md)."""


@eval_cli.command("retrieval")
@click.option("--kb", "kb", required=True, type=click.Path(path_type=Path),
              help="JSONL, one article per line: {id, title, questions[, body]}.")
@click.option("--queries", required=True, type=click.Path(path_type=Path),
              help="JSONL {query, label}; label null = out of scope. Only scored.")
@click.option("--dev", type=click.Path(path_type=Path), help="JSONL like --queries; thresholds are fitted here.")
@click.option("--threshold", type=float, help="Also score our engine at this fixed threshold (say, the "
              "product's QUIETDESK_ANSWER_THRESHOLD) — for data without a dev split.")
@click.option("--scrub/--no-scrub", default=True, show_default=True,
              help="Scrub every query with the product's scrubber first, as the server does, and add a row "
                   "for our engine on the raw text.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def eval_retrieval(kb: Path, queries: Path, dev: Path | None, threshold: float | None, scrub: bool,
                   as_json: bool) -> None:
    """Score our engine, a dense-only and a BM25-only baseline, and one ablation per mechanism."""
    from app.engines import load_embedder
    from app.retrieval.embedder import ModelError
    from app.retrieval.evaluate import EvalDataError, check_files, engine_configs, evaluate, format_table

    settings = _settings()
    try:
        check_files(kb, queries, dev)
        embedder = load_embedder(settings)
        rows = engine_configs(settings["UNUSED_WORDS_COST"])  # ours as the server runs it
        results = evaluate(kb, queries, dev, embedder, rows, threshold,
                           scrub=_product_scrubber(settings, kb, as_searched=True) if scrub else None,
                           answerer=pipeline_answerer)
    except (EvalDataError, ModelError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps({r.name: dataclasses.asdict(r) for r in results}, indent=2))
    else:
        click.echo(format_table(results))


def _product_scrubber(settings, kb: Path, as_searched: bool = False):
    """The scrubber as the server builds it for this knowledge base (its terms kept), as a text → text
    function. `as_searched`: return the text as the chat pipeline searches with it (placeholders read
    as "something"; "" for a message of masked values alone, which the pipeline does not search)."""
    import tempfile

    from app.engines import knowledge_terms, load_scrubber
    from app.privacy.placeholders import question_to_search
    from app.retrieval.evaluate import write_kb

    scrubber = load_scrubber(settings)
    with tempfile.TemporaryDirectory(prefix="quietdesk-eval-kb-") as folder:
        write_kb(kb, Path(folder))
        scrubber.keep_terms(knowledge_terms(Path(folder)))
    if not as_searched:
        return lambda text: scrubber.scrub(text).text
    return lambda text: question_to_search(scrubber.scrub(text).text)


# `eval pii` (ours, stock Presidio, peers, template halves, queries changed) lives beside the scrubber.
eval_cli.add_command(eval_pii)


def _sample_intents(queries: Path, intents: int, seed: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Return (label, question) pairs for `intents` sampled labels, 1 to 12 questions each, and the labels."""
    import random

    from app.retrieval.evaluate import EvalDataError, load_queries

    try:
        labelled = load_queries(queries)
    except EvalDataError as error:
        raise click.ClickException(str(error)) from None
    by_label: dict[str, list[str]] = {}
    for query in labelled:
        if query.label not in (None, "oos"):
            by_label.setdefault(query.label, []).append(query.text)
    picked = random.Random(seed).sample(sorted(by_label), min(intents, len(by_label)))
    return [(label, q) for i, label in enumerate(sorted(picked)) for q in by_label[label][:1 + i % 12]], picked


@eval_cli.command("gaps")
@click.option("--queries", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSONL {query, label}; out-of-scope (null or 'oos') lines are skipped.")
@click.option("--intents", default=20, show_default=True, help="How many labels to sample.")
@click.option("--seed", default=0, show_default=True)
def eval_gaps(queries: Path, intents: int, seed: int) -> None:
    """Score the knowledge-gaps grouping against labelled intents, for several similarity thresholds.

    Labels are sampled and given 1 to 12 questions each, since real gaps are uneven. Adjusted Rand
    index, homogeneity (a group holds one intent) and completeness (an intent stays in one group).
    """
    from sklearn.metrics import adjusted_rand_score, completeness_score, homogeneity_score

    from app.engines import load_embedder
    from app.retrieval.grouping import SIMILARITY, group_similar

    sample, picked = _sample_intents(queries, intents, seed)
    settings = _settings()
    vectors = load_embedder(settings).encode([q for _, q in sample])
    truth = [label for label, _ in sample]
    click.echo(f"{len(sample)} questions from {len(picked)} intents ({queries.name}, seed {seed})")
    click.echo("similarity  groups  ARI    homogeneity  completeness")
    for similarity in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65):
        predicted = [0] * len(sample)
        groups = group_similar(vectors, similarity)
        for number, members in enumerate(groups):
            for row in members:
                predicted[row] = number
        mark = "  <- product" if similarity == SIMILARITY else ""
        click.echo(f"{similarity:<11} {len(groups):<7} {adjusted_rand_score(truth, predicted):.3f}  "
                   f"{homogeneity_score(truth, predicted):.3f}        {completeness_score(truth, predicted):.3f}{mark}")


@eval_cli.command("requests")
@click.option("--queries", "files", multiple=True, required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="JSONL {query, label} (any eval file: intents, dialogues); repeatable.")
@click.option("--kb", "kbs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="JSONL {id, questions}: each listed question counts, labelled with its article's id; "
                   "repeatable.")
@click.option("--label", "labels", multiple=True, required=True,
              help="A label whose messages ask for a person (HINT3's CHAT_WITH_AGENT); repeatable.")
@click.option("--show", is_flag=True, help="Also list every message taken, every request missed and every "
              "message with an intent taken as small talk.")
def eval_requests(files: tuple[Path, ...], kbs: tuple[Path, ...], labels: tuple[str, ...],
                  show: bool) -> None:
    """Count the messages the chat takes as a request for a person (`app/chat/intents.py`): of those
    labelled as one, and of all the others (each a question the articles should answer instead); and the
    messages with an intent that it takes as small talk, answered without a search."""
    from app.chat.intents import small_talk, wants_human
    from app.retrieval.evaluate import EvalDataError, _lines, load_queries

    try:
        messages = [(q.label, q.text) for path in files for q in load_queries(path)]
        for path in kbs:
            for number, row in _lines(path):
                listed = row.get("questions", []) if isinstance(row, dict) else None
                if not isinstance(listed, list) or not isinstance(row.get("id"), str) \
                        or not all(isinstance(q, str) for q in listed):
                    raise EvalDataError(f"{path}:{number}: needs \"id\" and \"questions\" (strings)")
                messages += [(row["id"], q) for q in listed]
    except EvalDataError as error:
        raise click.ClickException(str(error)) from None
    wanted = [(label, text, wants_human(text)) for label, text in messages if label in labels]
    others = [(label, text) for label, text in messages if label not in labels]
    taken = [(label, text) for label, text in others if wants_human(text)]
    click.echo(f"labelled {', '.join(labels)}: {sum(t for _, _, t in wanted)} of {len(wanted)} taken as a "
               f"request for a person")
    share = 100 * len(taken) / max(len(others), 1)
    click.echo(f"all other messages: {len(taken)} of {len(others)} taken ({share:.2f} %)")
    chat = [(label, text, small_talk(text)) for label, text in messages if label is not None]
    kinds = Counter(kind for _, _, kind in chat if kind)
    click.echo(f"messages with an intent taken as small talk: {sum(kinds.values())} of {len(chat)} ("
               + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) + ")")
    if show:
        for label, text in taken:
            click.echo(f"  taken  [{label}] {text}")
        for label, text, took in wanted:
            if not took:
                click.echo(f"  missed [{label}] {text}")
        for label, text, kind in chat:
            if kind:
                click.echo(f"  small talk ({kind}) [{label}] {text}")


def pipeline_answerer(index, embedder, weights, threshold):
    """`eval retrieval`'s answerer (app.retrieval.evaluate.Answerer): the chat pipeline's `answer` with the
    row's weights and threshold and the server's signals — the dense-only baseline's none."""
    from app.chat.pipeline import Pipeline
    from app.retrieval.context import Signals
    from app.retrieval.live import LiveIndex
    from app.retrieval.search import DENSE_ONLY

    signals = _plain_signals() if weights == DENSE_ONLY else Signals()
    return Pipeline(None, embedder, LiveIndex(index), threshold, weights=weights, signals=signals).answer


def _plain_signals():
    """The baselines' signals: no names read, a guess among look-alikes, a message answered whole."""
    from app.retrieval.context import Signals

    return Signals(names=False, look_alikes=False, questions=False)


def _dialogue_engines(index, embedder, scrub=None, unused: float = 0.0, answered_at: float = 0.45) -> dict:
    """The rows of `eval dialogue`: each is the chat pipeline's own answer code, configured as the server
    runs it (`unused`: QUIETDESK_UNUSED_WORDS_COST). With `scrub` (text → scrubbed text) each turn and its
    context are scrubbed first, as the server does, and a last row answers the raw text. DSTC's earlier
    replies are a human wizard's, so two rows replay each dialogue sending our own last answer's address
    (answered at `answered_at`, QUIETDESK_ANSWER_THRESHOLD), with and without the last answer's topic."""
    from functools import lru_cache

    from app.chat.pipeline import Pipeline
    from app.retrieval.context import Signals, TurnContext
    from app.retrieval.evaluate import unused_words_switched
    from app.retrieval.live import LiveIndex
    from app.retrieval.search import DENSE_ONLY, Weights

    scrubbed = lru_cache(maxsize=None)(scrub) if scrub else (lambda text: text)  # each distinct text once

    ours = Weights(unused=unused)

    def engine(with_context: bool = True, raw: bool = False, weights: Weights = ours, **options):
        pipeline = Pipeline(None, embedder, LiveIndex(index), 0.0, weights=weights, **options)
        clean = (lambda text: text) if raw else scrubbed
        if not with_context:
            return lambda text, context: pipeline.answer(clean(text))
        return lambda text, context: pipeline.answer(clean(text), TurnContext(tuple(clean(c) for c in context)))

    def as_the_widget_sends(signals: Signals = Signals()):
        """Each turn with the address the widget would send after our own answer to the visitor's message
        before it (one reply between them): that answer's when it reached the product threshold, else the
        one sent with that message (an "I don't know" keeps the last answer's article)."""
        pipeline = Pipeline(None, embedder, LiveIndex(index), 0.0, weights=ours, signals=signals)
        addresses: dict[tuple[str, ...], str] = {}  # a turn's context and text -> the address sent after it

        def answer(text, context):
            said = tuple(scrubbed(c) for c in context)
            sent = addresses.get(said[:-1], "")
            reply = pipeline.answer(scrubbed(text), TurnContext(said, sent))
            answered = reply.confidence >= answered_at or reply.asked_which
            addresses[(*said, scrubbed(text))] = reply.address_after(sent) if answered else sent
            return reply
        return answer

    plain = _plain_signals()
    engines = {"ours": engine(), "ours on the turn alone": engine(False),
               "dense-only baseline": engine(False, weights=DENSE_ONLY, signals=plain),
               "ours without names from context": engine(signals=Signals(names=False)),
               "ours without follow-up joining": engine(signals=Signals(follow_up=False)),
               "ours, statements joined too": engine(signals=Signals(standalone=False)),
               "ours, named turns scored by name": engine(signals=Signals(sentence=False)),
               "ours, look-alikes answered": engine(signals=Signals(look_alikes=False)),
               "ours with context, dense-only": engine(weights=DENSE_ONLY),
               "ours, each message answered whole": engine(signals=Signals(questions=False)),
               "ours, our last answer sent": as_the_widget_sends(),
               "ours, last answer sent, no topic": as_the_widget_sends(Signals(topic=False))}
    switched, weights = unused_words_switched(ours)
    engines[switched] = engine(weights=weights)
    if scrub:
        engines["ours, without scrubbing"] = engine(raw=True)
    return engines


@eval_cli.command("dialogue")
@click.option("--kb", "kb", required=True, type=click.Path(path_type=Path),
              help="JSONL, one article per line: {id, title, url, body} with one `##` section per passage.")
@click.option("--queries", required=True, type=click.Path(path_type=Path),
              help="JSONL {query, label, passage, context, dialogue[, gold]}; label null = needs no article.")
@click.option("--dev", type=click.Path(path_type=Path),
              help="JSONL like --queries; thresholds are fitted here.")
@click.option("--threshold", type=float,
              help="Also score our engine at this fixed threshold (the product's).")
@click.option("--scrub/--no-scrub", default=True, show_default=True,
              help="Scrub every turn and its context with the product's scrubber first, as the server does, "
                   "and add a row for our engine on the raw text.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def eval_dialogue(kb: Path, queries: Path, dev: Path | None, threshold: float | None, scrub: bool,
                  as_json: bool) -> None:
    """Score passage answering in multi-turn dialogues: ours, the turn alone, dense-only, ablations."""
    from app.retrieval.dialogue import (check_dialogue_files, evaluate_dialogues, format_dialogue_table,
                                        load_turns)
    from app.engines import load_embedder
    from app.retrieval.embedder import ModelError
    from app.retrieval.evaluate import EvalDataError, Remembering, build_index

    settings = _settings()
    try:
        check_dialogue_files(kb, queries, dev)
        embedder = Remembering(load_embedder(settings))
        index = build_index(kb, embedder, settings["CHUNK_CHARS"]).prepare()
        turns, dev_turns = load_turns(queries), load_turns(dev) if dev else []
        embedder.encode([t.text for t in turns + dev_turns])  # batch-encoded once, as eval retrieval does
        engines = _dialogue_engines(index, embedder, _product_scrubber(settings, kb) if scrub else None,
                                    settings["UNUSED_WORDS_COST"], settings["ANSWER_THRESHOLD"])
        results = evaluate_dialogues(turns, dev_turns, engines, threshold)
    except (EvalDataError, ModelError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps({r.name: dataclasses.asdict(r) for r in results}, indent=2))
    else:
        click.echo(format_dialogue_table(results))


@eval_cli.command("split")
@click.option("--queries", required=True, type=click.Path(path_type=Path),
              help="JSONL turns with a `dialogue` id.")
@click.option("--seed", default=0, show_default=True)
@click.option("--dev-out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--test-out", required=True, type=click.Path(path_type=Path, dir_okay=False))
def eval_split(queries: Path, seed: int, dev_out: Path, test_out: Path) -> None:
    """Split a dialogue file in two halves by dialogue (reproducible by seed): fit on one, score the other."""
    from app.retrieval.dialogue import split_dialogues
    from app.retrieval.evaluate import EvalDataError, _lines

    try:
        dev, test = split_dialogues([row for _, row in _lines(queries)], seed)
    except EvalDataError as error:
        raise click.ClickException(str(error)) from None
    for path, rows in ((dev_out, dev), (test_out, test)):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    click.echo(f"{len(dev)} dev turns -> {dev_out}; {len(test)} test turns -> {test_out} (seed {seed})")
