# sentd: one image for the API (`sentd serve`), the workers (`sentd worker`) and the one-shot
# commands (`sentd migrate`, `sentd init`, ...). See docs/deployment.md.
#
#   docker build -t sentd .
#   docker run --rm -p 8000:8000 -e SENTD_DATABASE_URL=postgresql://... sentd
#
# Untested: it was written on a machine without a Docker engine (see docs/deployment.md).

# --- build: install sentd and its pinned dependencies into a virtual environment ---------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/sentd
WORKDIR /src
# Only what the package build reads (.dockerignore keeps the rest out of the context).
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/sentd/bin/pip install .

# --- runtime -------------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PATH=/opt/sentd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SENTD_DATA_DIR=/var/lib/sentd \
    SENTD_PORT=8000

# PostgreSQL refuses to run as root, and nothing here needs root: run as an unprivileged user.
# /var/lib/sentd holds the embedded PostgreSQL when no SENTD_DATABASE_URL is given; mount a
# volume there to keep it (`-v sentd-data:/var/lib/sentd`).
RUN groupadd --system --gid 10001 sentd \
    && useradd --system --uid 10001 --gid sentd --create-home --home-dir /home/sentd sentd \
    && install -d -o sentd -g sentd -m 0700 /var/lib/sentd

COPY --from=build /opt/sentd /opt/sentd

USER sentd
WORKDIR /home/sentd
EXPOSE 8000

# Ready = the process answers and reaches its database. Only meaningful for `serve` (a worker
# container has no HTTP: compose.yaml gives it `sentd worker-health` instead). The port is SENTD_PORT, so a
# container started with `serve --port N` should also set SENTD_PORT=N.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('SENTD_PORT', '8000')}/health/ready\", timeout=4)"]

ENTRYPOINT ["sentd"]
# The API and the worker loops in one process, so a lone `docker run` also dispatches messages and
# delivers webhooks; compose.yaml splits them (`serve --no-worker` plus `worker` containers).
CMD ["serve", "--host", "0.0.0.0"]
