// StreamSocial dashboard: posts through the API; every panel is drawn from the
// WebSocket channels (messages, partitions, ordering, throughput, lag).
// No inline scripts: the server's Content-Security-Policy forbids them. Chart.js is a
// classic script loaded before this module (window.Chart).
import { $, cell, el, showResult } from "./dom.js";
import { connect, showKafkaNote } from "./live.js";

const MAX_FEED = 50;
const CHANNELS = ["messages", "partitions", "ordering", "throughput", "lag"];
const THROUGHPUT_SECONDS = 120;
const COLORS = { accent: "#38bdf8", hot: "#f87171", consumed: "#a78bfa", grid: "#1e293b", ticks: "#94a3b8" };
const charts = {};
let total = 0;

// ---- messages -------------------------------------------------------------------

function renderMessage(message, fresh) {
  const item = el("li", fresh ? "fresh" : "");
  const time = new Date(message.timestamp).toLocaleTimeString();
  item.append(
    el("span", "user", message.user_id),
    el("span", "content", message.content),
    el("span", "meta", `#${message.seq} · partition ${message.partition} · offset ${message.offset} · ${time}`));
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > MAX_FEED) feed.lastChild.remove();
  $("feed-empty").hidden = true;
}

function showMessages(message) {
  if (message.type === "snapshot") {
    $("feed").replaceChildren();
    for (const m of message.data.messages) renderMessage(m, false);
    total = message.data.consumed;
  } else if (message.type === "messages") {
    for (const m of message.data) renderMessage(m, true);
    total += message.data.length;
  }
  $("feed-count").textContent = total ? `(${total} read)` : "";
}

// ---- charts ---------------------------------------------------------------------

function axes(extra) {
  return {
    x: { ticks: { color: COLORS.ticks, maxTicksLimit: 8 }, grid: { color: COLORS.grid } },
    y: { beginAtZero: true, ticks: { color: COLORS.ticks, precision: 0 }, grid: { color: COLORS.grid }, ...extra },
  };
}

function setupCharts() {
  if (typeof Chart === "undefined") return;
  const common = { responsive: true, maintainAspectRatio: false, animation: false };
  charts.partitions = new Chart($("partition-chart"), {
    type: "bar",
    data: { labels: [], datasets: [{ label: "messages", data: [], backgroundColor: [] }] },
    options: { ...common, plugins: { legend: { display: false } }, scales: axes() },
  });
  charts.throughput = new Chart($("throughput-chart"), {
    type: "line",
    data: {
      labels: [],
      datasets: [
        { label: "produced", data: [], borderColor: COLORS.accent, pointRadius: 0, borderWidth: 2, tension: 0.2 },
        { label: "consumed", data: [], borderColor: COLORS.consumed, pointRadius: 0, borderWidth: 2, tension: 0.2 },
      ],
    },
    options: { ...common, plugins: { legend: { labels: { color: COLORS.ticks } } }, scales: axes() },
  });
  charts.lag = new Chart($("lag-chart"), {
    type: "bar",
    data: { labels: [], datasets: [{ label: "lag", data: [], backgroundColor: COLORS.consumed }] },
    options: { ...common, plugins: { legend: { display: false } }, scales: axes() },
  });
}

// ---- panels ---------------------------------------------------------------------

function showPartitions(report) {
  $("balance").textContent = report.balance_score.toFixed(2);
  if (charts.partitions) {
    const chart = charts.partitions;
    chart.data.labels = report.partitions.map((p) => `P${p.partition}`);
    chart.data.datasets[0].data = report.partitions.map((p) => p.messages);
    chart.data.datasets[0].backgroundColor = report.partitions.map((p) => (p.hot ? COLORS.hot : COLORS.accent));
    chart.update("none");
  }
  const tips = $("suggestions");
  tips.replaceChildren(...report.suggestions.map((text) => el("li", "", text)));
  const rows = report.partitions.map((p) => {
    const row = el("tr", p.hot ? "hot" : "");
    cell(row, p.partition);
    cell(row, p.messages);
    cell(row, p.distinct_keys);
    cell(row, p.top_keys.map((k) => `${k.key || "(no key)"} ${Math.round(k.share * 100)}%${k.murmur2_partition === undefined || k.murmur2_partition === null ? "" : ` (P${k.murmur2_partition})`}`).join(", "));
    return row;
  });
  $("partition-rows").replaceChildren(...rows);
}

function showOrdering(report) {
  const c = report.counters;
  $("checked").textContent = c.checked;
  $("gaps").textContent = c.gaps;
  $("out-of-order").textContent = c.out_of_order;
  $("duplicates").textContent = c.duplicates;
  $("holes").textContent = c.known_holes;
  $("malformed").textContent = report.malformed.count;
  const status = $("ordering-status");
  status.textContent = report.violations ? `${report.violations} violations · ${report.users_with_violations} users` : "no violations";
  status.className = report.violations ? "pill pill-off" : "pill pill-on";
  const position = (p) => (p ? `P${p.partition}@${p.offset}` : "–");
  const rows = report.recent_violations.slice(0, 8).map((v) => {
    const row = el("tr");
    cell(row, v.kind.replaceAll("_", " "), `kind-${v.kind}`);
    cell(row, v.user_id);
    cell(row, v.expected);
    cell(row, v.got);
    cell(row, position(v.record));
    cell(row, position(v.previous));
    return row;
  });
  $("violations").replaceChildren(...rows);
  $("violations-empty").hidden = rows.length > 0;
}

