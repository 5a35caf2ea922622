# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 podium

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY events ./events
COPY awards ./awards
COPY notifications ./notifications
RUN pip install .
COPY . .

# Static files are collected at build time; the key only satisfies the settings here.
RUN DJANGO_SECRET_KEY=build-only-not-secret DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --no-input -v 0 \
    && mkdir -p /app/var && chown -R podium /app/var

USER podium
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
