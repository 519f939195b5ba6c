#!/usr/bin/env bash
# A multi-process Tollgate on loopback: three Kafka nodes (KRaft, separate JVMs), one ledger, two
# billing instances, two gateways and the fake upstream, with PostgreSQL on 127.0.0.1:5432.
# Usage: infra/local-cluster.sh [--smoke SECONDS] [--data-dir DIR]
#   --smoke 60: drive traffic, SIGKILL one broker, one gateway and one billing instance (each restarted
#               15 s later) and count by event id that no usage is lost; exit 1 if any is.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
./mvnw -q -B -ntp -pl devstack -am install -DskipTests
./mvnw -q -B -ntp -pl devstack dependency:build-classpath -Dmdep.outputFile=target/cluster-classpath.txt -Dmdep.includeScope=runtime
data="$(pwd)/.tollgate-cluster"
rm -rf "$data"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g \
  -cp "devstack/target/classes:$(cat devstack/target/cluster-classpath.txt)" dev.tollgate.devstack.LocalCluster --data-dir "$data" "$@"
