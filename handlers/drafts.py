"""/draft and /phrasebook, and the draft every ping carries.

The stage follows the invoice's place on its ladder unless asked; the tone follows the step, then
the customer, then "neutral". The same customer never gets the same wording twice in a row for a
stage, tone, channel and language: each pick is recorded in the invoice's history, which is also
what rotation reads.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from babel.lists import format_list

from bot.i18n import N_, _, current_language, ngettext
from bot.i18n import locale_for as locale_for_reader
from bot.store.models import Customer, Event, Invoice, InvoiceStatus, LadderStep, Person, StepKind, StepState, Team
from handlers.context import Context, Services
from handlers.customers import SIGNATURE_EXAMPLE
from bot.floor.dates import local_today
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invoice_lookup import customer_of, find_invoice
from scheduling.ping_port import DraftFor
from bot.floor.reply import BulletList, Button, DraftText, Reply, Table
from phrasebook.book import CHANNELS, STAGES, TONES, Phrasebook, PhrasebookError, Rendered, fitted, load_phrasebook, shape_of
from phrasebook.facts import company_name, draft_facts, long_date, signer_name
from phrasebook.legal import DEFAULT_FINAL_BUSINESS_DAYS, MINIMUM_NOTICE_DAYS, final_deadline
from scheduling.business_calendar import add_business_days
from scheduling.notice import earliest_deadline
from scheduling.event_texts import history_event

log = logging.getLogger(__name__)
# TRANSLATORS: two example commands: translate only the word between them ("final formal letter ru" are options).
DRAFT_EXAMPLE = N_("/draft INV-1042 or /draft INV-1042 final formal letter ru")
# TRANSLATORS: two example commands: translate only the word between them.
PHRASEBOOK_EXAMPLE = N_("/phrasebook or /phrasebook reload")
STAGE_ALIASES = {
    "pre": "pre_due", "predue": "pre_due", "courtesy": "pre_due", "due": "due_today", "today": "due_today",
    "first": "first_reminder", "reminder": "first_reminder", "repeat": "repeat_reminder", "again": "repeat_reminder",
    "promise": "broken_promise", "broken": "broken_promise", "final": "final_warning", "warning": "final_warning",
    "legal": "legal_handover", "lawyer": "legal_handover", "thanks": "thank_you", "thankyou": "thank_you",
}
CHANNEL_ALIASES = {"script": "call", "phone": "call", "email": "message", "mail": "message", "chat": "message"}
CHANNEL_OF_ACTION = {"call": "call", "letter": "letter", "claim": "letter", "legal": "letter", "check-in": "message"}
PAY_BY_BUSINESS_DAYS = 5
OVERDUE_STAGES = ("first_reminder", "repeat_reminder", "broken_promise")
HISTORY_WINDOW = 200


def phrasebook_of(services: Services) -> Phrasebook:
    if services.phrasebook is None:
        raise UsageError(_("The phrasebook is not loaded; an admin can fix its files and run /phrasebook reload."), PHRASEBOOK_EXAMPLE)
    return services.phrasebook


TONE_BUTTONS = {"warm": N_("🎚 Warm"), "neutral": N_("🎚 Neutral"), "firm": N_("🎚 Firm"), "formal": N_("🎚 Formal")}


def draft_command(command: Command, ctx: Context) -> Reply:
    if not command.words:
        raise UsageError(_("Which invoice? Give its number, then optionally a stage, tone, channel and language."), DRAFT_EXAMPLE)
    book = phrasebook_of(ctx.services)
    invoice = find_invoice(ctx, command.words[0], DRAFT_EXAMPLE)
    customer = customer_of(ctx.session, invoice)
    chosen = read_choices(command.words[1:], book)
    step = current_step(ctx.session, invoice)
    stage = chosen.get("stage") or stage_for(invoice, step, ctx.today)
    tone = chosen.get("tone") or (step.tone if step and not chosen.get("stage") else None) or customer.tone or "neutral"
    channel = chosen.get("channel") or (CHANNEL_OF_ACTION.get(step.action, "message") if step and not chosen.get("stage") else "message")
    tone, channel = fitted(stage, tone, channel)
    language = chosen.get("language") or (customer.language if customer.language in book.languages else None) or ctx.language
    if language not in book.languages:
        language = "en"
    step_deadline = step.deadline if step and (not chosen.get("stage") or chosen["stage"] == step.stage) else None
    written = write_draft(ctx.session, book, invoice=invoice, customer=customer, sender=ctx.person, team=ctx.team,
                          stage=stage, tone=tone, channel=channel, language=language, now=ctx.now,
                          deadline=step_deadline, payment_details=ctx.services.settings.payment_details,
                          ladder_deadline_days=final_step_deadline_days(ctx.services, invoice))
    rendered = written.rendered
    reply = Reply(title=_("Draft for {invoice}: {stage} · {tone} · {channel} · {language}", invoice=invoice.number,
                          stage=stage.replace("_", " "), tone=tone, channel=channel, language=language), private=True)
    reply.add(DraftText(label=f"{channel.capitalize()} ({rendered.variant})", text=rendered.text, subject=rendered.subject))
    if written.deadline_note:
        reply.say(deadline_note(written, customer.country, ctx.locale))
    if question := signature_question(ctx, invoice):
        reply.say(question)
    base = f"draft {invoice.number} {stage}"
    reply.buttons.append(Button(_("🔁 Other wording"), f"{base} {tone} {channel} {language}"))
    reply.buttons.extend(Button(_(TONE_BUTTONS.get(other, other)), f"{base} {other} {channel} {language}")
                         for other in shape_of(stage)[0] if other != tone)
    return reply


def read_choices(words: tuple[str, ...] | list[str], book: Phrasebook) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for word in words:
        key = word.lower().replace("-", "_")
        kind, value = classify(key, book)
        if kind is None:
            raise UsageError(_(
                "I don't know {word}. Stages: {stages}; tones: {tones}; channels: {channels}; languages: {languages}.",
                word=repr(word), stages=", ".join(STAGES), tones=", ".join(TONES), channels=", ".join(CHANNELS),
                languages=", ".join(book.languages)), DRAFT_EXAMPLE)
        if kind in chosen:
            raise UsageError(_(ONE_ONLY[kind], first=chosen[kind], second=value), DRAFT_EXAMPLE)
        chosen[kind] = value
    return chosen


def classify(word: str, book: Phrasebook) -> tuple[str | None, str]:
    if word in STAGES or word in STAGE_ALIASES:
        return "stage", STAGE_ALIASES.get(word, word)
    if word in TONES:
        return "tone", word
    if word in CHANNELS or word in CHANNEL_ALIASES:
        return "channel", CHANNEL_ALIASES.get(word, word)
    if word in book.languages:
        return "language", word
    return None, word


def current_step(session: Session, invoice: Invoice) -> LadderStep | None:
    """The step the invoice is at: the latest delivered one, else the next to come."""
    delivered = session.exec(
        select(LadderStep).where(LadderStep.invoice_id == invoice.id,
                                 col(LadderStep.state).in_([StepState.SENT, StepState.SENDING, StepState.ACKNOWLEDGED]))
        .order_by(col(LadderStep.due_at).desc())).first()
    if delivered is not None:
        return delivered
    return session.exec(select(LadderStep).where(LadderStep.invoice_id == invoice.id, LadderStep.state == StepState.PENDING)
                        .order_by(col(LadderStep.due_at))).first()


def stage_for(invoice: Invoice, step: LadderStep | None, today: date) -> str:
    if invoice.status == InvoiceStatus.PAID:
        return "thank_you"
    if invoice.status == InvoiceStatus.DISPUTED:
        return "dispute"
    if step is not None:
        return step.stage
    overdue = (today - invoice.due_date).days
    if overdue < 0:
        return "pre_due"
    if overdue == 0:
        return "due_today"
    return "first_reminder" if overdue <= 2 else "repeat_reminder"


@dataclass(frozen=True)
class WrittenDraft:
    rendered: Rendered
    deadline: date | None
    deadline_note: str | None = None
    """DEFAULT_DEADLINE or MOVED_DEADLINE when the draft's deadline is a default or was moved: said
    to the user (not the customer) in their language, see `deadline_note`."""
    deadline_days: int = DEFAULT_FINAL_BUSINESS_DAYS
    """The ladder's rule a default deadline follows (business days from today)."""


