#!/usr/bin/env bash
# JMH benchmarks of the gateway's hot paths (key verification, SSE scanning and token counting, usage event
# serialization, the quota check). Extra arguments go to JMH, e.g. bench/jmh.sh -wi 5 -i 10 keyVerification
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
./mvnw -q -B -ntp -pl bench -am install -DskipTests
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dlogback.configurationFile=bench/logback-bench.xml \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" org.openjdk.jmh.Main "$@"
