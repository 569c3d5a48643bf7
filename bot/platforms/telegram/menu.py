"""The command menu Telegram shows next to the message box (setMyCommands), in each language the
team speaks. The verbs and the English lines come from the core's catalogue; the Russian and
Norwegian lines are kept here, and a verb without a translation falls back to its English line."""
from __future__ import annotations

from collections.abc import Iterable

from telegram import BotCommand

from handlers.catalogue import CommandSpec

LANGUAGES = ("en", "ru", "nb")
DESCRIPTION_LIMIT = 256

TRANSLATIONS: dict[str, dict[str, str]] = {
    "ru": {
        "start": "Познакомиться с ботом (первый становится администратором)",
        "help": "Все команды с примерами или одна подробно",
        "add": "Добавить счёт для взыскания",
        "list": "Ваши открытые счета; фильтр: просроченные, @человек, клиент",
        "show": "Счёт: данные, шаги и история",
        "paid": "Записать оплату: полную или частичную",
        "change": "Исправить срок, ответственного или лестницу счёта",
        "ladders": "Лестницы напоминаний и их шаги",
        "import": "Добавить много счетов из CSV: сначала проверка",
        "draft": "Вежливый черновик письма по счёту",
        "phrasebook": "Что есть в разговорнике; админ перечитывает его",
        "history": "Полная хронология счёта",
        "casefile": "Досье для юристов (HTML-файл)",
        "done": "Шаг выполнен (заметка попадёт в историю)",
        "promise": "Клиент обещал оплатить к дате",
        "letter": "Пришло официальное письмо с датой оплаты",
        "dispute": "Клиент оспаривает счёт: лестница на паузе",
        "resolve": "Спор урегулирован: лестница продолжается",
        "plan": "Согласовать план платежей",
        "snooze": "Отложить текущий шаг немного",
        "noanswer": "Никто не ответил: напомню позже",
        "today": "Ваши шаги на сегодня и неотвеченные напоминания",
        "upcoming": "Ваши шаги на ближайшие дни",
        "overdue": "Сводка просрочек с графиком",
        "team": "Команда; админ добавляет людей и роли",
    },
    "nb": {
        "start": "Bli kjent med boten (den første blir administrator)",
        "help": "Alle kommandoer med eksempel, eller én i detalj",
        "add": "Legg til en faktura som skal følges opp",
        "list": "Dine åpne fakturaer; filtrer på forfalte, @person eller kunde",
        "show": "En faktura: detaljer, trinn og historikk",
        "paid": "Registrer betaling: hel eller delvis",
        "change": "Rett forfallsdato, eier eller stige for en faktura",
        "ladders": "Purrestigene og trinnene deres",
        "import": "Legg til mange fakturaer fra CSV: først en prøvekjøring",
        "draft": "Et høflig utkast for en faktura",
        "phrasebook": "Hva frasesamlingen inneholder; admin laster den på nytt",
        "history": "Hele tidslinjen for en faktura",
        "casefile": "Saksmappen til advokatene (HTML-fil)",
        "done": "Et trinn er utført (notatet går i historikken)",
        "promise": "Kunden har lovet å betale innen en dato",
        "letter": "Et offisielt brev med betalingsdato har kommet",
        "dispute": "Kunden bestrider fakturaen: stigen settes på pause",
        "resolve": "Tvisten er løst: stigen fortsetter",
        "plan": "Avtal en betalingsplan",
        "snooze": "Utsett gjeldende trinn litt",
        "noanswer": "Ingen svarte: jeg minner deg på det senere",
        "today": "Dine trinn i dag og varsler som venter på svar",
        "upcoming": "Dine trinn de neste dagene",
        "overdue": "Oversikt over forfalte fakturaer, med diagram",
        "team": "Teamet; admin legger til folk og roller",
    },
}


def commands_for(specs: Iterable[CommandSpec], language: str | None = None) -> list[BotCommand]:
    """The menu in `language` (None: the default menu, in English)."""
    translated = TRANSLATIONS.get(language or "", {})
    return [BotCommand(spec.verb, translated.get(spec.verb, spec.summary)[:DESCRIPTION_LIMIT]) for spec in specs]
