"""Recognise the messages that are no question for the help articles: a visitor asking for a person
("talk to a human", "agent please", "mit einem Menschen sprechen"), so the chat starts a handoff, and
small talk ("hi", "thanks a lot!", "ok bye"), which gets a short social reply.

Pure engine: text in, a verdict out. A request is a sentence of the message with a word for a person
together with a verb of talking, "I need / want" right before a person wanted as such, or talking to
someone by name — or, as the message's last sentence, little more than the person word ("agent", "human
please") — so questions that merely mention people ("how do I add a person to my account?", "Somebody
has stolen my card, I need help") are not taken (`python run.py eval requests` counts both sides on the
eval sets).
Small talk is a message of greetings, thanks, goodbyes, acknowledgements and "yes" and nothing else — or
one that asks for help without saying with what yet, asks what the chat is, or says the last answer
missed.
"""
from __future__ import annotations

import re

_PERSON = (r"(?:human|humans|person|someone|somebody|agent|representative|rep|operator|staff|employee|"
           r"executive|supervisor|manager|team\s+member|real\s+person|live\s+(?:agent|person|support|chat)|"
           r"customer\s+(?:service|support|care)|support\s+team|"
           r"mensch|menschen|mitarbeiter(?:in)?|person|jemand(?:em|en)?|berater(?:in)?|kundenservice|kundendienst|"
           r"personne|quelqu'un|conseiller|agent)")
_ANYONE = rf"(?:{_PERSON}|anyone|anybody)"
# Verbs of talking to someone. "transfer" only as "transfer me": "the person I transferred money to" asks
# about a payment.
_TALK = (r"(?:talk|speak|chat|connect|transfer\s+me|put\s+me\s+through|reach|contact|"
         r"sprechen|reden|verbinden|chatten|erreichen|parler|contacter)")
# "I need / want (to get) a person", with at most a few small words between, and the person at the end or
# wanted for talking or help: "I need someone to look at my car", "I want the staff to be cordial" and "I
# want to close my account due to poor customer service" ask for no one to join the chat.
_WANT = r"(?:need|want|get\s+me|give\s+me|would\s+like|i'?d\s+like|brauche|möchte|veux|voudrais)"
_SMALL = (r"(?:to|a|an|the|some|your|real|live|actual|one\s+of\s+your|with|please|"
          r"mit|einen?|un|une|parler\s+à)")
_FOR = (rf"(?:\W*$|\s+(?:please|pls|now|asap|bitte|on\s+the\s+(?:phone|line))\b|\s*[,.!?]|"
        rf"\s+(?:to|who\s+can)\s+(?:{_TALK}|help|assist|call|answer|explain|look\s+into)\b)")
# A person by name, as the scrubber left it: "can I talk to Kim again?" (the agent who answered before)
# reads "can I talk to <PERSON_1> again?".
_NAMED = r"<PERSON(?:_\d+)?>"
_BY_NAME = (rf"\b(?:talk|speak|chat)\s+(?:again\s+)?(?:to|with)\s+{_NAMED}|"
            rf"\b(?:connect|transfer|put)\s+me\s+(?:back\s+)?(?:to|with|through\s+to)\s+{_NAMED}|"
            rf"\bmit\s+{_NAMED}\s+(?:sprechen|reden|chatten)\b|\bparler\s+(?:à|a|avec)\s+{_NAMED}")
_REQUEST = re.compile(rf"\b{_TALK}\b.{{0,40}}\b{_PERSON}\b|\b{_ANYONE}\b.{{0,40}}\b{_TALK}\b|"
                      rf"\b{_ANYONE}\s+(?:available|around)\s+to\s+(?:{_TALK}|help|assist)\b|"
                      rf"\b{_WANT}\s+(?:{_SMALL}\s+){{0,3}}{_PERSON}{_FOR}|{_BY_NAME}", re.I | re.S)
