// Shared by the pages: a WebSocket to /ws that subscribes to some channels, shows its
// state in #connection, and reconnects with backoff when it drops.
"use strict";

window.StreamSocialLive = {
  connect(channels, onMessage, delay = 500) {
    const status = document.getElementById("connection");
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
      setTimeout(() => this.connect(channels, onMessage, Math.min(delay * 2, 10000)), delay);
    });
  },

  // Shows in #kafka-note what a person should know about the cluster (the embedded one
  // lives in memory: everything is lost on restart).
  async showKafkaNote() {
    const note = document.getElementById("kafka-note");
    if (!note) return;
    try {
      const status = await (await fetch("/api/status")).json();
      note.textContent = status.kafka.note || "";
      note.hidden = !status.kafka.note;
    } catch {
      setTimeout(() => this.showKafkaNote(), 2000);
    }
  },
};
