"""Every command in one table: its grammar, what it does, an example and the function behind it.

This table is the one source of a command's words: `/help` and `/help <command>` show it, an error
without an example of its own shows the command's example from here, and the README's command
reference is generated from it (`python -m handlers.command_reference README.md`; a test fails when they
differ). Texts are plain English literals, one per field, so that they can be wrapped for
translation.

`access` declares who may run it, role by role, how far each role reaches (`handlers/permissions.py`
holds the pieces and explains them); the core checks it once before the handler runs, and the
README's authorization table is printed from it (`python -m handlers.permissions README.md`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers import (
    agenda, casefile, changes, customers, digest_command, drafts, importing, invites, invoices, ladders, outcomes, rates, reports,
    team,
)
from bot.i18n import N_
from handlers.context import Context
from handlers.grammar import Command
from handlers.permissions import (
    ADMIN_ONLY_TEAM, ADMINS, DEFAULT_ACCESS, EVERYONE, LAWYER_TOO, MANAGERS, MEMBERS, MEMBERS_NOT_LAWYERS, READ_INVOICE,
    SELF_SETTABLE, WORK_INVOICE, Grant, Permission, changes_team, has_amount, invites_people, reassigns, reloads, scopes, sets_options,
    sets_others, sets_own, sets_rates, sets_team_locale,
)
from bot.floor.reply import Reply


GROUP_INVOICES = N_("Invoices")
"""Summaries and groups are English source text marked for the catalogs (bot/i18n); `/help` and
the Telegram menu show them translated."""


@dataclass(frozen=True)
class Form:
    """One way of writing a command, with what it does and an example of exactly that form
    (`/team add …`, `/team set …`)."""

    usage: str
    summary: str
    example: str


@dataclass(frozen=True)
class CommandSpec:
    verb: str
    summary: str
    """One line for `/help`'s list."""
    usage: str
    example: str
    run: Callable[[Command, Context], Reply]
    group: str = GROUP_INVOICES
    options: tuple[str, ...] = ()
    """Every `key=` it takes (the handler's own list); each is shown in the usage or a form's usage."""
    details: str = ""
    """More for `/help <command>` and the README: how it behaves beyond the summary."""
    forms: tuple[Form, ...] = ()
    """Its other ways of writing, each with its own example; shown by `/help <command>` and the README."""
    by_path: Form | None = None
    """How it is written where a file is given by its path rather than attached (the console)."""
    access: tuple[Grant, ...] = DEFAULT_ACCESS
    """Who may run it, role by role (handlers/permissions.py explains the cells); the first grant is
    the default, a later one whose condition holds wins. The core enforces it; the README shows it."""
    about_invoice: bool = False
    """The first word names an invoice: `own` then means one the person owns or collects."""
    changes_course: bool = False
    """It may change the named invoice's course (its balance, status or steps): the core takes the
    invoice's row lock before anything reads it (bot.store.row_locks), so two such commands on one
    invoice run one after the other, each deciding from what the other stored."""

    @property
    def permission(self) -> Permission:
        return Permission(self.verb, self.access, self.about_invoice)

    def all_forms(self) -> tuple[Form, ...]:
        return (Form(self.usage, self.summary, self.example), *self.forms)

    def usage_for(self, by_path: bool) -> str:
        return self.by_path.usage if by_path and self.by_path else self.usage

    def example_for(self, by_path: bool) -> str:
        """The correct example to show a person: where files are given by path, the path form's."""
        return self.by_path.example if by_path and self.by_path else self.example


def build_catalogue(extra: list[CommandSpec] | None = None) -> dict[str, CommandSpec]:
    from handlers import welcome

    specs = [
        CommandSpec("start", N_("Meet collectbot (the first person becomes its admin)"), "/start", "/start",
                    welcome.start, group=N_("Getting started"),
                    details=N_("Strangers are told how to join; `/start <code>` links a chat account with an invite."),
                    access=(Grant(N_("start"), EVERYONE),)),
        CommandSpec("help", N_("Every command with an example, or one in detail"), "/help [command]", "/help add",
                    welcome.help_command, group=N_("Getting started"),
                    access=(Grant(N_("read the help"), EVERYONE),)),
        *invoice_commands(),
        *draft_and_record_commands(),
        *answer_commands(),
        *report_and_team_commands(),
    ]
    specs.extend(extra or [])
    return {spec.verb: spec for spec in specs}


