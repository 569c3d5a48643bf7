"""What drafts know about a customer — its language, locale and tone, the contact's name by parts,
the contract — and the one rule for setting it, whichever command carries the options (/customer,
/add, /change). Every option is checked before anything is stored: one bad value changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.i18n import N_, _
from bot.store.models import Customer
from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.history import record_event
from phrasebook.book import TONES
from phrasebook.facts import LOCALES

CUSTOMER_OPTIONS = ("lang", "locale", "tone", "contact", "given", "family", "patronymic", "title", "gender", "contract")
DRAFT_OPTIONS = ("lang", "locale", "tone")
"""The customer's own draft language, locale and preferred tone: also accepted on /add and /change."""
DEFAULT_LANGUAGES = ("en", "ru", "nb", "bg")
GENDERS = {"female": "female", "f": "female", "woman": "female", "male": "male", "m": "male", "man": "male"}
CLEAR = ("-", "none")
Example = Callable[[str], str]
"""The command's correct example carrying one option, e.g. `lang=nb` → '/add INV-1042 … lang=nb'."""


def languages_of(ctx: Context) -> Sequence[str]:
    return ctx.services.phrasebook.languages if ctx.services.phrasebook else DEFAULT_LANGUAGES


def read_customer_changes(options: Mapping[str, str], languages: Sequence[str], example: Example) -> dict[str, str | None]:
    """The customer fields the options set (only the options of CUSTOMER_OPTIONS are read)."""
    changes: dict[str, str | None] = {}
    options = {key: value.strip() for key, value in options.items() if key in CUSTOMER_OPTIONS}
    if (language := options.get("lang")) is not None:
        if language.lower() not in languages:
            raise UsageError(_("{language} is not a language of the phrasebook; choose {languages}.",
                               language=repr(language), languages=", ".join(languages)),
                             example("lang=nb"))
        changes["language"] = language.lower()
    if (locale := options.get("locale")) is not None:
        fitted = next((choice for choice in LOCALES if choice.lower() == locale.replace("-", "_").lower()), None)
        if fitted is None:
            raise UsageError(_("{locale} is not a locale I write; choose {locales}.", locale=repr(locale),
                               locales=", ".join(LOCALES)), example("locale=nb_NO"))
        changes["locale"] = fitted
    if (tone := options.get("tone")) is not None:
        if tone.lower() not in TONES:
            raise UsageError(_("{tone} is not a tone; choose {tones}.", tone=repr(tone), tones=", ".join(TONES)),
                             example("tone=warm"))
        changes["tone"] = tone.lower()
    if (gender := options.get("gender")) is not None:
        if gender.lower() not in GENDERS and gender.lower() not in CLEAR:
            raise UsageError(_("{gender}: gender is female or male (or - to forget it); it picks Уважаемая/Уважаемый, "
                               "г-жо/г-н and Ms/Mr.", gender=repr(gender)), example("gender=female"))
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
                raise UsageError(_("{option}={value} looks mangled; quote values with spaces.", option=option,
                                   value=repr(value)),
                                 example('contact="Marte Haugland"'))
            changes[field] = value.rstrip(".") if option == "title" and value else value
    return changes


def apply_customer_changes(ctx: Context, customer: Customer, changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """Set what changed and note it in the history; returns the fields that really changed."""
    changed = {field: value for field, value in changes.items() if getattr(customer, field) != value}
    for field, value in changed.items():
        setattr(customer, field, value)
    if changed:
        ctx.session.add(customer)
        record_event(ctx, "customer", customer=customer.name, changes=changed)
    return changed


def cleared(value: str) -> str | None:
    return None if value.lower() in CLEAR or not value else value


def customer_facts(customer: Customer) -> tuple[tuple[str, str], ...]:
    contact_parts = " · ".join(f"{label} {value}" for label, value in (
        ("title", customer.contact_title), ("given", customer.contact_given), ("patronymic", customer.contact_patronymic),
        ("family", customer.contact_family), ("gender", customer.contact_gender)) if value)
    contact = customer.contact_name or _("not set")
    return (
        (_("Language"), customer.language or _("the writer's")),
        (_("Locale"), customer.locale or _("the team's")),
        (_("Tone"), customer.tone or _("the step's")),
        (_("Contact"), _("{contact} ({parts})", contact=contact, parts=contact_parts) if contact_parts else contact),
        (_("Contract"), customer.contract or _("not set")),
        (_("Country"), customer.country),
    )


def draft_settings_facts(customer: Customer) -> list[tuple[str, str]]:
    """The draft settings a reply to /add or /change shows, when the customer has any."""
    return [(label, value) for label, value in ((N_("Drafts in"), customer.language), (N_("Locale"), customer.locale),
                                                (N_("Tone"), customer.tone)) if value]
