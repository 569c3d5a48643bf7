"""/team: who is on the team, their roles, time zones, working hours and languages."""
from __future__ import annotations

import re
from datetime import time

from sqlmodel import select

from bot.i18n import LOCALES, N_, _, language_of, ngettext, speaking
from bot.store.models import ChatIdentity, Person, Role
from handlers.context import Context
from handlers.countries import calendar_country, country_problem
from bot.floor.dates import weekday_number
from bot.floor.errors import NotAllowed, UsageError
from handlers.grammar import Command
from handlers.history import record_event
from handlers.invites import invite
from handlers.permissions import SELF_SETTABLE
from handlers.people import HANDLE, active_members, find_by_handle, is_account_reference, normalise_handle, resolve_mention
from bot.floor.reply import Reply, Table
from scheduling import course
from scheduling.working_hours import known_zone

TEAM_EXAMPLE = "/team add @bob salesperson tz=Europe/Oslo lang=en"
TEAM_SET_EXAMPLE = "/team set @bob tz=Europe/Oslo hours=08:00-16:00"
TEAM_REMOVE_EXAMPLE = "/team remove @bob to=@carol"
LANGUAGES = {"en": N_("English"), "ru": N_("Russian"), "nb": N_("Norwegian Bokmål"), "bg": N_("Bulgarian")}
"""Languages a person may choose, as far as the phrasebook has drafts in them (see `speakable`)."""
MAX_NAME = 100
MAX_ZONE = 64
SETTABLE = ("role", "tz", "lang", "locale", "hours", "days", "manager", "admin", "name", "holidays")
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def team_command(command: Command, ctx: Context) -> Reply:
    """`/team` lists the team; `/team add|set|remove @person …` changes it."""
    action = command.words[0].lower() if command.words else "list"
    if action == "list":
        return list_team(ctx)
    if action == "add":
        return add_member(command, ctx)
    if action == "set":
        return set_member(command, ctx)
    if action == "remove":
        return remove_member(command, ctx)
    if action == "invite":
        return invite(command, ctx)
    raise UsageError(_("/team {action} is not something I can do; use /team, /team add, /team set, /team remove or /team invite.",
                       action=action), TEAM_EXAMPLE)


def list_team(ctx: Context) -> Reply:
    """Every member with every setting `/team set` can change."""
    members = active_members(ctx.session, ctx.team)
    managers = {member.id: member.handle for member in members}
    rows = tuple(
        (
            _("@{handle} (admin)", handle=member.handle) if member.is_admin else f"@{member.handle}",
            member.display_name,
            member.role.value,
            member.timezone,
            f"{member.work_start:%H:%M}-{member.work_end:%H:%M} {describe_days(member.workday_numbers)}",
            member.language,
            member.holiday_country or _("{country} (team)", country=ctx.team.default_country),
            f"@{managers[member.manager_id]}" if member.manager_id in managers else "",
        )
        for member in members
    )
    return Reply(
        title=ngettext("Team {team}: {n} member", "Team {team}: {n} members", len(members), team=ctx.team.name),
        blocks=[Table((_("Handle"), _("Name"), _("Role"), _("Time zone"), _("Working hours"), _("Language"), _("Holidays"),
                       _("Manager")), rows)],
    )


def require_admin(ctx: Context) -> None:
    if not ctx.person.is_admin:
        raise NotAllowed(_("Only an admin can change the team. Ask an admin, or see the team with /team."))


def target_handle(command: Command, example: str) -> str:
    """The one person mentioned: a handle (case-folded), or a chat account such as Slack's
    `slack:T1:U2` (kept as sent: platform ids are case-sensitive)."""
    if len(command.mentions) != 1:
        raise UsageError(_("Mention exactly one person, like @bob."), example)
    mention = command.mentions[0]
    return mention if is_account_reference(mention) else normalise_handle(mention)


