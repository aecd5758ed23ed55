# Partnerbot's container image: a slim Python base, the app installed as a non-root user, `partnerbot` as the
# entry point. One image for every role: `run --role web`, `run --role worker`, `run` (both), `db upgrade`.
#   docker build -t partnerbot .
#   docker run --rm -e DATABASE_URL=... -v "$PWD/config:/config:ro" partnerbot db upgrade
# deploy/compose.yaml runs PostgreSQL, one web and two workers; docs/deploy.md explains the rest.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PARTNERBOT_CONFIG=/config \
    PARTNERBOT_LOG_FORMAT=json \
    PORT=3978

RUN useradd --create-home --home-dir /home/partnerbot --uid 10001 --shell /usr/sbin/nologin partnerbot
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir bot && touch bot/__init__.py && pip install . && pip uninstall -y partnerbot && rm -rf bot build

# The migrations and the built-in templates live beside the package (migrations/, templates/), so the package is
# installed in place (editable) from /app rather than copied into site-packages without them.
COPY bot ./bot
COPY migrations ./migrations
COPY templates ./templates
COPY config ./config-example
RUN pip install --no-deps -e . && chown -R root:root /app && chmod -R a+rX /app

USER partnerbot
EXPOSE 3978
# Liveness for `docker run`; orchestrators should probe /readyz for readiness (docs/deploy.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3978\")}/healthz', timeout=4)"]
ENTRYPOINT ["partnerbot"]
CMD ["run"]
