"""What an invoice's history says, in the reader's language.

An `Event` keeps its kind and its facts (`details`); `event_text` writes them at display time through
one template per kind, in the current speaker's language, with money and dates in the reader's
locale and moments in the reader's time zone. Values people typed (a reason, a note, a name) go in
as placeholder values and stay plain text: the renderers escape them.

`summary` keeps the English text, for rows whose facts were not stored (written before) and for
anyone reading the table directly.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.floor.dates import show_date, show_moment
from bot.floor.money import format_money
from bot.i18n import N_, _, ngettext, speaking
from bot.store.models import Event, Invoice
from scheduling.step_texts import ENGLISH, shown

Facts = dict[str, Any]
Render = Callable[[Facts, str, str], str]
"""facts, locale, time zone → the line."""


def _money(facts: Facts, key: str, locale: str) -> str:
    return format_money(Decimal(facts[key]), facts.get("currency") or "EUR", locale)


def _day(text: str, locale: str) -> str:
    return show_date(date.fromisoformat(text), locale)


def _moment(text: str, zone: str, locale: str) -> str:
    return show_moment(datetime.fromisoformat(text), zone, locale)


def _added(f: Facts, loc: str, tz: str) -> str:
    values = dict(invoice=f["number"], amount=_money(f, "amount", loc), date=_day(f["due_date"], loc))
    if "file" in f:
        return _("added {invoice}: {amount} due {date} (imported from {file})", file=f["file"], **values)
    return _("added {invoice}: {amount} due {date}, owner @{owner}", owner=f["owner"], **values)


def _promise(f: Facts, loc: str, tz: str) -> str:
    date_ = _day(f["promised_date"], loc)
    if f.get("amount"):
        return _("promised to pay {amount} by {date}", amount=_money(f, "amount", loc), date=date_)
    return _("promised to pay by {date}", date=date_)


def _letter(f: Facts, loc: str, tz: str) -> str:
    date_ = _day(f["promised_date"], loc)
    if f.get("amount"):
        return _("official letter: payment of {amount} by {date}", amount=_money(f, "amount", loc), date=date_)
    return _("official letter: payment by {date}", date=date_)


def _resolved(f: Facts, loc: str, tz: str) -> str:
    reason = f.get("reason") or ""
    if f.get("new_amount"):
        return _("dispute resolved ({reason}); {old} → {new}", reason=reason, old=_money(f, "old_amount", loc),
                 new=_money(f, "new_amount", loc))
    return _("dispute resolved ({reason})", reason=reason) if reason else _("dispute resolved")


def _done(f: Facts, loc: str, tz: str) -> str:
    steps = ", ".join(_("“{step}”", step=shown(name, loc)) for name in f["names"])
    return _("done: {steps} — {note}", steps=steps, note=f["note"]) if f.get("note") else _("done: {steps}", steps=steps)


def _gate_confirmed(f: Facts, loc: str, tz: str) -> str:
    step = shown(f["name"], loc)
    if f.get("deadline"):
        return _("“{step}” confirmed sent; the next steps count from today, its deadline is {date}", step=step,
                 date=_day(f["deadline"], loc))
    return _("“{step}” confirmed sent; the next steps count from today", step=step)


def _payment_undone(f: Facts, loc: str, tz: str) -> str:
    values = dict(amount=_money(f, "amount", loc), balance=_money(f, "balance", loc))
    if f.get("reopened"):
        return _("payment of {amount} undone; balance {balance}; the invoice is open again", **values)
    return _("payment of {amount} undone; balance {balance}", **values)


CHANGE_LABELS = {"due": N_("due date: {old} → {new}"), "ladder": N_("ladder: {old} → {new}"),
                 "owner": N_("owner: @{handle}"), "collector": N_("collector: @{handle}")}


def _changed(f: Facts, loc: str, tz: str) -> str:
    parts = []
    for key, template in CHANGE_LABELS.items():
        if key not in f:
            continue
        value = f[key]
        if key == "due":
            parts.append(_(template, old=_day(value[0], loc), new=_day(value[1], loc)))
        elif key == "ladder":
            parts.append(_(template, old=value[0], new=value[1]))
        else:
            parts.append(_(template, handle=value))
    parts.extend(_("{customer}: {setting}: {value}", customer=f["customer"], setting=_(label).lower(), value=value)
                 for label, value in f.get("settings", []))
    if not parts:
        raise KeyError("changes")
    return _("changed {changes}", changes="; ".join(parts))


TEXTS: dict[str, Render] = {
    "added": _added,
    "paid": lambda f, loc, tz: _("paid in full ({amount})", amount=_money(f, "amount", loc)),
    "partial_payment": lambda f, loc, tz: _("partial payment of {amount}; balance {balance}", amount=_money(f, "amount", loc),
                                            balance=_money(f, "balance", loc)),
    "promise": _promise,
    "letter": _letter,
    "dispute": lambda f, loc, tz: _("disputed: {reason}", reason=f["reason"]),
    "resolved": _resolved,
    "plan": lambda f, loc, tz: ngettext("payment plan: {n} instalment from {date}", "payment plan: {n} instalments from {date}",
                                        len(f["instalments"]), date=_day(f["instalments"][0]["due"], loc)),
    "snooze": lambda f, loc, tz: _("snoozed “{step}” to {when}", step=shown(f["name"], loc), when=_moment(f["until"], tz, loc)),
    "no_answer": lambda f, loc, tz: _("“{step}”: no answer; retry {retry} of {of} at {when}", step=shown(f["name"], loc),
                                      retry=f["retry"], of=f["of"], when=_moment(f["at"], tz, loc)),
    "no_contact": lambda f, loc, tz: ngettext("“{step}”: no answer after {n} try; counted as done without contact",
                                              "“{step}”: no answer after {n} tries; counted as done without contact",
                                              f["tries"], step=shown(f["name"], loc)),
    "done": _done,
    "gate_confirmed": _gate_confirmed,
    "cancelled": lambda f, loc, tz: _("cancelled: {reason} (history kept; /reopen brings it back)", reason=f["reason"]),
    "reopened": lambda f, loc, tz: _("reopened; the ladder resumes after the last step that went out"),
    "payment_undone": _payment_undone,
    "changed": _changed,
    "handed_over": lambda f, loc, tz: _("handed over from @{leaving} (left the team) to @{successor}", leaving=f["leaving"],
                                        successor=f["successor"]),
    "steps_changed": lambda f, loc, tz: _("ladder steps changed"),
    "escalated": lambda f, loc, tz: _("escalated to @{manager}: @{person} did not answer “{step}”", manager=f["manager"],
                                      person=f["person"], step=shown(f["name"], loc)),
    "escalation_failed": lambda f, loc, tz: _("“{step}” unanswered by @{person}, and there is no manager to escalate to",
                                              step=shown(f["name"], loc), person=f["person"]),
    "ping_unreachable": lambda f, loc, tz: _("reminder not delivered: the responsible person has no linked chat"),
    "ping_undeliverable": lambda f, loc, tz: _("reminder “{step}” could not be delivered to @{person} on {platform}: {reason}",
                                               step=shown(f["name"], loc), person=f["person"], platform=f["platform"],
                                               reason=f["reason"]),
    "draft": lambda f, loc, tz: _("draft {stage} · {tone} · {channel} · {language} ({variant})", stage=f["stage"].replace("_", " "),
                                  tone=f["tone"], channel=f["channel"], language=f["language"], variant=f["variant"]),
    "signature_asked": lambda f, loc, tz: _("asked @{handle} for a signature", handle=f["handle"]),
    "team_add": lambda f, loc, tz: _("added @{handle} as {role}", handle=f["handle"], role=f["role"]),
    "team_set": lambda f, loc, tz: _("changed @{handle}: {settings}", handle=f["handle"],
                                     settings=", ".join(f"{key}={value}" for key, value in f["settings"].items())),
    "team_remove": lambda f, loc, tz: _("removed @{handle} from the team", handle=f["handle"]),
    "signature": lambda f, loc, tz: _("@{handle} set {options}", handle=f["handle"], options=", ".join(sorted(f["options"]))),
    "customer": lambda f, loc, tz: _("customer {customer}: {fields} changed", customer=f["customer"],
                                     fields=", ".join(sorted(f["changes"]))),
}


def render(kind: str, facts: Facts, locale: str, zone: str) -> str | None:
    """The entry in the current speaker's language; None when its facts cannot say it (a row
    written before its facts were kept)."""
    template = TEXTS.get(kind)
    if template is None:
        return None
    try:
        return template(facts, locale, zone)
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError):
        return None


def event_text(event: Event, locale: str, zone: str) -> str:
    return render(event.kind, event.details or {}, locale, zone) or event.summary


def english_summary(kind: str, facts: Facts) -> str:
    with speaking("en"):
        summary = render(kind, facts, ENGLISH, "UTC")
    assert summary is not None, f"history entry {kind} cannot be written from {facts}"
    return summary


def history_event(kind: str, facts: Facts, *, team_id: int, invoice_id: int | None, actor_id: int | None, at: datetime) -> Event:
    """A history entry of its kind and facts (the summary is their English rendering)."""
    return Event(team_id=team_id, invoice_id=invoice_id, actor_id=actor_id, kind=kind, summary=english_summary(kind, facts),
                 details=facts, at=at)


def invoice_event(invoice: Invoice, kind: str, at: datetime, **facts: Any) -> Event:
    """A history entry the bot writes on its own (no one acted)."""
    return history_event(kind, facts, team_id=invoice.team_id, invoice_id=invoice.id, actor_id=None, at=at)