# "agent", "a human please", "Mensch bitte", "real person available?", "human to answer", "yes, a human
# please" (to the offer of one) — nothing else in the message.
_BARE = re.compile(rf"^\W*(?:(?:yes|yeah|yep|ok|okay|sure|please|ja|oui)\W+)?"
                   rf"(?:an?\s+|einen?\s+|ein\s+|is\s+(?:there\s+)?)?{_ANYONE}"
                   r"(?:\s+(?:please|pls|now|bitte|s'il vous plaît|available|there|"
                   r"to\s+(?:talk|chat|answer|help)))?\W*$", re.I)
# "Are you a human?" and "I need to know if you are a real person" ask about the bot; "how do I add a
# person…" is about the product; "do I have to talk to someone to close my account?" asks how it is done.
_NOT_A_REQUEST = re.compile(r"\b(?:are|r)\s+(?:you|u)\s+(?:a\s+)?(?:human|person|real|bot)\b|"
                            r"\byou(?:'re|\s+are)\s+(?:an?\s+)?(?:real\s+)?"
                            r"(?:human|person|bot|robot|ai|computer)\b|"
                            r"\b(?:do|does|will|would|must)\s+(?:i|we)\s+(?:need|have)\s+to\b|"
                            r"\b(?:should|shall)\s+(?:i|we)\s+(?:contact|call|talk|speak|reach)\b|"
                            r"\b(?:add|invite|remove|share\s+with|assign)\b", re.I)
# "I do not need chat agent", "I don't want to talk to a human": declined.
_REFUSED = re.compile(rf"\b(?:not|don'?t|dont|no)\s+{_WANT}\s+(?:(?:{_SMALL}|chat|live|talk|speak)\s+){{0,4}}"
                      rf"(?:{_PERSON}\b|{_NAMED})", re.I)


# Where one sentence ends and the next begins: after . ! ? or ; and a space, or at a line break.
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\s*\n\s*")
_LONGEST = 160  # characters: a longer sentence is a story or a question that mentions people, no request


def wants_human(text: str) -> bool:
    """Say whether the message asks to talk to a person rather than asking a question: whether one of its
    sentences does, each judged alone — "Are you a bot? I want to talk to a human", "You are a bot. Get
    me a human please." and a long account of what was tried that ends "can I please talk to a real
    person?" are requests; "Do I have to talk to someone to close my account? I'd rather do it myself."
    is none. A sentence that is little more than the person word counts as the message's last: "Hi.
    Agent please" asks for one, "Is there anybody? I want to purchase this mattress…" calls for attention
    before a question."""
    sentences = [" ".join(s.split()) for s in _SENTENCES.split(text.strip())]
    return any(_asks_for_person(sentence, bare=number == len(sentences) - 1)
               for number, sentence in enumerate(sentences))


def _asks_for_person(sentence: str, bare: bool) -> bool:
    if len(sentence) > _LONGEST or _NOT_A_REQUEST.search(sentence) or _REFUSED.search(sentence):
        return False
    return bool((bare and _BARE.match(sentence)) or _REQUEST.search(sentence))


# Small talk: a message that is nothing but a greeting, thanks, a goodbye or an acknowledgement ("hi",
# "thanks a lot!", "ok bye", "great, that helped") asks the articles nothing. Searched, it got "I couldn't
# find an answer… want a human?" and showed up as a knowledge gap; it gets a short social reply instead.
_GREETING = (r"hi|hello|hey|hiya|howdy|good\s+(?:morning|afternoon|evening|day)|"
             r"hallo|guten\s+(?:morgen|tag|abend)|moin|servus|bonjour|bonsoir|salut|"
             r"(?:are|r)\s+(?:you|u)\s+(?:still\s+)?there|anybody\s+home")
_THANKS = (r"thanks|thank\s+you|thank\s+u|thanx|thx|ty|tysm|cheers|much\s+appreciated|🙏|"
           r"(?:i\s+)?appreciate\s+(?:it|that)|danke(?:\s+sch[öo]n)?|vielen\s+dank|merci(?:\s+beaucoup)?")
_GOODBYE = (r"bye|bye\s+bye|goodbye|good\s+bye|see\s+(?:you|ya)|"
            r"have\s+a\s+(?:nice|good|great)\s+(?:day|evening|one)|that'?s\s+all(?:\s+i\s+needed)?|"
            r"that\s+is\s+all|nothing\s+else|tsch[üu]ss|auf\s+wiedersehen|au\s+revoir")
