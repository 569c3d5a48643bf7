"""Every command in one table: its grammar, an example and the function behind it.

Who may run it (role × command × scope) is the authorization table in `handlers/permissions.py`,
which the core checks before a handler runs; every verb here needs a row there (a test says so).
`access` only matters for a command without a row: ANYONE lets people outside the team use it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from handlers import (
    agenda, casefile, changes, customers, digest_command, drafts, importing, invoices, ladders, outcomes, rates, reports, team,
)
from bot.i18n import N_
from handlers.context import Context
from handlers.grammar import Command
from bot.floor.reply import Reply


GROUP_INVOICES = N_("Invoices")
"""Summaries and groups are English source text marked for the catalogs (bot/i18n); `/help` and
the Telegram menu show them translated."""


class Access(StrEnum):
    ANYONE = "anyone"
    MEMBER = "member"


@dataclass(frozen=True)
class CommandSpec:
    verb: str
    summary: str
    usage: str
    example: str
    run: Callable[[Command, Context], Reply]
    access: Access = Access.MEMBER
    group: str = GROUP_INVOICES


def build_catalogue(extra: list[CommandSpec] | None = None) -> dict[str, CommandSpec]:
    from handlers import welcome

    specs = [
        CommandSpec("start", N_("Meet collectbot (the first person becomes its admin)"), "/start", "/start",
                    welcome.start, Access.ANYONE, N_("Getting started")),
        CommandSpec("help", N_("Every command with an example, or one in detail"), "/help [command]", "/help add",
                    welcome.help_command, Access.ANYONE, N_("Getting started")),
        CommandSpec("add", N_("Add an invoice to chase (you are the owner unless you mention someone)"),
                    invoices.ADD_USAGE, invoices.ADD_EXAMPLE, invoices.add_invoice),
        CommandSpec("list", N_("Your open invoices (managers: everyone's); filter by overdue, @person or customer"),
                    "/list [overdue] [@person] [customer text]", invoices.LIST_EXAMPLE, invoices.list_invoices),
        CommandSpec("show", N_("An invoice's details, ladder steps and history"), "/show <invoice-no>",
                    invoices.SHOW_EXAMPLE, invoices.show_invoice),
        CommandSpec("paid", N_("Record a payment: full, or partial with an amount"), "/paid <invoice-no> [amount|all] [confirm]",
                    invoices.PAID_EXAMPLE, invoices.record_payment),
        CommandSpec("cancel", N_("Void an invoice (kept in the history); nothing more goes out for it"),
                    "/cancel <invoice-no> <reason…>", invoices.CANCEL_EXAMPLE, invoices.cancel_invoice),
        CommandSpec("reopen", N_("Bring back a cancelled invoice, or one recorded as paid by mistake"),
                    "/reopen <invoice-no>", invoices.REOPEN_EXAMPLE, invoices.reopen_invoice),
        CommandSpec("undo", N_("Undo the last payment on an invoice (whoever recorded it, or a manager)"),
                    "/undo <invoice-no>", invoices.UNDO_EXAMPLE, invoices.undo_payment),
        CommandSpec("change", N_("Correct an invoice's due date, owner, collector or ladder; its next steps are planned again"),
                    "/change <invoice-no> [due=<date>] [owner=@p] [collector=@p] [ladder=name]",
                    changes.CHANGE_EXAMPLE, changes.change_invoice),
        CommandSpec("ladders", N_("The ladder policies and their steps"), "/ladders [name]", ladders.LADDERS_EXAMPLE,
                    ladders.list_ladders, group=N_("Answering pings")),
        CommandSpec("import", N_("Add many invoices from a CSV file: a dry run first, then all good rows at once"),
                    "/import with a CSV attached (columns: number, customer, amount, currency, issue date, due date, owner, "
                    "collector, customer country, ladder)", importing.IMPORT_EXAMPLE, importing.import_command),
        CommandSpec("draft", N_("A courteous draft for an invoice, by stage, tone, channel and language"),
                    "/draft <invoice-no> [stage] [tone] [call|message|letter] [en|ru|nb|bg]", drafts.DRAFT_EXAMPLE,
                    drafts.draft_command),
        CommandSpec("customer", N_("A customer's draft language, locale, tone, contact name by parts and contract"),
                    customers.CUSTOMER_USAGE, customers.CUSTOMER_EXAMPLE, customers.customer_command),
        CommandSpec("signature", N_("How your drafts are signed (name, title, company); admins: the team's locale"),
                    "/signature [name=…] [title=…] [company=…] [locale=en_GB|…]", customers.SIGNATURE_EXAMPLE,
                    customers.signature_command),
        CommandSpec("phrasebook", N_("What the phrasebook holds; admins reload it after editing its files"),
                    "/phrasebook [reload]", drafts.PHRASEBOOK_EXAMPLE, drafts.phrasebook_command),
        CommandSpec("history", N_("An invoice's full timeline: steps, pings (on time or late), answers, payments, drafts"),
                    "/history <invoice-no>", casefile.HISTORY_EXAMPLE, casefile.history),
        CommandSpec("casefile", N_("The dossier for the lawyers: a self-contained HTML file with every contact"),
                    "/casefile <invoice-no>", casefile.CASEFILE_EXAMPLE, casefile.casefile),
        CommandSpec("done", N_("A ladder step was carried out (the note goes to the history)"), "/done <invoice-no> [note]",
                    outcomes.DONE_EXAMPLE, outcomes.done, group=N_("Answering pings")),
        CommandSpec("promise", N_("The customer promised to pay by a date: the ladder waits, then checks"),
                    "/promise <invoice-no> <date> [amount]", outcomes.PROMISE_EXAMPLE, outcomes.promise, group=N_("Answering pings")),
        CommandSpec("letter", N_("An official letter with a payment date arrived (kept as written evidence)"),
                    "/letter <invoice-no> <date> [amount]", outcomes.LETTER_EXAMPLE, outcomes.letter, group=N_("Answering pings")),
        CommandSpec("dispute", N_("The customer disputes the invoice: the ladder pauses and a manager is brought in"),
                    "/dispute <invoice-no> <reason…>", outcomes.DISPUTE_EXAMPLE, outcomes.dispute, group=N_("Answering pings")),
        CommandSpec("resolve", N_("The dispute is settled (optionally with a new amount): the ladder resumes"),
                    "/resolve <invoice-no> [new amount]", outcomes.RESOLVE_EXAMPLE, outcomes.resolve, group=N_("Answering pings")),
        CommandSpec("plan", N_("Agree a payment plan: instalments, each with its own reminders"),
                    "/plan <invoice-no> <n> instalments every <month|2 weeks|10 days> from <date> | /plan <invoice-no> <date> <date>…",
                    outcomes.PLAN_EXAMPLE, outcomes.plan, group=N_("Answering pings")),
        CommandSpec("snooze", N_("Move the current step a little later (never past the next one)"),
                    "/snooze <invoice-no> 30m|2h|tomorrow|<date>", outcomes.SNOOZE_EXAMPLE, outcomes.snooze, group=N_("Answering pings")),
        CommandSpec("noanswer", N_("Nobody answered the call: I remind you again later (twice at most)"),
                    "/noanswer <invoice-no>", outcomes.NOANSWER_EXAMPLE, outcomes.no_answer, group=N_("Answering pings")),
        CommandSpec("today", N_("Your ladder steps for today, and pings still waiting for your answer"), "/today", "/today",
                    agenda.today, group=N_("Answering pings")),
        CommandSpec("upcoming", N_("Your ladder steps in the next days (default 7)"), "/upcoming [days]",
                    agenda.UPCOMING_EXAMPLE, agenda.upcoming, group=N_("Answering pings")),
        CommandSpec("overdue", N_("Overdue summary: totals per currency, aging, customers, owners, collectors, promises, "
                    "disputes, plans, collected, DSO; a chart or an export"), reports.OVERDUE_USAGE,
                    reports.OVERDUE_EXAMPLE, reports.overdue_summary, group=N_("Reports")),
        CommandSpec("digest", N_("The overdue summary pushed to you daily or weekly at a time in your own zone"),
                    digest_command.DIGEST_USAGE, digest_command.DIGEST_EXAMPLE, digest_command.digest_command,
                    group=N_("Reports")),
        CommandSpec("rates", N_("Exchange rates into the team's currency, for a converted total in summaries"),
                    rates.RATES_USAGE, rates.RATES_EXAMPLE, rates.rates_command, group=N_("Reports")),
        CommandSpec("team", N_("The team; admins add people and set roles, time zones, hours and language"),
                    "/team | /team add @person <role> [tz=…] [lang=…] [hours=09:00-17:00] [days=mon-fri] [manager=@…] | "
                    "/team set @person key=value… | /team remove @person | /team invite @person",
                    team.TEAM_EXAMPLE, team.team_command, group=N_("Team")),
    ]
    specs.extend(extra or [])
    return {spec.verb: spec for spec in specs}
