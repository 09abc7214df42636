"""Text pools of the bench corpus: trigger phrases, the sentences that carry them,
near misses and unrelated sentences, plus the checks that keep them apart.

Data only (and pure-text helpers); order matters, the planner draws from these
lists with seeded RNGs. The conversation sentences live in
``bench/corpus_conversation.py``.
"""

from __future__ import annotations

import re

from bench.corpus_conversation import CONVERSATION_POOL

PHRASES = ("dinner tonight", "running shoes", "weekend getaway")

# Positives: piece A ends with the phrase; tails are piece B.
POSITIVE_LEADINS: dict[str, list[str]] = {
    "dinner tonight": [
        "Hey, do you want to grab dinner tonight?",
        "Are we still on for dinner tonight?",
        "My parents are coming over for dinner tonight.",
        "I was thinking we could cook something nice for dinner tonight.",
        "What should we make for dinner tonight?",
        "So, dinner tonight?",
        "I booked us a table for dinner tonight.",
        "Honestly, I have no idea what to do about dinner tonight.",
        "Can you pick up some bread for dinner tonight?",
        "Sarah asked if we're free for dinner tonight.",
        "Don't forget we have guests for dinner tonight.",
        "Let's just order pizza for dinner tonight.",
        "I'm making lasagna for dinner tonight.",
        "Would you like to join us for dinner tonight?",
        "We should try the new Italian place for dinner tonight.",
        "Is anyone up for dinner tonight?",
        "My boss invited the whole team to dinner tonight.",
        "Remind me to defrost the chicken for dinner tonight.",
        "Oh, by the way, dinner tonight.",
        "I can't decide between fish and pasta for dinner tonight.",
        "We're having tacos for dinner tonight.",
        "What time is dinner tonight?",
        "Mum says you should come round for dinner tonight.",
        "I'm far too tired to cook dinner tonight.",
    ],
    "running shoes": [
        "I need to buy some new running shoes.",
        "Have you seen my running shoes?",
        "These are the most comfortable running shoes.",
        "The sports shop has a sale on running shoes.",
        "I think I left behind my running shoes.",
        "My physio told me to get proper running shoes.",
        "Do you know a good place to buy running shoes?",
        "She got me a pair of running shoes.",
        "I finally wore out my old running shoes.",
        "What size are your running shoes?",
        "The dog chewed up my running shoes.",
        "I'm reading reviews of trail running shoes.",
        "Don't forget to pack your running shoes.",
        "I spent way too much on these running shoes.",
        "Which brand do you like for running shoes?",
        "I think I need wider running shoes.",
        "My sister works in a shop that sells running shoes.",
        "You can't do the race without decent running shoes.",
        "He ran the marathon in brand new running shoes.",
        "My feet hurt, so I went and got fitted for running shoes.",
        "Are those new running shoes?",
        "Okay, running shoes.",
        "The store downtown has a discount on running shoes.",
        "By the back door, that is where I keep my running shoes.",
    ],
    "weekend getaway": [
        "We're planning a little weekend getaway.",
        "I found a great deal on a weekend getaway.",
        "What do you think about a weekend getaway?",
        "My husband surprised me with a weekend getaway.",
        "We really need a weekend getaway.",
        "The radio station is offering a free weekend getaway.",
        "I've been dreaming about a weekend getaway.",
        "Let's book a weekend getaway.",
        "That village is the perfect spot for a weekend getaway.",
        "Guess what, I won a weekend getaway!",
        "How about a romantic weekend getaway?",
        "We should really do a weekend getaway.",
        "My friends are organising a weekend getaway.",
        "Nothing beats a quiet weekend getaway.",
        "I'm saving up for a weekend getaway.",
        "Honestly? A weekend getaway.",
        "Do you fancy a weekend getaway?",
        "The kids are at camp, so we booked a weekend getaway.",
        "That cottage by the sea would make a lovely weekend getaway.",
        "I read an article about the best places for a weekend getaway.",
        "For our anniversary we're taking a weekend getaway.",
        "Is Paris too far for a weekend getaway?",
        "Mum and Dad just went on a weekend getaway.",
        "The hotel has a special package for a weekend getaway.",
    ],
}

