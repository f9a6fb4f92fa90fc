// The join page: the address a student's client must use (the Kafka gateway's on the
// embedded cluster, the cluster's own otherwise), the team picker, and a program for that
// team that connects and reads new_users, in three clients. Text only through
// textContent (dom.js).
import { $, byTeamNumber, el } from "./dom.js";

// `credentials`: each team's user and password, once the instructor's token fetched
// them (memory only).
const state = { bootstrap: "", properties: {}, team: "", client: "kafka-python", rules: {}, credentials: {} };

const INSTALL = {
  "kafka-python": "pip install kafka-python==2.0.2, then python3 team_app.py",
  "confluent-kafka": "pip install confluent-kafka, then python3 team_app.py",
  java: "org.apache.kafka:kafka-clients (3.x or 4.x) on the classpath, then java TeamApp.java",
};

function security(team) {
  const protocol = state.properties["security.protocol"];
  if (!protocol || protocol === "PLAINTEXT") return null;
  const mechanism = state.properties["sasl.mechanism"] || state.properties["sasl.mechanisms"] || "SCRAM-SHA-256";
  const credentials = state.credentials[team];
  return { protocol, mechanism, user: credentials?.username ?? team, password: credentials?.password };
}

// A string literal in Python and in Java alike (the password is the file's, not ours).
const literal = (text) => JSON.stringify(text);

function kafkaPython(team, sasl) {
  const auth = sasl
    ? `\nAUTH = dict(security_protocol="${sasl.protocol}", sasl_mechanism="${sasl.mechanism}",\n            sasl_plain_username=${sasl.user === team ? "TEAM_NAME" : literal(sasl.user)}, sasl_plain_password=${literal(sasl.password ?? "<your team's password, from the instructor>")})\n`
    : "\nAUTH = {}\n";
  return `# ${team} · StreamSocial workshop · kafka-python 2.0.2
import json
from kafka import KafkaConsumer, KafkaProducer

BOOTSTRAP_SERVERS = "${state.bootstrap}"
TEAM_NAME = "${team}"${auth}
consumer = KafkaConsumer("new_users", bootstrap_servers=BOOTSTRAP_SERVERS, group_id=TEAM_NAME,
                         auto_offset_reset="earliest", value_deserializer=json.loads, **AUTH)
producer = KafkaProducer(bootstrap_servers=BOOTSTRAP_SERVERS, **AUTH)
print(f"{TEAM_NAME} connected to {BOOTSTRAP_SERVERS}", flush=True)

for message in consumer:
    user = message.value
    print(user.get("email"), user.get("industry"), flush=True)
    # Step 3: when your rule matches, send an action:
    # producer.send("actions", bytes(json.dumps({"customer": user["email"], "type": "...",
    #               "reason": "...", "team": TEAM_NAME}), "utf-8"))
`;
}

function confluent(team, sasl) {
  const auth = sasl
    ? `,\n        "security.protocol": "${sasl.protocol}", "sasl.mechanism": "${sasl.mechanism}",\n        "sasl.username": ${sasl.user === team ? "TEAM_NAME" : literal(sasl.user)}, "sasl.password": ${literal(sasl.password ?? "<your team's password, from the instructor>")}`
    : "";
  return `# ${team} · StreamSocial workshop · confluent-kafka
import json
from confluent_kafka import Consumer, Producer

BOOTSTRAP_SERVERS = "${state.bootstrap}"
TEAM_NAME = "${team}"
settings = {"bootstrap.servers": BOOTSTRAP_SERVERS${auth}}

consumer = Consumer({**settings, "group.id": TEAM_NAME, "auto.offset.reset": "earliest"})
consumer.subscribe(["new_users"])
producer = Producer(settings)
print(f"{TEAM_NAME} connected to {BOOTSTRAP_SERVERS}", flush=True)

while True:
    message = consumer.poll(1.0)
    if message is None or message.error():
        continue
    user = json.loads(message.value())
    print(user.get("email"), user.get("industry"), flush=True)
`;
}

