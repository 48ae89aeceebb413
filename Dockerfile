FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Japanese glyphs for the rich menu images the bot renders
RUN apt-get update && apt-get install -y --no-install-recommends fonts-ipafont-gothic \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY content ./content
COPY migrations ./migrations
RUN pip install --no-cache-dir -e . && useradd --create-home tsunagari && mkdir -p var && chown tsunagari var
USER tsunagari
EXPOSE 8000
# Migrations run at start-up (TSUNAGARI_AUTO_MIGRATE=true); set it false and run
# `tsunagari db upgrade` as a release step when several replicas start together.
CMD ["tsunagari", "serve", "--host", "0.0.0.0", "--port", "8000"]
