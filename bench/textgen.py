"""Deterministic synthetic text whose search terms have known frequencies.

Filler words are made of consonant-vowel syllables (``kamilo``), so they always start with a
consonant and end in a vowel and can never spell (or stem to) a planted term. Planted terms are
real words, put into messages with fixed probabilities, so the number of messages that contain
each is known in advance (and counted exactly while seeding).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
FILLER_WORDS = 3000
SENTENCES = 6000


@dataclass(frozen=True)
class Planted:
    word: str
    probability: float  # per message; 0 with ``exact`` means a fixed count instead


# Two common words drawn independently (so "invoice refund" matches ~4% of messages).
COMMON_A = Planted("invoice", 0.20)
COMMON_B = Planted("refund", 0.20)
MEDIUM = Planted("router", 0.002)
RARE_WORD = "quasar"
RARE_COUNT = 10
ZERO_HIT = "xylophonic"
PLANTED = (COMMON_A, COMMON_B, MEDIUM)

QUERIES = {
    "rare": RARE_WORD,
    "medium": MEDIUM.word,
    "common": COMMON_A.word,
    "two_common": f"{COMMON_A.word} {COMMON_B.word}",
    "zero_hit": ZERO_HIT,
}


class TextGenerator:
    def __init__(self, seed: int, total_messages: int) -> None:
        self.random = random.Random(seed)
        syllables = [c + v for c, v in itertools.product(CONSONANTS, VOWELS)]
        words: set[str] = set()
        while len(words) < FILLER_WORDS:
            words.add("".join(self.random.choices(syllables, k=self.random.randint(2, 4))))
        self.words = sorted(words)
        # Zipf-like weights: a few filler words are everywhere, most are rare.
        weights = [1.0 / (rank + 1) for rank in range(len(self.words))]
        self.sentences = [
            " ".join(self.random.choices(self.words, weights, k=self.random.randint(6, 14)))
            for _ in range(SENTENCES)
        ]
        self.subjects = [
            " ".join(
                self.random.choices(self.words, weights, k=self.random.randint(3, 7))
            ).capitalize()
            for _ in range(SENTENCES)
        ]
        step = max(total_messages // RARE_COUNT, 1)
        self.rare_at = {step // 2 + i * step for i in range(RARE_COUNT)}
        self.counts = {p.word: 0 for p in PLANTED} | {RARE_WORD: 0, "both_common": 0}
        self.serial = 0

    def subject(self) -> str:
        return self.random.choice(self.subjects)

    def body(self) -> str:
        rnd = self.random
        parts = rnd.choices(self.sentences, k=rnd.randint(2, 6))
        planted = [p.word for p in PLANTED if rnd.random() < p.probability]
        if self.serial in self.rare_at:
            planted.append(RARE_WORD)
        self.serial += 1
        for word in planted:
            self.counts[word] += 1
            index = rnd.randrange(len(parts))
            parts[index] = f"{parts[index]} {word}"
        if COMMON_A.word in planted and COMMON_B.word in planted:
            self.counts["both_common"] += 1
        return ". ".join(p.capitalize() for p in parts) + "."
