# Sourced by ./mvnw and ./hvlab: finds a JDK 25 or newer without any hand set-up.
# Order: $JAVA_HOME if it is new enough, then the JDKs installed under /usr/lib/jvm.
hvlab_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
hvlab_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(hvlab_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      echo "$candidate"
      return 0
    fi
  done
  echo "hvlab needs a JDK 25 or newer: none in \$JAVA_HOME or /usr/lib/jvm" >&2
  return 1
}
