#!/usr/bin/env bash
# Benchmark: the quota loop's freshness (issue #24): from a usage event produced to usage.v1 to the quota state that
# counts it, read from quota.state.v1 as a gateway reads it; in-JVM Kafka, the billing service (projector with
# exactly-once v2, invoice writer) and the local PostgreSQL on 127.0.0.1:5432. Prints p50/p90/p99/p99.9/max.
# Usage: bench/quota-freshness.sh [events per second] [seconds] [tenants] [emit interval, ISO-8601, default PT0.5S]
#        [warm-up seconds, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
projector_bench QuotaFreshnessBenchmark "${1:-1000} ${2:-20} ${3:-20} ${4:-PT0.5S} ${5:-30}" "freshness|ERROR|Exception"
