#!/usr/bin/env bash
# The scheduling benchmarks of BENCHMARKS.md (issue #23): noisy neighbour (FIFO vs fair queuing), priority
# classes, and prefix-aware routing against fake servers with simulated prefix caches.
# Usage: bench/scheduling.sh [seconds per noisy-neighbour row, default 60] [all|queue|prefix] [slots per server, default 4]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED -Xmx2g"
./mvnw -q -B -ntp -pl gateway -am install -DskipTests -Dfuzz.skip=true
./mvnw -q -B -ntp -pl gateway test-compile exec:java -Pbench -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.tollgate.gateway.bench.SchedulingBenchmark -Dexec.args="${1:-60} ${2:-all} ${3:-4}" 2>&1 \
  | grep -vE '^(WARNING|SLF4J)|^[0-9:. ]+(INFO|WARN|DEBUG)' || true
