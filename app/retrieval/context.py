"""Read a turn in the context of the conversation: which article it is about, and how sure we are.

Five signals, and rules for when they apply, each switchable so `eval dialogue` can measure it alone:
- names: an article's title named in the turn, or else in an earlier message (most recent first),
  scopes the search to that article (DSTC: "the Grant Hotel" three turns ago, then "check-in time?");
  a name from earlier is also read in front of the turn, a name in the turn is also read left out;
- follow-up: with no name, the turn is also read joined to the message before it ("and how long is
  the link valid?"); an article may take that joint reading's score when it is higher;
- article: the article the last answer came from gets a small bonus, a prior and not a prison; so does,
  within it, the section the last answer quoted, when the turn may lean on it (`prior_section`);
- sentence: a named article is as sure as the turn, without the name, is close to one of its
  sentences. Every entry of an article begins with its title, so once the turn or its joint reading
  holds the name every entry looks close ("What's the address for The Ashley?" 0.85 on FAQs and
  reviews that never give one); the name says which article, a sentence saying what was asked says
  whether it answers;
- standalone: the joint readings (a name from earlier, follow-up) are only for a message that may lean
  on what came before (a question, a pronoun pointing back, an opening "and"); a statement reads alone.
- topic: a turn that may lean on what came before, after an answer from an article, is read after the
  heading of the section that answer quoted instead of after the message before ("International shipping
  how long does that take?"): the heading names the topic in the knowledge base's own words however the
  visitor's last message put it ("and to Germany?"), and that reading counts for the last answer's
  article. It also tells when the turn left that topic (`_left_topic`: "are you hiring?" after the
  return steps); such a turn is read alone — no joint reading, no prior — so a question no article
  answers is not answered from the last article because the message before it was;
- look-alikes: with no name and no last article to choose, an article among three or more built alike
  (sharing section headings: hotels answering the same FAQ) that score within LOOK_ALIKE_GAP answers
  nothing: "is parking available?" would be a guess about one place of many (DSTC11 dev half: of the
  131 turns naming nothing that were answered at 0.45, one was answered right).
A bonus only decides *which* article; the confidence stays the article's own similarity to the turn
(alone or joined; its closest sentence's or section's when named), so a message that is no question at
all ("book it for two") can still abstain, and a new topic that scores clearly higher than the old one
wins.
"""
from __future__ import annotations

import re
import weakref
from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.retrieval.index import Index
from app.retrieval.questions import QUESTION_START
from app.retrieval.search import (PRIOR_SECTION_BONUS, Hit, Weights, article_scores,
                                  confidence as search_confidence, hit, share_unused, unused_share)
from app.retrieval.words import asked as asked_words

_STOP = frozenset("a an and the of at in on by for to s n your my our you i me it is are do does how what "
                  "with from or this that there".split())
_TOKEN = re.compile(r"[a-z0-9]+")
_PUNCTUATION = ".,;:!?\"()[]"
_APOSTROPHE = re.compile(r"['\u2019]")
_BACK = "it|its|they|them|their|these|those"
_POINTS_BACK = re.compile(rf"(?i)\b({_BACK})\b")
# "that"/"this" too: too common to make a message lean on the one before, enough to keep it on the last topic
_REFERS_BACK = re.compile(rf"(?i)\b({_BACK}|that|this)\b")
_CONNECTIVE = re.compile(r"(?i)(and|also|but|so|then|what about|how about)\b")
NAME_BONUS = 0.30  # a named thing outranks a look-alike of another entity (identical FAQs)
ARTICLE_BONUS = 0.08  # the last answer's article wins near-ties only
FOLLOW_UP_COST = 0.05  # the joint reading must beat the turn's own by this much to be taken
MAX_PREVIOUS = 6  # earlier messages looked at for names, most recent first
EVERYDAY_ARTICLES = 10  # a word the text of this many articles uses names none of them on its own
SENTENCE_OFFSET = 0.08  # a sentence's cosine on the article scores' scale (best F1 at 0.45, DSTC11 dev)
SECTION_OFFSET = -0.04  # a section's cosine on the same scale (0.0 lost a DSTC10 dev turn, -0.04 none)
TOPIC_DRIFT = 0.1  # the heading read with the turn this far below the heading alone: the topic was left…
NEW_WORDS = 0.5  # …if at least this share of the turn's words are new to the article (`_left_topic`)
FRAGMENT_WORDS = 3  # a message of at most this many words that starts with no question word: a fragment
TOPIC_SECTION_BONUS = 0.2  # the last-quoted section's bonus when only what came before made it answerable
KEEP_SECTION_BONUS = 1.0  # …and when the turn asks with no word of its own ("what is that?"): it stays there
LOOK_ALIKE_GAP = 0.08  # look-alikes score this close to the best one (DSTC11 dev F1 at 0.45: flat past 0.08)
UNUSED_CLOSEST = 3  # the closest articles an unused word costs rank (`Weights.unused_rank`)
LOOK_ALIKES = 3  # this many look-alikes (the best one among them) and no name to choose: nothing is answered