def invoice_commands() -> list[CommandSpec]:
    """Adding, reading and correcting invoices (and the ladders they follow)."""
    return [
        CommandSpec("add", N_("Add an invoice to chase (you are the owner unless you mention someone)"),
                    invoices.ADD_USAGE, invoices.ADD_EXAMPLE, invoices.add_invoice, options=invoices.ADD_OPTIONS,
                    details=N_("The reply shows the invoice and its first ladder step; contact= is the person at the customer."),
                    access=(Grant(N_("add invoices"), MEMBERS_NOT_LAWYERS),)),
        CommandSpec("list", N_("Your open invoices (managers: everyone's); filter by overdue, @person or customer"),
                    "/list [overdue] [@person] [customer text]", invoices.LIST_EXAMPLE, invoices.list_invoices,
                    details=N_("Soonest due first."),
                    access=(Grant(N_("list invoices"), scopes("—", "own", "own", "all", "all", "all")),)),
        CommandSpec("show", N_("An invoice's details, ladder steps and history"), "/show <invoice-no>",
                    invoices.SHOW_EXAMPLE, invoices.show_invoice,
                    access=(Grant(N_("see an invoice"), READ_INVOICE),), about_invoice=True),
        CommandSpec("paid", N_("Record a payment: full, or partial with an amount"), "/paid <invoice-no> [amount|all] [confirm]",
                    invoices.PAID_EXAMPLE, invoices.record_payment,
                    details=N_("The same amount twice on one day needs `confirm`."),
                    access=(Grant(N_("record payments"), WORK_INVOICE),), about_invoice=True, changes_course=True),
        # Issue 12's corrections: voiding and reopening change what is owed, so they are managers' work.
        CommandSpec("cancel", N_("Void an invoice (kept in the history); nothing more goes out for it"),
                    "/cancel <invoice-no> <reason…>", invoices.CANCEL_EXAMPLE, invoices.cancel_invoice,
                    access=(Grant(N_("cancel (write off) invoices"), MANAGERS),), about_invoice=True, changes_course=True),
        CommandSpec("reopen", N_("Bring back a cancelled invoice, or one recorded as paid by mistake"),
                    "/reopen <invoice-no>", invoices.REOPEN_EXAMPLE, invoices.reopen_invoice,
                    details=N_("For a paid one, its last payment is undone."),
                    access=(Grant(N_("reopen invoices"), MANAGERS),), about_invoice=True, changes_course=True),
        CommandSpec("undo", N_("Undo the last payment on an invoice (whoever recorded it, or a manager)"),
                    "/undo <invoice-no>", invoices.UNDO_EXAMPLE, invoices.undo_payment,
                    details=N_("A paid invoice opens again."),
                    access=(Grant(N_("undo a payment"), WORK_INVOICE),), about_invoice=True, changes_course=True),
        CommandSpec("change", N_("Correct an invoice's due date, owner, collector or ladder (its next steps are planned again), "
                    "or its customer's draft language, locale and tone"),
                    "/change <invoice-no> [due=<date>] [owner=@p] [collector=@p] [ladder=name] [lang=…] [locale=…] [tone=…]",
                    changes.CHANGE_EXAMPLE, changes.change_invoice, options=changes.CHANGE_OPTIONS,
                    access=(
                        Grant(N_("change an invoice's due date or ladder"), WORK_INVOICE),
                        Grant(N_("reassign invoices"), MANAGERS, "owner= or collector=", reassigns),
                    ), about_invoice=True, changes_course=True),
        CommandSpec("ladders", N_("The ladder policies, their steps and timing"), "/ladders [name]", ladders.LADDERS_EXAMPLE,
                    ladders.list_ladders, group=N_("Answering pings"),
                    access=(Grant(N_("read the ladders"), MEMBERS),)),
        CommandSpec("import", N_("Add many invoices from a CSV file: a dry run first, then all good rows at once"),
                    "/import with a CSV file attached", importing.IMPORT_EXAMPLE, importing.import_command,
                    options=("confirm",),
                    details=N_("Columns: number, customer, amount, currency, issue date, due date, owner, collector, customer "
                            "country, ladder. The dry run lists every bad row by line; a button imports all good rows at "
                            "once; importing the same file again changes nothing."),
                    forms=(Form("/import confirm=<code>", N_("Import the good rows of the file just checked (what its button "
                                "does; the code is in the dry run's reply)"), "/import confirm=5d41402abc4b2a76"),),
                    by_path=Form("/import <path/to/file.csv>", N_("On the console, give the CSV file's path"),
                                 importing.IMPORT_PATH_EXAMPLE),
                    access=(Grant(N_("import invoices"), MEMBERS_NOT_LAWYERS),)),
    ]


