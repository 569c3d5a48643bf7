"""/customer: what drafts need to know about a customer — its language, locale and tone, and the
contact's name by parts so that each language can greet them properly; /signature: how drafts are
signed (name, title, company) and, for admins, the team's locale.
"""
from __future__ import annotations

from sqlmodel import select

from bot.store.models import Customer
from handlers.context import Context
from handlers.customer_profile import (CUSTOMER_OPTIONS, apply_customer_changes, cleared, customer_facts, languages_of,
                                       read_customer_changes)
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.history import record_event
from handlers.invoices import name_key
from bot.floor.reply import Facts, Reply
from bot.i18n import _
from phrasebook.facts import LOCALES, company_name, signer_name

CUSTOMER_EXAMPLE = '/customer "Fjord AS" lang=nb locale=nb_NO tone=warm contact="Marte Haugland" given=Marte family=Haugland'
CUSTOMER_USAGE = ("/customer <name> [lang=en|ru|nb|bg] [locale=en_GB|…] [tone=warm|neutral|firm|formal] [contact=\"Full Name\"] "
                  "[given=…] [family=…] [patronymic=…] [title=Ms|Mr|Dr…] [gender=female|male] [contract=\"No. 12 of 1 March 2026\"]")
SIGNATURE_EXAMPLE = '/signature name="Carol Berg" title="Credit Controller" company="Nordlys AS"'
SIGNATURE_OPTIONS = ("name", "title", "company", "locale")


def customer_command(command: Command, ctx: Context) -> Reply:
    """Show a customer's draft settings, or change them with key=value options."""
    if not command.words:
        raise UsageError(_("Which customer? {usage}", usage=CUSTOMER_USAGE), CUSTOMER_EXAMPLE)
    unknown = sorted(set(command.options) - set(CUSTOMER_OPTIONS))
    if unknown:
        raise UsageError(_("I don't know {unknown}; a customer has {options}.", unknown=", ".join(o + "=" for o in unknown),
                           options=", ".join(o + "=" for o in CUSTOMER_OPTIONS)), CUSTOMER_EXAMPLE)
    name = " ".join(command.words)
    customer = ctx.session.exec(select(Customer).where(Customer.team_id == ctx.team.id,
                                                       Customer.name_key == name_key(name))).first()
    if customer is None:
        raise UsageError(_("There is no customer {name} on this team; customers come with their invoices (/add). "
                           "Quote a name with spaces.", name=repr(name)), CUSTOMER_EXAMPLE)
    changes = read_customer_changes(command.options, languages_of(ctx), lambda option: f'/customer "Fjord AS" {option}')
    apply_customer_changes(ctx, customer, changes)
    title = _("Customer {name} updated", name=customer.name) if changes else _("Customer {name}", name=customer.name)
    return Reply(title=title, private=True).add(
        Facts(customer_facts(customer)))


def signature_command(command: Command, ctx: Context) -> Reply:
    """Show or set how your drafts are signed; admins also set the team's locale."""
    unknown = sorted(set(command.options) - set(SIGNATURE_OPTIONS))
    if unknown or command.words:
        raise UsageError(_("/signature takes {options} (quote values with spaces).",
                           options=", ".join(o + "=" for o in SIGNATURE_OPTIONS)), SIGNATURE_EXAMPLE)
    person = ctx.person
    options = {key: value.strip() for key, value in command.options.items()}
    if "locale" in options:  # admins only: handlers/permissions.py
        fitted = next((choice for choice in LOCALES if choice.lower() == options["locale"].replace("-", "_").lower()), None)
        if fitted is None:
            raise UsageError(_("{locale} is not a locale I write; choose {locales}.", locale=repr(options["locale"]),
                               locales=", ".join(LOCALES)),
                             "/signature locale=en_GB")
        ctx.team.locale = fitted
        ctx.session.add(ctx.team)
    for option, field in (("name", "signature_name"), ("title", "job_title"), ("company", "company_name")):
        if option in options:
            setattr(person, field, cleared(options[option]))
    if options:
        ctx.session.add(person)
        record_event(ctx, "signature", handle=person.handle, options=sorted(options))
    not_set = _("not set")
    lines = ((_("Name"), signer_name(person) or not_set), (_("Title"), person.job_title or not_set),
             (_("Company"), company_name(person, ctx.team) or not_set),
             (_("Team locale"), ctx.team.locale or _("by language")))
    title = _("Your signature on drafts updated") if options else _("Your signature on drafts")
    return Reply(title=title, private=True).add(Facts(lines))
