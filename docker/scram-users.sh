#!/usr/bin/env bash
# SCRAM-SHA-256 users for a secured workshop: one per team and one for the server, each
# with a generated password kept in SECRETS_DIR (one file per user, made once: a restart
# keeps the class's passwords). Writes SECRETS_DIR/streamsocial.json, the server's
# --config file with its SASL settings, and SECRETS_DIR/teams.csv for the instructor.
#
#   docker/scram-users.sh BOOTSTRAP SERVER_USER TEAM...
#
# DRY_RUN=1 prints the kafka-configs commands (passwords shown as ****).
set -euo pipefail
bootstrap="${1:?usage: scram-users.sh BOOTSTRAP SERVER_USER TEAM...}"
server="${2:?the server user name}"
shift 2
secrets="${SECRETS_DIR:-/secrets}"
kafka_configs="${KAFKA_BIN:-/opt/kafka/bin}/kafka-configs.sh"
mkdir -p "$secrets"
umask 077

password_of() {
  local file="$secrets/$1.password"
  if [ ! -s "$file" ]; then
    # 20 characters from the kernel's random pool, letters and digits only.
    # (tr ends on SIGPIPE once head has its 20: not a failure.)
    (LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom || true) | head -c 20 > "$file"
  fi
  cat "$file"
}

add_user() {
  local user="$1" password
  password="$(password_of "$user")"
  if [ -n "${DRY_RUN:-}" ]; then
    echo "$kafka_configs --bootstrap-server $bootstrap --alter --entity-type users --entity-name $user --add-config SCRAM-SHA-256=[iterations=8192,password=****]"
  else
    "$kafka_configs" --bootstrap-server "$bootstrap" --alter --entity-type users --entity-name "$user" \
      --add-config "SCRAM-SHA-256=[iterations=8192,password=$password]"
  fi
}

echo "team,username,password" > "$secrets/teams.csv"
for team in "$@"; do
  add_user "$team"
  echo "$team,$team,$(password_of "$team")" >> "$secrets/teams.csv"
done
add_user "$server"
# The server reads these files where Compose mounts this folder (CONFIG_DIR, /config).
cat > "$secrets/streamsocial.json" <<JSON
{"kafka-config": {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
                  "sasl.username": "$server", "sasl.password": "$(password_of "$server")"},
 "team-credentials": "${CONFIG_DIR:-/config}/teams.csv"}
JSON
# The server's image runs as uid 10001 (docker/Dockerfile): only it reads its password
# and the teams' (the join page shows a team its own behind the instructor's token).
if [ -z "${DRY_RUN:-}" ] && [ "$(id -u)" = 0 ]; then chown 10001:10001 "$secrets/streamsocial.json" "$secrets/teams.csv"; fi