_ACKNOWLEDGED = (r"ok|okay|k|great|perfect|awesome|cool|nice|brilliant|excellent|wonderful|super|alright|"
                 r"all\s+right|got\s+it|understood|i\s+see|that\s+(?:helped|helps|was\s+helpful)|"
                 r"(?:very\s+)?helpful|that'?s\s+it|that'?s\s+everything|lol|haha|"
                 r"👍|👌|🙂|😊|😀|😃|😄|😁|💯|✅|❤\ufe0f?")
# Asking for help without saying with what yet ("hi, I have a question", "can you help me?", "help"): the
# first message of many chats. Searched, it got "I couldn't find an answer… want a human?", and stood on
# the gaps page; it is asked what the question is.
_OPENER = (r"(?:i\s+)?(?:have|got|ve\s+got)\s+(?:a|an|one|another|some|a\s+few|one\s+more|a\s+couple\s+of)\s+"
           r"(?:quick\s+|small\s+|short\s+)?(?:question|query|problem|issue)s?|"
           r"(?:a\s+)?(?:quick\s+)?question|"
           r"(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?help(?:\s+me)?(?:\s+out)?|"
           r"(?:can|could|may)\s+i\s+ask\s+(?:you\s+)?(?:a\s+question|something)|"
           r"(?:i\s+)?need\s+(?:some\s+|your\s+)?(?:help|assistance)|help(?:\s+me)?|"
           r"ich\s+habe\s+eine\s+frage|(?:kannst\s+du|können\s+sie)\s+mir\s+helfen|"
           r"j'ai\s+une\s+question|(?:pouvez-vous|peux-tu)\s+m'aider")
# What the chat is ("who are you?", "what can you do?", "are you a bot?"): answered by what it does.
_ABOUT = (r"who\s+are\s+(?:you|u)|what\s+are\s+(?:you|u)|what(?:'?s|\s+is)\s+your\s+name|"
          r"what\s+can\s+(?:you|u|i\s+ask\s+you)\s*(?:do|help\s+(?:me\s+)?with|ask)?(?:\s+for\s+me)?|"
          r"(?:are|r)\s+(?:you|u)\s+(?:an?\s+)?(?:real\s+)?"
          r"(?:human|person|bot|robot|machine|ai|computer)|"
          r"(?:am\s+i\s+)?(?:talking|chatting|speaking)\s+(?:to|with)\s+(?:a\s+)?(?:real\s+)?"
          r"(?:human|person|bot|robot|machine|computer)|"
          r"wer\s+bist\s+du|(?:bist\s+du|sind\s+sie)\s+(?:ein\s+)?(?:bot|roboter|mensch)|"
          r"qui\s+êtes-vous|(?:êtes-vous|es-tu)\s+un\s+(?:bot|robot|humain)")
# The last answer missed ("that didn't help", "not what I asked", "wrong answer"): searched, it got "I
# couldn't find an answer to that…" and stood on the gaps page as a question. What the product did ("it
# didn't work") is no verdict on the answer: it is searched, and troubleshooting sections answer it.
_NOT = (r"(?:(?:that|this|it|(?:the|your|this)\s+answer)(?:'?s|\s+is|\s+was)?\s+)?"
        r"(?:really\s+|just\s+|still\s+)?"
        r"(?:(?:does|did|do|is|was|has)\s*n'?t|(?:does|did|do|is|was|has)\s+not|not|didnt|doesnt|isnt|wasnt)")
_MISSED = (rf"{_NOT}\s+(?:really\s+|quite\s+|very\s+)?(?:help(?:ful|ing|ed)?|relevant|right|correct|it|"
           r"what\s+i\s+(?:asked(?:\s+for)?|meant|need(?:ed)?|want(?:ed)?|was\s+looking\s+for)|"
           r"answer(?:ed|ing)?\s+my\s+question)|(?:wrong|useless|unhelpful|irrelevant)\s+answer|"
           r"(?:you\s+)?(?:did\s*n'?t|did\s+not|didnt)\s+answer\s+my\s+question|"
           r"(?:that'?s|that\s+is|(?:the|your)\s+answer\s+is)\s+wrong|unhelpful|useless|👎|"
           r"(?:das\s+)?hat\s+(?:mir\s+)?nicht\s+geholfen|nicht\s+hilfreich|"
           r"(?:ça|cela)\s+ne\s+m'a\s+pas\s+aidé|pas\s+utile")
