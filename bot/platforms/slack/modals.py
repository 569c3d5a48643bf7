"""The modals (in the reader's language: call them inside `bot.i18n.speaking`): `/collect add`
without arguments (a form whose answers become the `/add …` the core reads), and the one-question
modal of a button that asks (a date picker or a text input)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.i18n import _
from bot.platforms.slack.identity import external_id
from bot.floor.errors import UsageError
from handlers.invoices import INVOICE_NUMBER
from bot.floor.money import parse_amount
from bot.floor.reply import Button

ADD_CALLBACK = "collect_add"
ASK_CALLBACK = "collect_ask"
ANSWER_BLOCK = "answer"
CURRENCIES = ("EUR", "USD", "GBP", "NOK", "SEK", "DKK", "CHF", "PLN")
MAX_ERROR = 150


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def option(value: str) -> dict[str, Any]:
    return {"text": plain(value), "value": value}


def input_block(block_id: str, label: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": plain(label), "optional": optional,
            "element": {**element, "action_id": "value"}}


def modal(callback_id: str, title: str, submit: str, blocks: list[dict[str, Any]], metadata: dict[str, Any]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "private_metadata": json.dumps(metadata),
            "title": plain(title[:24]), "submit": plain(submit), "close": plain(_("Cancel")), "blocks": blocks}


def add_modal(ladders: list[str], default_ladder: str, default_currency: str, channel: str | None) -> dict[str, Any]:
    currencies = sorted({default_currency, *CURRENCIES})
    ladder = default_ladder if default_ladder in ladders else ladders[0]
    return modal(ADD_CALLBACK, _("Add an invoice"), _("Add"), [
        input_block("number", _("Invoice number"), {"type": "plain_text_input", "placeholder": plain("INV-1042")}),
        input_block("customer", _("Customer"), {"type": "plain_text_input", "placeholder": plain("Acme Trading Ltd")}),
        input_block("amount", _("Amount"), {"type": "plain_text_input", "placeholder": plain("1200.50")}),
        input_block("currency", _("Currency"), {"type": "static_select", "options": [option(c) for c in currencies],
                                             "initial_option": option(default_currency)}),
        input_block("due", _("Due date"), {"type": "datepicker"}),
        input_block("owner", _("Owner (you if empty)"), {"type": "users_select"}, optional=True),
        input_block("ladder", _("Ladder"), {"type": "static_select", "options": [option(name) for name in ladders],
                                         "initial_option": option(ladder)}),
    ], {"channel": channel})


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """Each input block's answer as text, whatever its element (text, select, date, user)."""
    values: dict[str, str] = {}
    for block_id, elements in view["state"]["values"].items():
        element: dict[str, Any] = next(iter(elements.values()), {})
        values[block_id] = str(element.get("value") or element.get("selected_date") or element.get("selected_user")
                               or (element.get("selected_option") or {}).get("value") or "").strip()
    return values


def add_form_errors(form: dict[str, str]) -> dict[str, str]:
    """What the core cannot be told at all (it checks the rest and says so)."""
    errors: dict[str, str] = {}
    if not INVOICE_NUMBER.match(form.get("number", "")):
        errors["number"] = _("One word of letters, digits and . / # - _, like INV-1042.")
    customer = form.get("customer", "")
    if not customer:
        errors["customer"] = _("The customer's name is needed, like Acme Trading Ltd.")
    elif '"' in customer:  # the form's value goes into /add between straight quotes; „…“ and «…» are fine
        errors["customer"] = _("Leave out the double quotes, like Acme Trading Ltd.")
    try:
        parse_amount(form.get("amount", ""))
    except UsageError as error:
        errors["amount"] = error.problem[:MAX_ERROR]
    if not form.get("due"):
        errors["due"] = _("Pick the due date.")
    return errors


def add_command(form: dict[str, str], team_id: str, default_ladder: str) -> str:
    owner = f" @slack:{external_id(team_id, form['owner'])}" if form.get("owner") else ""
    return (f"/add {form['number']} {form['amount']} {form.get('currency', '')} {form['due']} \"{form['customer']}\""
            f"{owner} ladder={form.get('ladder') or default_ladder}")


ADD_BLOCKS = ("number", "customer", "amount", "currency", "due", "owner", "ladder")
"""The add modal's inputs, each named by the `/add` argument it holds (`UsageError.field`)."""


def block_for(field: str | None) -> str:
    """The add modal's input a refusal from the core is about; one about nothing the form asks
    (country=, an option) shows at the top."""
    return field if field in ADD_BLOCKS else ADD_BLOCKS[0]


@dataclass(frozen=True)
class AskContext:
    """What an ask modal remembers (in private_metadata): the button and the message it was on."""

    button: Button
    channel: str | None
    ts: str | None

    def to_json(self) -> dict[str, Any]:
        button = self.button
        return {"button": {"label": button.label, "action": button.action, "asks": button.asks, "input": button.input},
                "channel": self.channel, "ts": self.ts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AskContext":
        return cls(Button(**data["button"]), data.get("channel"), data.get("ts"))


def ask_modal(asked: AskContext) -> dict[str, Any]:
    element: dict[str, Any] = ({"type": "datepicker"} if asked.button.input == "date"
                               else {"type": "plain_text_input", "multiline": True})
    return modal(ASK_CALLBACK, asked.button.label.strip() or "collectbot", _("Save"),
                 [input_block(ANSWER_BLOCK, (asked.button.asks or asked.button.label)[:2000], element)], asked.to_json())
