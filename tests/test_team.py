"""Admins manage the team; newcomers are told politely how to join."""
import re
from datetime import datetime, timezone

import pytest
from sqlmodel import Session, select

from bot.i18n import DEFAULT_LOCALES, LANGUAGES, _, speaking, translated
from bot.floor.reply import Paragraph
from bot.store.models import ChatIdentity, Person, Role
from tests.support import ChatDriver, count_rows, refused
from handlers.context import Sender


def person(chat: ChatDriver, handle: str) -> Person:
    with Session(chat.core.services.engine) as session:
        return session.exec(select(Person).where(Person.handle == handle)).one()


def test_the_first_person_to_talk_to_a_fresh_bot_becomes_its_admin(chat: ChatDriver) -> None:
    reply = chat.say("alice", "/start")
    assert "You are an admin" in reply
    alice = person(chat, "alice")
    assert alice.is_admin and alice.role == Role.MANAGER
    assert alice.timezone == "Europe/Oslo"


def test_a_stranger_gets_a_polite_refusal_that_says_to_ask_an_admin(chat: ChatDriver) -> None:
    chat.say("alice", "/start")
    before = count_rows(chat.core.services.engine)
    assert "not on team" in chat.say("mallory", "/start")
    reply = chat.say("mallory", "/list")
    assert "Sorry, you are not on team" in reply and "Ask an admin" in reply
    assert "Sorry" in chat.say("mallory", "/add X 1 2026-12-01 Acme")
    assert count_rows(chat.core.services.engine) == before
    assert "/add" in chat.say("mallory", "/help"), "help is open to everyone"


def test_admin_adds_a_colleague_with_time_zone_language_and_hours(chat: ChatDriver) -> None:
    chat.say("alice", "/start")
    reply = chat.say("alice", "/team add @Bob collector tz=America/New_York lang=nb hours=08:00-16:00 days=tue-sat manager=@alice")
    assert "@bob joined the team as collector" in reply
    bob = person(chat, "bob")
    assert (bob.role, bob.timezone, bob.language) == (Role.COLLECTOR, "America/New_York", "nb")
    assert f"{bob.work_start:%H:%M}-{bob.work_end:%H:%M}" == "08:00-16:00"
    assert bob.workday_numbers == {1, 2, 3, 4, 5}
    assert bob.manager_id == person(chat, "alice").id
    listing = chat.say("bob", "/team")  # bob reads Norwegian now
    with speaking("nb"):
        admin = _("@{handle} (admin)", handle="alice")
    assert "@bob" in listing and "America/New_York" in listing and "tue-sat" in listing and admin in listing


@pytest.mark.parametrize("command,problem", [
    ("/team add bob salesperson", "Mention exactly one person"),
    ("/team add @bob", "Give @bob's role"),
    ("/team add @bob ceo", "'ceo' is not a role"),
    ("/team add @bob salesperson tz=Mars/Olympus", "not a time zone I know"),
    ("/team add @bob salesperson lang=fr", "not a language I speak"),
    ("/team add @bob salesperson hours=17:00-09:00", "ends before it starts"),
    ("/team add @bob salesperson hours=9-5", "not a span of working hours"),
    ("/team add @bob salesperson days=weekdays", "not a list of weekdays"),
    ("/team add @bob salesperson manager=@nobody", "I don't know @nobody"),
    ("/team add @bob salesperson shoe=42", "I can't set shoe"),
    ("/team add @b!b salesperson", "Mention exactly one person"),
    ("/team promote @bob", "/team promote is not something I can do"),
])
def test_bad_team_commands_are_explained_and_store_nothing(chat: ChatDriver, command: str, problem: str) -> None:
    chat.say("alice", "/start")
    refused(chat, "alice", command, problem, example="Example: /team")


def test_only_admins_change_the_team_but_anyone_sets_their_own_time_zone(team: ChatDriver) -> None:
    assert "Only an admin can change the team" in team.say("bob", "/team add @eve salesperson")
    assert "Only an admin" in team.say("bob", "/team set @bob role=manager")
    assert "Only an admin" in team.say("bob", "/team set @dave tz=Asia/Tokyo")
    assert "Updated @bob" in team.say("bob", "/team set tz=Asia/Tokyo hours=10:00-18:00")
    assert person(team, "bob").timezone == "Asia/Tokyo"


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_someone_who_changes_their_own_language_is_answered_in_the_new_one(team: ChatDriver, language: str) -> None:
    assert translated(language, "Updated @{handle}", handle="bob") in team.say("bob", f"/team set lang={language}")
    assert team.last is not None and team.last.language == language
    assert translated(language, "Updated @{handle}", handle="bob") in team.say("bob", "/team set name=Bobby"), "the next answer too"
    assert "Updated @bob" in team.say("bob", "/team set lang=en"), "and back"
    assert team.last.language == "en"
    assert "Updated @bob" in team.say("alice", f"/team set @bob lang={language}"), "an admin changing someone else reads her own"
    assert team.last.language == "en"
    locale = DEFAULT_LOCALES[language]
    assert translated(language, "Updated @{handle}", handle="alice") in team.say("alice", f"/team set locale={locale}")


