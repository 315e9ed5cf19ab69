"""API key format: `sk_live_` or `sk_test_` plus 40 random letters and digits.

A key is shown once, at creation. The database keeps only its SHA-256 digest (a key carries about
238 bits of randomness, so a slow password hash would add cost and no safety) and a short prefix
that lets an operator recognise it in `sentd keys list`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sentd.ids import random_token

RANDOM_PART_LENGTH = 40
PREFIX_LENGTH = 12  # "sk_live_" + 4 random characters
_FORMAT = re.compile(r"^sk_(live|test)_[A-Za-z0-9]{32,128}$")


@dataclass(frozen=True, slots=True)
class NewKey:
    plaintext: str
    prefix: str
    digest: bytes
    livemode: bool


def generate(livemode: bool) -> NewKey:
    plaintext = ("sk_live_" if livemode else "sk_test_") + random_token(RANDOM_PART_LENGTH)
    return NewKey(plaintext, plaintext[:PREFIX_LENGTH], digest(plaintext), livemode)


def digest(plaintext: str) -> bytes:
    return hashlib.sha256(plaintext.encode()).digest()


def is_well_formed(plaintext: str) -> bool:
    return _FORMAT.match(plaintext) is not None
