"""Every command in one table: its grammar, an example, who may use it and the function behind it.

The table is the permission filter too (like Errbot's ACLs): the core checks `access` before a
handler runs, so handlers never repeat membership checks.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from handlers import invoices, reports, team
from handlers.context import Context
from handlers.grammar import Command
from handlers.reply import Reply


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
    group: str = "Invoices"


def build_catalogue(extra: list[CommandSpec] | None = None) -> dict[str, CommandSpec]:
    from handlers import welcome

    specs = [
        CommandSpec("start", "Meet collectbot (the first person becomes its admin)", "/start", "/start",
                    welcome.start, Access.ANYONE, "Getting started"),
        CommandSpec("help", "Every command with an example, or one in detail", "/help [command]", "/help add",
                    welcome.help_command, Access.ANYONE, "Getting started"),
        CommandSpec("add", "Add an invoice to chase (you are the owner unless you mention someone)",
                    invoices.ADD_USAGE, invoices.ADD_EXAMPLE, invoices.add_invoice),
        CommandSpec("list", "Your open invoices (managers: everyone's); filter by overdue, @person or customer",
                    "/list [overdue] [@person] [customer text]", invoices.LIST_EXAMPLE, invoices.list_invoices),
        CommandSpec("show", "An invoice's details, ladder steps and history", "/show <invoice-no>",
                    invoices.SHOW_EXAMPLE, invoices.show_invoice),
        CommandSpec("paid", "Record a payment: full, or partial with an amount", "/paid <invoice-no> [amount]",
                    invoices.PAID_EXAMPLE, invoices.record_payment),
        CommandSpec("overdue", "Overdue summary: totals per currency, aging, oldest, per owner", "/overdue",
                    "/overdue", reports.overdue_summary, group="Reports"),
        CommandSpec("team", "The team; admins add people and set roles, time zones, hours and language",
                    "/team | /team add @person <role> [tz=…] [lang=…] [hours=09:00-17:00] [days=mon-fri] [manager=@…] | "
                    "/team set @person key=value… | /team remove @person",
                    team.TEAM_EXAMPLE, team.team_command, group="Team"),
    ]
    specs.extend(extra or [])
    return {spec.verb: spec for spec in specs}
