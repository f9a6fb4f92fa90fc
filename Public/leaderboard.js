// The instructor's projector board: rows from the `leaderboard` channel (pushed on every
// change and at least once a second), celebrations from `achievements`. Says in words
// when it is stale, the server is unreachable or Kafka is. Keys: j/k, Enter, Esc, ?.
// No inline scripts (Content-Security-Policy); user content only through textContent.
import { $, byTeamNumber, cell, el } from "./dom.js";
import { age, connect, kafkaReason, showKafkaNote } from "./live.js";

const STALE_AFTER_MS = 5000;
const IDLE_AFTER_MS = 2 * 60 * 1000;
const ACTIVE_WITHIN_MS = 5 * 60 * 1000;
const MISTAKE_KINDS = ["parse_error", "missing_fields", "duplicate", "ghost_user", "false_positive", "wrong_type_or_reason"];
// Words for each badge where the machine has no colour emoji font (a projector laptop
// without one showed empty boxes).
const SHORT = {
  connected: "CONN", first_load: "LOAD", scaled: "SCALE", stats: "STATS", watchlist: "WATCH",
  first_steps: "10", fifty: "50", century: "100", streak_10: "STREAK", clean_streak: "CLEAN",
  parse_error: "parse", missing_fields: "fields", duplicate: "dup", ghost_user: "ghost",
  false_positive: "false+", wrong_type_or_reason: "type", partition_explorer: "EXPLORE",
  lag_buster: "LAG", key_master: "KEY", first_blood: "FIRST", stats_first: "STATS1", champion: "CHAMP",
};
const SIGNAL_LABELS = {
  missing_key: "no key", wrong_key: "wrong key", writer_conflict: "two writers",
  stats_disagree: "stats ≠ actions", redelivery: "redelivered", lag_growing: "lag growing",
};

const view = {
  board: null,
  catalog: new Map(),
  serverOffset: 0, // server clock − this clock, ms
  startedAt: null, // the server's start (ms, server clock)
  lastData: 0,
  socket: "connecting",
  kafka: { reachable: true, error: null },
  selected: 0,
  banners: [],
  emoji: true,
};

const serverNow = () => Date.now() + view.serverOffset;

// Whether this browser draws colour emoji: a colour pixel in a drawn 🔥 (without an
// emoji font it is an empty box, drawn in the text colour).
function detectEmoji() {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  const context = canvas.getContext("2d");
  if (!context) return false;
  context.font = "28px sans-serif";
  context.textBaseline = "top";
  context.fillText("🔥", 0, 0);
  const data = context.getImageData(0, 0, 32, 32).data;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (Math.abs(data[i] - data[i + 1]) > 40 || Math.abs(data[i + 1] - data[i + 2]) > 40)) return true;
  }
  return false;
}

// The badge's emoji, or its short name where emoji cannot be drawn.
function symbol(id) {
  const entry = view.catalog.get(id);
  if (view.emoji && entry && entry.emoji) return entry.emoji;
  return SHORT[id] || id;
}

