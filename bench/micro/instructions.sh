#!/usr/bin/env bash
# Instructions per request of one client of bench/micro/fetch-instructions.mjs, counted by valgrind
# (callgrind) rather than timed, and split into garbage collection, compilation and the rest (the
# "mutator": JavaScript and the runtime calls it makes). The client runs twice, for LO and HI
# requests, and the difference is divided by HI - LO, so start-up and warm-up cancel.
#   bench/micro/instructions.sh [--node=/path/to/node] <client> [LO=5000] [HI=15000]
# Prints: <client> <node version> total <n> gc <n> compile <n> mutator <n>
# The mutator count repeats to about 2% between runs; the GC count moves by about 10%, because a
# full collection falls into one run or the other. Needs valgrind and python3.
set -euo pipefail
NODE=node
if [[ "${1:-}" == --node=* ]]; then
  NODE="${1#--node=}"
  shift
fi
CLIENT="${1:?usage: bench/micro/instructions.sh [--node=path] <client> [LO] [HI]}"
LO="${2:-5000}"
HI="${3:-15000}"
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

# Prints "<total> <gc> <compile>" instructions of one run of `requests` requests.
count() {
  local out
  out="$(mktemp /tmp/trellis-callgrind.XXXXXX)"
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$out" \
    "$NODE" --single-threaded bench/micro/fetch-instructions.mjs "$CLIENT" "$1" >/dev/null 2>&1
  callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | python3 -c '
import re, sys
total = gc = compile = 0
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
    if not m:
        continue
    n, name = int(m.group(1).replace(",", "")), m.group(2)
    if "PROGRAM TOTALS" in name:
        total = n
    elif "\x27" in name:
        continue  # a recursive entry (its name ends in a quote mark and a depth): counted in the outer one
    elif "v8::internal::Heap::CollectGarbage(" in name:
        gc += n
    elif re.search(r"v8::internal::Runtime_Compile\w*\(|v8::ScriptCompiler::Compile\w*\(", name):
        compile += n
print(total, gc, compile)'
  rm -f "$out"
}

read -r lo_total lo_gc lo_compile <<<"$(count "$LO")"
read -r hi_total hi_gc hi_compile <<<"$(count "$HI")"
n=$((HI - LO))
total=$(((hi_total - lo_total) / n))
gc=$(((hi_gc - lo_gc) / n))
compile=$(((hi_compile - lo_compile) / n))
echo "$CLIENT $("$NODE" --version) total $total gc $gc compile $compile mutator $((total - gc - compile))"