def draft_and_record_commands() -> list[CommandSpec]:
    """Drafts, customers, signatures, the phrasebook, and an invoice's record."""
    return [
        CommandSpec("draft", N_("A courteous draft for an invoice, by stage, tone, channel and language"),
                    "/draft <invoice-no> [stage] [tone] [call|message|letter] [en|ru|nb|bg]", drafts.DRAFT_EXAMPLE,
                    drafts.draft_command,
                    details=N_("It follows the ladder unless told; buttons offer other wordings and tones."),
                    access=(Grant(N_("write drafts"), READ_INVOICE),), about_invoice=True),
        CommandSpec("customer", N_("A customer's draft language, locale, tone, contact name by parts and contract"),
                    customers.CUSTOMER_USAGE, customers.CUSTOMER_EXAMPLE, customers.customer_command,
                    options=customers.CUSTOMER_OPTIONS,
                    access=(
                        Grant(N_("see a customer's draft settings"), MEMBERS),
                        Grant(N_("change a customer's draft settings"), MEMBERS_NOT_LAWYERS, "key=value", sets_options),
                    )),
        CommandSpec("signature", N_("How your drafts are signed (name, title, company); admins: the team's locale"),
                    "/signature [name=…] [title=…] [company=…] [locale=en_GB|…]", customers.SIGNATURE_EXAMPLE,
                    customers.signature_command, options=customers.SIGNATURE_OPTIONS,
                    access=(
                        Grant(N_("set their own signature"), MEMBERS),
                        Grant(N_("set the team's locale"), ADMINS, "locale=", sets_team_locale,
                              N_("Only an admin sets the team's locale; your own signature you can set yourself.")),
                    )),
        CommandSpec("phrasebook", N_("What the phrasebook holds; admins reload it after editing its files"),
                    "/phrasebook [reload]", drafts.PHRASEBOOK_EXAMPLE, drafts.phrasebook_command,
                    access=(
                        Grant(N_("read the phrasebook"), MEMBERS),
                        Grant(N_("reload the phrasebook"), ADMINS, "reload", reloads, N_("Only admins can reload the phrasebook.")),
                    )),
        CommandSpec("history", N_("An invoice's full timeline: steps, pings (on time or late), answers, payments, drafts"),
                    "/history <invoice-no>", casefile.HISTORY_EXAMPLE, casefile.history,
                    access=(Grant(N_("see an invoice's history"), READ_INVOICE),), about_invoice=True),
        CommandSpec("casefile", N_("The dossier for the lawyers: a self-contained HTML file with every contact"),
                    "/casefile <invoice-no>", casefile.CASEFILE_EXAMPLE, casefile.casefile,
                    details=N_("The console writes the file to its files folder (FILES_DIR) and prints the path."),
                    access=(Grant(N_("download a case file"), READ_INVOICE),), about_invoice=True),
    ]