const title = (id) => view.catalog.get(id)?.title || id;
const dash = (value) => (value === null || value === undefined ? "–" : value);
const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`);

// ---- the board ------------------------------------------------------------------

function showColumns(board) {
  const head = $("columns");
  const cells = [["#", "rank"], ["team", "team"], ["points", "points"]];
  const row = [];
  for (const [text, className] of cells) row.push(el("th", className, text));
  for (const id of board.step_columns) {
    const th = el("th", "step");
    if (view.emoji) th.append(el("span", "step-symbol", symbol(id)));
    th.append(el("span", "step-name", title(id)));
    row.push(th);
  }
  for (const [text, className] of [["instances", "num"], ["lag", "num"], ["last record", ""], ["mistakes", ""], ["lessons", ""]]) {
    row.push(el("th", className, text));
  }
  head.replaceChildren(...row);
}

function activity(team) {
  if (team.last_activity_at === null || team.last_activity_at === undefined) return { text: "–", idle: false };
  const since = serverNow() - team.last_activity_at;
  if (since >= IDLE_AFTER_MS) return { text: `idle ${age(since)}`, idle: true };
  return { text: since < 5000 ? "now" : age(since), idle: false };
}

function mistakesCell(team) {
  const span = el("span", "mistakes");
  const kinds = MISTAKE_KINDS.filter((kind) => (team.mistakes_by_kind || {})[kind] > 0);
  if (!kinds.length) span.append(el("span", "none", "0"));
  for (const kind of kinds) {
    const item = el("span", "mistake", `${symbol(kind)} ${team.mistakes_by_kind[kind]}`);
    item.title = `${title(kind)}: ${team.mistakes_by_kind[kind]}`;
    span.append(item);
  }
  return span;
}

// One chip on the row (and how many more); the Lessons panel has them all.
function lessonsCell(team) {
  const span = el("span");
  const signals = team.signals || [];
  if (signals.length > 1) span.title = signals.map((signal) => signal.sentence).join("\n");
  for (const signal of signals.slice(0, 1)) {
    const text = signal.kind === "redelivery" ? `${team.redeliveries} redelivered` : SIGNAL_LABELS[signal.kind] || signal.kind;
    const chip = el("span", `chip chip-${signal.kind}`, text);
    chip.title = `${signal.sentence}\n${signal.question}`;
    span.append(chip);
  }
  if (signals.length > 1) span.append(el("span", "chip chip-more", `+${signals.length - 1}`));
  return span;
}

function showRows(board) {
  const rows = board.teams.map((team, index) => {
    const row = el("tr", index === view.selected ? "selected" : "");
    if (team.team === myTeam()) row.classList.add("mine");
    row.dataset.team = team.team;
    row.tabIndex = -1;
    cell(row, team.rank, "rank");
    const name = el("span", "name");
    const dot = el("span", team.connected ? "dot on" : "dot", team.connected ? "●" : "○");
    dot.title = team.connected ? "connected" : "not connected yet";
    name.append(dot, team.team);
    if ((team.achievements || []).some((badge) => badge.id === "champion")) name.append(el("span", "champion", ` ${symbol("champion")}`));
    cell(row, name, "team");
    const points = cell(row, team.points, "points");
    if (team.penalty) points.title = `${team.penalty} points of penalties for mistakes`;
    const earned = new Set((team.achievements || []).map((badge) => badge.id));
    for (const id of board.step_columns) {
      const has = earned.has(id);
      // Without an emoji font the column's header names the step: a tick or a dot says it.
      const mark = view.emoji ? (has ? symbol(id) : "⚪\uFE0F") : has ? "✔" : "·";
      const step = cell(row, mark, has ? "step earned" : "step");
      step.setAttribute("aria-label", `${title(id)}: ${has ? "done" : "not yet"}`);
    }
    const instances = cell(row, dash(team.members), "num");
    if (team.member_partitions) {
      instances.title = team.member_partitions.map((p, i) => `instance ${i + 1}: ${p.length ? p.join(", ") : "none"}`).join("\n");
    }
    cell(row, dash(team.lag), "num");
    const seen = activity(team);
    cell(row, seen.text, seen.idle ? "activity idle" : "activity");
    cell(row, mistakesCell(team), "mistakes-cell");
    cell(row, lessonsCell(team), "signals");
    row.addEventListener("click", () => {
      view.selected = index;
      openDetails(team.team);
    });
    return row;
  });
  $("rows").replaceChildren(...rows);
}

// A student on a phone picks their team once (kept in this browser): its row is marked
// and scrolled to, without scrolling past the whole class.
const myTeam = () => localStorage.getItem("streamsocial.team") || "";

function showTeamChoice(board) {
  const select = $("my-team");
  if (select.options.length === board.teams.length + 1) return;
  const names = board.teams.map((team) => team.team).sort(byTeamNumber);
  select.replaceChildren(el("option", "", "choose…"), ...names.map((name) => el("option", "", name)));
  select.options[0].value = "";
  select.value = myTeam();
}

function goToMyTeam() {
  const row = [...$("rows").children].find((r) => r.dataset.team === myTeam());
  if (row) row.scrollIntoView({ block: "center" });
}

function showProgress(board) {
  const total = board.teams.length;
  const items = board.step_columns.map((id) => {
    const count = board.teams.filter((team) => (team.achievements || []).some((badge) => badge.id === id)).length;
    const item = el("span", "progress-step");
    if (view.emoji) item.append(el("span", "progress-symbol", symbol(id)));
    item.append(`${title(id)} `, el("strong", "", `${count}/${total}`));
    return item;
  });
  $("progress").replaceChildren(el("span", "progress-title", "class progress"), ...items);
}

function showHeader(board) {
  const now = serverNow();
  const active = board.teams.filter((team) => (team.members || 0) > 0
    || (team.last_activity_at !== null && team.last_activity_at !== undefined && now - team.last_activity_at < ACTIVE_WITHIN_MS)).length;
  $("active").textContent = `${active}/${board.teams.length}`;
  const start = board.session_started_at || view.startedAt;
  $("session-time").textContent = start ? age(now - start) : "–";
  $("rate").textContent = board.records_per_second.toFixed(board.records_per_second < 10 ? 1 : 0);
  $("known-users").textContent = board.known_users;
  $("inspection").textContent = `Consumer groups: ${board.group_inspection}`;
}

function showLiveStats(board) {
  const rows = [];
  for (const team of board.teams) {
    if (!team.stats) continue;
    const row = el("tr");
    cell(row, team.team, "team");
    cell(row, dash(team.stats.processed), "num");
    cell(row, dash(team.stats.flagged), "num");
    const rate = team.stats.processed > 0 ? team.stats.flagged / team.stats.processed : null;
    cell(row, percent(rate), "num");
    const key = team.stats.key;
    cell(row, key === "correct" ? "✔" : key === "missing" ? "✘ none" : key === "wrong" ? "✘ wrong" : "–", key === "correct" ? "key ok" : "key bad");
    rows.push(row);
  }
  $("live-stats").replaceChildren(...rows);
  $("no-stats").hidden = rows.length > 0;
  const watchlistClass = board.final_step !== "team_stats";
  $("watchlist-box").hidden = !watchlistClass;
  if (watchlistClass) {
    const items = board.teams.filter((team) => (team.watchlisted || []).length).map((team) => {
      const item = el("li");
      item.append(el("strong", "", `${team.team}: `), team.watchlisted.join(", "));
      return item;
    });
    $("watchlist").replaceChildren(...items);
  }
}

function showLessons(board) {
  const items = [];
  for (const team of board.teams) {
    for (const signal of team.signals || []) {
      const item = el("li");
      item.append(el("strong", "", `${team.team} · ${SIGNAL_LABELS[signal.kind] || signal.kind}`), el("p", "", signal.sentence), el("p", "question", signal.question));
      items.push(item);
    }
  }
  $("lessons").replaceChildren(...items);
  $("no-lessons").hidden = items.length > 0;
}

function showLegend(board) {
  const items = board.catalog.map((entry) => {
    const item = el("li");
    item.append(el("span", "legend-symbol", symbol(entry.id)), `${entry.title}`, el("span", "legend-points", entry.points ? ` ${entry.points} pts` : ` ${entry.kind}`));
    return item;
  });
  for (const [mark, text] of [[view.emoji ? "⚪\uFE0F" : "·", "step not done yet"], ["● / ○", "group connected / not yet"], ["idle", "no record from the team for 2 min or more"]]) {
    const item = el("li");
    item.append(el("span", "legend-symbol", mark), text);
    items.push(item);
  }
  $("legend").replaceChildren(...items);
}

function showBoard(board) {
  const first = !view.board;
  view.board = board;
  view.serverOffset = board.server_time - Date.now();
  view.lastData = Date.now();
  view.catalog = new Map(board.catalog.map((entry) => [entry.id, entry]));
  view.selected = Math.min(view.selected, board.teams.length - 1);
  if (first) {
    showColumns(board);
    showLegend(board);
    showTeamChoice(board);
  }
  showHeader(board);
  showProgress(board);
  showRows(board);
  showLiveStats(board);
  showLessons(board);
  refreshState();
}

// ---- celebrations ---------------------------------------------------------------

function addUnlock(event, celebrate) {
  const item = el("li");
  item.append(el("span", "emoji", view.emoji ? event.emoji : SHORT[event.id] || ""), ` ${event.team}: ${event.title}`);
  $("unlocks").prepend(item);
  while ($("unlocks").children.length > 20) $("unlocks").lastChild.remove();
  if (!celebrate || event.points === 0) return;
  view.banners.push(`${view.emoji ? event.emoji : "★"} ${event.team} unlocked ${event.title} (+${event.points})`);
  if (view.banners.length === 1) nextBanner();
}

// One celebration at a time, in the banner strip above the table: it never covers a row.
function nextBanner() {
  const banner = $("banner");
  if (!view.banners.length) {
    banner.textContent = "";
    banner.classList.remove("on");
    return;
  }
  banner.textContent = view.banners[0] + (view.banners.length > 1 ? `  · ${view.banners.length - 1} more` : "");
  banner.classList.add("on");
  setTimeout(() => {
    view.banners.shift();
    nextBanner();
  }, 3500);
}

// ---- details --------------------------------------------------------------------

async function openDetails(name) {
  $("help").hidden = true;
  let detail;
  try {
    const response = await fetch(`/api/teams/${encodeURIComponent(name)}`);
    detail = await response.json();
    if (!response.ok) throw new Error(detail.error ? detail.error.message : `HTTP ${response.status}`);
  } catch (error) {
    $("details-title").textContent = name;
    $("details-rule").textContent = `Could not load the team: ${error.message}`;
    $("details").hidden = false;
    return;
  }
  const standing = detail.standing;
  $("details-title").textContent = `#${standing.rank} ${standing.team} · ${standing.points} points`;
  $("details-rule").textContent = `Flags users where ${detail.rule}, with type ${detail.type} and reason ${detail.reason}.`;
  const figures = [
    ["valid", standing.valid], ["mistakes", standing.mistakes], ["redelivered", standing.redeliveries], ["streak", standing.streak],
    ["precision", percent(standing.precision)], ["recall", percent(standing.recall)], ["missed", standing.missed],
    ["instances", dash(standing.members)], ["lag", dash(standing.lag)],
  ].map(([label, value]) => {
    const item = el("div");
    item.append(el("dt", "", label), el("dd", "", String(value)));
    return item;
  });
  $("details-figures").replaceChildren(...figures);
  const mistakes = Object.entries(detail.mistakes || {}).sort((a, b) => b[1] - a[1]).map(([kind, count]) => {
    const row = el("tr");
    cell(row, `${symbol(kind)} ${title(kind)}`);
    cell(row, count, "num");
    const last = (detail.last_mistakes || {})[kind];
    cell(row, last ? last.record : "–", "record");
    return row;
  });
  $("details-mistakes").replaceChildren(...mistakes);
  $("details-no-mistakes").hidden = mistakes.length > 0;
  const members = (detail.members || []).map((member) => el("li", "", `${member.client_id} at ${member.host}: partitions ${member.partitions.length ? member.partitions.join(", ") : "none"}`));
  if (!detail.members) members.push(el("li", "hint", "This cluster does not describe groups: instances unknown."));
  for (const client of detail.clients || []) members.push(el("li", "", `connected: ${client.client_id} from ${client.address}`));
  $("details-members").replaceChildren(...members);
  $("details-badges").textContent = (standing.achievements || []).map((badge) => `${symbol(badge.id)} ${badge.title}`).join("   ") || "none yet";
  $("details").hidden = false;
  $("details-close").focus();
}

