"""Identifiers: request ids and key secrets are letters and digits, evenly drawn; row ids are
time-ordered."""

from __future__ import annotations

import collections
import string
import time
import uuid

from sentd.ids import incoming_request_id, new_id, new_request_id, random_token

ALPHABET = string.ascii_letters + string.digits


def test_a_token_has_the_length_asked_and_only_letters_and_digits() -> None:
    for length in (0, 1, 4, 20, 300):
        token = random_token(length)
        assert len(token) == length
        assert set(token) <= set(ALPHABET)


def test_every_character_is_drawn_about_as_often() -> None:
    counts = collections.Counter(random_token(62 * 2_000))
    assert set(counts) == set(ALPHABET)
    # 2,000 expected each; a biased draw (bytes mod 62) gives the first eight characters ~25 %
    # more, far outside these bounds (the standard deviation is ~44).
    assert all(1_700 < n < 2_300 for n in counts.values()), counts.most_common(3)


def test_request_ids_differ_and_are_accepted_back() -> None:
    ids = {new_request_id() for _ in range(1_000)}
    assert len(ids) == 1_000
    assert all(incoming_request_id(i) == i for i in ids)


def test_row_ids_are_version_7_in_the_order_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(2_000)]
    after = time.time_ns() // 1_000_000
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)
    stamps = [i.int >> 80 for i in ids]  # the first 48 bits: milliseconds since the epoch
    assert before <= stamps[0] and stamps[-1] <= after
    assert stamps == sorted(stamps)
    # The 74 other bits are random: each of them is set in some id and clear in another.
    random_bits = [(i.int >> 64 & 0xFFF) << 62 | i.int & ((1 << 62) - 1) for i in ids]
    assert all(
        any(bits >> n & 1 for bits in random_bits)
        and not all(bits >> n & 1 for bits in random_bits)
        for n in range(74)
    )