def answer_commands() -> list[CommandSpec]:
    """Answering pings: what happened with a step, and what is due."""
    return [
        CommandSpec("done", N_("A ladder step was carried out (the note goes to the history)"), "/done <invoice-no> [note]",
                    outcomes.DONE_EXAMPLE, outcomes.done, group=N_("Answering pings"),
                    access=(Grant(N_("mark steps done"), LAWYER_TOO),), about_invoice=True, changes_course=True),
        CommandSpec("promise", N_("The customer promised to pay by a date: the ladder waits, then checks"),
                    "/promise <invoice-no> <date> [amount]", outcomes.PROMISE_EXAMPLE, outcomes.promise, group=N_("Answering pings"),
                    details=N_("After the date (and a grace period) comes a “broken promise” step."),
                    access=(Grant(N_("record promises"), WORK_INVOICE),), about_invoice=True, changes_course=True),
        CommandSpec("letter", N_("An official letter with a payment date arrived (kept as written evidence)"),
                    "/letter <invoice-no> <date> [amount]", outcomes.LETTER_EXAMPLE, outcomes.letter, group=N_("Answering pings"),
                    details=N_("It holds the ladder like a promise."),
                    access=(Grant(N_("record an official letter"), LAWYER_TOO),), about_invoice=True, changes_course=True),
        CommandSpec("dispute", N_("The customer disputes the invoice: the ladder pauses and a manager is brought in"),
                    "/dispute <invoice-no> <reason…>", outcomes.DISPUTE_EXAMPLE, outcomes.dispute, group=N_("Answering pings"),
                    access=(Grant(N_("record disputes"), WORK_INVOICE),), about_invoice=True, changes_course=True),
        CommandSpec("resolve", N_("The dispute is settled (optionally with a new amount): the ladder resumes"),
                    "/resolve <invoice-no> [new amount]", outcomes.RESOLVE_EXAMPLE, outcomes.resolve, group=N_("Answering pings"),
                    access=(
                        Grant(N_("resolve disputes"), WORK_INVOICE),
                        Grant(N_("change an invoice's amount"), MANAGERS, "with a new amount", has_amount),
                    ), about_invoice=True, changes_course=True),
        CommandSpec("plan", N_("Agree a payment plan: instalments, each with its own reminders"),
                    "/plan <invoice-no> <n> instalments every <month|2 weeks|10 days> from <date> | /plan <invoice-no> <date> <date>…",
                    outcomes.PLAN_EXAMPLE, outcomes.plan, group=N_("Answering pings"),
                    details=N_("Each instalment gets a reminder and a check; a missed one resumes the ladder."),
                    access=(Grant(N_("agree payment plans"), WORK_INVOICE),), about_invoice=True, changes_course=True),
        CommandSpec("snooze", N_("Move the current step a little later (never past the next one)"),
                    "/snooze <invoice-no> 30m|2h|tomorrow|<date>", outcomes.SNOOZE_EXAMPLE, outcomes.snooze, group=N_("Answering pings"),
                    access=(Grant(N_("snooze steps"), LAWYER_TOO),), about_invoice=True, changes_course=True),
        CommandSpec("noanswer", N_("Nobody answered the call: I remind you again later (twice at most)"),
                    "/noanswer <invoice-no>", outcomes.NOANSWER_EXAMPLE, outcomes.no_answer, group=N_("Answering pings"),
                    details=N_("Two working hours later; after that the step counts as done without contact."),
                    access=(Grant(N_("record that nobody answered"), LAWYER_TOO),), about_invoice=True, changes_course=True),
        CommandSpec("today", N_("Your ladder steps for today, and pings still waiting for your answer"), "/today", "/today",
                    agenda.today, group=N_("Answering pings"),
                    access=(Grant(N_("see their steps"), MEMBERS),)),
        CommandSpec("upcoming", N_("Your ladder steps in the next days (default 7)"), "/upcoming [days]",
                    agenda.UPCOMING_EXAMPLE, agenda.upcoming, group=N_("Answering pings"),
                    access=(Grant(N_("see their steps"), MEMBERS),)),
    ]


