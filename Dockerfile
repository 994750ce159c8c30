# model_builder in a container: train, evaluate and score homes, alone or as a
# Dask scheduler/worker (see compose.yaml). The integration is not needed here;
# only its engine, bundled model and keys are copied in.
FROM python:3.13.9-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KILOWISE_DATA=/data

RUN groupadd --system --gid 10001 kilowise \
    && useradd --system --uid 10001 --gid kilowise --home-dir /app --shell /usr/sbin/nologin kilowise \
    && mkdir /reports \
    && chown kilowise:kilowise /reports

WORKDIR /app

COPY requirements/container.txt requirements/container.txt
# Every package is pinned in container.txt (compiled from container.in).
RUN pip install --no-cache-dir --no-deps -r requirements/container.txt

COPY custom_components/__init__.py custom_components/__init__.py
COPY custom_components/kilowise/engine custom_components/kilowise/engine
COPY custom_components/kilowise/models custom_components/kilowise/models
COPY custom_components/kilowise/keys custom_components/kilowise/keys
COPY model_builder model_builder

USER 10001:10001

ENTRYPOINT ["python", "-m", "model_builder"]
CMD ["--help"]