def add_member(command: Command, ctx: Context) -> Reply:
    require_admin(ctx)
    handle = target_handle(command, TEAM_EXAMPLE)
    if not HANDLE.match(handle):
        raise UsageError(_("@{handle} is not a usable handle: use letters, digits, dot, dash or underscore.", handle=handle),
                         TEAM_EXAMPLE)
    if len(command.words) < 2:
        raise UsageError(_("Give @{handle}'s role: {roles}.", handle=handle, roles=", ".join(role.value for role in Role)),
                         TEAM_EXAMPLE)
    refuse_stray_words(command.words[2:], TEAM_EXAMPLE)
    existing = find_by_handle(ctx.session, ctx.team, handle)
    if existing is not None and existing.active:
        raise UsageError(_("@{handle} is already on the team; change them with /team set.", handle=handle),
                         f"/team set @{handle} tz=Europe/Oslo")
    person = existing or Person(
        team_id=ctx.team.id,  # type: ignore[arg-type]
        handle=handle,
        display_name=handle,
        role=Role.SALESPERSON,
        timezone=ctx.team.default_timezone,
        language=ctx.team.default_language,
        created_at=ctx.now,
    )
    person.active = True
    person.role = parse_role(command.words[1])
    apply_settings(ctx, person, command.options, TEAM_EXAMPLE)
    ctx.session.add(person)
    ctx.session.flush()
    record_event(ctx, "team_add", handle=handle, role=person.role.value)
    hours = person.work_start.strftime("%H:%M") + "-" + person.work_end.strftime("%H:%M")
    return Reply(title=_("@{handle} joined the team as {role}", handle=handle, role=person.role.value)).say(_(
        "Time zone {zone}, working hours {hours} {days}, language {language}, public holidays of {country}.",
        zone=person.timezone, hours=hours,
        days=describe_days(person.workday_numbers), language=language_name(person.language),
        country=person.holiday_country or ctx.team.default_country))


def set_member(command: Command, ctx: Context) -> Reply:
    example = f"/team set @{ctx.person.handle} tz=Europe/Oslo hours=08:00-16:00"
    handle = target_handle(command, example) if command.mentions else ctx.person.handle
    person = resolve_mention(ctx.session, ctx.team, handle, example)
    refuse_stray_words(command.words[1:], example)
    if not command.options:
        raise UsageError(_("Say what to change: {settable}.", settable=", ".join(key + "=" for key in SETTABLE)), example)
    if person.id != ctx.person.id or set(command.options) - set(SELF_SETTABLE):
        require_admin(ctx)
    if "admin" in command.options and person.id == ctx.person.id and not parse_yes_no(command.options["admin"], example):
        raise UsageError(_("You cannot take away your own admin rights; another admin can."), example)
    if "role" in command.options:
        person.role = parse_role(command.options["role"])
    apply_settings(ctx, person, command.options, example)
    ctx.session.add(person)
    changed = ", ".join(f"{key}={value}" for key, value in command.options.items())
    record_event(ctx, "team_set", handle=person.handle, settings=dict(command.options))
    with speaking(ctx.speaks) as language:  # someone who has just changed their own language reads this in the new one
        return Reply(title=_("Updated @{handle}", handle=person.handle), language=language).say(changed)


def remove_member(command: Command, ctx: Context) -> Reply:
    require_admin(ctx)
    example = TEAM_REMOVE_EXAMPLE
    person = resolve_mention(ctx.session, ctx.team, target_handle(command, example), example)
    if person.id == ctx.person.id:
        raise UsageError(_("You cannot remove yourself; another admin can."), example)
    handed = hand_over_work(command, ctx, person)
    person.active = False
    for identity in ctx.session.exec(select(ChatIdentity).where(ChatIdentity.person_id == person.id)):
        ctx.session.delete(identity)
    ctx.session.add(person)
    record_event(ctx, "team_remove", handle=person.handle)
    reply = Reply(title=_("@{handle} left the team", handle=person.handle))
    if handed is not None and (handed[1].invoices or handed[1].steps):
        successor, work = handed
        reply.say(_("@{successor} took over their {invoices} and {steps}.", successor=successor.handle,
                    invoices=ngettext("{n} open invoice", "{n} open invoices", work.invoices),
                    steps=ngettext("{n} step", "{n} steps", work.steps)))
    return reply.say(_("Their invoices keep their history. Should one of them open again, give it a new owner with {command}.",
                       command="/change <invoice-no> owner=@person"))


