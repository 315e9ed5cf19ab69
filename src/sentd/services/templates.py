"""Message templates: create, read, update, delete, the status workflow and rendering.

Status workflow (docs/templates.md): a template starts as DRAFT; `submit_for_review` makes it
PENDING and hands it to the review backend chosen in settings; the verdict makes it APPROVED or
REJECTED (with a reason). Every status change goes through `change_status`.

What the messages subsystem uses: `find_visible` (by id or by name, own or inherited),
`Template.variables` / `variables_of`, `Template.status` / `status_of`, `render` (the body for a
channel) and `render_message` (body, header, footer, buttons).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from sentd.auth.principal import Principal
from sentd.config import Settings
from sentd.db.database import Database
from sentd.db.repos import templates as repo
from sentd.db.types import Connection
from sentd.domain.templates import DEFAULT_LANGUAGE, TemplateChanges, TemplateInput
from sentd.errors.exceptions import ApiError
from sentd.events.emit import emit
from sentd.events.specimens import template_payload
from sentd.services import quotas
from sentd.templating import (
    CHANNELS,
    Definition,
    DefinitionError,
    MissingParameters,
    NoBodyForChannel,
    Rendered,
    check_category,
    derive_name,
    detect_category,
    parse_definition,
    render_body,
)
from sentd.templating import render_message as _render_message

log = logging.getLogger("sentd.templates")

STATUSES = ("DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "REVOKED")
SUBMITTABLE = ("DRAFT", "REJECTED", "APPROVED")  # where content may change and review may start
FROZEN = ("PAUSED", "DISABLED", "REVOKED")  # WhatsApp's doing: only the name may change

# -- the template as the rest of sentd sees it -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    row: Any
    definition: Definition

    @property
    def id(self) -> uuid.UUID:
        value: uuid.UUID = self.row["id"]
        return value

    @property
    def customer_id(self) -> uuid.UUID:
        value: uuid.UUID = self.row["customer_id"]
        return value

    @property
    def name(self) -> str:
        return str(self.row["name"])

    @property
    def category(self) -> str:
        return str(self.row["category"])

    @property
    def language(self) -> str:
        return str(self.row["language"])

    @property
    def status(self) -> str:
        return str(self.row["status"])

    @property
    def channels(self) -> list[str]:
        return list(self.row["channels"])

    @property
    def variables(self) -> list[str]:
        return list(self.row["variables"])

    @property
    def is_inherited(self) -> bool:
        return bool(self.row["is_inherited"])


def _template(row: Any) -> Template:
    return Template(row, parse_definition(row["definition"]))


# Definitions this process has parsed, by template and definition text. A send reads its
# template's row and definition text in its one context query (`sends.context`); the text is
# the key, so a changed definition is parsed afresh and nothing needs invalidating. Bounded:
# emptied when full.
_PARSED: dict[tuple[uuid.UUID, str], Definition] = {}
_PARSED_MAX = 1024


def from_row(row: Mapping[str, Any]) -> Template:
    """The template of a row whose `definition` is JSON text (`sends.context`), its definition
    parsed once per process and text."""
    text: str = row["definition"]
    key = (row["id"], text)
    definition = _PARSED.get(key)
    if definition is None:
        definition = parse_definition(orjson.loads(text))
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = definition
    return Template({k: v for k, v in row.items() if k != "definition"}, definition)


def variables_of(template: Template) -> list[str]:
    return template.variables


def status_of(template: Template) -> str:
    return template.status


# -- review policy --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """The configured backend (`simulator`, `whatsapp` or `manual`) and the simulator's delay."""

    backend: str
    delay_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewPolicy:
        return cls(settings.template_review_backend, settings.template_review_delay_s)


@dataclass(frozen=True, slots=True)
class ReviewPlan:
    backend: str
    state: str
    due_at: datetime | None


def plan_review(policy: ReviewPolicy, livemode: bool, now: datetime) -> ReviewPlan:
    """How a submission is reviewed. Test-mode templates never reach WhatsApp: under the
    `whatsapp` backend they are reviewed by the simulator."""
    if policy.backend == "manual":
        return ReviewPlan("manual", "awaiting_operator", None)
    if policy.backend == "whatsapp" and livemode:
        return ReviewPlan("whatsapp", "submitting", now)
    return ReviewPlan("simulator", "scheduled", now + timedelta(seconds=policy.delay_s))


# -- errors -------------------------------------------------------------------------------


def _not_found(template_id: uuid.UUID | str) -> ApiError:
    return ApiError("RESOURCE_002", {"id": [f"No template {template_id}"]})


def _inherited(template_id: uuid.UUID) -> ApiError:
    return ApiError(
        "TEMPLATE_001",
        {
            "id": [
                f"Template {template_id} is the organization's: the profile may use it, "
                "not change it"
            ]
        },
    )


