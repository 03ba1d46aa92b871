#!/usr/bin/env bash
# Score a batch of dev questions as it was scored while still unseen: index the FAQ with a given
# not-covered list, calibrate on the dev questions written before the batch, evaluate the batch.
#
#   scripts/next_batch.sh NOT_COVERED_FILE DEV_LINES FIRST_LINE LAST_LINE [MAX_WRONG_RATE]
#
# e.g. batch D (dev lines 626-812) after calibrating on lines 1-625; docs/quality.md.
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,6p' "$0" >&2
  exit 2
fi
nc=$1 dev=$2 first=$3 last=$4 cap=${5:-0.02}
bin=${BIN:-.venv/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp corpus/okpay_faq.zh.md "$work/corpus/"
cp "$nc" "$work/corpus/not_covered.escalate.txt"
head -n "$dev" tests/data/dev.jsonl > "$work/dev.jsonl"
sed -n "${first},${last}p" tests/data/dev.jsonl > "$work/batch.jsonl"
"$bin/qa-service" index --corpus "$work/corpus" --index-dir "$work/index" > /dev/null
"$bin/qa-service" calibrate --questions "$work/dev.jsonl" --index-dir "$work/index" \
  --max-wrong-rate "$cap" --out "$work/calibration.json" > /dev/null
QA_CALIBRATION_FILE="$work/calibration.json" "$bin/qa-service" eval \
  --questions "$work/batch.jsonl" --index-dir "$work/index" --out "${OUT:-out/next-batch}" --no-plots
grep -E "^\| (decision accuracy|wrong answers|coverage) " "${OUT:-out/next-batch}/report.md"
