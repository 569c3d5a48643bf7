"""/customer: what drafts need to know about a customer — its language, locale and tone, and the
contact's name by parts so that each language can greet them properly; /signature: how drafts are
signed (name, title, company) and, for admins, the team's locale.
"""
from __future__ import annotations

from sqlmodel import select

from bot.store.models import Customer
from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.history import record_event
from handlers.invoices import name_key
from bot.floor.reply import Facts, Reply
from phrasebook.book import TONES
from phrasebook.facts import LOCALES, company_name, signer_name

CUSTOMER_EXAMPLE = '/customer "Fjord AS" lang=nb locale=nb_NO tone=warm contact="Marte Haugland" given=Marte family=Haugland'
CUSTOMER_USAGE = ("/customer <name> [lang=en|ru|nb|bg] [locale=en_GB|…] [tone=warm|neutral|firm|formal] [contact=\"Full Name\"] "
                  "[given=…] [family=…] [patronymic=…] [title=Ms|Mr|Dr…] [gender=female|male] [contract=\"No. 12 of 1 March 2026\"]")
CUSTOMER_OPTIONS = ("lang", "locale", "tone", "contact", "given", "family", "patronymic", "title", "gender", "contract")
SIGNATURE_EXAMPLE = '/signature name="Carol Berg" title="Credit Controller" company="Nordlys AS"'
SIGNATURE_OPTIONS = ("name", "title", "company", "locale")
GENDERS = {"female": "female", "f": "female", "woman": "female", "male": "male", "m": "male", "man": "male"}
CLEAR = ("-", "none")


def customer_command(command: Command, ctx: Context) -> Reply:
    """Show a customer's draft settings, or change them with key=value options."""
    if not command.words:
        raise UsageError(f"Which customer? {CUSTOMER_USAGE}", CUSTOMER_EXAMPLE)
    unknown = sorted(set(command.options) - set(CUSTOMER_OPTIONS))
    if unknown:
        raise UsageError(f"I don't know {', '.join(o + '=' for o in unknown)}; a customer has "
                         f"{', '.join(o + '=' for o in CUSTOMER_OPTIONS)}.", CUSTOMER_EXAMPLE)
    name = " ".join(command.words)
    customer = ctx.session.exec(select(Customer).where(Customer.team_id == ctx.team.id,
                                                       Customer.name_key == name_key(name))).first()
    if customer is None:
        raise UsageError(f"There is no customer {name!r} on this team; customers come with their invoices (/add). "
                         "Quote a name with spaces.", CUSTOMER_EXAMPLE)
    changes = read_customer_changes(command, ctx)
    for field, value in changes.items():
        setattr(customer, field, value)
    if changes:
        ctx.session.add(customer)
        record_event(ctx, "customer", f"customer {customer.name}: {', '.join(sorted(changes))} changed",
                     **{key: value for key, value in changes.items()})
    return Reply(title=f"Customer {customer.name}" + (" updated" if changes else ""), private=True).add(
        Facts(customer_facts(customer)))