def write_draft(
    session: Session, book: Phrasebook, *, invoice: Invoice, customer: Customer, sender: Person, team: Team, stage: str,
    tone: str, channel: str, language: str, now: datetime, deadline: date | None, payment_details: str | None,
    ladder_deadline_days: int | None = None,
) -> WrittenDraft:
    """Pick the next wording for this customer, fill it in and record it in the history."""
    tone, channel = fitted(stage, tone, channel)
    variants = book.variants(language, stage, tone, channel)
    if not variants:
        raise UsageError(_("The phrasebook has no {language} {stage}/{tone}/{channel} draft.", language=language, stage=stage,
                           tone=tone, channel=channel), DRAFT_EXAMPLE)
    last = last_variant(session, customer, stage, tone, channel, language)
    ids = [variant.id for variant in variants]
    variant = variants[(ids.index(last) + 1) % len(variants)] if last in ids else variants[0]
    today = local_today(now, sender.timezone)
    deadline, note = draft_deadline(stage, deadline, today, customer, ladder_deadline_days)
    facts = draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language=language, today=today,
                        deadline=deadline, payment_details=payment_details)
    rendered = book.render(variant, facts)
    session.add(history_event(
        "draft", {"stage": stage, "tone": tone, "channel": channel, "language": language, "variant": variant.id,
                  "customer_id": customer.id, "subject": rendered.subject, "text": rendered.text,
                  "deadline": deadline.isoformat() if deadline else None},
        team_id=invoice.team_id, invoice_id=invoice.id, actor_id=sender.id, at=now,
    ))
    return WrittenDraft(rendered, deadline, note, ladder_deadline_days or DEFAULT_FINAL_BUSINESS_DAYS)


