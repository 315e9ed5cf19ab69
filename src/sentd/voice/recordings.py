"""Recording download links: sentd serves recordings itself, at URLs signed with a key kept on
each recording (HMAC-SHA256 of `<recording id>.<expiry>`) and valid until the expiry."""

from __future__ import annotations

import hashlib
import hmac
import uuid

MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)  # MPEG-1 layer III, 128 kbit/s, silence
FRAMES_PER_SECOND = 38


def recording_signature(url_key: str, recording_id: uuid.UUID, expires: int) -> str:
    message = f"{recording_id}.{expires}".encode()
    return hmac.new(url_key.encode(), message, hashlib.sha256).hexdigest()


def valid(url_key: str, recording_id: uuid.UUID, expires: int, signature: str, now: float) -> bool:
    expected = recording_signature(url_key, recording_id, expires)
    return now <= expires and hmac.compare_digest(expected, signature)


def simulated_mp3(duration_s: int) -> bytes:
    """A silent MP3 as long as the recording (capped at ten minutes)."""
    frames = max(1, min(duration_s, 600)) * FRAMES_PER_SECOND
    return MP3_FRAME * frames