# Words that only go with the phrases above ("thanks so much", "hi there"): alone they are no small talk.
_WITH_THEM = (r"so\s+much|a\s+lot|very\s+much|again|for\s+that|for\s+(?:your|the|all\s+(?:your|the))\s+help|"
              r"for\s+(?:all|everything)|there|everyone|team|please|pls|plz|"
              r"no|but|still|sorry|really|at\s+all")
# A masked name in a greeting ("hi, I'm <PERSON_1>") says nothing more; alone, it is no small talk.
_INTRODUCED = re.compile(r"(?<!\w)(?:(?:i'?m|i\s+am|this\s+is|my\s+name\s+is)\s+)?<[A-Z_]+\d*>", re.I)
# "no thanks" to the offer of a person, or "no, I don't need a person": searched, the refusal got "I couldn't
# find an answer… would you like me to connect you with someone?" again.
_DECLINED = (r"no\s+thanks|no\s+thank\s+you|nope|no\s+need|"
             r"(?:no[,.!]?\s+)?(?:i\s+)?(?:do\s+not|don'?t|dont)\s+(?:want|need)\s+"
             r"(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?(?:a|an|any)?\s*(?:chat\s+|live\s+)?"
             r"(?:human|person|agent|someone|anyone|representative)")
# "Yes" that reaches the server answers no offer of a person (the widget takes that one itself): it is
# the answer to "Is there anything else I can help you with?".
_YES = r"yes|yeah|yep|yup|sure|ja|oui"
# A message with several is its first of these: "hi, can you help me?" is an opener, "yes, thanks" thanks.
_KINDS = ("missed", "about", "opener", "goodbye", "thanks", "greeting", "acknowledged", "yes")
_PHRASES = [(kind, re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.I))
            for kind, pattern in (("acknowledged", _DECLINED), ("about", _ABOUT), ("missed", _MISSED),
                                  ("goodbye", _GOODBYE), ("thanks", _THANKS), ("greeting", _GREETING),
                                  ("acknowledged", _ACKNOWLEDGED), ("yes", _YES), ("", _WITH_THEM),
                                  ("opener", _OPENER))]  # after "thanks for your help"


_NO = re.compile(r"^\W*(?:no|nope|nah|not\s+now|no\s+no|nein|non)\W*$", re.I)


def declines(text: str) -> bool:
    """Say whether the message is a bare "no". After a reply that answered nothing — "I couldn't find an
    answer… would you like me to connect you with someone?" — it turns the offer down (the chat pipeline
    acknowledges it; searched, it got the same offer again); after an answer it may say the answer missed,
    and is searched, which offers a person."""
    return bool(_NO.match(text))


def small_talk(text: str) -> str:
    """Say what kind of small talk the message is — "missed" (the last answer did not help), "about"
    (what the chat is), "opener" (help wanted, not yet with what), "goodbye", "thanks", "greeting",
    "acknowledged" or "yes" — or "" when it asks or says anything else ("hi, how do I reset my
    password?", "no thanks, I want a refund", "I need help with my order").
    A "yes" the widget sends is no answer to the offer of a person (it takes that one itself): it is asked
    for the question, as an opener is. A bare "no" is not small talk (`declines`: it depends on what the
    last reply was); "no thanks" turns the offer down, an acknowledgement."""
    text = " ".join(text.split())
    if len(text) > 80:
        return ""
    rest, kinds = _INTRODUCED.sub(" ", text), set()
    for kind, phrase in _PHRASES:
        rest, found = phrase.subn(" ", rest)
        if found:
            kinds.add(kind)
    if re.search(r"\w", rest):
        return ""
    return next((kind for kind in _KINDS if kind in kinds), "")