function closeOverlays() {
  $("details").hidden = true;
  $("help").hidden = true;
}

function move(by) {
  if (!view.board) return;
  view.selected = Math.max(0, Math.min(view.board.teams.length - 1, view.selected + by));
  for (const [index, row] of [...$("rows").children].entries()) row.classList.toggle("selected", index === view.selected);
  $("rows").children[view.selected]?.scrollIntoView({ block: "nearest" });
}

function onKey(event) {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
  if (event.key === "Escape") closeOverlays();
  else if (event.key === "?") {
    $("details").hidden = true;
    $("help").hidden = !$("help").hidden;
  } else if (event.key === "j" || event.key === "ArrowDown") move(1);
  else if (event.key === "k" || event.key === "ArrowUp") move(-1);
  else if (event.key === "Enter" && view.board && $("details").hidden) {
    const team = view.board.teams[view.selected];
    if (team) openDetails(team.team);
  } else return;
  event.preventDefault();
}

// ---- live, stale or unreachable -------------------------------------------------

// The pill and the note say in words what the board is worth right now.
function refreshState() {
  const pill = $("connection");
  const note = $("stale-note");
  const silent = view.lastData ? Date.now() - view.lastData : null;
  let state;
  let text;
  let explanation = "";
  if (view.socket === "closed") {
    state = "down";
    text = "SERVER UNREACHABLE · retrying";
    explanation = view.lastData ? `The server cannot be reached: these scores are ${age(silent)} old.` : "The server cannot be reached.";
  } else if (!view.kafka.reachable) {
    state = "down";
    text = "KAFKA UNREACHABLE";
    explanation = `Kafka cannot be reached (${kafkaReason(view.kafka.error)}): no record is being judged.`;
  } else if (!view.lastData) {
    state = "off";
    text = "connecting…";
  } else if (silent > STALE_AFTER_MS) {
    state = "stale";
    text = `STALE · no data for ${age(silent)}`;
    explanation = `No update for ${age(silent)}: these scores may be out of date.`;
  } else {
    state = "live";
    text = "● LIVE";
  }
  pill.textContent = text;
  pill.className = `state state-${state}`;
  note.textContent = explanation;
  note.hidden = !explanation;
  document.body.classList.toggle("stale", state === "down" || state === "stale");
  if (view.board) {
    showHeader(view.board);
    for (const [index, row] of [...$("rows").children].entries()) {
      const team = view.board.teams[index];
      const cellNode = row.querySelector("td.activity");
      if (!team || !cellNode) continue;
      const seen = activity(team);
      cellNode.textContent = seen.text;
      cellNode.className = seen.idle ? "activity idle" : "activity";
    }
  }
}

