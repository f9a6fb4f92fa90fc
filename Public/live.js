// Shared by the pages: a WebSocket to /ws that subscribes to some channels, shows its
// state in #connection, and reconnects with backoff when it drops.
import { $ } from "./dom.js";

export function connect(channels, onMessage, delay = 500) {
  const status = $("connection");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    status.textContent = "live";
    status.className = "pill pill-on";
    socket.send(JSON.stringify({ subscribe: channels }));
    delay = 500;
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    onMessage(message);
  });
  socket.addEventListener("close", () => {
    status.textContent = "reconnecting…";
    status.className = "pill pill-off";
    setTimeout(() => connect(channels, onMessage, Math.min(delay * 2, 10000)), delay);
  });
}

// Shows in #kafka-note what a person should know about the cluster (the embedded one
// lives in memory: everything is lost on restart).
export async function showKafkaNote() {
  const note = $("kafka-note");
  if (!note) return;
  try {
    const status = await (await fetch("/api/status")).json();
    note.textContent = status.kafka.note || "";
    note.hidden = !status.kafka.note;
  } catch {
    setTimeout(showKafkaNote, 2000);
  }
}
