"""docker/ checked without a Docker engine (none runs on our machines): the Compose file
parses, every flag and variable it and the Dockerfile hand the server exists, the topics
job creates exactly what the server expects, and the ACLs grant the workshop what it
needs and nothing more, checked against the workshop file."""

import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from conftest import ROOT

BINARY = os.environ.get("STREAMSOCIAL_BIN", str(ROOT / ".build/debug/streamsocial"))
DOCKER = ROOT / "docker"
TEAMS_OF_COMPOSE = re.compile(r'teams="([^"]+)"')


def compose():
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def dry_run(script, *args, **env):
    result = subprocess.run(["bash", str(DOCKER / script), *args], capture_output=True, text=True, check=True,
                            env={**os.environ, "DRY_RUN": "1", "KAFKA_BIN": "/opt/kafka/bin", **env})
    return [line.split() for line in result.stdout.splitlines() if line.strip()]


def workshop_teams():
    workshop = json.loads(subprocess.run([BINARY, "print-workshop"], capture_output=True, text=True, check=True).stdout)
    return [team["name"] for team in workshop["teams"]]


def test_the_compose_file_parses_with_its_services_and_profiles():
    services = compose()["services"]
    assert set(services) == {"kafka", "kafka-setup", "streamsocial", "kafka-ui", "kafka-secure", "secure-setup", "streamsocial-secure"}
    assert services["kafka-ui"]["profiles"] == ["ui"]
    assert all(services[name]["profiles"] == ["secure"] for name in ("kafka-secure", "secure-setup", "streamsocial-secure"))
    # Apache Kafka in KRaft mode, a current release, and no topic created by accident.
    for name in ("kafka", "kafka-secure"):
        assert re.fullmatch(r"apache/kafka:(3\.[89]|4\.\d+)\.\d+", services[name]["image"])
        assert services[name]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert services[name]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    # The server starts once its topics exist, and is healthy once ready.
    assert services["streamsocial"]["depends_on"]["kafka-setup"]["condition"] == "service_completed_successfully"
    for name in ("streamsocial", "streamsocial-secure"):
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
    secure = services["kafka-secure"]["environment"]
    assert secure["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-256"
    assert secure["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "StandardAuthorizer" in secure["KAFKA_AUTHORIZER_CLASS_NAME"]
    # Students' listener is SASL; the plaintext one is advertised inside Compose only.
    protocols = dict(entry.split(":") for entry in secure["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert protocols["EXTERNAL"] == "SASL_PLAINTEXT" and protocols["CLIENTS"] == "SASL_PLAINTEXT"
    assert "9091" not in " ".join(services["kafka-secure"]["ports"])


def test_every_flag_and_variable_handed_to_the_server_exists():
    help_text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    services = compose()["services"]
    used_flags = set()
    used_variables = set()
    for name in ("streamsocial", "streamsocial-secure"):
        used_flags |= {arg for arg in services[name].get("command", []) if arg.startswith("--")}
        used_variables |= set(services[name].get("environment", {}))
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for line in re.findall(r"^(?:ENTRYPOINT|CMD) (.+)$", dockerfile, re.MULTILINE):
        used_flags |= {arg for arg in json.loads(line) if arg.startswith("--")}
    assert used_flags >= {"--config", "--port", "--host", "--log-format", "--public-dir"}
    for flag in used_flags:
        assert re.search(rf"(^|\s){re.escape(flag)}\b", help_text), f"{flag} is not a flag of serve"
    assert used_variables == {"KAFKA_BOOTSTRAP_SERVERS", "STREAMSOCIAL_ADMIN_TOKEN"}
    for variable in used_variables:
        assert variable in help_text, f"{variable} is not read by serve"


def test_the_topics_job_creates_exactly_the_topics_the_server_expects():
    expected = json.loads(subprocess.run([BINARY, "print-topics"], capture_output=True, text=True, check=True).stdout)
    created = {}
    for command in dry_run("create-topics.sh", "kafka:9092"):
        assert command[0] == "/opt/kafka/bin/kafka-topics.sh" and "--create" in command and "--if-not-exists" in command
        name = command[command.index("--topic") + 1]
        configs = dict(command[i + 1].split("=", 1) for i, word in enumerate(command) if word == "--config")
        created[name] = {"partitions": int(command[command.index("--partitions") + 1]), "config": configs}
    assert created == {topic["name"]: {"partitions": topic["partitions"], "config": topic["config"]} for topic in expected}
    # The tutorial's settings.
    assert created["new_users"]["config"] == {"retention.ms": "3600000"}
    assert created["team_stats"]["config"] == {"cleanup.policy": "compact"}
    # Compose runs it against its broker; the secure profile too.
    services = compose()["services"]
    assert services["kafka-setup"]["entrypoint"][-1] == "kafka:9092"
    assert "create-topics.sh kafka-secure:9091" in services["secure-setup"]["entrypoint"][-1]


def test_the_acls_grant_each_team_what_the_workshop_needs_and_nothing_more():
    teams = workshop_teams()
    assert len(teams) == 15
    # The secure profile's users and ACLs are for exactly the workshop's teams.
    script = compose()["services"]["secure-setup"]["entrypoint"][-1]
    assert TEAMS_OF_COMPOSE.search(script).group(1).split() == teams
    grants = set()
    for command in dry_run("kafka-acls.sh", "kafka-secure:9091", "streamsocial", *teams):
        assert command[0] == "/opt/kafka/bin/kafka-acls.sh" and "--add" in command and "--deny-principal" not in command
        principal = command[command.index("--allow-principal") + 1]
        operation = command[command.index("--operation") + 1]
        kind = next(word for word in ("--topic", "--group", "--cluster") if word in command)
        resource = "kafka-cluster" if kind == "--cluster" else command[command.index(kind) + 1]
        pattern = command[command.index("--resource-pattern-type") + 1] if "--resource-pattern-type" in command else "literal"
        grants.add((principal, operation, kind[2:], resource, pattern))
    for team in teams:
        own = {(operation, kind, resource, pattern) for principal, operation, kind, resource, pattern in grants if principal == f"User:{team}"}
        assert own == {
            ("Read", "topic", "new_users", "literal"), ("Describe", "topic", "new_users", "literal"),
            *{(operation, "topic", topic, "literal") for topic in ("actions", "team_stats", "watchlist") for operation in ("Write", "Describe")},
            ("Read", "group", team, "literal"), ("Describe", "group", team, "literal"),
        }, team
    # Nobody but the server may touch the board's state or the posts, or another's group.
    for principal, operation, kind, resource, _ in grants:
        if principal != "User:streamsocial":
            assert resource not in ("leaderboard_state", "user-timeline")
            assert kind != "group" or resource == principal.removeprefix("User:")
    server = {(operation, kind, resource) for principal, operation, kind, resource, _ in grants if principal == "User:streamsocial"}
    assert ("Write", "topic", "leaderboard_state") in server and ("Create", "topic", "user-timeline") in server
    assert all(("Describe", "group", team) in server for team in teams)
    # The topic check reads every topic's cleanup policy.
    assert all(("DescribeConfigs", "topic", topic) in server
               for topic in ("new_users", "actions", "team_stats", "watchlist", "leaderboard_state", "user-timeline"))
    assert not any(operation in ("All", "Alter", "AlterConfigs", "Delete") for _, operation, _, _, _ in grants)
    # The bonus challenge's read of team_stats and watchlist only when asked for.
    recovery = dry_run("kafka-acls.sh", "k:9091", "streamsocial", "team-1", STATE_RECOVERY="1")
    assert [c for c in recovery if "User:team-1" in c and "Read" in c and "team_stats" in c]


def test_the_secure_users_and_the_servers_config_file(tmp_path):
    teams = workshop_teams()
    commands = dry_run("scram-users.sh", "kafka-secure:9091", "streamsocial", *teams, SECRETS_DIR=str(tmp_path))
    users = [command[command.index("--entity-name") + 1] for command in commands]
    assert users == teams + ["streamsocial"]
    assert all("SCRAM-SHA-256=[iterations=8192,password=****]" in command for command in commands)
    rows = (tmp_path / "teams.csv").read_text().splitlines()
    assert rows[0] == "team,username,password" and len(rows) == 16
    passwords = [row.split(",")[2] for row in rows[1:]]
    assert all(re.fullmatch(r"[A-Za-z0-9]{20}", password) for password in passwords) and len(set(passwords)) == 15
    # Passwords are made once: a second run keeps the class's.
    dry_run("scram-users.sh", "kafka-secure:9091", "streamsocial", *teams, SECRETS_DIR=str(tmp_path))
    assert (tmp_path / "teams.csv").read_text().splitlines()[1:] == rows[1:]
    assert oct((tmp_path / "team-1.password").stat().st_mode & 0o777) == "0o600"
    config = json.loads((tmp_path / "streamsocial.json").read_text())["kafka-config"]
    assert config["sasl.username"] == "streamsocial" and config["sasl.mechanism"] == "SCRAM-SHA-256"
    assert config["sasl.password"] == (tmp_path / "streamsocial.password").read_text()


def test_the_dockerfile_builds_with_the_projects_toolchain_runs_as_a_user_and_checks_readiness():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    toolchain = re.search(r"Swift version (\d+\.\d+)", subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout)
    assert toolchain and f"FROM swift:{toolchain.group(1)}-bookworm AS build" in dockerfile
    assert re.search(r"^USER streamsocial$", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/readyz", dockerfile, re.MULTILINE)
    # The build stage installs what scripts/lib.sh installs to build.
    lib = (ROOT / "scripts" / "lib.sh").read_text()
    packages = re.search(r"STREAMSOCIAL_APT_PACKAGES=\(([^)]*)\)", lib).group(1).split()
    build_stage = dockerfile.split("FROM debian")[0]
    for package in packages:
        if package != "libjs-chart.js":  # the page's chart library: the runtime stage has it
            assert package in build_stage, package
    assert "libjs-chart.js" in dockerfile.split("FROM debian")[1]


def test_the_readme_documents_every_flag_of_serve():
    """docs/OPERATIONS.md sends operators to the README's table for every setting."""
    help_text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    flags = set(re.findall(r"^  (--[a-z][a-z-]+)", help_text, re.MULTILINE)) - {"--help", "--version"}
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(--[a-z][a-z-]+)", readme, re.MULTILINE))
    assert len(flags) > 20
    assert flags - documented == set(), "flags missing from the README's table"
    assert documented - flags == set(), "the README's table names flags serve does not have"