def hand_over_work(command: Command, ctx: Context, person: Person) -> tuple[Person, course.Handover] | None:
    """Someone leaving with open invoices or steps says who takes them over (`to=@carol`): the
    successor and what they took over."""
    example = f"/team remove @{person.handle} to=@carol"
    work = course.open_work_of(ctx.session, person)
    successor_ref = command.option("to")
    if successor_ref is None:
        if work.invoices or work.steps:
            shown = ", ".join(work.numbers[:5]) + (" …" if len(work.numbers) > 5 else "")
            invoices = ngettext("{n} open invoice", "{n} open invoices", work.invoices)
            if shown:
                invoices = _("{invoices} ({numbers})", invoices=invoices, numbers=shown)
            raise UsageError(_("@{handle} still holds {invoices} and {steps} to come. Say who takes them over with to=@person.",
                               handle=person.handle, invoices=invoices, steps=ngettext("{n} step", "{n} steps", work.steps)),
                             example)
        return None
    successor = resolve_mention(ctx.session, ctx.team, successor_ref.lstrip("@"), example)
    if successor.id == person.id or not successor.active:
        raise UsageError(_("Hand @{handle}'s work to someone else who stays on the team.", handle=person.handle), example)
    return successor, course.hand_over(ctx, person, successor)


def apply_settings(ctx: Context, person: Person, options: dict[str, str], example: str) -> None:
    """Check every value first, then change the person: a bad value stores nothing."""
    unknown = sorted(set(options) - set(SETTABLE) - {"role"})
    if unknown:
        raise UsageError(_("I can't set {unknown}; settable: {settable}.", unknown=", ".join(unknown),
                           settable=", ".join(key + "=" for key in SETTABLE)), example)
    changes: dict[str, object] = {}
    if "tz" in options:
        changes["timezone"] = parse_timezone(options["tz"], example)
    if "lang" in options:
        language = parse_language(ctx, options["lang"], example)
        kept = person.language if language_of(person.language) == language and "_" in person.language else language
        changes["language"] = kept  # lang=en keeps a chosen en_GB
    if "locale" in options:
        changes["language"] = parse_locale(options["locale"], example)
    if "hours" in options:
        changes["work_start"], changes["work_end"] = parse_hours(options["hours"], example)
    if "days" in options:
        changes["workdays"] = ",".join(str(day) for day in sorted(parse_days(options["days"], example)))
    if "name" in options:
        changes["display_name"] = parse_name(options["name"], example)
    if "holidays" in options:
        changes["holiday_country"] = parse_holiday_country(options["holidays"], example)
    if "manager" in options:
        manager = resolve_mention(ctx.session, ctx.team, options["manager"].lstrip("@"), example)
        if manager.id == person.id:
            raise UsageError(_("Nobody can be their own manager."), example)
        changes["manager_id"] = manager.id
    if "admin" in options:
        changes["is_admin"] = parse_yes_no(options["admin"], example)
    for name, value in changes.items():
        setattr(person, name, value)


def refuse_stray_words(words: tuple[str, ...], example: str) -> None:
    """Words no setting claims (`name=Larry Law` leaves `Law` behind) are refused, never dropped."""
    if words:
        raise UsageError(_("I don't know where {words} belongs. Every setting is key=value; put a value with spaces in "
                           'double quotes, like name="Larry Law".', words=repr(" ".join(words))), example)


