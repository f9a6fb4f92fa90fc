#!/usr/bin/env bash
# The workshop's ACLs on a cluster with an authorizer: each team reads new_users, writes
# actions, team_stats and watchlist, and uses only its own consumer group (named after the
# team); the server's own user reads and writes what it needs. Nothing else is granted.
#
#   docker/kafka-acls.sh BOOTSTRAP SERVER_USER TEAM... [-- --command-config FILE]
#
# STATE_RECOVERY=1 also lets teams read team_stats and watchlist (the tutorial's bonus
# challenge rebuilds its counters from them). DRY_RUN=1 prints the commands instead of
# running them (the tests check them against the workshop file).
set -euo pipefail
bootstrap="${1:?usage: kafka-acls.sh BOOTSTRAP SERVER_USER TEAM... [-- EXTRA...]}"
server="${2:?the server user name}"
shift 2
teams=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do teams+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
extra=("$@")
kafka_acls="${KAFKA_BIN:-/opt/kafka/bin}/kafka-acls.sh"

grant() {  # principal operation resource-flags...
  local principal="$1" operation="$2"
  shift 2
  local command=("$kafka_acls" --bootstrap-server "$bootstrap" "${extra[@]}" --add --allow-principal "User:$principal" --operation "$operation" "$@")
  if [ -n "${DRY_RUN:-}" ]; then echo "${command[*]}"; else "${command[@]}"; fi
}

for team in "${teams[@]}"; do
  grant "$team" Read --topic new_users
  grant "$team" Describe --topic new_users
  for topic in actions team_stats watchlist; do
    grant "$team" Write --topic "$topic"
    grant "$team" Describe --topic "$topic"
  done
  if [ -n "${STATE_RECOVERY:-}" ]; then
    grant "$team" Read --topic team_stats
    grant "$team" Read --topic watchlist
  fi
  # Its own group only: another team's name is refused (GROUP_AUTHORIZATION_FAILED).
  grant "$team" Read --group "$team"
  grant "$team" Describe --group "$team"
done

# The server: reads every workshop topic and its own, and their settings (the topic check
# at start: cleanup policies), writes the generator's users, the posts and its snapshots,
# creates user-timeline when missing, describes the teams' groups (members, committed
# offsets: the board's instances and lag) and uses its own.
for topic in new_users actions team_stats watchlist leaderboard_state user-timeline; do
  grant "$server" Read --topic "$topic"
  grant "$server" Describe --topic "$topic"
  grant "$server" DescribeConfigs --topic "$topic"
done
for topic in new_users leaderboard_state user-timeline; do
  grant "$server" Write --topic "$topic"
done
grant "$server" Create --topic user-timeline
grant "$server" Describe --cluster
grant "$server" Read --group timeline-consumer-group- --resource-pattern-type prefixed
grant "$server" Describe --group timeline-consumer-group- --resource-pattern-type prefixed
for team in "${teams[@]}"; do
  grant "$server" Describe --group "$team"
done
