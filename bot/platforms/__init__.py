"""The platforms: one package each (telegram, slack, console) owning its limits, capabilities and
tables, plus the shared plain-text rendering (`bot.platforms.text`). They call the core (handlers)."""
