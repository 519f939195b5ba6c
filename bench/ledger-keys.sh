#!/usr/bin/env bash
# Benchmark: API key issuance and rotation over HTTP against a running ledger (PostgreSQL event
# store on 127.0.0.1:5432, in-JVM Kafka). Usage: bench/ledger-keys.sh [requests] [concurrency] [tenants]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED -Xmx2g"
./mvnw -q -pl ledger -am -DskipTests test-compile exec:java -Pbench -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.tollgate.ledger.bench.KeyIssuanceBenchmark -Dexec.args="${1:-2000} ${2:-16} ${3:-1}" 2>&1 \
  | grep -vE '^(WARNING|SLF4J)' | grep -E "requests, concurrency|tenant|ERROR|Exception" || true