def test_admin_promotes_and_removes_people(team: ChatDriver) -> None:
    assert "Updated @bob" in team.say("alice", "/team set @bob role=manager admin=yes")
    bob = person(team, "bob")
    assert bob.role == Role.MANAGER and bob.is_admin
    assert "@dave left the team" in team.say("bob", "/team remove @dave")
    assert "not on team" in team.say("dave", "/list")
    assert "@dave" not in team.say("alice", "/team")
    assert "cannot remove yourself" in team.say("alice", "/team remove @alice")
    assert "cannot take away your own admin rights" in team.say("alice", "/team set @alice admin=no")


def said(chat: ChatDriver, who: str, text: str) -> str:
    """The reply's sentences and example, unwrapped."""
    chat.say(who, text)
    assert chat.last is not None
    return "\n".join([*(block.text for block in chat.last.blocks if isinstance(block, Paragraph)), chat.last.example or ""])


@pytest.mark.parametrize("language", LANGUAGES)
def test_removing_someone_advises_commands_that_exist_and_work(team: ChatDriver, language: str) -> None:
    team.say("alice", f"/team set lang={language}")
    team.say("bob", "/add INV-1 100 EUR 2026-12-20 Acme")
    refused = said(team, "alice", "/team remove @bob")
    removed = said(team, "alice", "/team remove @bob to=@dave")
    assert "@dave" in removed and "INV-1" in team.say("dave", "/list")
    catalogue = team.core.catalogue
    for text in (refused, removed):
        for verb, options in re.findall(r"/([a-z]+)((?: [^ /\n]+)*)", text):
            assert verb in catalogue, f"/{verb} in {text}"
            for option in re.findall(r"([a-z]+)=", options):
                assert option in catalogue[verb].options, f"/{verb} {option}= in {text}"
    change = re.search(r"/change (\S+) owner=@(\S+?)\b", removed)
    assert change is not None, removed
    followed = team.say("alice", change.group(0).replace(change.group(1), "INV-1").replace(change.group(2), "carol"))
    assert team.last is not None and not team.last.is_error, followed


def test_a_removed_person_can_be_added_back(team: ChatDriver) -> None:
    team.say("alice", "/team remove @dave")
    assert "joined the team" in team.say("alice", "/team add @dave collector")
    assert "Your open invoices" in team.say("dave", "/list")


def test_help_lists_every_command_with_an_example_and_explains_one(chat: ChatDriver) -> None:
    reply = chat.say("alice", "/help")
    for verb in ("start", "help", "add", "list", "show", "paid", "overdue", "team"):
        assert f"/{verb} — " in reply
    assert reply.count("Example:") >= 8
    detail = chat.say("alice", "/help add")
    assert "Usage:" in detail and "/add <invoice-no> <amount>" in detail
    assert "There is no /fly command" in chat.say("alice", "/help fly")


def test_an_unknown_command_suggests_the_closest_one(chat: ChatDriver) -> None:
    assert "Did you mean /list?" in chat.say("alice", "/lst")
    assert "commands that start with /" in chat.say("alice", "hello")


def test_an_admin_invites_a_colleague_who_links_their_account_with_the_code(team: ChatDriver) -> None:
    reply = team.say("alice", "/team invite @bob")
    assert "Invite for @bob" in reply
    code = next(v for label, v in team.last.blocks[0].items if label == "Code")  # type: ignore[union-attr]
    phone = Sender(platform="telegram", external_id="555", display_name="Bob B", chat_id="555")
    welcome = team.core.handle_text(phone, f"/start {code}")
    assert welcome.title == "Welcome, @bob: your account is linked"
    assert not team.core.handle_text(phone, "/list").is_error, "the linked account acts as bob"
    stranger = Sender(platform="telegram", external_id="666", display_name="Eve", chat_id="666")
    again = team.core.handle_text(stranger, f"/start {code}")
    assert again.is_error and "unknown, used or expired" in again.blocks[0].text  # type: ignore[union-attr]
    assert "Only admins" in team.say("bob", "/team invite @carol")


def test_a_colleague_is_mentioned_by_their_account_on_a_platform_the_commands_never_heard_of(team: ChatDriver) -> None:
    """The commands do not list the platforms: carol linked on a platform added later (here
    "matrix") is mentioned by that account like by a Telegram or Slack one."""
    with Session(team.core.services.engine) as session:
        carol = session.exec(select(Person).where(Person.handle == "carol")).one()
        session.add(ChatIdentity(person_id=carol.id, platform="matrix", external_id="carol.42",  # type: ignore[arg-type]
                                 chat_id="!room:example.org", created_at=datetime.now(timezone.utc)))
        session.commit()
    reply = team.say("alice", "/add INV-60 100 EUR 2026-12-01 Acme @matrix:carol.42")
    assert "Added invoice INV-60" in reply and "Owner:      @carol" in reply, reply
    refused(team, "alice", "/add INV-61 100 EUR 2026-12-01 Acme @matrix:dave.7", "This Matrix account is not on the team yet",
            "/team add @name salesperson")