def report_and_team_commands() -> list[CommandSpec]:
    """Reports, digests, exchange rates and the team."""
    return [
        CommandSpec("overdue", N_("Overdue summary: totals per currency, aging, customers, owners, collectors, promises, "
                    "disputes, plans, collected, DSO; a chart or an export"), reports.OVERDUE_USAGE,
                    reports.OVERDUE_EXAMPLE, reports.overdue_summary, group=N_("Reports"), options=reports.OPTIONS,
                    details=N_("`chart` adds a bar chart, `export` a file with every row; the console writes files to its "
                            "files folder (FILES_DIR) and prints the path."),
                    access=(Grant(N_("see the overdue summary"), scopes("—", "own", "own", "all", "all", "all")),)),
        CommandSpec("digest", N_("The overdue summary pushed to you daily or weekly at a time in your own zone"),
                    digest_command.DIGEST_USAGE, digest_command.DIGEST_EXAMPLE, digest_command.digest_command,
                    group=N_("Reports"),
                    access=(Grant(N_("get digests"), MEMBERS),)),
        CommandSpec("rates", N_("Exchange rates into the team's currency, for a converted total in summaries"),
                    rates.RATES_USAGE, rates.RATES_EXAMPLE, rates.rates_command, group=N_("Reports"),
                    details=N_("Managers set them; a CSV file `currency,quote,rate` works too."),
                    access=(
                        Grant(N_("see the exchange rates"), MEMBERS),
                        Grant(N_("set exchange rates"), MANAGERS, "set or clear", sets_rates),
                    )),
        CommandSpec("team", N_("The team; admins add people and set roles, time zones, hours and language"),
                    "/team add @person <role> [tz=…] [lang=en|ru|nb|bg] [locale=en_GB|…] [hours=09:00-17:00] [days=mon-fri] [holidays=NO] "
                    "[manager=@p] [name=…] [admin=yes]", team.TEAM_EXAMPLE, team.team_command, group=N_("Team"),
                    options=(*team.SETTABLE, "to"),
                    details=N_("Admins add people (roles: salesperson, collector, manager, lawyer); every value is checked "
                            "(a real IANA zone, a country the holidays package knows, a language the phrasebook speaks)."),
                    forms=(
                        Form("/team", N_("Everyone on the team, with roles, time zones, working hours and languages"), "/team"),
                        Form("/team set [@person] key=value… "
                             "(role=, tz=, lang=, locale=, hours=, days=, holidays=, manager=, name=, admin=)",
                             N_("Change someone (admins) or your own tz, lang, locale, hours, days, name or holidays (holidays=team "
                             "for the team's country)"), team.TEAM_SET_EXAMPLE),
                        Form("/team remove @person [to=@p]",
                             N_("Admins take someone off the team; their open invoices and steps go to to= (asked for when "
                             "they hold any); the history stays"), team.TEAM_REMOVE_EXAMPLE),
                        Form("/team invite @person", N_("Admins: a one-time code (and a link where the platform has one) to "
                             "link a chat account"), invites.INVITE_EXAMPLE),
                    ),
                    access=(
                        Grant(N_("see the team"), MEMBERS),
                        Grant(N_("change their own settings"), scopes("—", "own", "own", "own", "own", "all"),
                              f"set (own {', '.join(SELF_SETTABLE)})", sets_own),
                        Grant(N_("change the team"), ADMINS, "add, remove, or set someone else / role, admin, manager",
                              lambda command, actor: changes_team(command, actor) or sets_others(command, actor), ADMIN_ONLY_TEAM),
                        Grant(N_("invite people"), ADMINS, "invite", invites_people,
                              N_("Only admins can invite people to link their chat accounts.")),
                    )),
    ]
