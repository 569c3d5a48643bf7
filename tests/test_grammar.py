"""One grammar for every platform: verb, words, key=value options and @mentions."""
from handlers.grammar import parse_arguments, parse_command


def test_a_command_splits_into_words_options_and_mentions() -> None:
    command = parse_command("/add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd @bob ladder=soft")
    assert command is not None
    assert command.verb == "add"
    assert command.words == ("INV-1042", "1200.50", "EUR", "2026-12-01", "Acme", "Trading", "Ltd")
    assert command.options == {"ladder": "soft"}
    assert command.mentions == ("bob",)


def test_a_command_addressed_to_the_bot_in_a_group_keeps_its_verb() -> None:
    command = parse_command("/list@CollectBot overdue")
    assert command is not None and command.verb == "list" and command.words == ("overdue",)


def test_double_quotes_keep_a_name_together_and_apostrophes_are_letters() -> None:
    command = parse_command('/add X 1 2026-12-01 "Acme, Inc." O\'Brien\'s')
    assert command is not None
    assert command.words[-2:] == ("Acme, Inc.", "O'Brien's")


def test_text_without_a_slash_is_not_a_command() -> None:
    assert parse_command("hello there") is None
    assert parse_command("/") is None


def test_slack_style_arguments_parse_the_same_as_a_slash_command() -> None:
    assert parse_arguments("list", "overdue @bob") == parse_command("/list overdue @bob")