def parse_name(text: str, example: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise UsageError(_("The name cannot be empty."), example)
    if len(name) > MAX_NAME:
        raise UsageError(_("The name is {length} characters long; at most {most} fit.", length=len(name), most=MAX_NAME), example)
    return name


def speakable(ctx: Context) -> dict[str, str]:
    """The languages a person can choose: those the bot speaks (bot/i18n); a draft in a language the
    phrasebook lacks is written in English."""
    return dict(LANGUAGES)


def parse_language(ctx: Context, text: str, example: str) -> str:
    language = text.strip().lower()
    choices = speakable(ctx)
    if language not in choices:
        listed = ", ".join(f"{code} ({_(name)})" for code, name in choices.items())
        raise UsageError(_("{text} is not a language I speak; choose {choices}.", text=shorten(text), choices=listed), example)
    return language


def parse_locale(text: str, example: str) -> str:
    """A locale from LOCALES (`en_GB`, `nb-NO`): how money and dates are written; it sets the language too.
    Stored in the person's language field, which holds a language (`ru`) or a locale (`en_GB`)."""
    fitted = next((choice for choice in LOCALES if choice.lower() == text.strip().replace("-", "_").lower()), None)
    if fitted is None:
        raise UsageError(_("{text} is not a locale I write; choose {choices}.", text=shorten(text), choices=", ".join(LOCALES)),
                         example)
    return fitted


def language_name(code: str) -> str:
    """`ru` → "Russian" in the reader's language; a locale shows its language and itself: "English (en_GB)"."""
    name = _(LANGUAGES.get(language_of(code), code))
    return _("{language} ({locale})", language=name, locale=code) if "_" in code else name


def parse_holiday_country(text: str, example: str) -> str | None:
    """A country whose public holidays are the person's days off; `none` for no holidays, `team`
    for the team's country."""
    if text.strip().upper() in ("TEAM", "DEFAULT"):
        return None
    if (code := calendar_country(text)) is None:
        raise UsageError(_("{problem}, or holidays=team for the team's country.", problem=country_problem(text)),
                         "/team set holidays=NO")
    return code


def shorten(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def parse_role(text: str) -> Role:
    try:
        return Role(text.lower())
    except ValueError:
        raise UsageError(_("{text} is not a role; choose {roles}.", text=repr(text), roles=", ".join(role.value for role in Role)),
                         TEAM_EXAMPLE) from None


def parse_timezone(text: str, example: str) -> str:
    if len(text) > MAX_ZONE or not known_zone(text):
        raise UsageError(_("{zone} is not a time zone I know; use an IANA name like Europe/Oslo or America/New_York.",
                           zone=shorten(text)), example)
    return text


def parse_hours(text: str, example: str) -> tuple[time, time]:
    match = _HOURS.match(text.strip())
    if not match:
        raise UsageError(_("{text} is not a span of working hours; write it like 09:00-17:00.", text=repr(text)), example)
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or end_h > 24 or start_m > 59 or end_m > 59 or (end_h == 24 and end_m):
        raise UsageError(_("{text} has an impossible time of day.", text=repr(text)), example)
    start, end = time(start_h, start_m), time(23, 59) if end_h == 24 else time(end_h, end_m)
    if end <= start:
        raise UsageError(_("In {text} the working day ends before it starts.", text=repr(text)), example)
    return start, end


def parse_days(text: str, example: str) -> set[int]:
    days: set[int] = set()
    for part in text.lower().split(","):
        first, _dash, last = part.strip().partition("-")
        start, end = weekday_number(first), weekday_number(last or first)
        if start is None or end is None:
            raise UsageError(_("{text} is not a list of weekdays; write mon-fri or mon,wed,fri.", text=repr(text)), example)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    return days


def describe_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if ordered and ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{_DAY_NAMES[ordered[0]]}-{_DAY_NAMES[ordered[-1]]}"
    return ",".join(_DAY_NAMES[day] for day in ordered)


def parse_yes_no(text: str, example: str) -> bool:
    lowered = text.lower()
    if lowered in ("yes", "true", "on", "1"):
        return True
    if lowered in ("no", "false", "off", "0"):
        return False
    raise UsageError(_("{text} is not yes or no.", text=repr(text)), example)
