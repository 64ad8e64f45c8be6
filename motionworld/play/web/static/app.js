// The browser front-end of `motionworld serve`: draws the frames the server streams and sends the
// whole input state back. The protocol is docs/serve.md; plain JavaScript, no build step.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const canvas = $("frame"), ctx = canvas.getContext("2d"), hud = $("hud"), phaseEl = $("phase");
  const token = new URLSearchParams(location.search).get("token");
  const PICTURE_LIMIT = 32 * 1024 * 1024;  // the server's limit for a dropped picture
  const SHOWN_PHASES = ["loading the model", "first frame", "paused"];

  // Kept up to date for tests (and for anyone curious, in the console).
  const mw = window.motionworld = {
    framesDrawn: 0, lastLatencyMs: null, latencies: [], phase: null, hello: null, lastFrame: null,
    connected: false,
  };

  function withToken(url) {
    const u = new URL(url, location.href);
    if (token !== null) u.searchParams.set("token", token);
    return u.href;
  }

  // ----- the socket
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" +
                           (token === null ? "" : "?token=" + encodeURIComponent(token)));
  ws.binaryType = "arraybuffer";
  let seq = 0, opened = false, ended = false;

  function send(type, fields) {
    if (ended || ws.readyState !== WebSocket.OPEN) return null;
    const msg = { type, ...fields, seq: ++seq, t: performance.now() };
    ws.send(JSON.stringify(msg));
    return msg;
  }

  ws.onopen = () => { opened = mw.connected = true; phaseEl.textContent = ""; };
  ws.onclose = () => {
    mw.connected = false;
    if (!ended) end(opened ? "disconnected" : "disconnected: could not connect to the server", "gone");
  };
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") return onFrame(e.data);
    const msg = JSON.parse(e.data);
    const handler = handlers[msg.type];
    if (handler) handler(msg); else console.debug("unknown message", msg);
  };

  const handlers = {
    hello(m) {
      mw.hello = m;
      uploading = null;
      // size is null until the first frame exists; the frames themselves size the canvas anyway
      if (m.size && (canvas.width !== m.size[0] || canvas.height !== m.size[1])) {
        [canvas.width, canvas.height] = m.size;
        fit();
      }
      buildHelp(m.controls);
      showPhase();
    },
    status(m) { mw.phase = m.phase; serverHud = m.hud || []; showPhase(); renderHud(); },
    say(m) { uploading = null; showPhase(); say(m.text); },
    recording(m) {
      const a = document.createElement("a");
      a.href = withToken(m.url);
      a.download = new URL(a.href).pathname.split("/").pop();
      document.body.appendChild(a);
      a.click();
      a.remove();
    },
    busy(m) { end(`busy: ${m.reason}`, "busy"); },
    bye(m) { end(`disconnected: ${m.reason}`, "gone"); },
  };

  // Busy, bye or a closed socket: say so and stay put. No reconnecting: a reload starts over.
  function end(text, how) {
    ended = true;  // first: nothing more is sent
    releaseAll();
    mw.connected = false;
    document.body.classList.add(how);
    phaseEl.className = "panel";
    phaseEl.textContent = text;
  }

  // ----- frames
  const drawTimes = [];            // when recent frames were drawn (for the shown fps)
  const inputSentAt = new Map();   // input seq -> send time, for inputs no frame has applied yet
  let newestInputSeq = 0, drawing = Promise.resolve();

  function onFrame(buf) {
    if (buf.byteLength < 16) return;
    const head = new DataView(buf, 0, 16);
    const frame = { index: head.getUint32(0, true), input_seq: head.getUint32(4, true),
                    restart: head.getUint32(8, true) };
    const jpeg = new Blob([new Uint8Array(buf, 16)], { type: "image/jpeg" });
    // Decoding is asynchronous: chain the frames so they are drawn in the order they came.
    drawing = drawing
      .then(() => createImageBitmap(jpeg))
      .then((bitmap) => draw(bitmap, frame))
      .catch((err) => console.warn("a frame could not be drawn", err))
      // Acknowledged even when it could not be drawn: with two frames unacknowledged the server
      // sends no more, so a bad frame must not stall the stream.
      .then(() => send("ack", { frame: frame.index }));
  }

  function draw(bitmap, frame) {
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
      fit();
    }
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const now = performance.now();
    mw.framesDrawn++;
    mw.lastFrame = frame;
    drawTimes.push(now);
    noteLatency(frame.input_seq, now);
  }

  // Input-to-frame latency: from sending an input to drawing the first frame that applied it.
  function noteLatency(inputSeq, now) {
    if (inputSeq <= newestInputSeq) return;
    newestInputSeq = inputSeq;
    const sentAt = inputSentAt.get(inputSeq);
    for (const s of inputSentAt.keys()) {  // in send order; drop this one and every older one
      if (s > inputSeq) break;
      inputSentAt.delete(s);
    }
    if (sentAt === undefined) return;
    mw.lastLatencyMs = now - sentAt;
    mw.latencies.push(mw.lastLatencyMs);
    if (mw.latencies.length > 20) mw.latencies.shift();
  }

  // The largest box of the frame's aspect ratio that fits the window (letterboxed by #stage).
  function fit() {
    const s = Math.min(innerWidth / canvas.width, innerHeight / canvas.height);
    canvas.style.width = `${Math.floor(canvas.width * s)}px`;
    canvas.style.height = `${Math.floor(canvas.height * s)}px`;
  }
  addEventListener("resize", fit);
  fit();

  // ----- HUD, centre text, messages, key list
  let serverHud = [], uploading = null;

  function median(values) {
    const v = [...values].sort((a, b) => a - b), mid = v.length >> 1;
    return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  }

  function renderHud() {
    const now = performance.now();
    while (drawTimes.length && drawTimes[0] <= now - 1000) drawTimes.shift();
    const latency = mw.lastLatencyMs === null ? "-- (press a key)" :
      `${Math.round(mw.lastLatencyMs)} ms   median ${Math.round(median(mw.latencies))} ms` +
      ` of ${mw.latencies.length}`;
    // "page": measured here, beside the server's own figures (which stop at the socket)
    hud.textContent = [...serverHud, `page  drawn ${drawTimes.length} fps   input to frame ${latency}`].join("\n");
  }
  setInterval(renderHud, 250);

  function showPhase() {
    if (ended) return;  // the busy / disconnected panel stays
    phaseEl.className = "";
    phaseEl.textContent = uploading !== null ? `uploading ${uploading}…` :
      SHOWN_PHASES.includes(mw.phase) ? mw.phase : "";
  }

  function say(text) {
    const line = document.createElement("div");
    line.textContent = text;
    $("says").appendChild(line);
    setTimeout(() => line.remove(), 4000);
  }

  function buildHelp(controls) {
    const rows = $("help-rows");
    rows.replaceChildren();
    for (const [keys, what] of controls || []) {
      const tr = rows.insertRow();
      tr.insertCell().textContent = keys;
      tr.insertCell().textContent = what;
    }
  }

  // ----- input state: sent whole, on every change and every 100 ms while anything is held
  const held = new Set();      // SDL scancodes
  const buttons = new Set();   // 1 left, 2 middle, 3 right (as SDL numbers them)
  const mouse = [0, 0];        // motion not sent yet
  let pad = null, padJson = "null", dirty = false, lastInputAt = -Infinity;
  let drag = null;             // {x, y} while the left button drags a point; `moved` when not sent yet

  const locked = () => document.pointerLockElement === canvas;
  const padActive = (p) => p !== null && (Math.hypot(...p.left) > 0.1 || Math.hypot(...p.right) > 0.1 ||
                                          p.lt > 0.05 || p.rt > 0.05 || p.sprint);

  function sendInput() {
    // Whole pixels only; the fraction (high-DPI mice report some) waits for the next message.
    const dx = Math.trunc(mouse[0]), dy = Math.trunc(mouse[1]);
    const msg = send("input", { keys: [...held].sort((a, b) => a - b), mouse: [dx, dy],
                                buttons: [...buttons].sort(), captured: locked(), pad });
    dirty = false;
    if (msg === null) return;
    mouse[0] -= dx;
    mouse[1] -= dy;
    lastInputAt = msg.t;
    inputSentAt.set(msg.seq, msg.t);
    if (inputSentAt.size > 1000) inputSentAt.delete(inputSentAt.keys().next().value);
  }

  function releaseAll() {
    if (drag) send("drag", { action: "release", x: drag.x, y: drag.y });
    drag = null;
    held.clear();
    buttons.clear();
    mouse[0] = mouse[1] = 0;
    pad = null;
    padJson = "null";
    sendInput();
  }
  addEventListener("blur", releaseAll);
  document.addEventListener("visibilitychange", () => { if (document.hidden) releaseAll(); });

  setInterval(() => {
    const active = held.size > 0 || buttons.size > 0 || padActive(pad);
    if (active && performance.now() - lastInputAt >= 80) sendInput();
  }, 20);

  // Mouse motion, drag moves and the pad are coalesced to one message each per animation frame
  // (at most ~66 a second), which keeps a fast mouse on a fast screen under the server's rate limit.
  function tick(now) {
    const p = readPad(), json = JSON.stringify(p);
    if (json !== padJson) [pad, padJson, dirty] = [p, json, true];
    if (now - lastInputAt >= 15 && dirty) sendInput();
    if (drag && drag.moved && now - drag.sentAt >= 15) {
      send("drag", { action: "move", x: drag.x, y: drag.y });
      [drag.moved, drag.sentAt] = [false, now];
    }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);

  // ----- keyboard: movement keys by position (event.code -> scancode from hello.keys); the page's
  // own keys by their letter, as in the window, so R is R on any layout.
  function letter(e) {
    if (/^[a-z]$/i.test(e.key)) return e.key.toLowerCase();
    return e.code.startsWith("Key") ? e.code.slice(3).toLowerCase() : "";  // non-Latin layouts
  }

  function pageAction(e) {
    if (e.code === "Space") return () => send("pause");
    if (e.code === "F9") return () => send("record");
    if (e.key === "?") return () => { $("help").hidden = !$("help").hidden; };
    if (e.key === "Escape" && !$("help").hidden) return () => { $("help").hidden = true; };
    switch (letter(e)) {
      case "r": return () => send("reset");
      case "c": return () => send("drag", { action: "clear", x: 0.5, y: 0.5 });
      case "h": return () => { hud.hidden = !hud.hidden; };
      case "m": return toggleCapture;
    }
    return null;
  }

  addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || ended) return;  // leave the browser's shortcuts alone
    const code = mw.hello && mw.hello.keys[e.code];
    if (code !== undefined && code !== null) {
      e.preventDefault();
      if (!held.has(code)) { held.add(code); sendInput(); }
      return;
    }
    const action = pageAction(e);
    if (action === null) return;
    e.preventDefault();
    if (!e.repeat) action();
  });

  addEventListener("keyup", (e) => {
    const code = mw.hello && mw.hello.keys[e.code];
    if (code !== undefined && held.delete(code)) { e.preventDefault(); sendInput(); }
  });

  // ----- mouse: M captures it (pointer lock) to look around; Esc releases (the browser does that)
  function toggleCapture() {
    if (locked()) return document.exitPointerLock();
    const p = canvas.requestPointerLock();
    if (p && p.catch) p.catch(() => say("the browser did not let the page capture the mouse"));
  }
  document.addEventListener("pointerlockchange", () => { mouse[0] = mouse[1] = 0; sendInput(); });

  // Where the pointer is across the drawn frame: the canvas is exactly the frame, so [0, 1] is on it.
  function framePoint(e) {
    const r = canvas.getBoundingClientRect();
    const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1e4) / 1e4;
    return { x: clamp((e.clientX - r.left) / r.width), y: clamp((e.clientY - r.top) / r.height) };
  }

  // mousedown only on the canvas, so clicks on the letterbox bars are ignored
  canvas.addEventListener("mousedown", (e) => {
    const button = e.button + 1;  // DOM 0 left, 1 middle, 2 right
    if (button > 3 || ended) return;
    e.preventDefault();  // no autoscroll on a middle click, no text selection
    buttons.add(button);
    if (!locked() && mw.hello) {
      const at = framePoint(e);
      if (button === 1) {
        drag = { ...at, moved: false, sentAt: performance.now() };
        send("drag", { action: "press", ...at });
      } else if (button === 3) {
        send("drag", { action: "pin", ...at });
      }
    }
    sendInput();
  });
  addEventListener("mouseup", (e) => {
    const button = e.button + 1;
    if (button === 1 && drag) {
      send("drag", { action: "release", ...framePoint(e) });
      drag = null;
    }
    if (buttons.delete(button)) sendInput();
  });
  addEventListener("mousemove", (e) => {
    if (locked() || buttons.has(2)) {  // captured, or middle-drag: look around
      mouse[0] += e.movementX;
      mouse[1] += e.movementY;
      dirty = true;
    }
    if (drag) Object.assign(drag, framePoint(e), { moved: true });
  });
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());  // right click pins instead

  // ----- gamepad (standard mapping), polled every animation frame
  const axis = (v) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : 0);

  function readPad() {
    if (!navigator.getGamepads) return null;  // not offered outside a secure context in some browsers
    const pads = [...navigator.getGamepads()].filter((p) => p && p.connected);
    const p = pads.find((q) => q.mapping === "standard") || pads[0];
    if (!p) return null;
    const a = (i) => axis(p.axes[i]), b = (i) => p.buttons[i];
    return { left: [a(0), a(1)], right: [a(2), a(3)], lt: axis(b(6) ? b(6).value : 0),
             rt: axis(b(7) ? b(7).value : 0), sprint: Boolean(b(10) && b(10).pressed) };
  }
  addEventListener("gamepadconnected", (e) => say(`gamepad connected: ${e.gamepad.id}`));
  addEventListener("gamepaddisconnected", () => say("gamepad disconnected; keyboard and mouse still work"));

  // ----- drop a picture onto the page to walk into it instead
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    document.body.classList.add("dropping");
  });
  addEventListener("dragleave", (e) => {
    if (e.relatedTarget === null) document.body.classList.remove("dropping");  // left the window
  });
  addEventListener("drop", async (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();  // never let the browser navigate to the file
    document.body.classList.remove("dropping");
    const file = e.dataTransfer.files[0];
    if (!file || ended) return;
    if (file.size > PICTURE_LIMIT) return say(`${file.name} is over 32 MiB; pick a smaller picture`);
    uploading = file.name;
    showPhase();
    const bytes = await file.arrayBuffer();
    if (ws.readyState === WebSocket.OPEN) ws.send(bytes);
  });
})();