POSITIVE_TAILS: dict[str, list[str]] = {
    "dinner tonight": [
        "I was thinking of that Thai place.",
        "Let me know by five.",
        "It should be fun.",
        "Text me when you get home.",
        "I'll bring dessert.",
        "The kids are really excited.",
        "We could walk there after work.",
        "No pressure though.",
        "I already bought the wine.",
        "Should I invite Tom as well?",
    ],
    "running shoes": [
        "They were half price.",
        "My knees are already thanking me.",
        "The old ones have holes in them.",
        "I'm training for a ten k.",
        "Do you want to come with me?",
        "They're bright orange.",
        "I'll try them on tomorrow.",
        "The shop closes at six.",
    ],
    "weekend getaway": [
        "Somewhere by the sea would be nice.",
        "The mountains are beautiful this time of year.",
        "Just the two of us.",
        "We could leave on Friday evening.",
        "I'll ask my boss for Monday off.",
        "It's been ages since we had a break.",
        "The prices are really reasonable.",
        "I'll look at hotels later.",
    ],
}

# Near misses: one sound or one word of a phrase changed, inside a sentence.
NEAR_MISSES: dict[str, list[str]] = {
    "dinner tonight": [
        "Who do you think will be the winner tonight?",
        "The soup looks a bit thinner tonight.",
        "Are we still on for dinner tomorrow?",
        "Can we just get dinner to go?",
        "Do you want to grab lunch tonight?",
        "We had a lovely dinner last night.",
        "We have a total beginner tonight in the climbing class.",
        "It would be nice to have dinner together.",
        "What time is dinner on Sunday?",
        "They announced the lottery winner tonight on the news.",
        "Should we have dinner today or wait?",
        "He's a much better spinner tonight than last week.",
        "Dinner time is at seven.",
        "My sister is making dinner for tomorrow.",
        "The crowd is thinner tonight than usual.",
        "Let's move the dinner to Friday.",
        "The raffle winner tonight gets a free bike.",
        "We'll do the dinner tomorrow night instead.",
    ],
    "running shoes": [
        "I need some new running shorts.",
        "She's been running shows at the theatre for years.",
        "Those are some stunning shoes.",
        "I bought a pack of running socks.",
        "These hiking shoes are really comfortable.",
        "The tap was running through the night.",
        "We're running short on milk.",
        "I'm running shoots for a photographer this week.",
        "She wore her dancing shoes to the party.",
        "The kids are running through the sprinklers.",
        "My tennis shoes are falling apart.",
        "Who's running Sue's meeting while she's away?",
        "We're running short of time.",
        "The trains are running slowly today.",
        "I need new walking shoes for the trip.",
        "They're running shuttles to the airport.",
        "He wore his running shirt to the office.",
        "Those cunning shoes have a hidden pocket.",
    ],
    "weekend getaway": [
        "We're planning a weekend get-together.",
        "The weekend got away from me.",
        "We booked a weekday getaway in March.",
        "The shop is holding a weekend giveaway.",
        "We just need a weekend away.",
        "We're planning a summer getaway.",
        "They went on a romantic getaway to Venice.",
        "I'm hoping for a quiet weekend at home.",
        "We're having a weekend barbecue.",
        "The weekend gala was a huge success.",
        "She runs a weekend workshop for painters.",
        "We're thinking about a family getaway.",
        "The new airport is a gateway to the islands.",
        "A winter getaway sounds lovely.",
        "The weekend market is on the high street.",
        "He made a quick getaway after the meeting.",
        "The weekend break was cancelled.",
        "Every weekend gets away from me somehow.",
        # tiny.en hears espeak-ng's "weekend getaway" as "we can get away": the
        # reverse slip must not fire either.
        "I don't think we can get away with that.",
        "We couldn't get away from the crowds.",
        "If we leave early we can get away before the traffic.",
        "Do you think we can get away for a few days?",
    ],
}

GENERIC_TAILS = [
    "What do you think?",
    "Let me know.",
    "Anyway, talk soon.",
    "It's been a long week.",
    "I'll text you later.",
    "That's what I heard, anyway.",
    "Funny how things work out.",
    "I'm not sure about it.",
    "Isn't that something?",
    "Just thought I'd mention it.",
]

