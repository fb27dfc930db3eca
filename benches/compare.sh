#!/usr/bin/env bash
# Compares microsim's speed on the reference queueing models M1-M3 (docs/semantics.md,
# "Reference models M1-M3") with a hand-written event loop of the same models
# (benches/handloop/, the floor), measured in the same run on this machine, and checks that
# microsim's memory stays flat as simulated time grows. Runs from a clone alone.
#
# Usage: benches/compare.sh [--reps N] [--models m1,m2,m3] [--nexosim] [--shelf-loop] [--no-rss] [--keep DIR]
#   --reps N      repetitions of every measurement (default 3; the table shows medians)
#   --models L    which models (default m1,m2,m3)
#   --nexosim     optional: also run NeXosim's version of the models, built from
#                 ../shared/perf-reference/rust/nexosim-models (1 thread); only where that
#                 reference folder exists next to the repository
#   --shelf-loop  optional: also run the hand loop of ../shared/perf-reference/rust/handloop
#                 (to compare the two floors); only where that folder exists
#   --no-rss      skip the peak-RSS checks
#   --keep DIR    keep raw outputs in DIR (default: a temporary directory, removed at the end)
#
# What is measured, per model (M1: M/M/1 at rho = 0.8, 1,000,000 customers; M2: five M/M/4 in
# tandem, 200,000; M3: the 20-station Jackson network of topologies/m3.ron, 200,000):
#   * handloop  `handloop MODEL N SEED topologies/m3.ron`: customers/s = N / sim_s, where sim_s
#               is its in-process time of the run. It also prints its mean sojourn, checked
#               here against the analytic 5 / 19.001 / 54.902 ms.
#   * microsim  `microsim run topologies/{mm1,m2,m3}.ron --duration D --warmup 0s --seed SEED`
#               with D = N / lambda (1250 s at 800/s for M1, 200 s at 1000/s for M2 and M3),
#               with histograms and time series on, as always. customers/s = offered / wall,
#               where offered (summed over entry points) comes from the report and wall is the
#               in-process time of `Model::run` (from the CLI footer "N events in X s wall
#               time (Y M events/s)", taken as N / Y for its extra digits). M2 and M3 are
#               work-queue networks in microsim: clients send each customer to its first
#               queue, and every station visit is a message sent, received, processed as a
#               request, acked.
#   * peak RSS  `/usr/bin/time -v microsim run topologies/mm1.ron --duration 1m` vs `60m`.
# Runs are made one at a time, repetition loop outermost, seeds 12345 + rep.
# The box has 2 cores: don't run anything heavy meanwhile, or the numbers will be noisy.
#
# The hand loop is its own small package (benches/handloop/, with its own lock file), built
# into target/handloop/. The optional tools are built where they live, into
# target/perf-reference/ of this repository (the reference folder itself may be read-only).
set -euo pipefail

REPS=3
MODELS="m1,m2,m3"
NEXOSIM=0
SHELF=0
RSS=1
KEEP=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) REPS="$2"; shift 2 ;;
        --models) MODELS="$2"; shift 2 ;;
        --nexosim) NEXOSIM=1; shift ;;
        --shelf-loop) SHELF=1; shift ;;
        --no-rss) RSS=0; shift ;;
        --keep) KEEP="$2"; shift 2 ;;
        -h|--help) sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REF="$ROOT/../shared/perf-reference"
REF_TARGET="$ROOT/target/perf-reference"
# model → "customers duration topology" (duration = customers / arrival rate)
declare -A SPEC=(
    [m1]="1000000 1250s mm1.ron"
    [m2]="200000 200s m2.ron"
    [m3]="200000 200s m3.ron"
)
if [[ -n "$KEEP" ]]; then
    OUT="$KEEP"; mkdir -p "$OUT"
else
    OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT
fi
if [[ $NEXOSIM == 1 || $SHELF == 1 ]] && [[ ! -d "$REF/rust" ]]; then
    echo "--nexosim and --shelf-loop need $REF (not found); run without them" >&2
    exit 1
