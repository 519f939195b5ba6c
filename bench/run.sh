#!/usr/bin/env bash
# The proxy comparison of BENCHMARKS.md in one command: the fake upstream directly, nginx, Portkey, Tollgate with
# everything on, Tollgate with Kafka down; small requests and SSE streams. Prints a Markdown report and writes it to
# bench/results/latest.md. Options: --seconds 10 --stream-seconds 15 --streams 1000,5000 --concurrency 64
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
if ! [ -x /usr/sbin/nginx ]; then
  echo "installing nginx from Debian's packages (the nginx row)" >&2
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null 2>&1 || sudo -n apt-get install -y -q nginx-light >/dev/null 2>&1) \
    || echo "nginx unavailable: its row is left out" >&2
fi
PORTKEY=bench/.portkey/node_modules/@portkey-ai/gateway/build/start-server.js
if ! [ -f "$PORTKEY" ]; then
  echo "installing the Portkey gateway from npm (the Portkey row)" >&2
  mkdir -p bench/.portkey
  printf '%s\n' '{"name": "tollgate-bench-portkey", "private": true, "dependencies": {"@portkey-ai/gateway": "1.15.2"}}' \
    > bench/.portkey/package.json
  (cd bench/.portkey && npm install --no-audit --no-fund --silent >/dev/null 2>&1) \
    || echo "Portkey unavailable: its row is left out" >&2
fi
./mvnw -q -B -ntp -pl bench -am install -DskipTests
exec "$JAVA_HOME/bin/java" -Xmx3g --enable-native-access=ALL-UNNAMED -Dlogback.configurationFile=bench/logback-bench.xml \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" dev.tollgate.bench.ComparisonBench "$@"