def validate_definition(raw: Any) -> Definition:
    """The definition in `raw` (decoded JSON); 400 VALIDATION_001 with `details` keyed by the
    path of every problem (`definition.body.multiChannel.template`, …)."""
    try:
        return parse_definition(raw)
    except DefinitionError as exc:
        raise ApiError("VALIDATION_001", exc.issues) from exc


# -- reading ------------------------------------------------------------------------------


async def get(conn: Connection, principal: Principal, template_id: uuid.UUID) -> Template:
    """A template the principal sees: its own, or its organization's when it inherits them."""
    row = await repo.get_visible(conn, principal.scope, principal.organization_id, template_id)
    if row is None:
        raise _not_found(template_id)
    return _template(row)


async def find_visible(
    conn: Connection,
    principal: Principal,
    *,
    template_id: uuid.UUID | None = None,
    name: str | None = None,
) -> Template:
    """The template a send names, by id or by name (its own before an inherited one of the same
    name); 404 RESOURCE_002 when the principal sees none."""
    if (template_id is None) == (name is None):
        raise ValueError("give exactly one of template_id and name")
    if template_id is not None:
        return await get(conn, principal, template_id)
    assert name is not None
    row = await repo.find_visible_by_name(conn, principal.scope, principal.organization_id, name)
    if row is None:
        raise not_visible(name=name)
    return _template(row)


def not_visible(*, template_id: uuid.UUID | None = None, name: str | None = None) -> ApiError:
    """404 RESOURCE_002 for a send whose template, by id or by name, the principal does not
    see."""
    if template_id is not None:
        return _not_found(template_id)
    return ApiError("RESOURCE_002", {"name": [f"No template named {name!r}"]})


async def page(
    conn: Connection,
    principal: Principal,
    *,
    search: str | None,
    status: str | None,
    category: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Template], int]:
    rows, total = await repo.page(
        conn,
        principal.scope,
        principal.organization_id,
        search=search,
        status=status,
        category=category,
        limit=limit,
        offset=offset,
    )
    return [_template(r) for r in rows], total


# -- writing ------------------------------------------------------------------------------


async def _unique_name(conn: Connection, principal: Principal, base: str) -> str:
    taken = await repo.names_starting(conn, principal.scope, base)
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


async def _check_name_free(
    conn: Connection, principal: Principal, name: str, exclude: uuid.UUID | None = None
) -> None:
    if await repo.name_taken(conn, principal.scope, name, exclude):
        raise ApiError("RESOURCE_007", {"name": [f"A template named {name!r} already exists"]})


def _check_category(definition: Definition, category: str) -> None:
    issues = check_category(definition, category)
    if issues:
        raise ApiError("VALIDATION_001", issues)


async def create(
    conn: Connection,
    principal: Principal,
    given: TemplateInput,
    policy: ReviewPolicy,
    now: datetime,
) -> Template:
    definition = validate_definition(given.definition)
    category = given.category or detect_category(definition)
    _check_category(definition, category)
    if given.auto_create_for_sp:
        raise ApiError(
            "VALIDATION_001",
            {
                "auto_create_for_sp": [
                    "Automatic creation for sender profiles is not enabled for this organization"
                ]
            },
        )
    await quotas.check(conn, principal, "templates")
    await repo.lock_names(conn, principal.scope)
    if given.name is not None:
        await _check_name_free(conn, principal, given.name)
        name = given.name
    else:
        name = await _unique_name(conn, principal, derive_name(definition))
    row = await repo.insert(
        conn,
        principal.scope,
        principal.organization_id,
        {
            "name": name,
            "category": category,
            "language": given.language or DEFAULT_LANGUAGE,
            "status": "DRAFT",
            "definition": definition.to_wire(),
            "channels": definition.channels,
            "variables": definition.variables,
            "creation_source": given.creation_source or "from-api",
        },
    )
    if given.submit_for_review:
        row = await _submit(conn, row, policy, now)
    return _template(row)


async def _own_for_update(conn: Connection, principal: Principal, template_id: uuid.UUID) -> Any:
    """The principal's own template, locked; TEMPLATE_001 for an inherited one."""
    row = await repo.get_own_for_update(conn, principal.scope, template_id)
    if row is not None:
        return row
    if await repo.get_visible(conn, principal.scope, principal.organization_id, template_id):
        raise _inherited(template_id)
    raise _not_found(template_id)


_UNDER_REVIEW = "The template is under review (PENDING): its definition, category and language "
_UNDER_REVIEW += "are frozen until the verdict; only the name may change"


