#!/usr/bin/env bash
# Creates every topic StreamSocial and the workshop use, with the tutorial's settings,
# when missing (an existing topic is left as it is; the server says at start what is
# wrong with one). Run by Compose's kafka-setup job; by hand:
#
#   docker/create-topics.sh BOOTSTRAP [--command-config FILE]
#
# DRY_RUN=1 prints the commands instead of running them (the tests read them and check
# them against `streamsocial print-topics`, what the server expects).
set -euo pipefail
bootstrap="${1:?usage: create-topics.sh BOOTSTRAP [--command-config FILE]}"
shift
extra=("$@")
kafka_topics="${KAFKA_BIN:-/opt/kafka/bin}/kafka-topics.sh"
hour=3600000

create() {  # name partitions [key=value ...]
  local name="$1" partitions="$2"
  shift 2
  local command=("$kafka_topics" --bootstrap-server "$bootstrap" "${extra[@]}" --create --if-not-exists
                 --topic "$name" --partitions "$partitions" --replication-factor 1)
  for setting in "$@"; do command+=(--config "$setting"); done
  if [ -n "${DRY_RUN:-}" ]; then echo "${command[*]}"; else "${command[@]}"; fi
}

# The workshop: the generator's users and the teams' actions keep one hour, as the
# tutorial's cluster does; the teams' stats, the watchlist and the board's own state are
# compacted (latest value per key).
create new_users 5 "retention.ms=$hour"
create actions 5 "retention.ms=$hour"
create team_stats 5 cleanup.policy=compact
create watchlist 5 cleanup.policy=compact
create leaderboard_state 1 cleanup.policy=compact
# The timeline API's posts, keyed by user.
create user-timeline 6
