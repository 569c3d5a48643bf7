"""Every /team setting is checked before it is stored and shown in /team; a value stored before
the checks existed never breaks anyone's commands."""
from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from bot.store.models import Invoice, LadderStep, Person
from tests.support import ChatDriver, refused


BAD_SETTINGS = [
    ("holidays=ZZ", "'ZZ' is not a country I have public holidays for"),
    ("holidays=NOR", "'NOR' is not a country I have public holidays for"),
    ("holidays=Norway", "is not a country I have public holidays for"),
    ("tz=Europe/Atlantis", "not a time zone I know"),
    ("tz=../../etc/passwd", "not a time zone I know"),
    ("tz=" + "A" * 150, "not a time zone I know"),
    ("lang=de", "not a language I speak; choose en (English)"),
    ("hours=25:00-26:00", "impossible time of day"),
    ("hours=09:00-09:00", "ends before it starts"),
    ("days=", "not a list of weekdays"),
    ("days=mon-funday", "not a list of weekdays"),
    ("name=" + "N" * 101, "at most 100 fit"),
    ('name="   "', "Empty quotes"),
    ("admin=maybe", "is not yes or no"),
]


def test_a_bad_team_setting_is_refused_with_an_example_and_stores_nothing(team: ChatDriver) -> None:
    with Session(team.core.services.engine) as session:
        bob_before = session.exec(select(Person).where(Person.handle == "bob")).one().model_dump()
    for setting, problem in BAD_SETTINGS:
        for line in (f"/team set @bob {setting}", f"/team add @eve salesperson {setting}"):
            refused(team, "alice", line, problem, example="Example: /team")
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Person).where(Person.handle == "bob")).one().model_dump() == bob_before


def test_a_member_sets_their_own_holidays_and_team_shows_every_setting(team: ChatDriver) -> None:
    assert "@bob er oppdatert" in team.say("bob", "/team set holidays=se hours=08:00-16:00 days=mon-thu lang=nb"), "read in the new language"
    listing = team.say("alice", "/team")
    bob_row = next(line for line in listing.splitlines() if line.strip().startswith("@bob"))
    for shown in ("salesperson", "Europe/Oslo", "08:00-16:00 mon-thu", "nb", "SE"):
        assert shown in bob_row, bob_row
    carol_row = next(line for line in listing.splitlines() if line.strip().startswith("@carol"))
    assert "NO (team)" in carol_row, "without a setting, the team's country's holidays apply"
    assert "Holidays" in listing and "Manager" in listing
    assert "@bob er oppdatert" in team.say("bob", "/team set holidays=team"), "bob chose Norwegian above"
    assert "NO (team)" in next(line for line in team.say("alice", "/team").splitlines() if line.strip().startswith("@bob"))


def test_a_quoted_name_with_spaces_is_stored_whole(team: ChatDriver) -> None:
    assert "Updated @bob" in team.say("alice", '/team set @bob name="Bob the Builder"')
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Person).where(Person.handle == "bob")).one().display_name == "Bob the Builder"
    assert "joined the team" in team.say("alice", "/team add @larry lawyer name=“Larry Law”")
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Person).where(Person.handle == "larry")).one().display_name == "Larry Law"


def test_a_person_with_a_bad_stored_setting_does_not_break_adding_invoices_for_anyone(team: ChatDriver) -> None:
    """Values stored before validation existed (or by hand): planning falls back to the team's."""
    with Session(team.core.services.engine) as session:
        session.execute(update(Person).where(Person.handle == "carol").values(holiday_country="ZZ"))  # type: ignore[arg-type]
        session.execute(update(Person).where(Person.handle == "dave").values(timezone="Mars/Olympus", workdays=""))  # type: ignore[arg-type]
        session.commit()
    for line in ("/add INV-1 100 EUR 2026-12-10 Acme collector=@carol",
                 "/add INV-2 100 EUR 2026-12-10 Acme @dave",
                 "/add INV-3 100 EUR 2026-11-01 Acme @dave collector=@carol"):
        reply = team.say("bob", line)
        assert "Added invoice" in reply and "Something went wrong" not in reply, reply
    with Session(team.core.services.engine) as session:
        invoices = session.exec(select(Invoice)).all()
        assert len(invoices) == 3
        assert session.exec(select(LadderStep)).first() is not None, "their ladders were planned"
    assert "Team Our company" in team.say("dave", "/team")
    assert "Your open invoices" in team.say("dave", "/list")


def test_a_salesperson_chooses_their_own_locale_and_help_says_they_may(team: ChatDriver) -> None:
    assert "Updated @bob" in team.say("bob", "/team set locale=en_US")
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Person).where(Person.handle == "bob")).one().language == "en_US"
    assert "locale" in team.say("bob", "/help team").split("your own", 1)[1].split("\n", 1)[0]
    assert "Only an admin" in team.say("bob", "/team set @carol locale=en_US")