UNRELATED = [
    "I'm cooking dinner for the kids.",
    "See you tonight at the station.",
    "I really need some new shoes.",
    "What are you up to this weekend?",
    "I went running before work today.",
    "The police found the getaway car by the river.",
    "Dinner is ready whenever you are.",
    "There's a storm coming tonight.",
    "My shoes are soaking wet.",
    "The weekend went by so fast.",
    "She's running the London marathon in April.",
    "Can you take the bins out tonight?",
    "We're painting the kitchen this weekend.",
    "I left my shoes at the gym.",
    "The meeting has been moved to Thursday morning.",
    "My phone screen is cracked.",
    "The bus was twenty minutes late.",
    "Let's go for a walk after lunch.",
    "I think the milk has gone off.",
    "My brother just bought a motorbike.",
    "The library closes at six.",
    "Could you water the plants while I'm away?",
    "Our neighbour's dog barks all night.",
    "I'm taking the car in for a service.",
    "The film was much better than the book.",
    "Have you paid the electricity bill?",
    "The new cafe does really good croissants.",
    "I've got a dentist appointment tomorrow.",
    "What time does the match start tonight?",
    "We had a barbecue at the weekend.",
    "The kids are running around the garden.",
    "Those shoes look great on you.",
    "Grandma is coming for dinner on Sunday.",
    "I'm so tired, I'm going to bed early tonight.",
    "We might go camping next weekend.",
    "The printer is out of paper again.",
    "My train was cancelled this morning.",
    "I need to renew my gym membership.",
    "The roads are icy, so drive carefully.",
    "I can't find the remote control anywhere.",
    "He's been learning to play the drums.",
    "Do you know a good plumber?",
    "The supermarket was really busy.",
    "I've been watching a lot of cooking programmes.",
    "The heating isn't working properly.",
    "Tonight's episode was brilliant.",
    "I'm running out of ideas for presents.",
    "The bank robbers made their getaway in a van.",
]

# Normalised substrings that must not occur in any negative or conversation text
# (phrases themselves, plus near-miss patterns a conversation should not carry).
FORBIDDEN_IN_NEGATIVES = tuple(PHRASES)
FORBIDDEN_IN_CONVERSATION = FORBIDDEN_IN_NEGATIVES + (
    "dinner to",
    "inner tonight",
    "lunch tonight",
    "running sh",
    "unning shoe",
    "getaway",
    "get away",
    "got away",
    "gets away",
    "giveaway",
    "gateway",
    "weekend get",
    "weekend away",
)

# --------------------------------------------------------------------------- helpers


def normalise_text(text: str) -> str:
    """Lower case, hyphens as spaces, punctuation dropped, single spaces."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " " + re.sub(r"\s+", " ", text).strip() + " "


def contains(text: str, patterns: tuple[str, ...]) -> str | None:
    norm = normalise_text(text)
    for p in patterns:
        if p in norm:
            return p
    return None


def validate_texts() -> None:
    for phrase, leadins in POSITIVE_LEADINS.items():
        for a in leadins:
            if not normalise_text(a).rstrip().endswith(phrase):
                raise AssertionError(f"positive lead-in does not end with {phrase!r}: {a!r}")
    for tails in POSITIVE_TAILS.values():
        for t in tails:
            if hit := contains(t, FORBIDDEN_IN_CONVERSATION):
                raise AssertionError(f"tail {t!r} holds {hit!r}")
    for texts in NEAR_MISSES.values():
        for t in texts:
            if hit := contains(t, FORBIDDEN_IN_NEGATIVES):
                raise AssertionError(f"near miss {t!r} holds the phrase {hit!r}")
    for t in UNRELATED + GENERIC_TAILS:
        if hit := contains(t, FORBIDDEN_IN_NEGATIVES):
            raise AssertionError(f"unrelated {t!r} holds the phrase {hit!r}")
    for t in CONVERSATION_POOL:
        if hit := contains(t, FORBIDDEN_IN_CONVERSATION):
            raise AssertionError(f"conversation sentence {t!r} holds {hit!r}")
