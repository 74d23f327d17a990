# Vigil's image: one image for the web server (default command), the one-shot migration, the Celery worker and
# beat; docker-compose.yml picks the command. Configuration comes only from the environment (see .env.example).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# An unprivileged account to run as; it owns nothing in the image, so the code and static files are read-only to it.
RUN groupadd --system --gid 10001 vigil \
    && useradd --system --uid 10001 --gid vigil --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin vigil

# Dependencies first, so that a code change does not reinstall them. pyproject.toml carries no packages
# (`packages = []`): `pip install` only brings in the dependencies, and the code runs from /app.
COPY pyproject.toml README.md /tmp/vigil-build/
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install /tmp/vigil-build \
    && rm -rf /tmp/vigil-build

WORKDIR /app
COPY . .

# Static files are collected into the image (STATIC_ROOT, .data/staticfiles) and served by whitenoise.
# Settings refuse to import without a SECRET_KEY when DEBUG is off, and start embedded servers unless DATABASE_URL
# and REDIS_URL are set; at import they only parse these URLs, so placeholders do: nothing connects here.
RUN DEBUG=false \
    SECRET_KEY=build-only \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && python -m compileall -q /app

USER vigil:vigil
EXPOSE 8000

# gunicorn reads its worker count from WEB_CONCURRENCY (sync workers; about 2 x CPU cores + 1 is the usual rule).
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--timeout", "60", \
     "--graceful-timeout", "30", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--no-control-socket", \
     "--access-logfile", "-"]

# /healthz answers 200 when PostgreSQL and Redis answer (503 otherwise; urlopen then raises). Django rejects a
# Host header not in ALLOWED_HOSTS with 400, so the probe sends the first allowed host rather than 127.0.0.1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); h = h if h not in ('', '*') else 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=4)"]
