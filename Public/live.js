// Shared by the pages: a WebSocket to /ws that subscribes to some channels and
// reconnects with backoff when it drops, and what the pages say about freshness.
import { $ } from "./dom.js";

// Opens /ws, subscribes to `channels`, hands each message to onMessage. onState("open")
// and onState("closed") tell the page; without onState the #connection pill says it.
export function connect(channels, onMessage, onState, delay = 500) {
  const status = $("connection");
  const state = onState || ((now) => {
    status.textContent = now === "open" ? "live" : "reconnecting…";
    status.className = now === "open" ? "pill pill-on" : "pill pill-off";
  });
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    state("open");
    socket.send(JSON.stringify({ subscribe: channels }));
    delay = 500;
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    onMessage(message);
  });
  socket.addEventListener("close", () => {
    state("closed");
    setTimeout(() => connect(channels, onMessage, onState, Math.min(delay * 2, 10000)), delay);
  });
}

// A short human reason for a raw librdkafka error string (the raw one stays available
// behind a details toggle).
export function kafkaReason(raw) {
  const text = (raw || "").toLowerCase();
  if (text.includes("refused")) return "the brokers refuse connections";
  if (text.includes("resolve")) return "the broker address does not resolve";
  if (text.includes("timed out") || text.includes("timeout")) return "the brokers do not answer";
  if (text.includes("all broker")) return "every broker is down";
  return "the brokers cannot be reached";
}

// "12 s", "4 min", "2 h 5 min": an age in words.
export function age(milliseconds) {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
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
