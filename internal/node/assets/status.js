// The status page's live part: it polls /status.json, redraws the groups
// and faces with DOM calls (textContent only: member names and face URIs
// come from the network, and nothing here parses them as HTML), and draws
// the Sync latency of each polling interval on an SVG chart.
"use strict";
(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"];
  const KEEP = 180; // points kept per group: 6 minutes at 2 s
  const W = 720, H = 260, L = 56, R = 12, T = 12, B = 30;
  const YMIN = 1e-4, YMAX = 10; // 0.1 ms to 10 s, log scale
  const pollMs = Number(document.body.dataset.pollMs) || 2000;
  const history = new Map(); // group -> {prev: latency, points: [{t, p50, p90, n}]}
  let polls = 0;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function ago(now, t) {
    if (!t) return "never";
    const d = (now - Date.parse(t)) / 1000;
    if (d < 0) return "just now";
    if (d < 60) return d.toFixed(1) + " s ago";
    if (d < 3600) return Math.floor(d / 60) + " min ago";
    if (d < 48 * 3600) return (d / 3600).toFixed(1) + " h ago";
    return Math.floor(d / 86400) + " days ago";
  }

  // quantile estimates the q-quantile of the observations between two
  // snapshots of a cumulative histogram, by linear interpolation inside
  // the bucket, as Prometheus's histogram_quantile does.
  function quantile(q, prev, cur) {
    const n = cur.count - (prev ? prev.count : 0);
    if (n <= 0) return null;
    const rank = q * n;
    let lo = 0, below = 0;
    for (let i = 0; i < cur.buckets.length; i++) {
      const c = cur.buckets[i].count - (prev && prev.buckets[i] ? prev.buckets[i].count : 0);
      const hi = cur.buckets[i].le;
      if (c >= rank) {
        const inBucket = c - below;
        return inBucket > 0 ? lo + (hi - lo) * (rank - below) / inBucket : hi;
      }
      lo = hi;
      below = c;
    }
    return lo; // in the +Inf bucket: the highest finite bound, as Prometheus
  }

  function record(st) {
    const t = Date.parse(st.time);
    for (const g of st.groups) {
      if (!g.latency) continue;
      let h = history.get(g.prefix);
      if (!h) {
        h = { prev: null, points: [] };
        history.set(g.prefix, h);
      }
      if (h.prev && g.latency.count >= h.prev.count) {
        h.points.push({ t: t, p50: quantile(0.5, h.prev, g.latency), p90: quantile(0.9, h.prev, g.latency), n: g.latency.count - h.prev.count });
      } else if (!h.prev && g.latency.count > 0) {
        // The first poll: everything observed since the node started.
        h.points.push({ t: t, p50: quantile(0.5, null, g.latency), p90: quantile(0.9, null, g.latency), n: g.latency.count });
      }
      if (h.points.length > KEEP) h.points.splice(0, h.points.length - KEEP);
      h.prev = g.latency;
    }
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmtSeconds(s) {
    if (s < 1e-3) return (s * 1e6).toFixed(0) + " µs";
    if (s < 1) return (s * 1e3).toFixed(s < 1e-2 ? 1 : 0) + " ms";
    return s.toFixed(1) + " s";
  }

  function draw() {
    const chart = document.getElementById("latency-chart");
    const legend = document.getElementById("latency-legend");
    if (!chart) return;
    chart.replaceChildren();
    legend.replaceChildren();
    const y = (v) => {
      const c = Math.min(Math.max(v, YMIN), YMAX);
      return T + (H - T - B) * (1 - (Math.log10(c) - Math.log10(YMIN)) / (Math.log10(YMAX) - Math.log10(YMIN)));
    };
    for (let e = -4; e <= 1; e++) {
      const v = Math.pow(10, e);
      chart.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
      chart.appendChild(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmtSeconds(v)));
    }
    chart.appendChild(svg("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
    chart.appendChild(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
    let tmin = Infinity, tmax = -Infinity;
    for (const h of history.values()) for (const p of h.points) { tmin = Math.min(tmin, p.t); tmax = Math.max(tmax, p.t); }
    if (tmin === Infinity) {
      chart.appendChild(svg("text", { x: (L + W - R) / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, "no Sync latency observed yet"));
      chart.dataset.points = "0";
      return;
    }
    if (tmax - tmin < pollMs * 10) tmin = tmax - pollMs * 10;
    const x = (t) => L + (W - L - R) * (t - tmin) / (tmax - tmin);
    chart.appendChild(svg("text", { x: L, y: H - 10 }, new Date(tmin).toLocaleTimeString()));
    chart.appendChild(svg("text", { x: W - R, y: H - 10, "text-anchor": "end" }, new Date(tmax).toLocaleTimeString()));
    let i = 0, total = 0;
    for (const [group, h] of history) {
      const color = COLORS[i++ % COLORS.length];
      for (const key of ["p50", "p90"]) {
        // A polyline per run of intervals with observations: an interval
        // without any leaves a gap.
        let run = [];
        const flush = () => {
          if (run.length > 1) chart.appendChild(svg("polyline", { points: run.join(" "), stroke: color, class: "series " + key, "data-group": group }));
          run = [];
        };
        for (const p of h.points) {
          if (p[key] === null) { flush(); continue; }
          run.push(x(p.t).toFixed(1) + "," + y(p[key]).toFixed(1));
          if (key === "p50") {
            const c = svg("circle", { cx: x(p.t).toFixed(1), cy: y(p[key]).toFixed(1), r: 2.5, fill: color, class: "point", "data-group": group });
            c.appendChild(svg("title", {}, group + ": median " + fmtSeconds(p.p50) + ", p90 " + fmtSeconds(p.p90) + " over " + p.n + " samples"));
            chart.appendChild(c);
            total++;
          }
        }
        flush();
      }
      const li = el("li");
      const sw = el("span", undefined, "swatch");
      sw.style.background = color;
      li.appendChild(sw);
      // The latest interval with observations: an interval without any
      // has no median (fmtSeconds would print null as 0 µs).
      const last = h.points.findLast((p) => p.p50 !== null);
      li.appendChild(document.createTextNode(group + (last ? ": median " + fmtSeconds(last.p50) + ", p90 " + fmtSeconds(last.p90) : "")));
      legend.appendChild(li);
    }
    chart.dataset.points = String(total);
  }

  function renderGroups(st, now) {
    const sec = document.getElementById("groups");
    const parts = [el("h2", "Groups")];
    if (st.groups.length === 0) parts.push(el("p", "This node is a member of no group."));
    for (const g of st.groups) {
      const art = el("article", undefined, "group");
      art.dataset.group = g.prefix;
      art.appendChild(el("h3", g.prefix));
      art.appendChild(el("p", "member " + g.member + " (boot " + g.boot + ") · phase " + g.phase + " · vector " + g.vector_bytes + " of " + g.vector_budget_bytes +
        " bytes · " + g.publications + " published · " + g.sync_interests_sent + " Sync Interests sent, " + g.sync_interests_received + " received" +
        (g.latency ? " · latency samples " + g.latency.count : ""), "meta"));
      const table = el("table", undefined, "members");
      const head = el("tr");
      for (const h of ["member", "boot", "seq", "last heard"]) head.appendChild(el("th", h));
      table.appendChild(el("thead")).appendChild(head);
      const body = table.appendChild(el("tbody"));
      for (const m of g.members) {
        const tr = el("tr", undefined, "member" + (m.self ? " self" : ""));
        tr.dataset.member = m.name;
        tr.appendChild(el("td", m.name, "name"));
        tr.appendChild(el("td", m.boot, "num"));
        tr.appendChild(el("td", m.seq, "num seq"));
        tr.appendChild(el("td", ago(now, m.last_heard)));
        body.appendChild(tr);
      }
      if (g.members.length === 0) {
        const td = el("td", "no member known yet");
        td.colSpan = 4;
        body.appendChild(el("tr")).appendChild(td);
      }
      art.appendChild(table);
      parts.push(art);
    }
    sec.replaceChildren(...parts);
  }

  function renderFaces(st) {
    const body = document.querySelector("#faces tbody");
    const rows = st.faces.map((f) => {
      const tr = el("tr");
      tr.dataset.face = String(f.id);
      const cells = [[f.id, "num"], [f.remote], [f.local], [f.scope], [f.link_type],
        [f.in_interests + " / " + f.out_interests, "num"], [f.in_data + " / " + f.out_data, "num"],
        [f.in_bytes + " / " + f.out_bytes, "num"], [f.dropped, "num"]];
      for (const [v, c] of cells) tr.appendChild(el("td", v, c));
      return tr;
    });
    body.replaceChildren(...rows);
    const fwd = st.forwarder;
    document.getElementById("forwarder").textContent = "PIT " + fwd.pit_entries + " · CS " + fwd.cs_entries +
      " · Interests satisfied " + fwd.satisfied_interests + ", unsatisfied " + fwd.unsatisfied_interests;
  }

  function renderHeader(st) {
    const ready = document.getElementById("ready");
    ready.textContent = st.ready ? "ready" : "not ready";
    ready.className = st.ready ? "ok" : "bad";
    const upd = document.getElementById("updated");
    upd.dateTime = st.time;
    upd.textContent = new Date(Date.parse(st.time)).toLocaleTimeString();
    document.getElementById("problems").replaceChildren(...st.problems.map((p) => el("li", p)));
  }

  async function poll() {
    const err = document.getElementById("poll-error");
    try {
      const resp = await fetch("/status.json", { cache: "no-store" });
      if (!resp.ok) throw new Error("/status.json: HTTP " + resp.status);
      const st = await resp.json();
      const now = Date.parse(st.time);
      record(st);
      renderHeader(st);
      renderGroups(st, now);
      renderFaces(st);
      draw();
      err.textContent = "";
      polls++;
      document.body.dataset.polls = String(polls);
    } catch (e) {
      err.textContent = "cannot refresh: " + e.message;
    } finally {
      setTimeout(poll, pollMs);
    }
  }

  draw();
  poll();
})();
