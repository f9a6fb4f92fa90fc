// StreamSocial dashboard: posts through the API; every panel is drawn from the
// WebSocket channels (messages, partitions, ordering, throughput, lag).
// No inline scripts: the server's Content-Security-Policy forbids them. Chart.js is a
// classic script loaded before this module (window.Chart).
import { $, cell, el, showResult } from "./dom.js";
import { age, connect, kafkaReason, showKafkaNote } from "./live.js";

const MAX_FEED = 50;
const CHANNELS = ["messages", "partitions", "ordering", "throughput", "lag"];
const THROUGHPUT_SECONDS = 120;
const COLORS = { accent: "#38bdf8", hot: "#f87171", consumed: "#a78bfa", grid: "#1e293b", ticks: "#94a3b8" };
const STALE_AFTER_MS = 5000;
const charts = {};
let total = 0;
// The highest seq seen per user in the feed: a post arriving below it came out of order.
const highestSeq = new Map();
// The ordering panel's latest violations, for the timeline viewer.
let lastViolations = [];
const page = { lastData: 0, socket: "connecting", kafka: { reachable: true, error: null } };

// ---- messages -------------------------------------------------------------------

function renderMessage(message, fresh) {
  const item = el("li", fresh ? "fresh" : "");
  const time = new Date(message.timestamp).toLocaleTimeString();
  // Only posts pushed as they are read arrive in reading order; the snapshot on connect
  // is a list, not an arrival.
  const before = highestSeq.get(message.user_id);
  const late = fresh && before !== undefined && message.seq < before;
  if (before === undefined || message.seq > before) highestSeq.set(message.user_id, message.seq);
  if (late) item.classList.add("late");
  const user = el("button", "user", message.user_id);
  user.type = "button";
  user.title = `show ${message.user_id}'s timeline`;
  user.addEventListener("click", () => showTimeline(message.user_id));
  item.append(
    user,
    el("span", "content", message.content),
    el("span", "meta", `#${message.seq} · partition ${message.partition} · offset ${message.offset} · ${time}`));
  if (late) item.append(el("span", "late-note", `⚠ out of order: arrived after #${before}`));
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
        // Monotone curves never dip below zero between two counts.
        { label: "produced", data: [], borderColor: COLORS.accent, pointRadius: 0, borderWidth: 2, cubicInterpolationMode: "monotone" },
        { label: "consumed", data: [], borderColor: COLORS.consumed, pointRadius: 0, borderWidth: 2, cubicInterpolationMode: "monotone" },
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
  // No messages, no balance to speak of.
  const messages = report.partitions.reduce((sum, p) => sum + p.messages, 0);
  $("balance").textContent = messages ? report.balance_score.toFixed(2) : "–";
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
  const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
  status.textContent = report.violations ? `${plural(report.violations, "violation")} · ${plural(report.users_with_violations, "user")}` : "no violations";
  status.className = report.violations ? "pill pill-off" : "pill pill-on";
  lastViolations = report.recent_violations;
  const items = report.recent_violations.slice(0, 8).map((v) => {
    const item = el("li", `kind-${v.kind}`);
    item.append(el("strong", "", v.kind.replaceAll("_", " ")), " ", violationSentence(v));
    return item;
  });
  $("violations").replaceChildren(...items);
  $("violations-empty").hidden = items.length > 0;
}

