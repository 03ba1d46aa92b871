# qa-service: one replica. The OKPAY index is built into the image; mount another index
# directory at /srv/index (and set QA_INDEX_DIR) to serve a different corpus.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY qa_service ./qa_service
COPY corpus ./corpus
COPY tests/data/dev.jsonl ./tests/data/dev.jsonl
RUN pip install ".[postgres]" \
 && useradd --system --uid 10001 --home-dir /srv qa \
 && mkdir -p /srv/index /srv/data && chown -R qa /srv

USER qa
# The escalation fit uses the labelled OKPAY dev questions, as `make index` does.
RUN qa-service index --corpus corpus --index-dir /srv/index --questions tests/data/dev.jsonl

ENV QA_INDEX_DIR=/srv/index QA_DATA_DIR=/srv/data QA_HOST=0.0.0.0 QA_PORT=8000
EXPOSE 8000
# /readyz is 200 only once the index is loaded and warm; a load balancer polls the same.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
CMD ["qa-service", "serve", "--workers", "2"]
