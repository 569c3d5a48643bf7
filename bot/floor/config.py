"""Settings from the environment or `.env` (see `.env.example` for every one, explained)."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies
from sqlalchemy.engine import make_url
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite:///collectbot.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def reveal(value: SecretStr | str | None) -> str | None:
    """A secret's value where it is actually used (a client, a header), never for printing."""
    if value is None:
        return None
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def shown_url(url: SecretStr | str) -> str:
    """A database URL fit to print: its password replaced by ***."""
    plain = reveal(url) or ""
    try:
        return make_url(plain).render_as_string(hide_password=True)
    except Exception:
        return "(a database URL that cannot be read)"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: SecretStr = SecretStr(DEFAULT_SQLITE_URL)
    """SecretStr because it may hold the password; print `shown_url(settings.database_url)`."""
    log_level: str = "WARNING"
    team_name: str = "Our company"
    payment_details: str | None = None
    default_currency: str = "EUR"
    default_timezone: str = "Europe/Oslo"
    default_country: str = "NO"
    default_language: str = "en"
    default_ladder: str = "standard"
    max_invoice_amount: Decimal = Decimal("1000000000")
    ladders_dir: Path | None = None
    phrasebook_dir: Path | None = None
    files_dir: Path = Path("collectbot-files")
    """Where the console writes the files of replies (charts, exports, case files)."""

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_poll_timeout: int = 30
    telegram_polling_lease_seconds: int = 30
    telegram_messages_per_second: float = Field(30, gt=0)
    """What the bot sends per second in all (Telegram's limit for a bot: about 30; paid broadcasts
    allow more). Answers beyond it wait their turn."""
    """Only the instance holding the polling lease polls; it lapses this long after its holder stopped renewing."""

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_http_host: str = "127.0.0.1"
    slack_http_port: int = 3000

    @field_validator("default_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in list_currencies():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD, NOK)")
        return code

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Oslo)") from error
        return value

    @field_validator("default_country")
    @classmethod
    def _upper_country(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("telegram_bot_token", "slack_bot_token", "slack_app_token", "slack_signing_secret",
                     "telegram_webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: str | SecretStr | None) -> str | SecretStr | None:
        return value or None

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level (one of {', '.join(LOG_LEVELS)}; e.g. INFO)")
        return level

    @property
    def secrets(self) -> list[str]:
        """Every secret value set, for the log's redaction."""
        url = make_url(reveal(self.database_url) or "sqlite://") if "://" in (reveal(self.database_url) or "") else None
        values = [reveal(getattr(self, name)) for name in (
            "telegram_bot_token", "telegram_webhook_secret", "slack_bot_token", "slack_app_token", "slack_signing_secret")]
        return [value for value in [*values, url.password if url is not None else None] if value]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
