"""`/providers/twilio/status` and `/providers/twilio/inbound`: Twilio's callbacks."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/providers/twilio", tags=["providers"])
