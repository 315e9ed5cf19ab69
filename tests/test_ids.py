"""Identifiers: request ids and key secrets are letters and digits, evenly drawn."""

from __future__ import annotations

import collections
import string

from sentd.ids import incoming_request_id, new_request_id, random_token

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
