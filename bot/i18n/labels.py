"""Words every renderer writes around a reply's content (translated with `translated`)."""
from __future__ import annotations

from bot.i18n import N_

EXAMPLE = N_("Example")
SUBJECT = N_("Subject")
NONE = N_("(none)")
SHORTENED = N_("… (shortened; ask for less at a time)")