async def update(
    conn: Connection,
    principal: Principal,
    template_id: uuid.UUID,
    changes: TemplateChanges,
    policy: ReviewPolicy,
    now: datetime,
) -> Template:
    """A partial update (`null` or absent leaves a field as it is). Content (definition, category,
    language) is frozen while PENDING (409 CONFLICT_006) and while WhatsApp has the template
    PAUSED, DISABLED or REVOKED (400). Changed content of an APPROVED or REJECTED template that is
    not resubmitted returns it to DRAFT; `submit_for_review` starts a new review."""
    row = await _own_for_update(conn, principal, template_id)
    definition = validate_definition(changes.definition) if changes.definition is not None else None
    if definition is not None or changes.category is not None:
        _check_category(
            definition or parse_definition(row["definition"]), changes.category or row["category"]
        )
    edited = [f for f in ("definition", "category", "language") if getattr(changes, f) is not None]
    status = row["status"]
    if status == "PENDING" and (edited or changes.submit_for_review):
        details = {f: [_UNDER_REVIEW] for f in edited}
        if changes.submit_for_review:
            details["submit_for_review"] = ["The template is already under review"]
        raise ApiError("CONFLICT_006", details)
    if status in FROZEN and edited:
        message = f"Only the name of a {status} template can change"
        raise ApiError("VALIDATION_001", {f: [message] for f in edited})
    values: dict[str, Any] = {}
    if changes.name is not None and changes.name != row["name"]:
        await repo.lock_names(conn, principal.scope)
        await _check_name_free(conn, principal, changes.name, exclude=row["id"])
        values["name"] = changes.name
    if definition is not None:
        values |= {
            "definition": definition.to_wire(),
            "channels": definition.channels,
            "variables": definition.variables,
        }
    if changes.category is not None:
        values["category"] = changes.category
    if changes.language is not None:
        values["language"] = changes.language
    if values:
        row = await repo.update_content(conn, row["id"], values)
    if changes.submit_for_review and status in SUBMITTABLE:
        row = await _submit(conn, row, policy, now)
    elif edited and status in ("APPROVED", "REJECTED"):
        row = await _changed(conn, row, "DRAFT", None, now)
    return _template(row)


async def delete(
    conn: Connection,
    principal: Principal,
    template_id: uuid.UUID,
    *,
    delete_from_meta: bool,
    now: datetime,
) -> None:
    """Soft delete: gone for the API, kept for the messages that used it. With
    `delete_from_meta`, a template known to WhatsApp is also removed there (by the worker)."""
    row = await _own_for_update(conn, principal, template_id)
    remove_at = now if delete_from_meta and row["whatsapp_template_id"] else None
    await repo.soft_delete(conn, row["id"], remove_at_whatsapp_at=remove_at)


# -- status ---------------------------------------------------------------------------------


async def change_status(
    conn: Connection,
    template: Any,
    new_status: str,
    reason: str | None = None,
    *,
    now: datetime,
    review: ReviewPlan | None = None,
) -> Any:
    """The one way a template's status changes: from the status `template` (a row) shows to
    `new_status`. Entering PENDING needs the `review` plan; any other status ends the review.
    `reason` is kept for REJECTED. Returns the updated row, or None when the template no longer
    has that status (someone else decided first) or was deleted.

    Submission, the simulator's, WhatsApp's and the operator's verdicts, an edit that returns an
    approved template to DRAFT and WhatsApp pausing or disabling it all come through here, so
    this is where the `templates` event for webhook subscribers is emitted.
    """
    if new_status not in STATUSES:
        raise ValueError(f"unknown template status {new_status!r}")
    if (new_status == "PENDING") != (review is not None):
        raise ValueError("a review plan goes with PENDING, and only with it")
    row = await repo.set_status(
        conn,
        template["id"],
        expected=template["status"],
        status=new_status,
        reason=reason if new_status == "REJECTED" else None,
        review_backend=review.backend if review else None,
        review_state=review.state if review else None,
        review_due_at=review.due_at if review else None,
        now=now,
    )
    if row is None:
        return None
    log.info(
        "template %s: %s -> %s%s",
        row["id"],
        template["status"],
        new_status,
        f" ({reason})" if reason and new_status == "REJECTED" else "",
    )
    await emit(
        conn,
        customer_id=row["customer_id"],
        organization_id=row["organization_id"],
        livemode=row["livemode"],
        event_type="templates",
        discriminator=new_status,
        payload=template_payload(row),
        now=now,
    )
    return row


async def _changed(
    conn: Connection, row: Any, status: str, reason: str | None, now: datetime
) -> Any:
    """`change_status` on a row this transaction holds locked: it cannot have moved."""
    updated = await change_status(conn, row, status, reason, now=now)
    if updated is None:
        raise RuntimeError(f"template {row['id']} changed under a row lock")
    return updated


async def _submit(conn: Connection, row: Any, policy: ReviewPolicy, now: datetime) -> Any:
    plan = plan_review(policy, row["livemode"], now)
    updated = await change_status(conn, row, "PENDING", now=now, review=plan)
    if updated is None:
        raise RuntimeError(f"template {row['id']} changed under a row lock")
    return updated


