#!/usr/bin/env bash
# Quick benchmark: the fake upstream directly vs through the gateway (auth + metering to Kafka on), for chat, the
# Responses API and the Messages API (whole and streamed), rerank, score and a 1 s transcription; same load, same run. Usage: bench/gateway-overhead.sh [requests] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED -Xmx2g"
./mvnw -q -pl gateway -am -DskipTests test-compile exec:java -Pbench -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.tollgate.gateway.bench.GatewayOverheadBenchmark -Dexec.args="${1:-20000} ${2:-32}" 2>&1 \
  | grep -vE '^(WARNING|SLF4J)' | grep -vE "^warm-up" | grep -E "requests, concurrency|gateway/direct|ERROR|Exception" || true