def draft_deadline(stage: str, deadline: date | None, today: date, customer: Customer,
                   ladder_deadline_days: int | None) -> tuple[date | None, str | None]:
    """A final warning always names a date: the step's, else the ladder's own rule from today; never
    shorter than the customer's country requires (Norway: 14 days from sending, Russia: 30, plus a margin)."""
    if stage == "final_warning":
        ruled = final_deadline(today, ladder_deadline_days, customer.country)
        if deadline is None:
            return ruled, DEFAULT_DEADLINE
        floor = earliest_deadline(today, customer.country)
        if floor is not None and deadline < floor:
            return floor, MOVED_DEADLINE
        return deadline, None
    if deadline is None and stage in OVERDUE_STAGES:
        return add_business_days(today, PAY_BY_BUSINESS_DAYS, customer.country), None
    return deadline, None


DEFAULT_DEADLINE = "default"
MOVED_DEADLINE = "moved"
def minimum_notice(country: str) -> str | None:
    """Why a final warning's deadline is no earlier in the customer's country (the days: scheduling/notice.py)."""
    if country == "NO":
        return ngettext("A Norwegian inkassovarsel must give at least {n} day from sending, so it is {n} day plus a margin "
                        "at the least.",
                        "A Norwegian inkassovarsel must give at least {n} days from sending, so it is {n} days plus a margin "
                        "at the least.", MINIMUM_NOTICE_DAYS[country])
    if country == "RU":
        return ngettext("A Russian pre-trial claim gives {n} calendar day from sending before court (ч. 5 ст. 4 АПК РФ), so it "
                        "is {n} day plus a margin at the least.",
                        "A Russian pre-trial claim gives {n} calendar days from sending before court (ч. 5 ст. 4 АПК РФ), so it "
                        "is {n} days plus a margin at the least.", MINIMUM_NOTICE_DAYS[country])
    return None