def simulated_decision(row: Any) -> tuple[bool, str | None]:
    """The simulator's rule: a template whose name or any body contains "reject" (any case) is
    rejected; every other template is approved."""
    definition = row["definition"] or {}
    texts = [row["name"]] + [
        str(section.get("template", "")) for section in (definition.get("body") or {}).values()
    ]
    if any("reject" in text.lower() for text in texts):
        return False, 'Simulated review: the template asks to be rejected (it contains "reject")'
    return True, None


async def decide(
    conn: Connection, row: Any, *, approved: bool, reason: str | None, now: datetime
) -> Any:
    """Record a verdict on a PENDING template (None when it is no longer PENDING)."""
    if approved:
        return await change_status(conn, row, "APPROVED", now=now)
    return await change_status(conn, row, "REJECTED", reason or "Rejected in review", now=now)


async def record_review(
    db: Database, template_id: uuid.UUID, *, approved: bool, reason: str | None, now: datetime
) -> Any:
    """An operator's verdict (`sentd templates review`); None unless the template is PENDING."""
    async with db.transaction() as conn:
        row = await repo.get_for_update(conn, template_id)
        if row is None or row["deleted_at"] is not None or row["status"] != "PENDING":
            return None
        return await decide(conn, row, approved=approved, reason=reason, now=now)


# WhatsApp's template events: the status each moves to, and the statuses it may move from.
WHATSAPP_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "APPROVED": ("APPROVED", ("PENDING", "PAUSED", "DISABLED")),
    "REJECTED": ("REJECTED", ("PENDING", "APPROVED")),
    "PAUSED": ("PAUSED", ("APPROVED",)),
    "DISABLED": ("DISABLED", ("APPROVED", "PAUSED")),
    "REINSTATED": ("APPROVED", ("PAUSED", "DISABLED")),
}


async def apply_whatsapp_status(
    conn: Connection,
    *,
    whatsapp_template_id: str,
    event: str,
    reason: str | None,
    now: datetime,
    whatsapp_name: str | None = None,
) -> Any:
    """A `message_template_status_update` from WhatsApp. Unknown templates, events sentd does not
    track and late or repeated events change nothing (None). A verdict that overtakes WhatsApp's
    answer to the submission finds its template by the name it was submitted under."""
    mapping = WHATSAPP_EVENTS.get(event.upper())
    if mapping is None:
        log.info("WhatsApp template %s: event %s ignored", whatsapp_template_id, event)
        return None
    row = await repo.get_by_whatsapp_id_for_update(conn, whatsapp_template_id)
    if row is None and whatsapp_name:
        row = await repo.get_submitting_by_whatsapp_name_for_update(conn, whatsapp_name)
        if row is not None:
            await repo.set_whatsapp_id(conn, row["id"], whatsapp_template_id)
    if row is None:
        log.warning("WhatsApp template %s is not known here", whatsapp_template_id)
        return None
    new_status, from_statuses = mapping
    if row["status"] not in from_statuses:
        return None
    if new_status == "REJECTED":
        reason = reason or "Rejected by WhatsApp"
    return await change_status(conn, row, new_status, reason, now=now)


# -- rendering ------------------------------------------------------------------------------


def _missing(exc: MissingParameters) -> ApiError:
    return ApiError(
        "VALIDATION_004",
        {
            f"template.parameters.{name}": [f"The template uses {text}: give a value for {name}"]
            for name, text in exc.missing.items()
        },
    )


def _check_channel(template: Template, channel: str) -> None:
    if channel not in CHANNELS or channel not in template.definition.channels:
        raise ApiError(
            "VALIDATION_001",
            {"channel": [f"Template {template.id} has no body for {channel!r}"]},
        )


def render(template: Template, channel: str, parameters: Mapping[str, str]) -> str:
    """The body `channel` sends, with `{{index:name}}` filled from `parameters` (by name, else by
    index); 400 VALIDATION_004 naming every missing `template.parameters.<name>`."""
    _check_channel(template, channel)
    try:
        return render_body(template.definition, channel, parameters)
    except MissingParameters as exc:
        raise _missing(exc) from exc
    except NoBodyForChannel as exc:  # pragma: no cover - _check_channel rules it out
        raise ApiError("VALIDATION_001", {"channel": [str(exc)]}) from exc


def render_message(template: Template, channel: str, parameters: Mapping[str, str]) -> Rendered:
    """Like `render`, with the header, footer, buttons (WhatsApp, RCS) or subject and attachments
    (MMS) the channel carries besides the body."""
    _check_channel(template, channel)
    try:
        return _render_message(template.definition, channel, parameters)
    except MissingParameters as exc:
        raise _missing(exc) from exc