@dataclass(frozen=True)
class TurnContext:
    """What the client sends with a message: earlier messages (oldest first) and the last answer's article."""

    previous: tuple[str, ...] = ()
    article: str = ""  # slug or url (with or without #anchor) of the article last answered from


@dataclass(frozen=True)
class Signals:
    names: bool = True
    follow_up: bool = True
    article: bool = True
    standalone: bool = True  # a statement that does not lean on what came before is read alone
    sentence: bool = True  # a named article is as sure as its best sentence is close to the name-free turn
    look_alikes: bool = True  # no name: of several equally close articles built alike, none answers
    topic: bool = True  # the last answer's section heading reads a follow-up, and says when the turn left it
    questions: bool = True  # a message asking two or three questions gets each answered (`questions`)


@dataclass(frozen=True)
class Reading:
    """What a turn is about: the article, scored by how sure we are; or, when nothing says which of
    several look-alikes is meant, those look-alikes (best first, each with its own score; `hit` then
    scores 0, so the turn is not answered from any one of them)."""

    hit: Hit
    alike: tuple[Hit, ...] = ()
    section_prior: float = PRIOR_SECTION_BONUS  # the bonus of the section the last answer quoted, if any


def _tokens(text: str) -> list[str]:
    """Lower-case words without stop words; an apostrophe joins ("Hobson's" and "HOBSONS" are one name),
    and a plural's "s" is dropped ("the palace of fine art" names *Palace Of Fine Arts*)."""
    return [_singular(t) for t in _TOKEN.findall(_APOSTROPHE.sub("", text.lower())) if t not in _STOP]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


class Names:
    """Find articles' titles in text; a title is known by its distinctive words in order. Only articles
    with text of their own have names: an article that is only listed questions is an intent, and its
    title ("Card arrival") is the operator's label for a topic, not a thing a visitor names."""

    def __init__(self, index: Index) -> None:
        self._titles = [tuple(_tokens(index.chunks[row].title)) for row in index.first_rows]
        common = Counter(t for words in self._titles for t in set(words))
        shared = {t for t, n in common.items() if n >= 3}  # "hotel", "house", "guest" name no one thing
        everyday = _everyday_words(index)
        keys: list[tuple[tuple[str, ...], int]] = []
        for number, words in enumerate(self._titles):
            if index.listed_only[number]:  # an intent's title ("Card arrival") labels a topic, names no thing
                continue
            core = tuple(t for t in words if t not in shared) or words
            for key in dict.fromkeys((words, core)):  # "san francisco zoo", and its own words
                if key and _names_something(key, words, everyday):
                    keys.append((key, number))
        # Each name as the words it must appear as, spaced, filed under its first word: a text is checked
        # only against the names that start with one of its words (one `in` each), so a turn costs the
        # same with 10 articles or 100,000.
        self._names: dict[str, list[tuple[str, int, int, tuple[str, ...]]]] = {}
        for key, number in keys:
            self._names.setdefault(key[0], []).append((f" {' '.join(key)} ", len(key), number, key))

    def find(self, text: str) -> int | None:
        """Return the article number whose name the text holds (the longest name if several)."""
        found = self._match(text)
        return found[0] if found else None

    def without(self, text: str) -> str:
        """The text with the words of the name it holds left out ("Does The Oak Bistro have outdoor
        seating?" -> "Does The have outdoor seating?"): what it asks about the named thing."""
        found = self._match(text)
        if not found:
            return text
        kept = (w for w in text.split()
                if _singular(_APOSTROPHE.sub("", w.lower()).strip(_PUNCTUATION)) not in found[1])
        return " ".join(kept)

    def _match(self, text: str) -> tuple[int, frozenset[str]] | None:
        """The best name the text holds: the one whose title the text says most of, in a row ("the
        orchard garden" is *Orchard Garden Hotel*, not *Orchard Hotel*, though "orchard" names both),
        then the one whose title it says whole ("called twin peaks": *Twin Peaks*, not *Twin Peaks
        Hotel*), then the longer name."""
        tokens = _tokens(text)
        words = " " + " ".join(tokens) + " "
        found = [(length, number, key) for first in dict.fromkeys(tokens)
                 for name, length, number, key in self._names.get(first, ()) if name in words]
        if not found:
            return None
        _, number, key = max(found, key=lambda f: (*self._said_of_title(words, f[1]), f[0], f[1]))
        return number, frozenset(key)

    def _said_of_title(self, words: str, number: int) -> tuple[int, int]:
        """(the most of the title's words the text says in a row, minus the title's length)."""
        title = self._titles[number]
        said = max((end - start for start in range(len(title)) for end in range(start + 1, len(title) + 1)
                    if f" {' '.join(title[start:end])} " in words), default=0)
        return said, -len(title)


