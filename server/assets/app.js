// Vigía web panel: keeps the server-rendered pages live. Every value from the daemon is set with
// textContent, never as HTML: process names are any local user's text.
"use strict";

(function () {
  const POLL_MS = 2000;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(path) {
    const res = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (res.status === 401) {
      window.location.assign("/login");
      throw new Error("logged out");
    }
    if (!res.ok) throw new Error(path + ": " + res.status);
    return res.json();
  }

  function humanBytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let v = n, u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return u === 0 ? n + " B" : v.toFixed(1) + " " + units[u];
  }

  function humanDuration(secs) {
    const d = Math.floor(secs / 86400), h = Math.floor((secs % 86400) / 3600), m = Math.floor((secs % 3600) / 60);
    if (d > 0) return d + " d " + h + " h " + m + " min";
    if (h > 0) return h + " h " + m + " min";
    return m + " min";
  }

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  // Every stop button asks first.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("stop")) return;
    const pid = form.action.split("/").slice(-2)[0];
    if (!window.confirm("Stop process " + pid + "?")) e.preventDefault();
  });

  // ---- Dashboard: charts from the history, then live.
  function dashboard() {
    const cpuEl = document.getElementById("chart-cpu");
    const memEl = document.getElementById("chart-mem");
    if (!cpuEl || !memEl || typeof uPlot === "undefined") return;
    const GiB = 1024 * 1024 * 1024;
    const data = { t: [], cpu: [], mem: [] };
    let maxPoints = 3600;
    const size = (el) => ({ width: Math.max(el.clientWidth - 8, 200), height: 220 });
    const opts = (label, color, el, range) => Object.assign(size(el), {
      scales: { x: { time: true }, y: range ? { range: range } : {} },
      series: [{}, { label: label, stroke: color, width: 2, fill: color + "22" }],
      legend: { show: true },
    });
    const cpuChart = new uPlot(opts("CPU %", "#2f7ed8", cpuEl, [0, 100]), [data.t, data.cpu], cpuEl);
    const memChart = new uPlot(opts("Used GiB", "#8e44ad", memEl, null), [data.t, data.mem], memEl);
    cpuEl.dataset.ready = "1";
    memEl.dataset.ready = "1";

    function redraw() {
      cpuChart.setData([data.t, data.cpu]);
      memChart.setData([data.t, data.mem]);
      cpuEl.dataset.points = String(data.t.length);
    }
    window.addEventListener("resize", () => {
      cpuChart.setSize(size(cpuEl));
      memChart.setSize(size(memEl));
    });

    api("/api/history").then((h) => {
      maxPoints = Math.max(Math.round(3600000 / (h.interval_ms || 1000)), 60);
      data.t.push(...h.time);
      data.cpu.push(...h.cpu);
      data.mem.push(...h.mem_used.map((b) => b / GiB));
      redraw();
    }).catch(() => {});

    async function tick() {
      try {
        const s = await api("/api/status");
        const t = s.time_ms / 1000;
        if (data.t.length === 0 || t > data.t[data.t.length - 1]) {
          data.t.push(t); data.cpu.push(s.cpu); data.mem.push(s.mem_used / GiB);
          while (data.t.length > maxPoints) { data.t.shift(); data.cpu.shift(); data.mem.shift(); }
          redraw();
        }
        setText("uptime", humanDuration(s.uptime));
        setText("load", [s.load1, s.load5, s.load15].map((x) => x.toFixed(2)).join(" "));
        setText("procs", String(s.procs));
        setText("cpu", s.cpu.toFixed(1) + " %");
        setText("mem", humanBytes(s.mem_used) + " of " + humanBytes(s.mem_total));
      } catch (e) { /* the next tick retries */ }
    }
    setInterval(tick, POLL_MS);
  }

  // ---- Processes: live table, sorted and filtered in the page.
  function processes() {
    const table = document.getElementById("procs");
    const filter = document.getElementById("filter");
    if (!table || !filter) return;
    const tbody = table.tBodies[0];
    const state = {
      sort: table.dataset.sort || "pid",
      desc: table.dataset.desc === "true",
      rows: null,
      canAct: table.dataset.canAct === "true",
    };
    const cmp = {
      pid: (a, b) => a.pid - b.pid,
      user: (a, b) => a.user.localeCompare(b.user),
      cpu: (a, b) => a.cpu - b.cpu,
      mem: (a, b) => a.mem - b.mem,
      name: (a, b) => a.name.localeCompare(b.name),
    };

    function cell(tr, text, cls) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
      return td;
    }

    // Rows are kept by pid and updated in place: a row, and its Stop button, stays the same
    // element across refreshes, so a click never lands on a row that was just replaced.
    const kept = new Map();

    function buildRow(p) {
      const tr = document.createElement("tr");
      tr.dataset.pid = String(p.pid);
      const link = document.createElement("a");
      link.href = "/processes/" + p.pid;
      link.textContent = String(p.pid);
      cell(tr, "", "num").appendChild(link);
      const r = { tr, canAct: state.canAct, user: cell(tr, ""), cpu: cell(tr, "", "num"), mem: cell(tr, "", "num"), name: cell(tr, "", "name") };
      if (state.canAct) {
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/processes/" + p.pid + "/stop";
        form.className = "stop";
        const token = document.createElement("input");
        token.type = "hidden"; token.name = "csrf"; token.value = csrf;
        const btn = document.createElement("button");
        btn.type = "submit"; btn.textContent = "Stop";
        form.append(token, btn);
        cell(tr, "").appendChild(form);
      }
      return r;
    }

    function rowFor(p) {
      let r = kept.get(p.pid);
      if (!r || r.canAct !== state.canAct) {
        r = buildRow(p);
        kept.set(p.pid, r);
      }
      const put = (td, text) => { if (td.textContent !== text) td.textContent = text; };
      put(r.user, p.user);
      put(r.cpu, p.cpu.toFixed(1));
      put(r.mem, humanBytes(p.mem));
      put(r.name, p.name);
      return r.tr;
    }

    function render() {
      if (!state.rows) return;
      const needle = filter.value.trim().toLowerCase();
      let rows = state.rows.filter((p) => !needle || p.name.toLowerCase().includes(needle) || p.user.toLowerCase().includes(needle));
      rows.sort((a, b) => cmp[state.sort](a, b) || a.pid - b.pid);
      if (state.desc) rows.reverse();
      const alive = new Set(state.rows.map((p) => p.pid));
      for (const pid of kept.keys()) if (!alive.has(pid)) kept.delete(pid);
      // Move rows only where the order changed; drop the rest.
      let at = tbody.firstElementChild;
      for (const p of rows) {
        const tr = rowFor(p);
        if (tr === at) at = at.nextElementSibling;
        else tbody.insertBefore(tr, at);
      }
      while (at) { const next = at.nextElementSibling; at.remove(); at = next; }
      setText("count", rows.length + " of " + state.rows.length);
      for (const th of table.tHead.rows[0].cells) {
        const a = th.querySelector("a");
        if (!a || !th.dataset.key) continue;
        const label = a.textContent.replace(/ [▲▼]$/, "");
        a.textContent = label + (th.dataset.key === state.sort ? (state.desc ? " ▼" : " ▲") : "");
      }
      table.dataset.sort = state.sort;
      table.dataset.desc = String(state.desc);
      table.dataset.live = "1";
    }

    async function refresh() {
      try {
        const list = await api("/api/processes");
        state.rows = list.processes;
        state.canAct = list.can_act;
        render();
      } catch (e) { /* the next tick retries */ }
    }

    table.tHead.addEventListener("click", (e) => {
      const th = e.target.closest("th");
      if (!th || !th.dataset.key) return;
      e.preventDefault();
      if (state.sort === th.dataset.key) state.desc = !state.desc;
      else { state.sort = th.dataset.key; state.desc = state.sort === "cpu" || state.sort === "mem"; }
      render();
    });
    filter.addEventListener("input", render);
    filter.form.addEventListener("submit", (e) => { e.preventDefault(); render(); });
    refresh();
    setInterval(refresh, POLL_MS);
  }

  // ---- Output of a started process: the tail, live.
  function output() {
    const pre = document.getElementById("output");
    if (!pre) return;
    async function tick() {
      try {
        const o = await api("/api/processes/" + pre.dataset.pid + "/output");
        const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.textContent = o.data;
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      } catch (e) { /* the next tick retries */ }
    }
    setInterval(tick, POLL_MS);
  }

  const page = document.body.dataset.page;
  const start = () => {
    if (page === "dashboard") dashboard();
    if (page === "processes") processes();
    if (page === "start") output();
  };
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
