#!/usr/bin/env bash
# Concurrent SSE streams with a harness that is not the bottleneck (issue #17): this load generator (one JVM, one
# event loop), the fake model servers and the Kafka node pinned to one core; the proxy under test (nginx, Tollgate)
# alone on the other. Prints CPU per token of the proxy and of the harness, TTFT and inter-token latency added over
# direct, each token's delivery latency (the model server stamps its monotonic clock into every content chunk) with
# the 100 ms windows in which tokens came late, and Tollgate's live heap and RSS per 1,000 streams. Each row is one
# continuous load: warm-up, then the measured window, with nothing stopped or started between them.
# Writes bench/results/streams.md.
# 9,000 rather than 10,000 streams by default: a proxy holds two sockets per stream, and this machine's hard limit of
# open files per process is 20,000 (raising it needs CAP_SYS_RESOURCE, which its container does not have).
# Options: --streams 1000,5000,9000 --seconds 30 --warm-up-seconds 60 --max-warm-up-seconds 300 --tokens 64 --token-rate 15000
#          [--targets direct,nginx,tollgate] [--gateway-env K=V,K=V] [--gateway-gc "-XX:+UseG1GC"]
#          --harness-core 0 --proxy-core 1 [--event-loops N] [--gateway-jfr /tmp/gw.jfr] [--gateway-java-options "-agentpath:..."]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_packages /usr/sbin/nginx=nginx-light
harness_core=0
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--harness-core" ]; then harness_core="${args[$((i + 1))]}"; fi
done
./mvnw -q -B -ntp -pl bench -am install -DskipTests -Dfuzz.skip=true
exec taskset -c "$harness_core" "$JAVA_HOME/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED \
  -Dlogback.configurationFile=bench/logback-bench.xml \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" dev.tollgate.bench.StreamsBench "$@"