def _names_something(key: tuple[str, ...], title: tuple[str, ...], everyday: set[str]) -> bool:
    """Whether a title's words (all of them, or its own) can name it: one short word ("zoo") names
    nothing, nor one that many articles use ("time" of Thai Time); a title's own words that are all
    everyday ones name it only said in full ("two two" of Restaurant Two Two is a zip code read out)."""
    if len(key) == 1:
        return len(key[0]) >= 4 and key[0] not in everyday
    return key == title or not set(key) <= everyday


def _everyday_words(index: Index) -> set[str]:
    """Words the text of many articles uses, and numbers: as a name on its own, one of these would name
    a thing in every other message ("what is the check-in time?" named Thai Time Restaurant on DSTC10,
    "nine four one two two" Restaurant Two Two)."""
    used: Counter[str] = Counter()
    for article in index.article_ids:
        used.update({t for row in index.rows_of(article) for t in _tokens(index.chunks[row].text)})
    return {t for t, n in used.items() if n >= EVERYDAY_ARTICLES} | _NUMBERS


_NUMBERS = frozenset("zero oh one two three four five six seven eight nine ten eleven twelve thirteen "
                     "fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty "
                     "seventy eighty ninety hundred thousand".split())


_NAMES: weakref.WeakKeyDictionary[Index, Names] = weakref.WeakKeyDictionary()


def names_of(index: Index) -> Names:
    """The name finder for an index, built once per index."""
    if index not in _NAMES:
        _NAMES[index] = Names(index)
    return _NAMES[index]


def named_article(index: Index, text: str, context: TurnContext) -> int | None:
    """The article named in the turn, else in the most recent earlier message that names one."""
    names = names_of(index)
    for message in (text, *reversed(context.previous[-MAX_PREVIOUS:])):
        number = names.find(message)
        if number is not None:
            return number
    return None


def article_number(index: Index, reference: str) -> int | None:
    """Resolve a slug or url (its #anchor left out) to an article number."""
    reference = reference.split("#", 1)[0].strip()
    return index.article_numbers.get(reference) if reference else None