fi

# ---- build ----------------------------------------------------------------------------------
echo "== building (release)"
(cd "$ROOT" && cargo build --release --quiet)
MICROSIM="$ROOT/target/release/microsim"
(cd "$ROOT/benches/handloop" && cargo build --release --locked --quiet --target-dir "$ROOT/target/handloop")
HANDLOOP="$ROOT/target/handloop/release/handloop"
M3_RON="$ROOT/topologies/m3.ron"
if [[ $NEXOSIM == 1 ]]; then
    (cd "$REF/rust/nexosim-models" && cargo build --release --locked --quiet --target-dir "$REF_TARGET")
    NEXO="$REF_TARGET/release/nexosim-models"
fi
if [[ $SHELF == 1 ]]; then
    (cd "$REF/rust/handloop" && cargo build --release --locked --quiet --target-dir "$REF_TARGET")
    SHELF_LOOP="$REF_TARGET/release/handloop"
fi

# ---- one measurement each; every run appends "model tool rep customers events seconds
# [mean sojourn ms]" to raw.txt ----------------------------------------------------------------
RAW="$OUT/raw.txt"
: > "$RAW"

# RESULT tool=... model=... n=... events=... sim_s=... mean_sojourn=... → "n events sim_s ms"
result_fields() {
    sed -n 's/^RESULT .* n=\([0-9]*\) events=\([0-9]*\) sim_s=\([0-9.]*\) mean_sojourn=\([0-9.]*\).*/\1 \2 \3 \4/p'
}

run_refloop() { # tool binary model seed [extra args]
    local tool="$1" bin="$2" model="$3" seed="$4"; shift 4
    local n line
    read -r n _ _ <<< "${SPEC[$model]}"
    line="$("$bin" "$model" "$n" "$seed" "$@" | result_fields)"
    [[ -n "$line" ]] || { echo "$tool printed no RESULT line" >&2; exit 1; }
    echo "$model $tool $rep $line" >> "$RAW"
    read -r n ev s ms <<< "$line"
    printf '  %-3s %-9s rep %d: %d customers, %d events in %.3f s, mean sojourn %.3f ms\n' "$model" "$tool" "$rep" "$n" "$ev" "$s" "$ms"
}

run_microsim() { # model seed
    local model="$1" seed="$2" dir="$OUT/microsim-$1-$2"
    local duration file
    read -r _ duration file <<< "${SPEC[$model]}"
    "$MICROSIM" run "$ROOT/topologies/$file" --duration "$duration" --warmup 0s \
        --seed "$seed" --json > "$dir.json" 2> /dev/null
    "$MICROSIM" run "$ROOT/topologies/$file" --duration "$duration" --warmup 0s \
        --seed "$seed" > "$dir.txt" 2>&1 # the footer is on standard error
    local offered footer ev mev
    # Customers: the arrivals of every entry point (m3 has one per station).
    offered="$(grep '"offered"' "$dir.json" | tr -dc '0-9\n' | awk '{ s += $1 } END { print s }')"
    footer="$(grep -E '^[0-9]+ events in [0-9.]+ s wall time' "$dir.txt")"
    ev="$(sed -E 's/^([0-9]+) events.*/\1/' <<< "$footer")"
    mev="$(sed -E 's/.*\(([0-9.]+) M events\/s\).*/\1/' <<< "$footer")"
    local s
    s="$(awk -v e="$ev" -v m="$mev" 'BEGIN { printf "%.6f", e / (m * 1e6) }')"
    echo "$model microsim $rep $offered $ev $s" >> "$RAW"
    printf '  %-3s %-9s rep %d: %d customers, %d events in %.3f s\n' "$model" microsim "$rep" "$offered" "$ev" "$s"
}

