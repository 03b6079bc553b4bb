#!/usr/bin/env bash
# Side-by-side: yingbao's matcher vs Splink 5 on the same generated county.
#   benches/splink/compare.sh [N_EMPLOYERS]        (default 20000)
# Env: WORK=/tmp/splink_cmp_N (project dir), SPLINK_TIMEOUT=900 (s), THREADS=2,
#      SEED=7. Stops by itself: every step is bounded by `timeout`.
set -euo pipefail
N="${1:-20000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
WORK="${WORK:-/tmp/splink_cmp_$N}"
SPLINK_TIMEOUT="${SPLINK_TIMEOUT:-900}"
OURS_TIMEOUT="${OURS_TIMEOUT:-900}"
THREADS="${THREADS:-2}"
SEED="${SEED:-7}"
bin="$repo/target/release/yingbao"
py="$here/.venv/bin/python"

[ -x "$bin" ] || { echo "missing $bin: run 'cargo build --release' first" >&2; exit 1; }
timeout 600 "$here/setup.sh" >/dev/null
rm -rf "$WORK"
cfg="$WORK/config/yingbao.toml"
truth="$WORK/connectors/sample/truth/records.csv"

echo "== generate $N employers into $WORK" >&2
timeout 1800 "$bin" bench --employers "$N" --seed "$SEED" --keep "$WORK" >"$WORK.bench.log" 2>&1 \
  || { cat "$WORK.bench.log" >&2; exit 1; }
echo "== run + export observations" >&2
timeout 1800 "$bin" --config "$cfg" run >"$WORK/run.log" 2>&1 || { tail "$WORK/run.log" >&2; exit 1; }
timeout 600 "$bin" --config "$cfg" export observations --out "$WORK/obs.csv" >"$WORK/export.log" 2>&1 \
  || { cat "$WORK/export.log" >&2; exit 1; }
echo "   $(($(wc -l <"$WORK/obs.csv") - 1)) observations" >&2


echo "== yingbao resolve-csv" >&2
ours_status=ok
timeout "$OURS_TIMEOUT" /usr/bin/time -v -o "$WORK/ours.time" \
  "$bin" --config "$cfg" resolve-csv --observations "$WORK/obs.csv" --out "$WORK/ours.csv" \
  >"$WORK/ours.log" 2>&1 || ours_status="failed/timeout ($?)"
cat "$WORK/ours.log" >&2

echo "== splink (timeout ${SPLINK_TIMEOUT}s)" >&2
splink_status=ok
timeout "$SPLINK_TIMEOUT" /usr/bin/time -v -o "$WORK/splink.time" \
  "$py" "$here/splink_dedupe.py" --observations "$WORK/obs.csv" --out "$WORK/splink.csv" \
  --threads "$THREADS" >"$WORK/splink.log" 2>&1 || splink_status="failed/timeout ($?)"
grep -E '^(splink|loaded|u est|trained|predicted|clustered)' "$WORK/splink.log" >&2 || true

links=(); labels=()
[ "$ours_status" = ok ] && { links+=(--links "$WORK/ours.csv"); labels+=(--label yingbao); }
[ "$splink_status" = ok ] && { links+=(--links "$WORK/splink.csv"); labels+=(--label splink); }
if [ ${#links[@]} -gt 0 ]; then
  timeout 600 "$py" "$here/evaluate.py" --truth "$truth" "${links[@]}" "${labels[@]}" \
    --json "$WORK/scores.json" >"$WORK/scores.txt"
else
  echo '{}' >"$WORK/scores.json"
fi

echo
echo "N=$N employers, $(($(wc -l <"$WORK/obs.csv") - 1)) records, $(nproc) cores, DuckDB threads=$THREADS"
"$py" - "$WORK" "$ours_status" "$splink_status" <<'PY'
import json, sys, subprocess
work, st_ours, st_splink = sys.argv[1:4]
scores = json.load(open(f"{work}/scores.json"))
def tv(path):
    w = m = None
    try:
        for line in open(path):
            line = line.strip()
            if line.startswith("Elapsed (wall clock)"):
                v = line.rsplit(": ", 1)[1].split(":")
                w = 0.0
                for x in v: w = w * 60 + float(x)
            elif line.startswith("Maximum resident set size"):
                m = int(line.rsplit(": ", 1)[1]) / 1024
    except FileNotFoundError:
        pass
    return w, m
print("| tool | pair P | pair R | pair F1 | cluster F1 | wrong merges | wrong splits | clusters | wall s | peak MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label, tfile, st in (("yingbao", "ours.time", st_ours), ("splink", "splink.time", st_splink)):
    w, m = tv(f"{work}/{tfile}")
    ws = f"{w:.2f}" if w is not None else "-"
    ms = f"{m:.0f}" if m is not None else "-"
    s = scores.get(label)
    if s is None:
        print(f"| {label} ({st}) | - | - | - | - | - | - | - | {ws} | {ms} |")
    else:
        print(f"| {label} | {s['pair_precision']:.4f} | {s['pair_recall']:.4f} | {s['pair_f1']:.4f} | "
              f"{s['cluster_f1']:.4f} | {s['wrong_merges']} | {s['wrong_splits']} | "
              f"{s['predicted_clusters']} | {ws} | {ms} |")
t = next(iter(scores.values()), None)
if t:
    print(f"\ntruth: {t['true_employers']} employers, {t['records']} records, {t['true_pairs']} true pairs")
PY
