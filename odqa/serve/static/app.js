// odqa chat page: plain DOM, no framework, no network beyond this server.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { previous: null, busy: false };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = `Bearer ${key}`;
  return h;
}

async function api(path, body) {
  const res = await fetch(path, body === undefined ? { headers: headers() } : {
    method: "POST", headers: headers(), body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    let detail = data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    const retry = res.headers.get("Retry-After");
    throw new Error(`${res.status}: ${detail || res.statusText}${retry ? ` (retry in ${retry} s)` : ""}`);
  }
  return data;
}

// the passage with the answer span highlighted (character offsets from the API)
function highlighted(passage, span) {
  const [s, e] = span;
  const p = el("p", { class: "passage" });
  if (s === null || e === null || s < 0 || e > passage.length) {
    p.append(passage);
    return p;
  }
  const from = Math.max(0, s - 300), to = Math.min(passage.length, e + 300);
  p.append((from > 0 ? "…" : "") + passage.slice(from, s), el("mark", {}, passage.slice(s, e)),
           passage.slice(e, to) + (to < passage.length ? "…" : ""));
  return p;
}

function feedbackButtons(question, answer, pipeline) {
  const box = el("span", { class: "feedback" });
  for (const [vote, label] of [["up", "✓ right"], ["down", "✗ wrong"]]) {
    const b = el("button", { type: "button", class: `vote vote-${vote}`, title: `this answer is ${vote === "up" ? "right" : "wrong"}` }, label);
    b.addEventListener("click", async () => {
      try {
        await api("/v1/feedback", {
          question, answer: answer.answer, passage: answer.passage, span: answer.span, vote,
          doc_id: answer.doc_id, passage_id: answer.passage_id, title: answer.title, pipeline,
        });
        box.replaceChildren(el("span", { class: "thanks" }, vote === "up" ? "saved as a right answer" : "saved as wrong"));
      } catch (err) {
        box.append(el("span", { class: "error" }, ` ${err.message}`));
      }
    });
    box.append(b);
  }
  return box;
}

function answerCard(a, question, pipeline, primary) {
  const card = el("div", { class: primary ? "answer primary" : "answer" });
  card.append(
    el("div", { class: "answer-head" },
       el("strong", { class: "answer-text" }, a.answer),
       el("span", { class: "score" }, `score ${a.score.toFixed(3)}`),
       feedbackButtons(question, a, pipeline)),
    highlighted(a.passage || "", a.span),
    el("div", { class: "source" }, `source: ${a.title || a.doc_id} · document ${a.doc_id} · passage ${a.passage_id}`),
  );
  return card;
}

function turn(question) {
  const box = el("article", { class: "turn" }, el("div", { class: "question" }, question));
  $("conversation").append(box);
  box.scrollIntoView({ behavior: "smooth", block: "end" });
  return box;
}

function render(box, data) {
  if (data.interpreted_as) box.append(el("div", { class: "interpreted" }, `interpreted as: ${data.interpreted_as}`));
  const asked = data.interpreted_as || data.question;
  if (data.answers.length) {
    box.append(answerCard(data.answers[0], asked, data.pipeline, true));
    if (data.answers.length > 1) {
      const more = el("details", { class: "candidates" }, el("summary", {}, `${data.answers.length - 1} other candidate answers`));
      for (const a of data.answers.slice(1)) more.append(answerCard(a, asked, data.pipeline, false));
      box.append(more);
    }
  } else {
    box.append(el("div", { class: "noanswer" }, "No answer span; the passages found:"));
    for (const p of data.passages.slice(0, 3)) box.append(el("p", { class: "passage" }, p.passage || ""));
  }
  const stages = Object.entries(data.timings_ms).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(" · ");
  box.append(el("div", { class: "timings" }, `${data.pipeline}: ${stages} · total ${data.total_ms.toFixed(0)} ms`));
  state.previous = { question: asked, answer: data.answers.length ? data.answers[0].answer : null, entities: data.entities };
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || state.busy) return;
  state.busy = true;
  $("ask").disabled = true;
  const box = turn(question);
  const waiting = el("div", { class: "waiting" }, "thinking…");
  box.append(waiting);
  const body = { question, top_k: Number($("top-k").value) || 3 };
  if ($("pipeline").value) body.pipeline = $("pipeline").value;
  if ($("depth").value) body.depth = Number($("depth").value);
  if (state.previous) body.previous = state.previous;
  try {
    const data = await api("/v1/ask", body);
    waiting.remove();
    render(box, data);
    $("question").value = "";
  } catch (err) {
    waiting.replaceWith(el("div", { class: "error" }, err.message));
  } finally {
    state.busy = false;
    $("ask").disabled = false;
    box.scrollIntoView({ behavior: "smooth", block: "end" });
  }
}

async function exportFeedback(event) {
  event.preventDefault();
  try {
    const data = await api("/v1/feedback/export");
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }));
    const link = el("a", { href: url, download: "odqa-feedback.json" });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  } catch (err) {
    $("status").textContent = err.message;
  }
}

async function init() {
  $("ask-form").addEventListener("submit", ask);
  $("export").addEventListener("click", exportFeedback);
  $("new-topic").addEventListener("click", () => {
    state.previous = null;
    $("conversation").append(el("hr", { class: "topic" }));
  });
  $("settings-toggle").addEventListener("click", () => {
    const s = $("settings");
    s.hidden = !s.hidden;
    $("settings-toggle").setAttribute("aria-expanded", String(!s.hidden));
  });
  $("api-key").value = localStorage.getItem("odqa-api-key") || "";
  $("api-key").addEventListener("change", () => { localStorage.setItem("odqa-api-key", $("api-key").value); loadPipelines(); });
  await loadPipelines();
}

async function loadPipelines() {
  try {
    const pipelines = await api("/v1/pipelines");
    $("pipeline").replaceChildren(...pipelines.map((p) => el("option", { value: p.name, title: p.description }, p.name)));
    const ready = await fetch("/ready").then((r) => r.json());
    $("status").textContent = ready.ready ? `ready · index ${ready.index_dir}` : `not ready: ${ready.reason}`;
  } catch (err) {
    $("status").textContent = err.message;
  }
}

init();
