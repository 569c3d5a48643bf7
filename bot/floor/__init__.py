"""The floor: values and helpers every layer may use — clock, settings, typed errors, money, dates,
the `Reply` blocks. It imports nothing of ours (bot.i18n sits beside it)."""
