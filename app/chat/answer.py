"""Decide what the bot says: the article section that answers, or admit it does not know.

A wrong confident answer costs a customer more than an honest "I don't know", so below the
confidence threshold the reply offers a human instead of guessing. Above it, the answer is the best
section of the best article: whole when it is short enough to read in the widget (steps and list items
intact), else its most relevant paragraphs and items plus a link to the section. Extractive only:
every word comes from the article, which is cited.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.retrieval.markdown import Block, Span, parse, pieces, plain, relevant_part
from app.retrieval.search import Hit, Passage

OFFER_PERSON = "Would you like me to connect you with someone from our support team?"
DONT_KNOW = f"I'm sorry, I couldn't find an answer to that in our help articles. {OFFER_PERSON}"
ANSWER_CHARS = 700  # default for QUIETDESK_ANSWER_CHARS
WHICH_ONE = "That depends on which one you mean:"
WHICH_ONE_MORE = "That depends on which one you mean, for example:"
SEE_ALSO = "See also: "
TELL_ME = "Tell me which one, or I can connect you with someone from our support team."
NAMED = 5  # look-alikes a "which one?" reply names
QUOTE_CHARS = 100  # a question no article answers is quoted back up to this long
ASK_FOR_QUESTION = "Of course! What would you like to know?"
SMALL_TALK = {  # app.chat.intents.small_talk's kinds: nothing about the product, so nothing to cite
    "greeting": "Hello! What can I help you with?",
    "thanks": "You're welcome! Is there anything else I can help you with?",
    "goodbye": "Thank you for getting in touch. Goodbye!",
    "acknowledged": "Is there anything else I can help you with?",
    "opener": ASK_FOR_QUESTION,
    "yes": ASK_FOR_QUESTION,
    "about": ("I'm a virtual assistant: I answer from our help articles and link to them, and I can connect "
              "you with someone from our support team. What can I help you with?"),
    "missed": ("I'm sorry that didn't help. Would you like me to connect you with someone from our support "
               "team? You can also ask me again in other words."),
}
OFFERS_PERSON = {"missed"}  # small talk whose reply offers a person, as "I don't know" does


@dataclass(frozen=True)
class Source:
    title: str
    url: str  # the section's address (url#anchor) where the article has one


@dataclass(frozen=True)
class Answer:
    text: str  # plain text, for API clients and transcripts
    sources: tuple[Source, ...]
    confidence: float
    handoff_offered: bool
    article: str = ""  # slug of the article answered from ("" when it abstained)
    section: str = ""  # heading of the section quoted
    blocks: tuple[Block, ...] = ()  # the same answer, structured (paragraphs, lists, emphasis, links)
    asked_which: bool = False  # it asked which of several look-alikes was meant (`which_one`): no gap

    @property
    def address(self) -> str:
        """This reply's own address for `context.article`: its first source's; none when it cites nothing
        ("I don't know", small talk) or asked which article was meant (it cites articles it answered nothing
        from). An answer in part has one."""
        return "" if self.asked_which or not self.sources else self.sources[0].url

    def address_after(self, previous: str) -> str:
        """What a client sends as `context.article` with the next message, as the widget does, when it sent
        `previous` with this one: this reply's address; the last answer's still after a reply that cites
        nothing ("I don't know", "You're welcome!"), so "but it still shows the old one" after "I entered
        the new one" went unanswered stays on changing the email; none after "which one do you mean?"."""
        return self.address or ("" if self.asked_which else previous)


def _weights(blocks: tuple[Block, ...], passage: Passage) -> dict:
    """Score each paragraph or list item by its best sentence's similarity to the question."""
    flat = {piece: " ".join(text.split()) for piece, text in pieces(blocks)}
    return {piece: max((score for sentence, score in passage.sentences if sentence in text), default=0.0)
            for piece, text in flat.items()}


def _on_the_web(url: str) -> bool:
    """Whether a link to the article can be given (eval's `kb:` addresses cannot)."""
    return url.startswith(("https://", "http://"))


def section_answer(passage: Passage, url: str, limit: int = ANSWER_CHARS) -> tuple[str, tuple[Block, ...]]:
    """Answer with the passage's whole section if it fits in limit characters, else its most relevant
    part and a link to the section."""
    blocks = parse(passage.chunk.section or passage.chunk.text)
    if len(plain(blocks, addresses=False)) <= limit:  # what the widget shows: link text, not addresses
        return plain(blocks), blocks
    part = relevant_part(blocks, _weights(blocks, passage), limit)
    if _on_the_web(url):
        part += (Block("paragraph", spans=(Span("Read more: "), Span(passage.chunk.heading, href=url))),)
    return plain(part), part


