#!/usr/bin/env bash
# End-to-end latency: blocks from a task's creation to its completion with
# three operator sidecars at 1-second blocks. Runs the demo with N tasks
# (default 30) and prints p50/p99.
#   scripts/bench/e2e-latency.sh [N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AVS_DEMO_TASKS=${1:-30} exec "$ROOT/scripts/demo.sh"