def deadline_note(written: WrittenDraft, country: str, locale: str) -> str:
    """What the user is told about a final warning's default or moved deadline, in their language."""
    assert written.deadline is not None
    shown = long_date(written.deadline, locale)
    if written.deadline_note == DEFAULT_DEADLINE:
        sentences = [ngettext("The deadline {date} is a default: the ladder's rule of {n} business day from today.",
                              "The deadline {date} is a default: the ladder's rule of {n} business days from today.",
                              written.deadline_days, date=shown)]
    else:
        sentences = [_("The step's deadline was moved to {date}.", date=shown)]
    if minimum := minimum_notice(country):
        sentences.append(minimum)
    if written.deadline_note == DEFAULT_DEADLINE:
        sentences.append(_("Change the step or pick another date with the customer before sending."))
    return " ".join(sentences)


def final_step_deadline_days(services: Services, invoice: Invoice) -> int | None:
    policy = services.ladders.get(invoice.ladder)
    if policy is None:
        return None
    days = [step.deadline_business_days for step in policy.steps if step.stage == "final_warning" and step.deadline_business_days]
    return days[0] if days else None


def signature_question(ctx: Context, invoice: Invoice) -> str | None:
    """Asked once per person: drafts are signed with name, title and company, never a chat handle or a
    settings default. Until they answer, drafts leave the missing parts out."""
    person = ctx.person
    missing = [label for label, value in ((N_("your full name"), signer_name(person)), (N_("your title"), person.job_title),
                                          (N_("your company's name"), company_name(person, ctx.team))) if not value]
    if not missing:
        return None
    asked = ctx.session.exec(select(Event).where(Event.team_id == ctx.team.id, Event.kind == "signature_asked",
                                                 Event.actor_id == person.id)).first()
    if asked is not None:
        return None
    ctx.session.add(history_event("signature_asked", {"missing": missing, "handle": person.handle}, team_id=invoice.team_id,
                                  invoice_id=None, actor_id=person.id, at=ctx.now))
    unknown = format_list([_(label) for label in missing], locale=locale_for_reader(current_language()))
    return ngettext("Drafts are signed with a name, a title and a company; I don't know {missing} yet, so I left it out. "
                    "Tell me once: {example}",
                    "Drafts are signed with a name, a title and a company; I don't know {missing} yet, so I left them out. "
                    "Tell me once: {example}", len(missing), missing=unknown, example=SIGNATURE_EXAMPLE)


def last_variant(session: Session, customer: Customer, stage: str, tone: str, channel: str, language: str) -> str | None:
    invoices = select(Invoice.id).where(Invoice.customer_id == customer.id)
    recent = session.exec(select(Event).where(Event.kind == "draft", col(Event.invoice_id).in_(invoices))
                          .order_by(col(Event.id).desc()).limit(HISTORY_WINDOW))
    wanted: dict[str, Any] = {"stage": stage, "tone": tone, "channel": channel, "language": language}
    for event in recent:
        if all(event.details.get(key) == value for key, value in wanted.items()):
            return str(event.details.get("variant"))
    return None


def ping_draft(services: Services) -> DraftFor:
    """The draft a ping carries: the step's stage and tone, the channel its action needs, in the
    pinged person's language."""
    def draft_for(session: Session, step: LadderStep, invoice: Invoice, customer: Customer, person: Person,
                  now: datetime) -> DraftText | None:
        book = services.phrasebook
        if book is None:
            return None
        team = session.get(Team, invoice.team_id)
        assert team is not None
        language = customer.language if customer.language in book.languages else person.language
        language = language if language in book.languages else "en"
        channel = CHANNEL_OF_ACTION.get(step.action, "message")
        tone = step.tone if step.tone in TONES else "neutral"
        stage = stage_still_true(step.stage if step.stage in STAGES else "repeat_reminder", invoice,
                                 local_today(now, person.timezone))
        if step.kind == StepKind.DISPUTE:  # a disputed invoice asks for no payment: ask why, propose a call
            stage, tone, channel = "dispute", "neutral", "message"
        try:
            rendered = write_draft(session, book, invoice=invoice, customer=customer, sender=person, team=team, stage=stage,
                                   tone=tone, channel=channel, language=language, now=now, deadline=step.deadline,
                                   payment_details=services.settings.payment_details,
                                   ladder_deadline_days=final_step_deadline_days(services, invoice)).rendered
        except Exception:
            log.exception("draft %s/%s/%s/%s failed to render", language, stage, tone, channel)
            return DraftText(label=_("Draft"), text=_("(The draft for this step could not be written; see /draft or ask your "
                                                      "admin to run collectbot phrasebook check.)"))
        return DraftText(label=draft_label(stage, tone, channel), text=rendered.text, subject=rendered.subject)
    return draft_for