def compose(hits: list[Hit], passage: Passage | None, threshold: float, limit: int = ANSWER_CHARS,
            related: tuple[Passage, ...] = ()) -> Answer:
    """Answer from the best article's section, or say "I don't know" below the threshold. Sections of the
    same article that came close behind (`related`, see `search.runners_up`) are linked after the answer
    ("See also: Requesting a reset link"): when the section chosen is the wrong one, the right one is
    often among them, a click away."""
    score = hits[0].score if hits else 0.0
    confidence = round(max(0.0, min(1.0, score)), 3)
    if not hits or score < threshold:
        return Answer(DONT_KNOW, (), confidence, True, blocks=(Block("paragraph", spans=(Span(DONT_KNOW),)),))
    top = hits[0]
    if passage is None:
        text = f"Our article “{top.title}” covers this."
        return Answer(text, (Source(top.title, top.url),), confidence, False, top.article,
                      blocks=(Block("paragraph", spans=(Span(text),)),))
    url = f"{top.url}#{passage.chunk.anchor}" if passage.chunk.anchor else top.url
    text, blocks = section_answer(passage, url, limit)
    if related and _on_the_web(top.url):
        links = [Span(p.chunk.heading, href=f"{top.url}#{p.chunk.anchor}") for p in related]
        spans = [Span(SEE_ALSO)] + [span for link in links for span in (Span(" · "), link)][1:]
        see_also = (Block("paragraph", spans=tuple(spans)),)
        blocks, text = blocks + see_also, f"{text}\n\n{plain(see_also)}"
    return Answer(text, (Source(top.title, url),), confidence, False, top.article, passage.chunk.heading,
                  blocks)


def combine(answers: list[Answer], whole: Answer, questions: tuple[str, ...] = (),
            quote: bool = True) -> Answer | None:
    """One reply to a message that asked several questions (`questions.split_questions`, each answered in
    `answers`): each answered one under its section's heading, in the order asked, the heading a link to
    that section; each article cited once; then each question no article answers, quoted, and the offer
    of a person ("I couldn't find an answer to “do you have a store in Berlin” in our help articles…"; with
    `quote` false, "…to one of your questions…").

    None — the message is answered whole — unless two or more different sections answer (each above the
    threshold: `compose`), or one does and another question gets "I don't know"; and unless the message
    read whole (`whole`) was answered from one of those sections, or from none, or from an article's
    introduction, which sums up its sections ("what day am i on on vacation and how much do i got left"
    is one question about days off, which its two halves misread). The reply is said to answer from
    (`article`, `section`) the section the whole message was, and to be as sure as the whole message was,
    when that section is among them (the reading of all its words: "What can I pay with? Does cash work?"
    asks about cash); else from the first, as sure as the least sure of them. With a question left
    unanswered it offers a person (`handoff_offered`): the visitor's question is a gap in the articles."""
    answered: list[Answer] = []
    for answer in answers:
        if answer.sources and not answer.handoff_offered and \
                all((answer.article, answer.section) != (other.article, other.section) for other in answered):
            answered.append(answer)
    missed = [question for question, answer in zip(questions, answers)
              if answer.handoff_offered and not answer.asked_which]
    if not answered or len(answered) + bool(missed) < 2:
        return None
    said = (whole.article, whole.section)
    main = next((answer for answer in answered if (answer.article, answer.section) == said), None)
    introduction = bool(whole.section and whole.sources) and "#" not in whole.sources[0].url
    if main is None and not whole.handoff_offered and not introduction:
        return None  # read whole, it is one section's question that its parts misread
    blocks = tuple(block for answer in answered for block in (_heading(answer), *answer.blocks))
    if missed:
        blocks += (Block("paragraph", spans=(Span(not_found(missed, quote)),)),)
    cited: dict[str, Source] = {}  # an article once, at the first section answered from it
    for source in (source for answer in answered for source in answer.sources):
        cited.setdefault(source.title, source)
    sure = whole.confidence if main else min(answer.confidence for answer in answered)
    main = main or answered[0]
    return Answer(plain(blocks), tuple(cited.values()), sure, bool(missed), main.article, main.section,
                  blocks)


def not_found(questions: list[str], quote: bool = True) -> str:
    """What a reply says of the questions no article answers, quoted as asked (else counted), and the offer
    of a person."""
    if quote:
        said = " or ".join(f"“{_shortened(question.strip().rstrip('?.!,; '))}”" for question in questions)
    else:
        said = f"{'one' if len(questions) == 1 else 'two'} of your questions"
    return f"I couldn't find an answer to {said} in our help articles. {OFFER_PERSON}"


def _shortened(text: str, limit: int = QUOTE_CHARS) -> str:
    """The text, or its first words up to `limit` characters and "…" (a question quoted back)."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _heading(answer: Answer) -> Block:
    source = answer.sources[0]
    return Block("paragraph", spans=(Span(answer.section or source.title, strong=True,
                                          href=source.url if _on_the_web(source.url) else None),))


def small_talk_answer(kind: str) -> Answer:
    """The reply to small talk of this kind (`intents.small_talk`'s: "greeting", "opener", "about"…)."""
    text = SMALL_TALK[kind]
    return Answer(text, (), 1.0, kind in OFFERS_PERSON, blocks=(Block("paragraph", spans=(Span(text),)),))


def which_one(alike: tuple[Hit, ...], threshold: float) -> Answer:
    """Several articles built alike answer the question (hotels with the same FAQ) and nothing says
    which one is meant: ask, naming them best first, and still offer a person. Nothing is answered from
    any of them (confidence 0); if even the best is below the threshold, it is a plain "I don't know"."""
    if not alike or alike[0].score < threshold:
        return compose([], None, threshold)
    named = alike[:NAMED]
    blocks = (Block("paragraph", spans=(Span(WHICH_ONE_MORE if len(alike) > NAMED else WHICH_ONE),)),
              Block("list", items=tuple((Span(hit.title),) for hit in named)),
              Block("paragraph", spans=(Span(TELL_ME),)))
    return Answer(plain(blocks), tuple(Source(hit.title, hit.url) for hit in named), 0.0, True, blocks=blocks,
                  asked_which=True)