IFS=',' read -r -a MODEL_LIST <<< "$MODELS"
for model in "${MODEL_LIST[@]}"; do
    [[ -n "${SPEC[$model]:-}" ]] || { echo "unknown model: $model (m1, m2 or m3)" >&2; exit 2; }
done
echo "== models ${MODELS}, $REPS repetitions (seeds 12345 + rep)"
for ((rep = 0; rep < REPS; rep++)); do
    seed=$((12345 + rep))
    for model in "${MODEL_LIST[@]}"; do
        run_refloop handloop "$HANDLOOP" "$model" "$seed" "$M3_RON"
        run_microsim "$model" "$seed"
        if [[ $NEXOSIM == 1 ]]; then run_refloop nexosim "$NEXO" "$model" "$seed" 1; fi
        if [[ $SHELF == 1 ]]; then run_refloop shelfloop "$SHELF_LOOP" "$model" "$seed"; fi
    done
done

# ---- table ------------------------------------------------------------------------------------
echo
awk '
    function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function human(x) { return x >= 1e6 ? sprintf("%.2f M", x / 1e6) : sprintf("%.1f k", x / 1e3) }
    {
        key = $1 " " $2; k = ++cnt[key]
        if (k == 1) order[++nkeys] = key
        cps[key, k] = $4 / $6; eps[key, k] = $5 / $6; secs[key, k] = $6; ncust[key] = $4
        if (NF >= 7) { soj[key] += $7; nsoj[key]++ }
    }
    END {
        for (t = 1; t <= nkeys; t++) {
            key = order[t]; n = cnt[key]
            for (k = 1; k <= n; k++) { a[k] = cps[key, k] } ; mc[key] = median(a, n)
            for (k = 1; k <= n; k++) { a[k] = eps[key, k] } ; me[key] = median(a, n)
            for (k = 1; k <= n; k++) { a[k] = secs[key, k] } ; ms[key] = median(a, n)
        }
        printf "| %-5s | %-9s | %9s | %17s | %14s | %11s | %15s |\n", "model", "tool", "N per run", "customers/s (med)", "events/s (med)", "run s (med)", "handloop / tool"
        printf "|%s|%s|%s|%s|%s|%s|%s|\n", "-------", "-----------", "----------:", "------------------:", "---------------:", "------------:", "----------------:"
        for (t = 1; t <= nkeys; t++) {
            key = order[t]; split(key, kt, " ")
            printf "| %-5s | %-9s | %9d | %17s | %14s | %11.3f | %14.2fx |\n", kt[1], kt[2], ncust[key], human(mc[key]), human(me[key]), ms[key], mc[kt[1] " handloop"] / mc[key]
        }
        printf "\n(events are each tool'"'"'s own count: microsim counts every scheduled event it processes)\n"
        analytic["m1"] = 5.0; analytic["m2"] = 19.001; analytic["m3"] = 54.902
        for (t = 1; t <= nkeys; t++) {
            key = order[t]; split(key, kt, " ")
            if (!nsoj[key]) continue
            m = soj[key] / nsoj[key]
            printf "mean sojourn %s %s: %.3f ms over %d runs (analytic %.3f ms, %+.2f%%)\n", kt[1], kt[2], m, nsoj[key], analytic[kt[1]], 100 * (m / analytic[kt[1]] - 1)
        }
        for (t = 1; t <= nkeys; t++) {
            key = order[t]; split(key, kt, " ")
            if (kt[2] != "microsim") continue
            r = mc[kt[1] " handloop"] / mc[key]
            line = sprintf("target %s: handloop / microsim <= 4: %s (%.2fx)", kt[1], (r <= 4 ? "MET" : "MISSED"), r)
            if (kt[1] == "m1") line = line sprintf("; microsim >= 5 M requests/s: %s (%.2f M)", (mc[key] >= 5e6 ? "MET" : "MISSED"), mc[key] / 1e6)
            print line
        }
    }
' "$RAW"

