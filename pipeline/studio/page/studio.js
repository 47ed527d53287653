// Lecture studio page: plays the current preview, shows its segments, script and
// timeline, and follows the server's events (progress, new previews, errors).
"use strict";

const $ = (id) => document.getElementById(id);
const video = $("video");
const studio = window.studio = {
  preview: null, waveform: null, version: null, playable: null, last: null,
  progress: {}, events: 0, swaps: 0,
};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(t) {
  const m = Math.floor(t / 60), s = t - 60 * m;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

async function post(path) {
  const r = await fetch(path, { method: "POST", credentials: "same-origin" });
  if (!r.ok) setStatus(`${path}: ${r.status}`);
}

function setStatus(text) { $("status").textContent = text; }

// ------------------------------------------------------------------ state
async function refresh() {
  const r = await fetch("/api/state", { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) { setStatus(`state: ${r.status}`); return; }
  const s = await r.json();
  studio.last = s.last;
  if ($("status").textContent === "connecting…") setStatus(s.job ? `${s.job}: running` : "ready");
  showError(s.error);
  showJobs(s.jobs, s.job);
  if (s.preview) applyPreview(s.preview);
  if (s.waveform && s.preview && s.waveform.version === s.preview.version) {
    studio.waveform = s.waveform;
    renderSegments();
  }
  $("warnings").replaceChildren(...(s.warnings || []).map((w) => el("div", "", w)));
  if (s.log && s.log.length && !$("log").textContent) $("log").textContent = s.log.join("\n");
  drawTimeline();
}

function showError(line) {
  const box = $("error");
  box.hidden = !line;
  box.textContent = line || "";
  studio.error = line || null;
}

function showJobs(jobs, running) {
  $("run-publish").hidden = !jobs.includes("publish");
  $("stop").disabled = !running;
}

// ------------------------------------------------------------------ the preview
function segmentAt(p, t) {
  if (!p) return null;
  let found = p.segments[0];
  for (const s of p.segments) if (s.start <= t + 1e-6) found = s;
  return found;
}

function positionAfterSwap(old, p, t) {
  // Where to play in the new preview: in the segment that changed, the same offset when
  // it is the one playing, else its start; with nothing changed, where it was.
  if (!old) return 0;
  const before = new Map(old.segments.map((s) => [s.id, s]));
  const changed = p.segments.filter((s) => !before.has(s.id) || before.get(s.id).clip_key !== s.clip_key);
  const cur = segmentAt(old, t);
  const same = cur && p.segments.find((s) => s.id === cur.id);
  if (same && (changed.includes(same) || !changed.length)) {
    return same.start + Math.min(Math.max(0, t - cur.start), Math.max(0, same.duration - 0.05));
  }
  return changed.length ? changed[0].start : Math.min(t, p.duration);
}

function applyPreview(p) {
  const old = studio.preview;
  studio.preview = p;
  $("title").textContent = `${p.title} · ${p.quality} · ${p.version}`;
  document.title = `${p.title} · studio`;
  if (studio.version !== p.version) swapVideo(old, p);
  renderSegments();
  renderScript(true);
}

function swapVideo(old, p) {
  const wasPlaying = !video.paused && !video.ended;
  const at = positionAfterSwap(old, p, video.currentTime || 0);
  studio.version = p.version;
  studio.swaps += 1;
  for (const t of [...video.querySelectorAll("track")]) t.remove();
  const track = el("track");
  track.kind = "captions"; track.srclang = "en"; track.label = "Captions"; track.default = true;
  track.src = p.captions;
  video.appendChild(track);
  const version = p.version;
  const ready = () => {
    video.removeEventListener("loadedmetadata", ready);
    video.currentTime = at;
    if (video.textTracks[0]) video.textTracks[0].mode = "showing";
    const playable = () => {
      video.removeEventListener("canplay", playable);
      if (studio.version === version) studio.playable = { version, at: Date.now(), position: at };
      if (wasPlaying) video.play().catch(() => {});
    };
    if (video.readyState >= 3 && !video.seeking) playable();
    else video.addEventListener("canplay", playable);
  };
  video.addEventListener("loadedmetadata", ready);
  video.src = p.video;
  video.load();
}

// ------------------------------------------------------------------ segments and script
function renderSegments() {
  const p = studio.preview;
  if (!p) return;
  const loud = (studio.waveform && studio.waveform.loudness) || {};
  const rows = p.segments.map((s) => {
    const tr = el("tr");
    tr.dataset.id = s.id;
    const prog = studio.progress[s.id];
    const state = prog ? prog.text : s.cache;
    const lufs = loud[s.id];
    tr.append(
      el("td", "", String(s.index).padStart(2, "0")),
      el("td", "", s.chapter),
      el("td", "", `${s.duration.toFixed(2)} s`),
      el("td", "", s.source),
      el("td", `state ${prog ? "busy" : s.cache}`, state),
      el("td", "", lufs === undefined ? "…" : lufs === null ? "silent" : lufs.toFixed(1)),
      el("td", "warn", s.warnings.join("; ")),
    );
    tr.addEventListener("click", () => seek(s.start));
    return tr;
  });
  $("segments").tBodies[0].replaceChildren(...rows);
  highlight();
}

let scriptSegment = null;

function renderScript(force) {
  const seg = segmentAt(studio.preview, video.currentTime || 0);
  if (!seg || (!force && scriptSegment === seg.id)) return;
  scriptSegment = seg.id;
  $("script-title").textContent = `Script · ${seg.id}`;
  const parts = [];
  for (const s of seg.sentences) {
    const span = el("span", "sentence");
    span.dataset.start = s.start;
    span.dataset.end = s.end;
    const marks = [...s.marks].sort((a, b) => a.at - b.at);
    let at = 0;
    for (const m of marks) {
      span.append(document.createTextNode(s.text.slice(at, m.at)));
      const chip = el("span", "mark", m.name);
      chip.title = m.time === null ? m.name : `beat ${m.name} at ${fmt(m.time)}`;
      chip.addEventListener("click", (e) => { e.stopPropagation(); if (m.time !== null) seek(m.time); });
      span.append(chip);
      at = m.at;
    }
    span.append(document.createTextNode(s.text.slice(at)));
    span.addEventListener("click", () => seek(s.start));
    parts.push(span, document.createTextNode(" "));
  }
  $("script").replaceChildren(...parts);
}

function highlight() {
  const t = video.currentTime || 0;
  renderScript(false);
  let now = null;
  for (const span of $("script").querySelectorAll(".sentence")) {
    if (Number(span.dataset.start) <= t + 1e-3) now = span;
  }
  for (const span of $("script").querySelectorAll(".sentence")) span.classList.toggle("now", span === now);
  const seg = segmentAt(studio.preview, t);
  for (const tr of $("segments").tBodies[0].rows) tr.classList.toggle("playing", !!seg && tr.dataset.id === seg.id);
}

function seek(t) {
  video.currentTime = Math.max(0, t);
  highlight();
  drawTimeline();
}

// ------------------------------------------------------------------ timeline
const BAND = 22; // segment band height (css px)

function drawTimeline() {
  const c = $("timeline"), p = studio.preview;
  const w = c.clientWidth, h = c.clientHeight, dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  if (!p) return;
  const x = (t) => (t / p.duration) * w;
  g.font = "11px system-ui, sans-serif";
  p.segments.forEach((s, i) => {
    g.fillStyle = i % 2 ? "#2a3442" : "#24303d";
    g.fillRect(x(s.start), 0, x(s.duration), h);
    g.fillStyle = i % 2 ? "#3d5a80" : "#35507a";
    g.fillRect(x(s.start), 0, x(s.duration) - 1, BAND);
    g.fillStyle = "#e6e6e6";
    const lufs = studio.waveform && studio.waveform.loudness[s.id];
    const label = `${s.index} ${s.id}` + (typeof lufs === "number" ? ` · ${lufs.toFixed(1)} LUFS` : "");
    g.save(); g.beginPath(); g.rect(x(s.start), 0, x(s.duration) - 4, BAND); g.clip();
    g.fillText(label, x(s.start) + 4, 15); g.restore();
  });
  const wf = studio.waveform, mid = BAND + (h - BAND) / 2, amp = (h - BAND) / 2 - 6;
  if (wf && wf.peaks.length) {
    g.fillStyle = "#6fa8dc";
    const per = wf.peaks.length / w;
    for (let px = 0; px < w; px++) {
      let v = 0;
      for (let k = Math.floor(px * per); k < Math.floor((px + 1) * per) || k === Math.floor(px * per); k++) {
        v = Math.max(v, wf.peaks[k] || 0);
      }
      g.fillRect(px, mid - v * amp, 1, Math.max(1, 2 * v * amp));
    }
  } else {
    g.fillStyle = "#3a4454"; g.fillRect(0, mid, w, 1);
  }
  g.fillStyle = "#c9a0ff";
  for (const s of p.segments) {
    for (const b of s.beats) {
      g.fillRect(x(b.start), BAND, 1, h - BAND);
      g.fillText(b.name, x(b.start) + 3, BAND + 12);
    }
  }
  g.fillStyle = "#ff5c5c";
  g.fillRect(x(video.currentTime || 0) - 1, 0, 2, h);
}

$("timeline").addEventListener("click", (e) => {
  const p = studio.preview;
  if (!p) return;
  const r = e.currentTarget.getBoundingClientRect(), px = e.clientX - r.left;
  let t = (px / r.width) * p.duration;
  for (const s of p.segments) {  // a beat within 4 px is meant exactly
    for (const b of s.beats) if (Math.abs((b.start / p.duration) * r.width - px) <= 4) t = b.start;
  }
  seek(t);
});

// ------------------------------------------------------------------ events
function onProgress(d) {
  if (d.segment) {
    const txt = d.state === "rendering" ? `rendering ${d.frames} frames` : d.state === "done" ? "rendered" : d.state;
    studio.progress[d.segment] = { text: `${d.job}: ${txt}`, state: d.state };
    setStatus(`${d.job}: ${d.segment} ${txt}`);
    renderSegments();
  } else if (d.stage) {
    setStatus(`${d.job}: ${d.stage}`);
  }
}

function onDone(d) {
  studio.progress = {};
  studio.lastDone = { ...d, at: Date.now() };
  let text = `${d.job}: `;
  if (d.stopped) text += "stopped";
  else if (!d.ok) text += "failed (see the line above)";
  else if (d.job === "preview") {
    text += d.rendered && d.rendered.length ? `rendered ${d.rendered.join(", ")}` : "up to date, nothing rendered";
  } else text += d.summary || "done";
  setStatus(`${text} · ${d.seconds.toFixed(2)} s`);
  refresh();
}

function appendLog(line) {
  const log = $("log");
  log.textContent += (log.textContent ? "\n" : "") + line;
  log.scrollTop = log.scrollHeight;
}

function connect() {
  const es = new EventSource("/api/events");
  const on = (kind, fn) => es.addEventListener(kind, (e) => { studio.events += 1; fn(JSON.parse(e.data)); });
  on("progress", onProgress);
  on("job", (d) => {
    setStatus(`${d.job}: started`);
    $("stop").disabled = false;
    if (d.job !== "preview") $("log").textContent = "";
  });
  on("done", onDone);
  on("preview", () => refresh());
  on("waveform", () => refresh());
  on("log", (d) => appendLog(d.line));
  on("change", (d) => { studio.changedAt = d.at; setStatus(`changed: ${d.paths.map((p) => p.split("/").pop()).join(", ")}`); });
  on("queue", (d) => { $("stop").disabled = !d.job; });
  es.onopen = () => refresh();
}

for (const b of document.querySelectorAll("nav button[data-job]")) {
  b.addEventListener("click", () => post(`/api/run/${b.dataset.job}`));
}
$("stop").addEventListener("click", () => post("/api/stop"));
video.addEventListener("timeupdate", () => { highlight(); drawTimeline(); });
video.addEventListener("seeked", () => { highlight(); drawTimeline(); });
window.addEventListener("resize", drawTimeline);
(function tick() {
  if (!video.paused) { highlight(); drawTimeline(); }
  requestAnimationFrame(tick);
})();
connect();
refresh();