// One violation in plain words: what arrived when, and why.
function violationSentence(v) {
  const where = (p) => (p ? `partition ${p.partition}` : "another partition");
  const apart = v.record && v.previous && v.record.partition !== v.previous.partition
    ? `they went to ${where(v.record)} and ${where(v.previous)}, and partitions are read independently`
    : "both in one partition: they were produced in this order";
  switch (v.kind) {
    case "out_of_order":
      return `#${v.got} from ${v.user_id} arrived after #${v.expected - 1}: ${apart}.`;
    case "gap":
      return `#${v.got} from ${v.user_id} arrived while #${v.expected}${v.got - v.expected > 1 ? `–#${v.got - 1}` : ""} had not: ${apart}.`;
    case "duplicate":
      return `#${v.got} from ${v.user_id} arrived twice (now from ${where(v.record)}, offset ${v.record ? v.record.offset : "?"}): a redelivery, stored once.`;
    default:
      return `${v.user_id}: expected #${v.expected}, got #${v.got}.`;
  }
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
  $("lag-error").textContent = report.error ? `Lag unavailable: ${kafkaReason(report.error)}.` : "";
  $("lag-error").title = report.error || "";
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
  page.lastData = Date.now();
  const handler = handlers[message.channel];
  if (handler) handler(message);
}

// The pill says in words whether what the page shows is current.
function refreshState() {
  const pill = $("connection");
  const silent = page.lastData ? Date.now() - page.lastData : null;
  let text = "live";
  let on = true;
  if (page.socket === "closed") [text, on] = ["server unreachable · retrying", false];
  else if (!page.kafka.reachable) [text, on] = [`Kafka unreachable: ${kafkaReason(page.kafka.error)}`, false];
  else if (!page.lastData) [text, on] = ["connecting…", false];
  else if (silent > STALE_AFTER_MS) [text, on] = [`stale · no data for ${age(silent)}`, false];
  pill.textContent = text;
  pill.className = on ? "pill pill-on" : "pill pill-off";
}

// ---- compaction: records per key against the one a compacted topic keeps ---------

async function showCompaction() {
  try {
    const body = await (await fetch("/api/team-stats")).json();
    const records = body.records || [];
    const total = records.reduce((sum, r) => sum + (r.records || 1), 0);
    const rows = records.map((r) => {
      const row = el("tr", r.key_check === "correct" ? "" : "hot");
      cell(row, r.key === null || r.key === undefined || r.key === "" ? "(no key)" : r.key);
      cell(row, r.records || 1);
      const order = ["processed", "flagged", "flag_count"];
      const numbers = Object.entries(r.numbers || {}).sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]))
        .map(([name, value]) => `${name} ${value}`).join(", ");
      cell(row, `${r.team}: ${numbers || "–"}${r.key_check === "correct" ? "" : ` (key ${r.key_check})`}`);
      return row;
    });
    $("compaction-rows").replaceChildren(...rows);
    if (records.length) {
      const keyless = records.some((r) => !r.key);
      $("compaction-answer").textContent = `What would a new consumer see, reading team_stats from the beginning? `
        + `${total} record${total === 1 ? "" : "s"} arrived under ${records.length} key${records.length === 1 ? "" : "s"}; once compacted, the topic keeps ${records.length}: the latest per key, below.`
        + (keyless ? " Records without a key cannot be compacted (a real Kafka refuses them)." : "")
        + " The embedded cluster never compacts, so here a new consumer would still read them all.";
    }
  } catch {
    // The pill says the server is unreachable.
  }
}

// ---- a user's timeline ----------------------------------------------------------