async function watchKafka() {
  try {
    const status = await (await fetch("/api/status")).json();
    view.kafka = { reachable: status.kafka.reachable, error: status.kafka.error || null };
    view.startedAt = Date.now() + view.serverOffset - status.uptime_seconds * 1000;
    $("kafka-raw").hidden = !status.kafka.error;
    $("kafka-raw-text").textContent = status.kafka.error || "";
  } catch {
    // The socket's state says the server is unreachable.
  }
  refreshState();
}

function handle(message) {
  if (message.channel === "leaderboard" && message.type === "snapshot") showBoard(message.data);
  if (message.channel === "achievements") {
    if (message.type === "snapshot") {
      $("unlocks").replaceChildren();
      for (const unlock of message.data) addUnlock(unlock, false);
    } else if (message.type === "achievement") {
      addUnlock(message.data, true);
    }
  }
}

// A module runs once the document is parsed.
view.emoji = detectEmoji();
document.body.classList.toggle("no-emoji", !view.emoji);
document.addEventListener("keydown", onKey);
$("details-close").addEventListener("click", closeOverlays);
$("help-close").addEventListener("click", closeOverlays);
$("help-button").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
$("my-team").addEventListener("change", (event) => {
  localStorage.setItem("streamsocial.team", event.target.value);
  if (view.board) showRows(view.board);
  goToMyTeam();
});
for (const overlay of [$("details"), $("help")]) {
  overlay.addEventListener("click", (event) => { if (event.target === overlay) closeOverlays(); });
}
showKafkaNote();
watchKafka();
setInterval(watchKafka, 5000);
setInterval(refreshState, 1000);
connect(["leaderboard", "achievements"], handle, (state) => {
  view.socket = state;
  refreshState();
});
