"""How a draft greets its reader, by each language's rule.

A salutation needs data, not guesses from one "contact" string: the contact's given name, family
name, patronymic (Russian), form of address or gender. Whatever is unknown falls back to the
language's neutral form; a company is never greeted as if it were a person.

- English: "Dear Ms Evans," (title + family name), "Dear James," (given name only), "Dear James
  O'Neill," (full name, no title known); friendly "Hello James,"; no name → "Dear Sir or Madam," /
  "Hello,". American English writes "Ms." with a full stop.
- Russian: "Уважаемая Ольга Николаевна!" (name + patronymic, gender from the patronymic); without a
  patronymic "Уважаемый господин Иванов!"; no name → "Уважаемые коллеги!" / "Добрый день!".
  American letters close "Sincerely,"; British and Irish "Yours sincerely," / "Yours faithfully,".
- Russian without a patronymic: the given name in speech and e-mail ("Дмитрий, добрый день!").
- Norwegian: the given name, "Hei Marte," — or "Hei," without a name, in every register.
- Bulgarian: "Уважаема г-жо Петрова," / "Уважаеми г-н Петров," (form of address + family name);
  friendly "Здравейте, г-жо Петрова,"; no name → "Уважаеми госпожи и господа," / "Здравейте,".
"""
from __future__ import annotations

from dataclasses import dataclass

FEMALE_TITLES = {"ms", "mrs", "miss", "fru", "frk", "г-жа", "г-жо", "госпожа", "госпожо"}
MALE_TITLES = {"mr", "herr", "hr", "г-н", "господин"}
FEMALE_WORDS = {"female", "f", "woman", "kvinne", "ж", "жен", "женский", "жена"}
MALE_WORDS = {"male", "m", "man", "mann", "м", "муж", "мужской", "мъж"}


@dataclass(frozen=True)
class Contact:
    given: str | None = None
    family: str | None = None
    patronymic: str | None = None
    title: str | None = None
    gender: str | None = None
    """"female", "male" or None."""


def contact_from(*, full: str | None, given: str | None, family: str | None, patronymic: str | None, title: str | None,
                 gender: str | None, language: str) -> Contact:
    """The contact's parts: those stored, else read from the full name ("given [patronymic] family")."""
    words = (full or "").split()
    if not (given or family) and words:
        if len(words) == 1:
            given = words[0]
        elif len(words) == 3 and language == "ru":
            given, patronymic, family = words
        elif language == "nb":  # double given names are used whole: "Lars Erik Bakken" → "Hei Lars Erik,"
            given, family = " ".join(words[:-1]), words[-1]
        else:
            given, family = words[0], words[-1]
    return Contact(given=given or None, family=family or None, patronymic=patronymic or None,
                   title=clean_title(title), gender=gender_of(gender, title, patronymic, family, language))


def clean_title(title: str | None) -> str | None:
    return title.strip().rstrip(".") if title and title.strip() else None


def gender_of(gender: str | None, title: str | None, patronymic: str | None, family: str | None, language: str) -> str | None:
    if gender and gender.strip().lower() in FEMALE_WORDS:
        return "female"
    if gender and gender.strip().lower() in MALE_WORDS:
        return "male"
    plain_title = (clean_title(title) or "").lower()
    if plain_title in FEMALE_TITLES:
        return "female"
    if plain_title in MALE_TITLES:
        return "male"
    if patronymic:
        if patronymic.endswith(("вна", "чна")):
            return "female"
        if patronymic.endswith("ич"):
            return "male"
    if family and language in ("ru", "bg"):
        if family.endswith(("ова", "ева", "ина", "ска", "ая")):
            return "female"
        if family.endswith(("ов", "ев", "ин", "ски", "ий")):
            return "male"
    return None


@dataclass(frozen=True)
class Salutation:
    dear: str
    """The formal opening line, punctuation included."""
    hello: str
    """The friendly opening line."""
    name: str | None
    """How to address the contact in a sentence or on the phone ("Ms Evans", "Ольга Николаевна",
    "Marte", "г-жо Петрова"), or None."""
    first_name: str | None
    yours: str = "Yours sincerely,"
    """The formal closing that goes with the opening ("Yours faithfully," after "Dear Sir or Madam,")."""


def salutation(contact: Contact, language: str, locale: str) -> Salutation:
    if language == "ru":
        return russian(contact)
    if language == "nb":
        return norwegian(contact)
    if language == "bg":
        return bulgarian(contact)
    return english(contact, american=locale in ("en", "en_US"), closes_american=locale == "en_US")


def english(contact: Contact, american: bool, closes_american: bool = False) -> Salutation:
    """`american`: "Ms." with a full stop (en_US and a plain "en"); `closes_american`: "Sincerely," (only a
    chosen en_US: "Yours sincerely," is never wrong in the United States, "Sincerely," reads American in Britain)."""
    title = contact.title or {"female": "Ms", "male": "Mr"}.get(contact.gender or "")
    if title and american and title.lower() in ("ms", "mr", "mrs", "dr"):
        title += "."
    if title and contact.family:
        formal = f"{title} {contact.family}"
    elif contact.given and contact.family:
        formal = f"{contact.given} {contact.family}"
    else:
        formal = contact.given or ""
    spoken = f"{title} {contact.family}" if title and contact.family else contact.given
    return Salutation(dear=f"Dear {formal}," if formal else "Dear Sir or Madam,",
                      hello=f"Hello {contact.given}," if contact.given else "Hello,",
                      name=spoken, first_name=contact.given,
                      yours="Sincerely," if closes_american else "Yours sincerely," if formal else "Yours faithfully,")


def russian(contact: Contact) -> Salutation:
    respected = {"female": "Уважаемая", "male": "Уважаемый"}.get(contact.gender or "")
    mister = f"{'госпожа' if contact.gender == 'female' else 'господин'} {contact.family}" if contact.family and contact.gender else None
    if contact.given and contact.patronymic:
        spoken: str | None = f"{contact.given} {contact.patronymic}"
        formal = spoken
    else:  # without a patronymic: "Дмитрий, добрый день!" in speech and e-mail, "Уважаемый господин Соколов!" in a letter
        spoken = contact.given or mister
        formal = mister or contact.given
    dear = f"{respected} {formal}!" if respected and formal else "Уважаемые коллеги!"
    hello = f"{spoken[0].upper()}{spoken[1:]}, добрый день!" if spoken else "Добрый день!"
    return Salutation(dear=dear, hello=hello, name=spoken, first_name=contact.given, yours="С уважением,")


def norwegian(contact: Contact) -> Salutation:
    hello = f"Hei {contact.given}," if contact.given else "Hei,"
    return Salutation(dear=hello, hello=hello, name=contact.given, first_name=contact.given, yours="Med vennlig hilsen")


def bulgarian(contact: Contact) -> Salutation:
    if contact.family and contact.gender:
        spoken: str | None = f"{'г-жо' if contact.gender == 'female' else 'г-н'} {contact.family}"
        respected = "Уважаема" if contact.gender == "female" else "Уважаеми"
        dear = f"{respected} {spoken},"
    else:
        spoken = contact.given
        dear = "Уважаеми госпожи и господа,"
    hello = f"Здравейте, {spoken}," if spoken else "Здравейте,"
    return Salutation(dear=dear, hello=hello, name=spoken, first_name=contact.given, yours="С уважение,")
