# Shared by the benchmark scripts (sourced): the machine's JDK when JAVA_HOME is unset, and Debian packages on demand.

if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi

# need_packages COMMAND=PACKAGE... : installs each Debian package whose command is missing (as root, or through sudo).
need_packages() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
      || sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
}

# projector_bench CLASS ARGS PATTERN : runs a benchmark main class of billing-projector's test sources (compiled with what it
# needs) and prints the lines of its output that match PATTERN.
projector_bench() {
  export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED -Xmx3g"
  ./mvnw -q -pl billing-projector -am -DskipTests test-compile exec:java -Pbench -Dexec.classpathScope=test \
    -Dexec.mainClass="dev.tollgate.projector.bench.$1" -Dexec.args="$2" 2>&1 \
    | grep -vE '^(WARNING|SLF4J)' | grep -E "$3" || true
}
