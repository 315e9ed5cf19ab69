"""Which log format is chosen, and what a console line looks like."""

from __future__ import annotations

import io
import logging
import re
import sys

import pytest

from sentd import logs
from sentd.config import Settings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("log_format", "log_json", "terminal", "expected"),
    [
        ("auto", None, True, False),
        ("auto", None, False, True),
        ("auto", True, True, True),  # an explicit SENTD_LOG_JSON still decides under auto
        ("auto", False, False, False),
        ("json", False, True, True),
        ("console", True, False, False),
    ],
)
def test_format_choice(
    log_format: str, log_json: bool | None, terminal: bool, expected: bool
) -> None:
    stream = Terminal() if terminal else io.StringIO()
    assert logs.json_lines(log_format, log_json, stream) is expected


def test_settings_tell_an_explicit_log_json_from_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen: list[bool] = []
    monkeypatch.setattr(logs, "configure", lambda _level, json_lines: chosen.append(json_lines))
    monkeypatch.setattr(sys, "stderr", Terminal())
    for name in ("SENTD_LOG_JSON", "SENTD_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    logs.configure_from(Settings())
    monkeypatch.setenv("SENTD_LOG_JSON", "true")
    logs.configure_from(Settings())
    monkeypatch.setenv("SENTD_LOG_FORMAT", "console")
    logs.configure_from(Settings())
    assert chosen == [False, True, False]


def test_console_line_carries_time_level_logger_extras_and_request_id() -> None:
    record = logging.makeLogRecord(
        {"name": "sentd.mail", "levelno": logging.INFO, "levelname": "INFO", "msg": "hello %s"}
    )
    record.args = ("world",)
    record.invitee_email = "a@example.com"
    record.color_message = "uvicorn's coloured copy of the message, not repeated"
    token = logs.request_id_var.set("req_abc")
    try:
        line = logs.ConsoleFormatter().format(record)
    finally:
        logs.request_id_var.reset(token)
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3}  INFO     sentd\.mail  hello world  "
        r"invitee_email=a@example\.com  \[req_abc\]",
        line,
    ), line
    coloured = logs.ConsoleFormatter(colour=True).format(record)
    assert "\x1b[32mINFO   \x1b[0m" in coloured
