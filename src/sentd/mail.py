"""Outgoing mail. sentd has one backend today, `console`: it writes each message to the log
(invitations, and the dashboard's password links).

An invitation's log line carries the command that accepts it, so an operator without a mail
server can pass it on. It is the only copy of the token (sentd stores its digest); a lost one is
replaced with `sentd users reissue EMAIL`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

log = logging.getLogger("sentd.mail")


@dataclass(frozen=True, slots=True)
class InvitationMail:
    email: str
    name: str | None
    role: str
    organization_id: uuid.UUID
    token: str
    expires_at: datetime
    # The dashboard page that accepts it and sets a password, when the server knows its address.
    accept_url: str | None = None

    @property
    def accept_command(self) -> str:
        return f"sentd users accept {self.token}"


@dataclass(frozen=True, slots=True)
class PasswordLinkMail:
    """A link that sets a dashboard password (a reset asked for on the sign-in page)."""

    email: str
    organization_id: uuid.UUID
    url: str
    expires_at: datetime


class Mailer(Protocol):
    def send_invitation(self, mail: InvitationMail) -> None: ...

    def send_password_link(self, mail: PasswordLinkMail) -> None: ...


class ConsoleMailer:
    """Logs each message at INFO on the `sentd.mail` logger instead of sending it."""

    def send_invitation(self, mail: InvitationMail) -> None:
        log.info(
            "Invitation for %s to join organization %s as %s: accept it with `%s`%s before %s",
            mail.email,
            mail.organization_id,
            mail.role,
            mail.accept_command,
            f" or at {mail.accept_url}" if mail.accept_url else "",
            mail.expires_at.isoformat(),
            extra={
                "mail": "invitation",
                "invitee_email": mail.email,
                "organization_id": str(mail.organization_id),
                "accept_command": mail.accept_command,
                "accept_url": mail.accept_url,
                "expires_at": mail.expires_at.isoformat(),
            },
        )

    def send_password_link(self, mail: PasswordLinkMail) -> None:
        log.info(
            "Password link for %s (organization %s): %s (valid until %s)",
            mail.email,
            mail.organization_id,
            mail.url,
            mail.expires_at.isoformat(),
            extra={
                "mail": "password_link",
                "recipient_email": mail.email,
                "organization_id": str(mail.organization_id),
                "password_url": mail.url,
                "expires_at": mail.expires_at.isoformat(),
            },
        )


BACKENDS: dict[str, type[ConsoleMailer]] = {"console": ConsoleMailer}


def get_mailer(backend: str = "console") -> Mailer:
    try:
        return BACKENDS[backend]()
    except KeyError:
        raise ValueError(f"unknown mail backend {backend!r}") from None
