# collectbot: one image for Telegram, Slack and the scheduler (see README "Running in production").
#   docker build -t collectbot .
#   docker run --env-file .env -v collectbot-data:/data collectbot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduling ./scheduling
COPY phrasebook ./phrasebook
# The gettext catalogs are compiled (.po → .mo) before the package is built, so the image ships them.
RUN python -m venv /opt/collectbot \
 && /opt/collectbot/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/collectbot/bin/pip install --no-cache-dir "babel>=2.14,<3" \
 && /opt/collectbot/bin/pybabel compile -D collectbot -d bot/i18n/locale --statistics \
 && /opt/collectbot/bin/pip install --no-cache-dir .

FROM python:3.11-slim
ENV PATH=/opt/collectbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////data/collectbot.db \
    COLLECTBOT_CACHE_DIR=/opt/collectbot/cache \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9100
COPY --from=build /opt/collectbot /opt/collectbot
# The phrase files are checked once here, so every start reads the checked result (bot/phrasebook).
RUN python -c "from phrasebook.book import load_phrasebook; load_phrasebook(rehearse=False)" \
 && useradd --system --uid 10001 --home-dir /data --create-home collectbot \
 && chmod -R a+rX /opt/collectbot/cache
USER collectbot
WORKDIR /data
VOLUME ["/data"]
# 9100: /healthz and /metrics. 8443: Telegram webhook (when TELEGRAM_WEBHOOK_URL is set).
# 3000: Slack over HTTP (when SLACK_APP_TOKEN is not set).
EXPOSE 9100 8443 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4).status != 200)"
# Wait for the database (compose starts both at once), bring the schema up to date, then run.
CMD ["sh", "-c", "collectbot wait-for-db --timeout 120 && collectbot migrate && exec collectbot run"]
