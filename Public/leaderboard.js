// The instructor's board: rows from the `leaderboard` channel, celebrations from
// `achievements`. No inline scripts (Content-Security-Policy).
"use strict";

const $ = (id) => document.getElementById(id);
const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`);

function cell(row, content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (content instanceof Node) td.append(content); else td.textContent = content;
  row.append(td);
  return td;
}

function badges(achievements) {
  const span = document.createElement("span");
  for (const badge of achievements) {
    const item = document.createElement("span");
    item.textContent = badge.emoji;
    item.title = `${badge.title} (${badge.points} points)`;
    if (badge.kind === "mistake") item.className = "mistake";
    span.append(item);
  }
  return span;
}

function showBoard(board) {
  $("known-users").textContent = board.known_users;
  $("inspection").textContent = `Consumer groups: ${board.group_inspection}`;
  const rows = board.teams.map((team) => {
    const row = document.createElement("tr");
    if (team.rank <= 3 && team.points > 0) row.className = "top";
    row.dataset.team = team.team;
    cell(row, team.rank, "rank");
    const name = document.createElement("span");
    const dot = document.createElement("span");
    dot.className = team.connected ? "dot on" : "dot";
    dot.title = team.connected ? "connected" : "not connected yet";
    name.append(dot, team.team);
    cell(row, name, "team");
    cell(row, team.points, "points");
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
    return row;
  });
  $("rows").replaceChildren(...rows);
}

function addUnlock(event, celebrate) {
  const item = document.createElement("li");
  const emoji = document.createElement("span");
  emoji.className = "emoji";
  emoji.textContent = event.emoji;
  item.append(emoji, `${event.team}: ${event.title}`);
  $("unlocks").prepend(item);
  while ($("unlocks").children.length > 40) $("unlocks").lastChild.remove();
  if (!celebrate || event.points === 0) return;
  const toast = document.createElement("div");
  toast.className = "toast";
  const big = document.createElement("span");
  big.className = "emoji";
  big.textContent = event.emoji;
  toast.append(big, `${event.team} unlocked ${event.title} (+${event.points})`);
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

document.addEventListener("DOMContentLoaded", () => {
  window.StreamSocialLive.showKafkaNote();
  window.StreamSocialLive.connect(["leaderboard", "achievements"], handle);
});
