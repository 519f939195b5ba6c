#!/usr/bin/env bash
# Small requests at line rate with a harness that is not the bottleneck (issue #17): wrk and a canned nginx model
# server (and the Kafka node) pinned to one core, the proxy under test (nginx, Tollgate) alone on the other; prints
# the proxy's CPU per request beside the harness's. Writes bench/results/line-rate.md.
# Options: --seconds 10 --warm-up-seconds 60 --connections 32 --harness-core 0 --proxy-core 1 [--event-loops N]
#          [--gateway-jfr /tmp/gw.jfr]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_packages wrk=wrk /usr/sbin/nginx=nginx-light
./mvnw -q -B -ntp -pl bench -am install -DskipTests -Dfuzz.skip=true
exec "$JAVA_HOME/bin/java" -Xmx1g --enable-native-access=ALL-UNNAMED -Dlogback.configurationFile=bench/logback-bench.xml \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" dev.tollgate.bench.LineRateBench "$@"