def read_customer_changes(command: Command, ctx: Context) -> dict[str, str | None]:
    """Every option checked before anything is stored: one bad value changes nothing."""
    changes: dict[str, str | None] = {}
    options = {key: value.strip() for key, value in command.options.items()}
    languages = ctx.services.phrasebook.languages if ctx.services.phrasebook else ["en", "ru", "nb", "bg"]
    if (language := options.get("lang")) is not None:
        if language.lower() not in languages:
            raise UsageError(f"{language!r} is not a language of the phrasebook; choose {', '.join(languages)}.",
                             '/customer "Fjord AS" lang=nb')
        changes["language"] = language.lower()
    if (locale := options.get("locale")) is not None:
        fitted = next((choice for choice in LOCALES if choice.lower() == locale.replace("-", "_").lower()), None)
        if fitted is None:
            raise UsageError(f"{locale!r} is not a locale I write; choose {', '.join(LOCALES)}.", '/customer "Fjord AS" locale=nb_NO')
        changes["locale"] = fitted
    if (tone := options.get("tone")) is not None:
        if tone.lower() not in TONES:
            raise UsageError(f"{tone!r} is not a tone; choose {', '.join(TONES)}.", '/customer "Fjord AS" tone=warm')
        changes["tone"] = tone.lower()
    if (gender := options.get("gender")) is not None:
        if gender.lower() not in GENDERS and gender.lower() not in CLEAR:
            raise UsageError(f"{gender!r}: gender is female or male (or - to forget it); it picks Уважаемая/Уважаемый, "
                             "г-жо/г-н and Ms/Mr.", '/customer "Vektor" gender=female')
        changes["contact_gender"] = GENDERS.get(gender.lower())
    if "contact" in options:
        changes["contact_name"] = cleared(options["contact"])
        for part in ("given", "family", "patronymic"):
            changes.setdefault(f"contact_{part}", None)  # a new contact's parts come from the new name unless given
    for option, field in (("given", "contact_given"), ("family", "contact_family"), ("patronymic", "contact_patronymic"),
                          ("title", "contact_title"), ("contract", "contract")):
        if option in options:
            value = cleared(options[option])
            if value is not None and ('"' in value or len(value) > 120):
                raise UsageError(f"{option}={value!r} looks mangled; quote values with spaces.", CUSTOMER_EXAMPLE)
            changes[field] = value.rstrip(".") if option == "title" and value else value
    return changes


def cleared(value: str) -> str | None:
    return None if value.lower() in CLEAR or not value else value


def customer_facts(customer: Customer) -> tuple[tuple[str, str], ...]:
    contact_parts = " · ".join(f"{label} {value}" for label, value in (
        ("title", customer.contact_title), ("given", customer.contact_given), ("patronymic", customer.contact_patronymic),
        ("family", customer.contact_family), ("gender", customer.contact_gender)) if value)
    return (
        ("Language", customer.language or "the writer's"),
        ("Locale", customer.locale or "the team's"),
        ("Tone", customer.tone or "the step's"),
        ("Contact", (customer.contact_name or "not set") + (f" ({contact_parts})" if contact_parts else "")),
        ("Contract", customer.contract or "not set"),
        ("Country", customer.country),
    )


def signature_command(command: Command, ctx: Context) -> Reply:
    """Show or set how your drafts are signed; admins also set the team's locale."""
    unknown = sorted(set(command.options) - set(SIGNATURE_OPTIONS))
    if unknown or command.words:
        raise UsageError(f"/signature takes {', '.join(o + '=' for o in SIGNATURE_OPTIONS)} (quote values with spaces).",
                         SIGNATURE_EXAMPLE)
    person = ctx.person
    options = {key: value.strip() for key, value in command.options.items()}
    if "locale" in options:  # admins only: handlers/permissions.py
        fitted = next((choice for choice in LOCALES if choice.lower() == options["locale"].replace("-", "_").lower()), None)
        if fitted is None:
            raise UsageError(f"{options['locale']!r} is not a locale I write; choose {', '.join(LOCALES)}.",
                             "/signature locale=en_GB")
        ctx.team.locale = fitted
        ctx.session.add(ctx.team)
    for option, field in (("name", "signature_name"), ("title", "job_title"), ("company", "company_name")):
        if option in options:
            setattr(person, field, cleared(options[option]))
    if options:
        ctx.session.add(person)
        record_event(ctx, "signature", f"@{person.handle} set {', '.join(sorted(options))}")
    lines = (("Name", signer_name(person) or "not set"), ("Title", person.job_title or "not set"),
             ("Company", company_name(person, ctx.team) or "not set"), ("Team locale", ctx.team.locale or "by language"))
    return Reply(title="Your signature on drafts" + (" updated" if options else ""), private=True).add(Facts(lines))