ONE_ONLY = {"stage": N_("Give one stage only (got {first} and {second})."),
            "tone": N_("Give one tone only (got {first} and {second})."),
            "channel": N_("Give one channel only (got {first} and {second})."),
            "language": N_("Give one language only (got {first} and {second}).")}
DRAFT_LABELS = {"call": N_("Draft call ({stage}, {tone})"), "message": N_("Draft message ({stage}, {tone})"),
                "letter": N_("Draft letter ({stage}, {tone})")}
STAGE_NAMES = {"pre_due": N_("pre due"), "due_today": N_("due today"), "first_reminder": N_("first reminder"),
               "repeat_reminder": N_("repeat reminder"), "broken_promise": N_("broken promise"),
               "final_warning": N_("final warning"), "legal_handover": N_("legal handover"), "thank_you": N_("thank you")}
TONE_NAMES = {"warm": N_("warm"), "neutral": N_("neutral"), "firm": N_("firm"), "formal": N_("formal")}


def draft_label(stage: str, tone: str, channel: str) -> str:
    """The heading over a ping's draft, in the reader's language (the draft itself is in the customer's)."""
    if stage == "dispute":
        return _("Draft message (dispute: ask why, propose a call)")
    return _(DRAFT_LABELS[channel], stage=_(STAGE_NAMES[stage]), tone=_(TONE_NAMES[tone]))


def stage_still_true(stage: str, invoice: Invoice, today: date) -> str:
    """A ping delivered late must not greet an overdue invoice as coming due."""
    if stage == "pre_due" and today >= invoice.due_date:
        return "due_today" if today == invoice.due_date else "first_reminder"
    if stage == "due_today" and today > invoice.due_date:
        return "first_reminder"
    return stage


def phrasebook_command(command: Command, ctx: Context) -> Reply:
    if command.words and command.words[0].lower() == "reload":
        return reload(ctx)
    if command.words:
        raise UsageError(_("/phrasebook takes nothing, or reload; not {word}.", word=repr(command.words[0])), PHRASEBOOK_EXAMPLE)
    book = phrasebook_of(ctx.services)
    rows = []
    for language, counts in sorted(book.counts().items()):
        rows.append((language, str(counts["stages"]), str(counts["tones"]), str(counts["channels"]), str(counts["variants"])))
    headers = (_("Language"), _("Stages"), _("Tones"), _("Channels"), _("Variants"))
    return Reply(title=_("Phrasebook")).add(Table(headers, tuple(rows))).say(_(
        "Stages: {stages}. Tones: {tones}. Channels: {channels}. Ask for one with /draft <invoice> [stage] [tone] [channel] [language].",
        stages=", ".join(STAGES), tones=", ".join(TONES), channels=", ".join(CHANNELS)))


def reload(ctx: Context) -> Reply:
    try:
        book = load_phrasebook(ctx.services.settings.phrasebook_dir)
    except PhrasebookError as error:
        shown = error.problems[:15] + ([_("… and {count} more", count=len(error.problems) - 15)] if len(error.problems) > 15 else [])
        reply = Reply(title=_("The phrasebook files have problems; I kept the phrasebook in use"), is_error=True)
        return reply.add(BulletList(tuple(shown)))
    ctx.services.phrasebook_shelf.current = book
    total = sum(len(v) for v in book.entries.values())
    return Reply(title=_("Phrasebook reloaded")).say(ngettext("{n} variant in {languages}.", "{n} variants in {languages}.", total,
                                                               languages=", ".join(book.languages)))
