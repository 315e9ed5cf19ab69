"""Logs: one JSON object per line (the default when stderr is not a terminal), or one readable
line per record on a terminal; both carry the request id of the request being served.

`SENTD_LOG_FORMAT` chooses: `json`, `console`, or `auto` (the default: console on a terminal,
JSON otherwise; an explicit `SENTD_LOG_JSON` still decides under `auto`, as it always has).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from sentd.config import Settings

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_LEVEL_COLOURS = {"DEBUG": "2", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}


class ConsoleFormatter(logging.Formatter):
    """`16:40:02.113 INFO  sentd.mail  message  key=value …  [req_…]`, for a person at a
    terminal: local time, the level (coloured when `colour`), the extras as key=value."""

    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self._colour = colour

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        level = f"{record.levelname:<7}"
        if self._colour:
            level = f"\033[{_LEVEL_COLOURS.get(record.levelname, '0')}m{level}\033[0m"
        parts = [when, level, record.name, record.getMessage()]
        extras = [
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key != "color_message"
        ]
        if extras:
            parts.append(" ".join(extras))
        request_id = request_id_var.get()
        if request_id:
            parts.append(f"[{request_id}]")
        line = "  ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def json_lines(log_format: str, log_json: bool | None, stream: TextIO) -> bool:
    """Whether to write JSON: `log_format` when it says so; under `auto`, `log_json` when it was
    set, else JSON unless `stream` is a terminal."""
    if log_format != "auto":
        return log_format == "json"
    if log_json is not None:
        return log_json
    return not stream.isatty()


def configure(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(ConsoleFormatter(colour=sys.stderr.isatty()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def configure_from(settings: Settings) -> None:
    """`configure` with the level and format the settings ask for."""
    explicit = settings.log_json if "log_json" in settings.model_fields_set else None
    configure(settings.log_level, json_lines(settings.log_format, explicit, sys.stderr))
