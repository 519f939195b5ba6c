#!/usr/bin/env bash
# Benchmark: usage events/s through the billing projector (Kafka Streams, exactly-once v2) and into
# PostgreSQL (invoice writer), in-JVM Kafka and the local PostgreSQL on 127.0.0.1:5432. Prints the totals including
# start-up, then the steady rate of the projector and of the invoice writer between 10 % and 90 % of the events with
# the CPU per event of this JVM (broker, projector, writer) and of PostgreSQL's processes in that window (issue #24).
# Usage: bench/projector-throughput.sh [events] [tenants]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED -Xmx3g"
./mvnw -q -pl billing-projector -am -DskipTests test-compile exec:java -Pbench -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.tollgate.projector.bench.ProjectorThroughputBenchmark -Dexec.args="${1:-200000} ${2:-20}" 2>&1 \
  | grep -vE '^(WARNING|SLF4J)' | grep -E "loaded|events/s|ERROR|Exception" || true