# ---- peak RSS -------------------------------------------------------------------------------
if [[ $RSS == 1 ]]; then
    echo
    if [[ ! -x /usr/bin/time ]]; then
        echo "peak RSS skipped: /usr/bin/time (GNU time) is missing; install it with: apt-get install -y time"
    else
        echo "== peak RSS of microsim on mm1.ron (GNU time -v, max over $REPS runs)"
        printf '| %-13s | %10s | %13s | %12s |\n' "simulated" "requests" "peak RSS (MB)" "process s"
        printf '|%s|%s|%s|%s|\n' "---------------" "-----------:" "--------------:" "-------------:"
        for d in 1m 60m; do
            max_kb=0 wall=""
            for ((rep = 0; rep < REPS; rep++)); do
                log="$OUT/rss-$d-$rep.txt"
                /usr/bin/time -v "$MICROSIM" run "$ROOT/topologies/mm1.ron" --duration "$d" \
                    --seed $((12345 + rep)) --json > "$OUT/rss-$d-$rep.json" 2> "$log"
                kb="$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$log")"
                ((kb > max_kb)) && max_kb=$kb
                wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$log")"
            done
            offered="$(grep -m1 '"offered"' "$OUT/rss-$d-0.json" | tr -dc '0-9')"
            printf '| %-13s | %10d | %13.1f | %12s |\n' "$d" "$offered" "$(awk -v k="$max_kb" 'BEGIN { print k / 1024 }')" "$wall"
        done
        echo "(requests = offered after mm1.ron's 10 s warm-up; process s = the last run's elapsed time)"
    fi
fi
# ---- a 100,000 messages/s topic: memory flat with bounded lag, compact with a growing backlog -
if [[ $RSS == 1 && -x /usr/bin/time ]]; then
    echo
    echo "== peak RSS of a 100,000 messages/s topic (16 partitions; the same model as benches/engine.rs)"
    firehose() { # file [outage-from outage-to]
        local faults=""
        [[ $# -eq 3 ]] && faults="faults: [(at: \"$2s\", lasts: \"$(($3 - $2))s\", fault: Crash(service: \"indexer\"))],"
        cat > "$1" <<RON
Topology(
    name: "firehose",
    workload: [(name: "events", entry: "ingest", arrivals: Poisson(per_second: 100000))],
    services: {
        "ingest": (workers: 64, steps: [Publish(topic: "events")]),
        "indexer": (replicas: 16, workers: 1, work: Exp(mean: "100us")),
    },
    topics: { "events": (partitions: 16, subscribers: [(service: "indexer", consumers: 16)]) },
    $faults
)
RON
    }
    firehose "$OUT/firehose.ron"
    firehose "$OUT/firehose-backlog.ron" 5 60
    printf '| %-34s | %10s | %10s | %13s | %9s |\n' "run" "messages" "final lag" "peak RSS (MB)" "process s"
    printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "-----------:" "-----------:" "--------------:" "----------:"
    for run in "firehose.ron 10s" "firehose.ron 60s" "firehose-backlog.ron 60s"; do
        read -r file d <<< "$run"
        log="$OUT/rss-$file-$d.txt"
        /usr/bin/time -v "$MICROSIM" run "$OUT/$file" --duration "$d" --json > "$OUT/rss-$file-$d.json" 2> "$log"
        kb="$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$log")"
        wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$log")"
        produced="$(grep -m1 '"produced"' "$OUT/rss-$file-$d.json" | tr -dc '0-9')"
        lag="$(grep -m1 '"lag"' "$OUT/rss-$file-$d.json" | tr -dc '0-9')"
        printf '| %-34s | %10d | %10d | %13.1f | %9s |\n' "$file $d" "$produced" "$lag" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$wall"
    done
    echo "(firehose-backlog: consumers down from 5 s to the end, so the backlog grows to ~5.5 M messages)"
fi
[[ -n "$KEEP" ]] && echo "raw outputs kept in $OUT"
exit 0
