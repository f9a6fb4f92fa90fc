// The instructor's broker-fault controls (POST /api/admin/faults): take an embedded
// broker down and up, slow its answers, move a partition's leader.
import { $, el, showResult } from "./dom.js";

const TOKEN_KEY = "streamsocial.adminToken";

async function call(method, body) {
  const response = await fetch("/api/admin/faults", {
    method,
    headers: { "authorization": `Bearer ${$("faults-token").value}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ? json.error.message : `HTTP ${response.status}`);
  return json;
}

function say(text, ok) {
  showResult($("faults-result"), text, ok);
}

function button(label, action) {
  const b = el("button", "secondary", label);
  b.type = "button";
  b.addEventListener("click", () => run(action));
  return b;
}

function render(status) {
  const box = $("faults-brokers");
  box.replaceChildren();
  if (!status.available) {
    say("Faults can be injected only into the embedded cluster.", false);
    return;
  }
  for (const broker of status.brokers) {
    const card = el("div", broker.up ? "broker" : "broker down");
    card.dataset.broker = broker.id;
    card.append(el("strong", "", `Broker ${broker.id}: ${broker.up ? "up" : "down"}${broker.rtt_ms ? ` · +${broker.rtt_ms} ms` : ""}`),
      button(broker.up ? "Take down" : "Bring up", { action: broker.up ? "broker_down" : "broker_up", broker: broker.id }),
      button(broker.rtt_ms ? "Remove delay" : "Add 300 ms delay", { action: "set_rtt", broker: broker.id, rtt_ms: broker.rtt_ms ? 0 : 300 }));
    box.append(card);
  }
  $("faults-leader-broker").max = status.brokers.length;
  $("faults-leader").hidden = false;
}

async function run(action) {
  try {
    render(await call("POST", action));
    say(`Done: ${action.action.replaceAll("_", " ")}.`, true);
  } catch (error) {
    say(error.message, false);
  }
}

// A module runs once the document is parsed.
$("faults-token").value = sessionStorage.getItem(TOKEN_KEY) || "";
$("faults-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("faults-token").value);
  try {
    say("", true);
    render(await call("GET"));
  } catch (error) {
    say(error.message, false);
  }
});
$("faults-leader").addEventListener("submit", (event) => {
  event.preventDefault();
  run({ action: "move_leader", topic: "user-timeline", partition: Number($("faults-partition").value), broker: Number($("faults-leader-broker").value) });
});
$("faults-clear").addEventListener("click", () => run({ action: "clear" }));
