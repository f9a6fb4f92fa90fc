// StreamSocial dashboard: posts through the API, shows what Kafka hands back over
// the WebSocket. No inline scripts: the server's Content-Security-Policy forbids them.
"use strict";

const MAX_FEED = 50;
const PARTITIONS = 6;
const partitionCounts = new Array(PARTITIONS).fill(0);
let chart = null;
let total = 0;

const $ = (id) => document.getElementById(id);

function renderMessage(message, fresh) {
  const item = document.createElement("li");
  if (fresh) item.className = "fresh";
  const user = document.createElement("span");
  user.className = "user";
  user.textContent = message.user_id;
  const content = document.createElement("span");
  content.className = "content";
  content.textContent = message.content;
  const meta = document.createElement("span");
  meta.className = "meta";
  const time = new Date(message.timestamp).toLocaleTimeString();
  meta.textContent = `partition ${message.partition} · offset ${message.offset} · ${time}`;
  item.append(user, content, meta);
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > MAX_FEED) feed.lastChild.remove();
  $("feed-empty").hidden = true;
}

function countPartition(partition) {
  if (partition >= 0 && partition < PARTITIONS) partitionCounts[partition] += 1;
}

function updateCounts() {
  $("feed-count").textContent = total ? `(${total})` : "";
  if (chart) chart.update("none");
}

function setupChart() {
  if (typeof Chart === "undefined") return;
  chart = new Chart($("partition-chart"), {
    type: "bar",
    data: {
      labels: partitionCounts.map((_, i) => `P${i}`),
      datasets: [{ label: "messages", data: partitionCounts, backgroundColor: "#38bdf8" }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { ticks: { color: "#94a3b8" }, grid: { color: "#1e293b" } },
        y: { beginAtZero: true, ticks: { color: "#94a3b8", precision: 0 }, grid: { color: "#1e293b" } },
      },
    },
  });
}

function handle(event) {
  let message;
  try { message = JSON.parse(event.data); } catch { return; }
  if (message.channel !== "messages") return;
  if (message.type === "snapshot") {
    $("feed").replaceChildren();
    partitionCounts.fill(0);
    total = 0;
    for (const m of message.data.messages) { renderMessage(m, false); countPartition(m.partition); total += 1; }
    updateCounts();
  } else if (message.type === "message") {
    renderMessage(message.data, true);
    countPartition(message.data.partition);
    total += 1;
    updateCounts();
  }
}

function connect(delay = 500) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    $("connection").textContent = "live";
    $("connection").className = "pill pill-on";
    socket.send(JSON.stringify({ subscribe: ["messages"] }));
    delay = 500;
  });
  socket.addEventListener("message", handle);
  socket.addEventListener("close", () => {
    $("connection").textContent = "reconnecting…";
    $("connection").className = "pill pill-off";
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  });
}

async function loadStatus() {
  try {
    const response = await fetch("/api/status");
    const status = await response.json();
    $("kafka-mode").textContent = `Kafka: ${status.kafka.mode}${status.kafka.reachable ? "" : " (unreachable)"}`;
    $("bootstrap").textContent = status.kafka.bootstrap_servers;
    $("version").textContent = `StreamSocial ${status.version}`;
  } catch {
    $("kafka-mode").textContent = "Kafka: status unavailable";
  }
}

async function post(event) {
  event.preventDefault();
  const button = event.submitter || $("post-form").querySelector("button");
  const result = $("post-result");
  button.disabled = true;
  try {
    const response = await fetch("/api/send-message", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: $("user-id").value, content: $("content").value }),
    });
    const body = await response.json();
    if (response.ok) {
      result.textContent = `Stored by Kafka in partition ${body.partition} at offset ${body.offset}.`;
      result.className = "result ok";
      $("content").value = "";
      $("content").focus();
    } else {
      result.textContent = body.error ? body.error.message : `HTTP ${response.status}`;
      result.className = "result bad";
    }
  } catch (error) {
    result.textContent = `Could not reach the server: ${error}`;
    result.className = "result bad";
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupChart();
  $("post-form").addEventListener("submit", post);
  loadStatus();
  connect();
});
