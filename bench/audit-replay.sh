#!/usr/bin/env bash
# Benchmark: the audit replay rate (events/s) from the in-JVM Kafka and from an export file.
# Usage: bench/audit-replay.sh [events]   (default 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED -Xmx3g"
./mvnw -q -B -ntp -pl audit -am -DskipTests install
./mvnw -q -pl audit test-compile exec:java -Pbench -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.tollgate.audit.bench.ReplayBenchmark -Dexec.args="${1:-1000000}" 2>&1 \
  | grep -vE '^(WARNING|SLF4J)' | grep -E "loaded|events/s|export size|ERROR|Exception" || true