async function showTimeline(user) {
  $("timeline-user").value = user;
  let body;
  try {
    const response = await fetch(`/api/timeline/${encodeURIComponent(user)}?limit=50`);
    body = await response.json();
    if (!response.ok) {
      $("timeline").replaceChildren();
      $("timeline-summary").textContent = "";
      $("timeline-empty").hidden = false;
      $("timeline-empty").textContent = body.error ? body.error.message : `HTTP ${response.status}`;
      return;
    }
  } catch (error) {
    $("timeline-empty").textContent = `Could not reach the server: ${error}`;
    return;
  }
  // Oldest first, as a timeline reads (the API lists the newest first). Where a post
  // sits on another partition than the one before it, their order is not guaranteed;
  // where the ordering check saw one arrive out of order, it says so.
  const posts = [...body.posts].reverse();
  const arrivedLate = new Map(lastViolations.filter((v) => v.user_id === user && v.kind === "out_of_order").map((v) => [v.got, v.expected - 1]));
  const items = posts.map((post, index) => {
    const previous = posts[index - 1];
    const switched = previous && post.partition !== previous.partition;
    const item = el("li", switched ? "break" : "");
    const notes = [`partition ${post.partition} · offset ${post.offset}`];
    if (switched) notes.push(`order break: partition ${previous.partition} before, read independently`);
    if (arrivedLate.has(post.seq)) notes.push(`arrived after #${arrivedLate.get(post.seq)}`);
    item.append(el("span", "seq", `#${post.seq}`), el("span", "content", post.content), el("span", "meta", notes.join(" · ")));
    return item;
  });
  $("timeline").replaceChildren(...items);
  $("timeline-empty").hidden = items.length > 0;
  const partitions = body.partitions.length === 1 ? `partition ${body.partitions[0]}` : `partitions ${body.partitions.join(", ")}`;
  $("timeline-summary").textContent = `${body.post_count} post${body.post_count === 1 ? "" : "s"} · ${partitions} · ordering ${body.ordering.status}`;
}

async function loadStatus() {
  try {
    const response = await fetch("/api/status");
    const status = await response.json();
    $("kafka-mode").textContent = `Kafka: ${status.kafka.mode}${status.kafka.reachable ? "" : ` (unreachable: ${kafkaReason(status.kafka.error)})`}`;
    $("bootstrap").textContent = status.kafka.bootstrap_servers;
    $("version").textContent = `StreamSocial ${status.version}`;
    page.kafka = { reachable: status.kafka.reachable, error: status.kafka.error || null };
    $("kafka-raw").hidden = !status.kafka.error;
    $("kafka-raw-text").textContent = status.kafka.error || "";
    refreshState();
    const ready = status.timelines.state === "ready";
    $("readiness").hidden = ready;
    $("readiness").textContent = ready ? "" : `${status.timelines.state.replaceAll("_", " ")}${status.timelines.detail ? `: ${status.timelines.detail}` : ""}`;
    setTimeout(loadStatus, ready ? 5000 : 1000);
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
      const stored = `Stored by Kafka in partition ${body.partition} at offset ${body.offset} (post #${body.seq} of ${body.user_id}).`;
      report(stored, true);
      if ($("key-strategy").value !== "user") explainKeyless(body, stored);
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

// A post without the user's key: where it went against where the key would have put it.
async function explainKeyless(post, stored) {
  try {
    // A new user's timeline exists once the post is read back: a moment after the ack.
    let timeline = {};
    for (let attempt = 0; attempt < 10 && (timeline.key_partition === undefined || timeline.key_partition === null); attempt++) {
      if (attempt) await new Promise((resolve) => setTimeout(resolve, 200));
      timeline = await (await fetch(`/api/timeline/${encodeURIComponent(post.user_id)}?limit=1`)).json();
    }
    if (timeline.key_partition === undefined || timeline.key_partition === null) return;
    const same = timeline.key_partition === post.partition;
    report(`${stored} Keyed by user it would have gone to partition ${timeline.key_partition}`
      + (same ? ": this time it landed there by chance; send more and they spread." : ": posts on different partitions are read independently, so their order is lost."), true);
  } catch {
    // The first sentence stays.
  }
}

async function burst() {
  // The burst makes its own messages: only the user must be valid (Send clears the message).
  if (!$("user-id").reportValidity()) return;
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
$("timeline-form").addEventListener("submit", (event) => {
  event.preventDefault();
  showTimeline($("timeline-user").value.trim());
});
loadStatus();
showKafkaNote();
showCompaction();
setInterval(showCompaction, 2000);
setInterval(refreshState, 1000);
connect(CHANNELS, handle, (state) => {
  page.socket = state;
  refreshState();
});
