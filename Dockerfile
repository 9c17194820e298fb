# syntax=docker/dockerfile:1
# The production image. One image for the three processes; docker-compose.yml picks the command:
#   web     gunicorn hansken_governance.wsgi (the default command below)
#   worker  celery -A hansken_governance worker
#   beat    celery -A hansken_governance beat
# Settings come from the environment (README.md lists them); nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The settings find templates/, static/ and locale/ next to the code, so the code runs from
    # /app; this puts /app before the installed copy in site-packages.
    PYTHONPATH=/app \
    HG_DATA_DIR=/app/data \
    DJANGO_SETTINGS_MODULE=hansken_governance.settings.production \
    # gunicorn's worker count (sync workers; see FIELD_NOTES.md for why sync).
    WEB_CONCURRENCY=2

# A fixed, unprivileged user: the processes never run as root.
RUN groupadd --system --gid 10001 hansken \
    && useradd --system --uid 10001 --gid hansken --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin hansken

WORKDIR /app

# The pinned dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    # Static files are collected at build time, owned by root and read-only for the app. The values
    # below exist only for this one command (production settings refuse to load without them);
    # the real ones are given at run time.
    && DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
       DJANGO_ALLOWED_HOSTS=build.invalid \
       DATABASE_URL=sqlite:////tmp/build.sqlite3 \
       python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /tmp/build.sqlite3 \
    # Beat keeps its schedule here, web and worker the audit checkpoint file, and the web the uploaded
    # hash manifests (named volumes in docker-compose.yml; a new volume takes the owner and mode of
    # the directory it is mounted on). The app user owns them; the checkpoint file's directory is
    # closed to everyone else.
    && mkdir -p /app/data/beat /app/data/checkpoints /app/data/hashtotals \
    && chown hansken:hansken /app/data/beat /app/data/checkpoints /app/data/hashtotals \
    && chmod 0750 /app/data/checkpoints

USER hansken
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "tools.healthcheck", "web"]

CMD ["gunicorn", "hansken_governance.wsgi", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "sync", \
     "--no-control-socket", \
     "--access-logfile", "-"]
