"""Every event sentd emits, by family (the envelope's `field`), and what subscribing means.

A webhook's `event_types` names families (`message` — `messages` is accepted for it —,
`templates`, `contact`, `call`) or single events (`message.delivered`). `event_filters` narrows a
family:
`{"message": ["delivered", "failed"]}` keeps only those message events, `{"templates":
["APPROVED"]}` only approvals, `{"contact": ["opt_out"]}` only opt-outs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventType:
    name: str  # "message.delivered"; a family's template events are just "templates"
    description: str


@dataclass(frozen=True, slots=True)
class Family:
    field: str  # the envelope's "field"
    display_name: str
    description: str
    header: str  # the x-webhook-event-type header
    events: tuple[EventType, ...]


FAMILIES: tuple[Family, ...] = (
    Family(
        "message",
        "Messages",
        "Every step of an outbound message's life, and inbound messages.",
        "messages",
        (
            EventType("message.queued", "Accepted by the API and waiting to be dispatched."),
            EventType("message.scheduled", "Held until its scheduled time."),
            EventType("message.accepted", "Taken by the provider for delivery."),
            EventType("message.sent", "Handed to the carrier or WhatsApp."),
            EventType("message.delivered", "Reached the recipient's device."),
            EventType("message.read", "Read by the recipient (WhatsApp)."),
            EventType("message.failed", "Could not be delivered; fetch the message for why."),
            EventType("message.cancelled", "Cancelled before it was sent."),
            EventType("message.received", "A contact wrote to one of your numbers."),
        ),
    ),
    Family(
        "templates",
        "Templates",
        "A template's review status changed.",
        "templates",
        (EventType("templates", "Submitted, approved or rejected."),),
    ),
    Family(
        "contact",
        "Contacts",
        "A contact's consent changed or it asked for help.",
        "contact",
        (
            EventType("contact.opt_out", "The contact opted out of messages."),
            EventType("contact.opt_in", "The contact opted back in."),
            EventType("contact.help", "The contact asked for help (HELP)."),
        ),
    ),
    Family(
        "call",
        "Calls",
        "Every step of a phone call on one of your voice numbers.",
        "call",
        (
            EventType("call.initiated", "A call was placed or arrived at one of your numbers."),
            EventType("call.answered", "The call was answered."),
            EventType("call.completed", "An answered call ended; duration and price are set."),
            EventType("call.failed", "The call ended unanswered; the reason says why."),
            EventType("call.recording_ready", "A recording of the call can be downloaded."),
        ),
    ),
)

FAMILY_ALIASES = {"messages": "message", "template": "templates", "contacts": "contact"}
_BY_FIELD = {f.field: f for f in FAMILIES}
EVENT_NAMES = frozenset(e.name for f in FAMILIES for e in f.events)


def family_of(event_type: str) -> Family:
    return _BY_FIELD[event_type.split(".", 1)[0]]


def normalize_subscription(name: str) -> str | None:
    """The canonical form of an `event_types` entry, or None when sentd emits no such thing."""
    name = FAMILY_ALIASES.get(name, name)
    if name in _BY_FIELD or name in EVENT_NAMES:
        return name
    return None


def matches(
    event_type: str,
    discriminator: str,
    event_types: list[str],
    event_filters: dict[str, list[str]] | None,
) -> bool:
    """Does a subscription take this event? `discriminator` is what filters compare against: the
    event's suffix (`delivered`), or a template's status."""
    family = family_of(event_type).field
    if family not in event_types and event_type not in event_types:
        return False
    wanted = (event_filters or {}).get(family)
    if wanted is None:
        for alias, canonical in FAMILY_ALIASES.items():
            if canonical == family and event_filters and alias in event_filters:
                wanted = event_filters[alias]
    return not wanted or discriminator in wanted or discriminator.lower() in wanted
