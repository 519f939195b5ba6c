#!/usr/bin/env bash
# Benchmark: usage events/s through the billing projector (Kafka Streams, exactly-once v2) and into
# PostgreSQL (invoice writer), in-JVM Kafka and the local PostgreSQL on 127.0.0.1:5432. Prints the totals including
# start-up, then the steady rate of the projector and of the invoice writer between 10 % and 90 % of the events with
# the CPU per event of this JVM (broker, projector, writer) and of PostgreSQL's processes in that window (issue #24).
# Usage: bench/projector-throughput.sh [events] [tenants]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
projector_bench ProjectorThroughputBenchmark "${1:-200000} ${2:-20}" "loaded|events/s|ERROR|Exception"
