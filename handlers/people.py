"""Finding people: who is writing, and whom an @mention names."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel import Session, col, func, select

from bot.i18n import _, supported_language
from bot.store.models import ChatIdentity, Person, Role, Team
from handlers.context import Sender
from bot.floor.errors import UsageError

HANDLE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def normalise_handle(text: str) -> str:
    return text.strip().lstrip("@").lower()


def find_sender(session: Session, sender: Sender) -> Person | None:
    """The active person the sender's account is linked to, in one query (every command asks)."""
    return session.exec(select(Person).join(ChatIdentity, col(ChatIdentity.person_id) == col(Person.id)).where(
        *linked_to(sender))).first()


def find_sender_and_team(session: Session, sender: Sender) -> tuple[Person, Team] | None:
    """`find_sender` with the person's team, in one query (the start of every command)."""
    found = session.exec(select(Person, Team).join(ChatIdentity, col(ChatIdentity.person_id) == col(Person.id))
                         .join(Team, col(Team.id) == col(Person.team_id)).where(*linked_to(sender))).first()
    return (found[0], found[1]) if found is not None else None


def sender_language(connection: Connection, sender: Sender) -> str | None:
    """`find_sender(…).language`, without an ORM session or loading the person (every command asks first)."""
    return connection.execute(sa.select(col(Person.language)).join(ChatIdentity, col(ChatIdentity.person_id) == col(Person.id))
                              .where(*linked_to(sender))).scalar()


def linked_to(sender: Sender) -> tuple[Any, ...]:
    return (ChatIdentity.platform == sender.platform, ChatIdentity.external_id == sender.external_id,
            col(Person.active).is_(True))


def find_by_handle(session: Session, team: Team, handle: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.team_id == team.id, Person.handle == normalise_handle(handle))
    ).first()


def team_size(session: Session, team: Team) -> int:
    return session.exec(select(func.count()).select_from(Person).where(Person.team_id == team.id)).one()


def active_members(session: Session, team: Team) -> list[Person]:
    return list(
        session.exec(
            select(Person).where(Person.team_id == team.id, col(Person.active).is_(True)).order_by(Person.handle)
        )
    )


ACCOUNT_REFERENCE = re.compile(r"^[a-z][a-z0-9_]*:.")
"""`platform:external-id`; a handle never holds a colon (HANDLE), so no list of platforms is needed:
whether the account exists is for the stored chat identities to say."""


def is_account_reference(mention: str) -> bool:
    """`telegram:123` / `slack:T1:U2` / `console:bob`: a linked chat account, not a handle."""
    return ACCOUNT_REFERENCE.match(mention) is not None


def resolve_mention(session: Session, team: Team, mention: str, example: str) -> Person:
    """`@bob` by handle; `@telegram:123` / `@slack:T1:U2` by a linked chat account."""
    person: Person | None
    if is_account_reference(mention):
        platform, _colon, external_id = mention.partition(":")
        identity = session.exec(
            select(ChatIdentity).where(ChatIdentity.platform == platform, ChatIdentity.external_id == external_id)
        ).first()
        person = session.get(Person, identity.person_id) if identity else None
    else:
        person = find_by_handle(session, team, mention)
    if person is None or not person.active:
        if is_account_reference(mention):  # a chat account is linked with an invite, never by a handle typed for it
            raise UsageError(_("This {platform} account is not on the team yet: an admin runs /team add @name salesperson, "
                               "then /team invite @name, and they send me the code.",
                               platform=mention.partition(":")[0].capitalize()), example)
        known = ", ".join(f"@{member.handle}" for member in active_members(session, team)) or _("nobody yet")
        raise UsageError(
            _("I don't know @{mention} on this team (members: {known}). An admin can add them with /team add @{handle} salesperson.",
              mention=mention, known=known, handle=normalise_handle(mention)),
            example,
        )
    return person


def link_identity(session: Session, person: Person, sender: Sender, at: datetime) -> ChatIdentity:
    identity = ChatIdentity(
        person_id=person.id,  # type: ignore[arg-type]
        platform=sender.platform,
        external_id=sender.external_id,
        chat_id=sender.chat_id,
        created_at=at,
    )
    session.add(identity)
    return identity


def handle_from_name(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_.-]+", "", name.strip().lower().replace(" ", "."))
    return slug[:64] or "admin"


def create_first_admin(session: Session, team: Team, sender: Sender, at: datetime) -> Person:
    """The first person to talk to a fresh bot becomes its admin (a manager who can add others)."""
    person = Person(
        team_id=team.id,  # type: ignore[arg-type]
        handle=normalise_handle(sender.verified_handle or handle_from_name(sender.display_name)),
        display_name=sender.display_name,
        role=Role.MANAGER,
        is_admin=True,
        timezone=team.default_timezone,
        language=supported_language(sender.language_hint) or team.default_language,
        created_at=at,
    )
    session.add(person)
    session.flush()
    link_identity(session, person, sender, at)
    return person
