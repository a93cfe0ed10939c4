/* The operator's page: every report goes into an IndexedDB queue first (with an id made here), then is
   posted; what the network refuses to carry stays queued and is sent when it returns. The server counts a
   report sent twice once (its id is unique), so resending is always safe. */
(function () {
  "use strict";
  const body = document.body;
  const REPORT_URL = body.dataset.reportUrl;
  const USER = body.dataset.user;
  const msg = (key) => body.dataset["msg" + key] || key;
  const DB_NAME = "orderbridge-floor";
  const STORE = "queue";
  let flushing = false;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "client_id" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  function tx(mode, work) {
    return openDb().then((db) => new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const result = work(t.objectStore(STORE));
      t.oncomplete = () => { db.close(); resolve(result && result.result !== undefined ? result.result : result); };
      t.onerror = () => { db.close(); reject(t.error); };
    }));
  }
  const queuePut = (item) => tx("readwrite", (s) => s.put(item));
  const queueDelete = (id) => tx("readwrite", (s) => s.delete(id));
  const queueAll = () => tx("readonly", (s) => s.getAll());

  function say(text, kind) {
    const box = document.getElementById("floor-message");
    if (!box) return;
    box.textContent = text;
    box.className = "ob-floor-message" + (kind ? " is-" + kind : "");
  }

  function label(item) {
    const b = item.body;
    let text = b.action;
    if (b.action === "report" && b.all_remaining) text += " " + msg("AllRemaining");
    else if (b.action === "report") text += " " + [b.good_quantity || 0, b.scrap_quantity || 0, b.rework_quantity || 0].join(" / ");
    return new Date(item.queued_at).toLocaleTimeString() + " · #" + b.operation + " · " + text;
  }

  async function renderPending() {
    const section = document.getElementById("pending");
    if (!section) return;
    const items = (await queueAll()).sort((a, b) => a.queued_at - b.queued_at);
    const mine = items.filter((item) => item.user === USER);
    const others = items.length - mine.length;
    document.getElementById("pending-count").textContent = String(mine.length);
    const list = document.getElementById("pending-list");
    list.replaceChildren(...mine.map((item) => { const li = document.createElement("li"); li.textContent = label(item); return li; }));
    const other = document.getElementById("pending-other");
    other.hidden = others === 0;
    other.textContent = others + " " + msg("Other");
    section.hidden = items.length === 0;
  }

  function showState(state) {
    if (!state) return;
    const set = (id, value) => { const el = document.getElementById(id); if (el && value !== undefined) el.textContent = value; };
    const root = document.getElementById("operation");
    if (!root || String(state.id) !== root.dataset.operation) return;
    // A report's answer leaves a pause as it was (paused: absent); Start and Pause say it.
    if (state.paused !== undefined) root.dataset.paused = state.paused ? "1" : "";
    if (!(root.dataset.paused && state.status === "started" && state.paused === undefined)) set("op-status", state.status_label);
    set("op-good", state.good); set("op-scrap", state.scrap);
    set("op-rework", state.rework); set("op-remaining", state.remaining);
    root.dataset.remaining = state.remaining;
  }

  async function flush() {
    if (flushing || !USER) return;
    flushing = true;
    try {
      const items = (await queueAll()).filter((item) => item.user === USER).sort((a, b) => a.queued_at - b.queued_at);
      for (const item of items) {
        let response;
        try {
          response = await fetch(REPORT_URL, {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": body.dataset.csrf },
            body: JSON.stringify(item.body),
          });
        } catch (error) {
          break; // no network: keep it, try again later
        }
        if (response.status === 401 || response.status === 403 && !(await isJson(response))) { say(msg("Signin"), "error"); break; }
        if (response.status >= 500) break;
        const answer = await response.json().catch(() => ({}));
        await queueDelete(item.client_id);
        if (response.ok) {
          showState(answer.operation);
          say(msg("Sent") + ": " + label(item));
        } else {
          const error = answer.error || {};
          const details = Object.values(error.fields || {}).flat().join(" ");
          say(msg("Refused") + ": " + (error.message || response.status) + (details ? " (" + details + ")" : ""), "error");
        }
      }
    } finally {
      flushing = false;
      await renderPending();
    }
  }
  async function isJson(response) {
    return (response.headers.get("content-type") || "").includes("json");
  }

  async function submit(fields) {
    const item = {
      client_id: uuid(), user: USER, queued_at: Date.now(),
      body: Object.assign({ device_time: new Date().toISOString() }, fields),
    };
    item.body.client_id = item.client_id;
    await queuePut(item);
    await renderPending();
    if (!navigator.onLine) say(msg("Queued"), "queued");
    await flush();
    const left = (await queueAll()).some((q) => q.client_id === item.client_id);
    if (left) {
      say(msg("Queued"), "queued");
      showQueued(item.body);
    }
  }

  function showQueued(report) {
    // What the screen says remains, less a report still waiting here (the server's answer corrects it).
    const root = document.getElementById("operation");
    if (!root || report.action !== "report" || String(report.operation) !== root.dataset.operation) return;
    const used = report.all_remaining ? Infinity
      : ["good_quantity", "scrap_quantity", "rework_quantity"].reduce((sum, name) => sum + (Number(report[name]) || 0), 0);
    const left = Math.max(0, (Number(root.dataset.remaining) || 0) - used);
    const text = String(Math.round(left * 1000) / 1000);
    root.dataset.remaining = text;
    const shown = document.getElementById("op-remaining");
    if (shown) shown.textContent = text;
  }

  function photoData(file) {
    // Downscaled on the phone (a camera photo is several MB): at most 1600 px, JPEG.
    return new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => {
        const scale = Math.min(1, 1600 / Math.max(image.width, image.height));
        const canvas = document.createElement("canvas");
        canvas.width = Math.round(image.width * scale); canvas.height = Math.round(image.height * scale);
        canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(image.src);
        resolve(canvas.toDataURL("image/jpeg", 0.8));
      };
      image.onerror = () => reject(new Error(msg("Photo")));
      image.src = URL.createObjectURL(file);
    });
  }

  function operationPage(root) {
    const operation = Number(root.dataset.operation);
    root.querySelectorAll("[data-floor-action]").forEach((button) => {
      button.addEventListener("click", () => submit({ operation, action: button.dataset.floorAction }));
    });
    const confirmBox = document.getElementById("finish-confirm");
    document.getElementById("finish-all").addEventListener("click", () => {
      document.getElementById("finish-quantity").textContent = root.dataset.remaining;
      confirmBox.hidden = false;
    });
    document.getElementById("finish-confirm-no").addEventListener("click", () => { confirmBox.hidden = true; });
    document.getElementById("finish-confirm-yes").addEventListener("click", () => {
      confirmBox.hidden = true;
      // The rest is counted by the server when the report lands (after any reports still queued here).
      submit({ operation, action: "report", all_remaining: true, finished: true });
    });
    root.querySelectorAll("form[data-floor-form]").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const fields = { operation, action: form.dataset.floorForm };
        for (const [name, value] of data.entries()) {
          if (name === "photo" || name === "finished") continue;
          if (value !== "") fields[name] = value;
        }
        if (form.dataset.floorForm === "report") fields.finished = data.get("finished") === "on";
        const photo = data.get("photo");
        if (photo && photo.size) {
          try { fields.photo = await photoData(photo); } catch (error) { say(error.message, "error"); return; }
        }
        form.reset();
        await submit(fields);
      });
    });
  }

  function scanner() {
    // The camera's frames go to barcode-detector (the BarcodeDetector API over zxing-wasm), whose .wasm the
    // app serves itself (data-wasm-url): nothing is fetched from outside the plant.
    const button = document.getElementById("scan-start");
    if (!button) return;
    let scanning = null;
    const go = (text) => {
      const match = /\/floor\/operations\/(\d+)\/?/.exec(text) || /^\s*(\d+)\s*$/.exec(text);
      if (match) window.location.assign("/floor/operations/" + match[1] + "/");
      else say(msg("NotOperation"), "error");
    };
    button.addEventListener("click", async () => {
      if (scanning) { scanning.stop(); return; }  // a second tap: stop the camera
      const api = window.BarcodeDetectionAPI;
      const video = document.getElementById("scan-video");
      if (!api || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say(msg("ScanFailed"), "error"); return; }
      let stream;
      try {
        api.prepareZXingModule({
          overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? button.dataset.wasmUrl : prefix + path) },
        });
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (error) {
        say(msg("ScanFailed"), "error");
        return;
      }
      const detector = new api.BarcodeDetector({ formats: ["qr_code"] });
      let stopped = false;
      scanning = { stop: () => { stopped = true; } };
      video.srcObject = stream;
      video.hidden = false;
      const deadline = Date.now() + 120000;
      try {
        await video.play();
        while (!stopped && Date.now() < deadline) {
          const codes = video.readyState >= 2 ? await detector.detect(video) : [];
          if (codes.length) { go(codes[0].rawValue); break; }
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      } catch (error) {
        say(msg("ScanFailed"), "error");
      } finally {
        stream.getTracks().forEach((track) => track.stop());
        video.srcObject = null;
        video.hidden = true;
        scanning = null;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if ("serviceWorker" in navigator && body.dataset.swUrl) {
      navigator.serviceWorker.register(body.dataset.swUrl, { scope: "/floor/" }).catch(() => {});
    }
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    const root = document.getElementById("operation");
    if (root) operationPage(root);
    scanner();
    window.addEventListener("online", flush);
    setInterval(flush, 5000);
    renderPending().then(flush);
  });
})();
