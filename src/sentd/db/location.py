"""Which database sentd uses: `SENTD_DATABASE_URL`, or the embedded server under the data dir."""

from __future__ import annotations

from sentd.config import Settings
from sentd.db import embedded


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded.start(settings.data_dir)