function java(team, sasl) {
  const auth = sasl
    ? `\n        settings.put("security.protocol", "${sasl.protocol}");\n        settings.put("sasl.mechanism", "${sasl.mechanism}");\n        settings.put("sasl.jaas.config", ${literal(`org.apache.kafka.common.security.scram.ScramLoginModule required username="${sasl.user.replace(/[\\"]/g, "\\$&")}" password="${(sasl.password ?? "<your team's password>").replace(/[\\"]/g, "\\$&")}";`)});`
    : "";
  return `// ${team} · StreamSocial workshop · Apache Kafka's Java client
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;

public class TeamApp {
    public static void main(String[] args) {
        Properties settings = new Properties();
        settings.put("bootstrap.servers", "${state.bootstrap}");
        settings.put("group.id", "${team}");
        settings.put("auto.offset.reset", "earliest");
        settings.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        settings.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");${auth}
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings)) {
            consumer.subscribe(List.of("new_users"));
            System.out.println("${team} connected to ${state.bootstrap}");
            while (true) {
                for (var record : consumer.poll(Duration.ofSeconds(1))) System.out.println(record.value());
            }
        }
    }
}
`;
}

function render() {
  const team = state.team || "team-1";
  const sasl = security(team);
  const writers = { "kafka-python": kafkaPython, "confluent-kafka": confluent, java };
  $("snippet").textContent = writers[state.client](team, sasl);
  $("install").textContent = INSTALL[state.client];
  $("security").textContent = !sasl
    ? "No password needed on this cluster."
    : sasl.password
      ? `This cluster needs ${sasl.protocol} with ${sasl.mechanism}: your user is your team's name; the program has ${team}'s password.`
      : `This cluster needs ${sasl.protocol} with ${sasl.mechanism}: your user is your team's name; your instructor has its password.`;
  $("instructor").hidden = !sasl;
  $("team-rule").textContent = state.team && state.rules[state.team] ? `${state.team} flags users where ${state.rules[state.team]}.` : "";
  for (const tab of document.querySelectorAll(".tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.client === state.client));
}

async function load() {
  const status = await (await fetch("/api/status")).json();
  state.bootstrap = status.kafka.bootstrap_servers;
  state.properties = status.kafka.properties || {};
  $("bootstrap").textContent = state.bootstrap;
  const board = await (await fetch("/api/leaderboard")).json();
  const names = board.teams.map((row) => row.team).sort(byTeamNumber);
  const select = $("team");
  select.replaceChildren(el("option", "", "choose…"), ...names.map((name) => el("option", "", name)));
  select.options[0].value = "";
  state.team = new URLSearchParams(location.search).get("team") || localStorage.getItem("streamsocial.team") || "";
  if (!names.includes(state.team)) state.team = "";
  select.value = state.team;
  render();
  if (state.team) loadRule(state.team);
}

async function loadRule(team) {
  try {
    const detail = await (await fetch(`/api/teams/${encodeURIComponent(team)}`)).json();
    state.rules[team] = `${detail.rule} (type ${detail.type}, reason ${detail.reason})`;
    render();
  } catch {
    // The snippet does not need it.
  }
}

$("team").addEventListener("change", (event) => {
  state.team = event.target.value;
  localStorage.setItem("streamsocial.team", state.team);
  render();
  if (state.team) loadRule(state.team);
});
for (const tab of document.querySelectorAll(".tabs button")) {
  tab.addEventListener("click", () => {
    state.client = tab.dataset.client;
    render();
  });
}
$("copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("snippet").textContent);
    $("copy").textContent = "Copied";
  } catch {
    $("copy").textContent = "Select the text and copy it";
  }
  setTimeout(() => { $("copy").textContent = "Copy"; }, 2000);
});
// The instructor fills each team's password in: the token goes with this one request
// only and the passwords stay in this page's memory.
$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  let response;
  try {
    response = await fetch("/api/admin/credentials", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch {
    $("token-status").textContent = "The server did not answer: try again.";
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    $("token-status").textContent = "That is not the instructor's token.";
  } else if (response.status === 403) {
    $("token-status").textContent = "The instructor routes are off on this server (start it with --admin-token).";
  } else if (!response.ok) {
    $("token-status").textContent = body.error?.message || `The server answered ${response.status}.`;
  } else if (!body.configured) {
    $("token-status").textContent = "This server was not given the teams' passwords (start it with --team-credentials teams.csv).";
  } else {
    state.credentials = Object.fromEntries(body.teams.map((entry) => [entry.team, entry]));
    $("token").value = "";
    $("token-status").textContent = `Passwords filled in for ${body.teams.length} teams: each team's program shows its own.`;
    render();
  }
});
load();