def decide(index: Index, alone: np.ndarray, joint: np.ndarray | None, text: str, context: TurnContext,
           signals: Signals, topic: np.ndarray | None = None,
           weights: Weights = Weights()) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Return (confidence per article, the ranking score per article, the scoping article or None).

    alone/joint are the fused article scores of the turn by itself and joined to the message before;
    topic, of the turn read after the last answer's section heading (it counts for that article only).
    """
    confidence = alone if joint is None else np.maximum(alone, joint - FOLLOW_UP_COST)
    prior = article_number(index, context.article) if context.article else None
    lifted = topic is not None and prior is not None and topic[prior] - FOLLOW_UP_COST > confidence[prior]
    if lifted:  # the topic reading favours the last article by construction: no bonus on top of it
        confidence = confidence.copy()
        confidence[prior] = topic[prior] - FOLLOW_UP_COST
    ranking = confidence.copy()
    _cost_unused_words(index, ranking, text, weights.unused_rank)
    scope = named_article(index, text, context) if signals.names else None
    if scope is not None:
        ranking[scope] += NAME_BONUS
    if signals.article and prior is not None and not lifted:
        ranking[prior] += ARTICLE_BONUS
    return confidence, ranking, scope


def _cost_unused_words(index: Index, ranking: np.ndarray, text: str, cost: float) -> None:
    """Rank the closest few articles with text of their own lower by the share of the turn's words they
    never use (a ranking cost only; the confidence stays the article's own). "how do i factory reset" sat
    closer to the password article, whose listed questions say "reset" twice, than to the app article whose
    section is *Factory reset* (0.593 against 0.536); "factory" is a word the password article never uses.
    An article of listed questions only pays its cost in its confidence (`search.confidence`)."""
    words = asked_words(text) if cost else set()
    if not words:
        return
    for number in np.argsort(-ranking, kind="stable")[:UNUSED_CLOSEST]:
        if not index.listed_only[number]:
            ranking[number] -= cost * share_unused(words, index.article_words[number])


def prior_section(answered: Hit, text: str, context: TurnContext, signals: Signals) -> str:
    """The anchor of the section the last answer quoted (`context.article`'s #anchor), when the turn may
    lean on it (`leans_on_before`) and is answered from the same article (`answered`, by slug or url as
    `article_number` reads it): a prior for the section, as the last article is for the article
    (`search.ranked_passages` gives it a small bonus). "" otherwise."""
    if not signals.article or "#" not in context.article or not leans_on_before(text):
        return ""
    reference, anchor = (part.strip() for part in context.article.split("#", 1))
    return anchor if reference and reference in (answered.article, answered.url) else ""


def leans_on_before(text: str) -> bool:
    """Say whether a message may lean on what came before: a question ("at what times?"), a pronoun
    that points back ("it still doesn't work") or an opening "and", "also", "what about"… A statement
    that does none of these stands alone ("Thank you, goodbye!", "I need a hotel with free parking"):
    read joined to the message before, it borrowed that message's subject and answered it again."""
    stripped = text.strip()
    return "?" in stripped or bool(QUESTION_START.match(stripped) or _POINTS_BACK.search(stripped)
                                   or _CONNECTIVE.match(stripped))


def texts_to_encode(index: Index, text: str, context: TurnContext, signals: Signals) -> list[str]:
    """The turn, and a second reading of it: without the name when it names an article itself (what it
    asks about that article; a turn that is nothing but the name answers "which one do you mean?", so
    what it asks is the question before it, if that named nothing); else, when it may lean on what came
    before, joined to the thing named earlier ("ASHLEY HOTEL are the rooms quiet?") when the names
    signal finds one, or else to the message before it (follow-up). After an answer from an article, such
    a turn naming nothing is read after the heading of the section that answer quoted instead (topic;
    the article's title if it named none), and the first time, that heading is read alone too."""
    if _names_itself(index, text, signals):
        question = names_of(index).without(text)
        if not asked_words(question):  # only the name ("The Millbrook Lodge, please"): which one was meant
            question = _unnamed_question_before(index, context) or question
        return [text, question] if question.strip(_PUNCTUATION + " ") else [text]
    if signals.standalone and not leans_on_before(text):
        return [text]
    heading = _topic_heading(index, text, context, signals)
    if heading:  # read after the heading of the last answer's section, instead of after the message before
        return [text, f"{heading} {text}"] + ([] if heading in _heading_vectors(index) else [heading])
    named = named_article(index, text, context) if signals.names and context.previous else None
    if named is not None:
        return [text, f"{index.chunks[index.first_rows[named]].title} {text}"]
    before = context.previous[-1].strip() if signals.follow_up and context.previous else ""
    return [text, f"{before} {text}"] if before else [text]


def _topic_heading(index: Index, text: str, context: TurnContext, signals: Signals) -> str:
    """The heading a turn is read after (`last_heading`): "" when it may not lean on what came before, when
    it names an article, itself or in an earlier message (the name says what it is about), or when there
    was no answer from an article."""
    if not signals.topic or not context.article or _names_itself(index, text, signals) \
            or (signals.standalone and not leans_on_before(text)):
        return ""
    if signals.names and context.previous and named_article(index, text, context) is not None:
        return ""
    return last_heading(index, context)


_HEADING_VECTORS: weakref.WeakKeyDictionary[Index, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()
_HEADING_SCORES: weakref.WeakKeyDictionary[Index, dict[tuple[str, int, Weights], float]] = \
    weakref.WeakKeyDictionary()


def _heading_vectors(index: Index) -> dict[str, np.ndarray]:
    """The vectors of the headings read alone so far, per index: each is encoded once (`texts_to_encode`
    asks for it only the first time), so a turn read after one costs one encoded text more, not two."""
    return _HEADING_VECTORS.setdefault(index, {})


def _heading_score(index: Index, heading: str, vector: np.ndarray, number: int, weights: Weights) -> float:
    """Article `number`'s score for its section heading read alone, computed once per index and weights:
    every follow-up in that section's topic compares with it (`_left_topic`)."""
    scores = _HEADING_SCORES.setdefault(index, {})
    key = (heading, number, weights)
    if key not in scores:
        scores[key] = float(article_scores(index, vector, heading, weights)[number])
    return scores[key]


def last_heading(index: Index, context: TurnContext) -> str:
    """The heading of the section the last answer quoted (`context.article`'s #anchor), or the title of
    its article when it named no section of it; "" when there was no answer from a known article."""
    number = article_number(index, context.article) if context.article else None
    if number is None:
        return ""
    anchor = context.article.split("#", 1)[1].strip() if "#" in context.article else ""
    first = index.chunks[index.first_rows[number]]
    if anchor:
        for row in index.rows_of(first.article):
            if index.chunks[row].anchor == anchor:
                return index.chunks[row].heading
    return first.title


def read_turn(index: Index, texts: list[str], vectors: np.ndarray, context: TurnContext, signals: Signals,
              weights: Weights = Weights()) -> Reading:
    """Pick the article a turn is about and score it by its confidence, or the look-alikes it could be.

    Its section is then picked with the turn's own words (`question_reading`): the joint reading finds
    the article, but the message before it would pull the section back to what was already answered
    (DSTC11 dev turns: 0.64 of passages right with the turn's vector, 0.51 with the joint one).
    """
    alone = article_scores(index, vectors[0], texts[0], weights)
    if _names_itself(index, texts[0], signals):  # a second reading, if any, is the turn without the name
        joint, question = None, vectors[1] if len(texts) > 1 else None  # only a name: nothing asked
    else:
        joint = article_scores(index, vectors[1], texts[1], weights) if len(texts) > 1 else None
        question = vectors[0]
    topic, section_prior = None, PRIOR_SECTION_BONUS
    heading = _topic_heading(index, texts[0], context, signals)
    if heading:  # the second reading is the turn after the last answer's heading (`texts_to_encode`)
        last, topic, joint = article_number(index, context.article), joint, None
        known = _heading_vectors(index)
        vector = known.setdefault(heading, vectors[2]) if len(texts) > 2 else known[heading]
        alone_heading = _heading_score(index, heading, vector, last, weights)
        if _left_topic(index, last, texts[0], float(topic[last]), alone_heading):
            topic, section_prior, context = None, 0.0, TurnContext(context.previous)
        elif not asked_words(texts[0]):  # "what is that?", "what should I do?": about the section just quoted
            section_prior = KEEP_SECTION_BONUS
        elif topic[last] - FOLLOW_UP_COST > alone[last]:
            section_prior = TOPIC_SECTION_BONUS  # only its topic made the turn answerable: stay in the section
    confidence, ranking, scope = decide(index, alone, joint, texts[0], context, signals, topic, weights)
    number = int(np.argmax(ranking))
    score = float(confidence[number])
    if signals.sentence and number == scope and question is not None:
        score = _closest_said(index, index.article_ids[number], question, vectors[0], score)
    alike = _look_alikes(index, ranking, number) if signals.look_alikes and scope is None else []
    if len(alike) >= LOOK_ALIKES:
        sure = [search_confidence(index, n, float(confidence[n]), texts[0], weights) for n in alike]
        return Reading(hit(index, number, 0.0), tuple(hit(index, n, s) for n, s in zip(alike, sure)))
    return Reading(hit(index, number, search_confidence(index, number, score, texts[0], weights)),
                   section_prior=section_prior)


def question_reading(index: Index, texts: list[str], signals: Signals) -> int:
    """Which of `texts_to_encode`'s readings asks the question: the turn without the name when it names
    an article itself, else the turn. The named article's confidence and its section are judged by it:
    with the name in, the sentences that repeat the name win ("Does Sala Thong offer large portion
    sizes?" was answered "SALA THONG does not have halal options."; DSTC11 test half passage accuracy
    0.652 -> 0.678 dev-fitted, 0.719 -> 0.749 at 0.45)."""
    return 1 if len(texts) > 1 and _names_itself(index, texts[0], signals) else 0


def _look_alikes(index: Index, ranking: np.ndarray, number: int) -> list[int]:
    """The articles built like the chosen one (sharing a section heading with it), it among them, that
    score within LOOK_ALIKE_GAP of it, best first. Articles with no heading in common are no look-alikes:
    three banking intents close to "my card hasn't come" are three different answers, one likely right."""
    own = index.section_headings[number]
    near = np.flatnonzero(ranking >= ranking[number] - LOOK_ALIKE_GAP)
    alike = [int(other) for other in near if other == number or own & index.section_headings[other]]
    return sorted(alike, key=lambda other: -ranking[other])


def _unnamed_question_before(index: Index, context: TurnContext) -> str:
    """The visitor's message before, if it asked something without naming what it asked about."""
    before = context.previous[-1].strip() if context.previous else ""
    return before if before and leans_on_before(before) and names_of(index).find(before) is None else ""


def _left_topic(index: Index, number: int, text: str, read_after: float, heading: float) -> bool:
    """Whether a turn left the topic of the last answer (article `number`). Not when it opens with "and",
    "what about"… ("and to Germany?" asks on about international shipping, whose section says "European
    Union countries"); else when every word it asks with is one the article never uses and it points back
    at nothing ("are you hiring?": a short question moves a heading's score little), or when, read after
    that section's heading, it scores more than TOPIC_DRIFT below the heading alone and at least
    NEW_WORDS of its words are new to the article ("can I buy a gift card?" after *International
    shipping*; "how long does that take?" stays, its words in the article or pointing back)."""
    if _CONNECTIVE.match(text.strip()) or _fragment(text):
        return False
    new = unused_share(index, number, text)
    if new == 1.0 and not _REFERS_BACK.search(text):
        return True
    return read_after < heading - TOPIC_DRIFT and new >= NEW_WORDS


def _fragment(text: str) -> bool:
    """A few words that ask nothing by themselves ("saturday?", "Germany too?", "klarna?"): said after an
    answer, they ask about its topic. A question of its own starts with a question word or a verb."""
    stripped = text.strip()
    return len(_TOKEN.findall(stripped.lower())) <= FRAGMENT_WORDS and not QUESTION_START.match(stripped)


def _names_itself(index: Index, text: str, signals: Signals) -> bool:
    return signals.names and names_of(index).find(text) is not None


def _closest_said(index: Index, article: str, question: np.ndarray, turn: np.ndarray,
                  otherwise: float) -> float:
    """The named article's confidence: the cosine of its sentence closest to the name-free turn, of its
    section closest to it (less SECTION_OFFSET's 0.04: a section's heading may be the very question,
    "## Can I bring my dog?", while its sentence "Dogs are welcome for 10 GBP." says little alone),
    or of the question it lists closest to the turn as typed, on the article scores' scale (at most
    1); `otherwise` for an article with neither sentences nor listed questions.

    A listed question is compared with the name in: where a title names the topic rather than a
    place ("Do you sell gift cards?" naming *Gift cards*), leaving it out leaves nothing asked
    ("Do you sell?"), and the operator's own questions say what the article answers.

    DSTC11 test half, detection F1 (threshold fitted on dev) 0.773 -> 0.815: "What's the address for
    The Ashley?" was 0.85 sure, and is now as sure as the closest thing the Ashley's FAQs and reviews
    say; "is the view good?" still finds the review that praises the view.
    """
    passages = index.rows_of(article)
    sentences = [s for row in passages for s in index.sentence_rows(row)]
    listed = index.rows_of(article, "question")
    if not sentences and not listed:
        return otherwise
    closest = max(float((index.sentence_vectors[sentences] @ question.reshape(-1)).max(initial=-1.0)),
                  float((index.vectors[listed] @ turn.reshape(-1)).max(initial=-1.0)))
    section = float((index.vectors[passages] @ question.reshape(-1)).max(initial=-1.0))
    return min(1.0, max(closest + SENTENCE_OFFSET, section + SECTION_OFFSET))
