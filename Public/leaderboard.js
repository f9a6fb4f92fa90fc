// The instructor's board: rows from the `leaderboard` channel, celebrations from
// `achievements`. No inline scripts (Content-Security-Policy).
import { $, cell, el } from "./dom.js";
import { connect, showKafkaNote } from "./live.js";

// Short words for each teaching signal on the row; the Lessons panel gives the sentence.
const signalLabels = {
  missing_key: "no key",
  wrong_key: "wrong key",
  writer_conflict: "two writers",
  stats_disagree: "stats ≠ actions",
  redelivery: "redelivered",
  lag_growing: "lag growing",
};

function signalChips(team) {
  const span = el("span");
  for (const signal of team.signals || []) {
    const chip = el("span", `chip chip-${signal.kind}`, signalLabels[signal.kind] || signal.kind);
    if (signal.kind === "redelivery") chip.textContent = `${team.redeliveries} redelivered`;
    else if (signal.topic) chip.textContent += ` · ${signal.topic}`;
    chip.title = `${signal.sentence}\n${signal.question}`;
    span.append(chip);
  }
  return span;
}

function showLessons(teams) {
  const items = [];
  for (const team of teams) {
    for (const signal of team.signals || []) {
      const item = el("li");
      item.append(el("strong", "", `${team.team} · ${signalLabels[signal.kind] || signal.kind}`), el("p", "", signal.sentence), el("p", "question", signal.question));
      items.push(item);
    }
  }
  $("lessons").replaceChildren(...items);
  $("no-lessons").hidden = items.length > 0;
}

const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`);

function badges(achievements) {
  const span = el("span");
  for (const badge of achievements) {
    const item = el("span", badge.kind === "mistake" ? "mistake" : "", badge.emoji);
    item.title = `${badge.title} (${badge.points} points)`;
    span.append(item);
  }
  return span;
}

function showBoard(board) {
  $("known-users").textContent = board.known_users;
  $("inspection").textContent = `Consumer groups: ${board.group_inspection}`;
  const rows = board.teams.map((team) => {
    const row = el("tr", team.rank <= 3 && team.points > 0 ? "top" : "");
    row.dataset.team = team.team;
    cell(row, team.rank, "rank");
    const name = el("span");
    const dot = el("span", team.connected ? "dot on" : "dot");
    dot.title = team.connected ? "connected" : "not connected yet";
    name.append(dot, team.team);
    cell(row, name, "team");
    const points = cell(row, team.points, "points");
    if (team.penalty) points.title = `${team.penalty} points of penalties for mistakes`;
    cell(row, badges(team.achievements), "badges");
    cell(row, team.valid);
    cell(row, team.mistakes);
    cell(row, team.streak);
    cell(row, percent(team.precision));
    cell(row, percent(team.recall));
    // Instances of the team's app: known only where the broker describes groups; the
    // tooltip shows which new_users partitions each one reads.
    const instances = cell(row, team.members === null || team.members === undefined ? "–" : team.members);
    if (team.member_partitions) {
      instances.title = team.member_partitions
        .map((partitions, index) => `instance ${index + 1}: ${partitions.length ? partitions.join(", ") : "none"}`).join("\n");
    }
    cell(row, team.lag === null || team.lag === undefined ? "–" : team.lag);
    cell(row, signalChips(team), "signals");
    return row;
  });
  $("rows").replaceChildren(...rows);
  showLessons(board.teams);
}

function addUnlock(event, celebrate) {
  const item = el("li");
  item.append(el("span", "emoji", event.emoji), `${event.team}: ${event.title}`);
  $("unlocks").prepend(item);
  while ($("unlocks").children.length > 40) $("unlocks").lastChild.remove();
  if (!celebrate || event.points === 0) return;
  const toast = el("div", "toast");
  toast.append(el("span", "emoji", event.emoji), `${event.team} unlocked ${event.title} (+${event.points})`);
  $("toasts").append(toast);
  setTimeout(() => toast.remove(), 4200);
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
showKafkaNote();
connect(["leaderboard", "achievements"], handle);