function showThroughput(report) {
  $("produced-rate").textContent = Math.round(report.produced_per_second);
  $("consumed-rate").textContent = Math.round(report.consumed_per_second);
  if (!charts.throughput) return;
  const produced = report.produced.slice(-THROUGHPUT_SECONDS);
  const consumed = report.consumed.slice(-THROUGHPUT_SECONDS);
  const chart = charts.throughput;
  chart.data.labels = produced.map((_, i) => `${i - produced.length + 1}s`);
  chart.data.datasets[0].data = produced;
  chart.data.datasets[1].data = consumed;
  chart.update("none");
}

function showLag(report) {
  if (report.group) $("lag-group").textContent = report.group;
  $("total-lag").textContent = report.error && !report.partitions.length ? "–" : report.total_lag;
  $("lag-error").hidden = !report.error;
  $("lag-error").textContent = report.error ? `Lag unavailable: ${report.error}` : "";
  if (!charts.lag) return;
  charts.lag.data.labels = report.partitions.map((p) => `P${p.partition}`);
  charts.lag.data.datasets[0].data = report.partitions.map((p) => p.lag);
  charts.lag.update("none");
}

const handlers = {
  messages: showMessages,
  partitions: (m) => showPartitions(m.data),
  ordering: (m) => showOrdering(m.data),
  throughput: (m) => showThroughput(m.data),
  lag: (m) => showLag(m.data),
};

function handle(message) {
  const handler = handlers[message.channel];
  if (handler) handler(message);
}

async function loadStatus() {
  try {
    const response = await fetch("/api/status");
    const status = await response.json();
    $("kafka-mode").textContent = `Kafka: ${status.kafka.mode}${status.kafka.reachable ? "" : " (unreachable)"}`;
    $("bootstrap").textContent = status.kafka.bootstrap_servers;
    $("version").textContent = `StreamSocial ${status.version}`;
    const ready = status.timelines.state === "ready";
    $("readiness").hidden = ready;
    $("readiness").textContent = ready ? "" : `${status.timelines.state.replaceAll("_", " ")}${status.timelines.detail ? `: ${status.timelines.detail}` : ""}`;
    if (!ready) setTimeout(loadStatus, 1000);
  } catch {
    $("kafka-mode").textContent = "Kafka: status unavailable";
    setTimeout(loadStatus, 2000);
  }
}

// ---- posting --------------------------------------------------------------------

async function send(posts) {
  const single = posts.length === 1;
  const response = await fetch(single ? "/api/send-message" : "/api/send-messages", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(single ? posts[0] : posts),
  });
  return { response, body: await response.json() };
}

function currentPost(content) {
  return { user_id: $("user-id").value, content, key_strategy: $("key-strategy").value };
}

function report(text, ok) {
  showResult($("post-result"), text, ok);
}

async function post(event) {
  event.preventDefault();
  const button = event.submitter || $("post-form").querySelector("button");
  button.disabled = true;
  try {
    const { response, body } = await send([currentPost($("content").value)]);
    if (response.ok) {
      report(`Stored by Kafka in partition ${body.partition} at offset ${body.offset} (post #${body.seq} of ${body.user_id}).`, true);
      $("content").value = "";
      $("content").focus();
    } else {
      report(body.error ? body.error.message : `HTTP ${response.status}`, false);
    }
  } catch (error) {
    report(`Could not reach the server: ${error}`, false);
  } finally {
    button.disabled = false;
  }
}

async function burst() {
  if (!$("post-form").reportValidity()) return;
  const base = $("content").value || "burst";
  const posts = Array.from({ length: 50 }, (_, i) => currentPost(`${base} ${i + 1}`));
  $("burst").disabled = true;
  try {
    const { response, body } = await send(posts);
    if (response.ok) {
      const partitions = new Set(body.results.filter((r) => r.post).map((r) => r.post.partition));
      report(`${body.accepted} stored, ${body.rejected} rejected, over ${partitions.size} partition(s).`, body.rejected === 0);
    } else {
      report(body.error ? body.error.message : `HTTP ${response.status}`, false);
    }
  } catch (error) {
    report(`Could not reach the server: ${error}`, false);
  } finally {
    $("burst").disabled = false;
  }
}

// A module runs once the document is parsed (and after the deferred Chart.js).
setupCharts();
$("post-form").addEventListener("submit", post);
$("burst").addEventListener("click", burst);
loadStatus();
showKafkaNote();
connect(CHANNELS, handle);
