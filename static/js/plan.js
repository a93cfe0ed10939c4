// The plan page's Gantt chart, drawn from the data the page carries (json_script "gantt-data": rows of
// lines, bars as [row, start, end (minutes from the window's start), work order, operation name index,
// kind index, flags]; "names" and "kinds" hold the texts once).
// A bar opens its work order's panel through htmx. Time labels are spaced so that they never overlap.
(() => {
  "use strict";
  const FROZEN = 1, AT_RISK = 2, PINNED = 4, HIDDEN = 8;
  const NS = "http://www.w3.org/2000/svg";
  const LABEL = 96, ROW = 22, AXIS = 36, GAP = 10;
  const HOUR_STEPS = [60, 120, 180, 240, 360, 720];
  const DAY_STEPS = [1440, 2880, 10080, 20160];

  function el(name, attributes, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function openPanel(holder, number) {
    const url = holder.dataset.panelUrl.replace("__number__", encodeURIComponent(number));
    const panel = document.getElementById("wo-panel");
    window.htmx.ajax("GET", url, { target: "#wo-panel", swap: "innerHTML" }).then(() => {
      if (panel) panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
    });
  }

  function draw(holder, data) {
    const lang = holder.dataset.lang || document.documentElement.lang || "en";
    const width = Math.max(holder.clientWidth - 2, 720);
    const scale = (width - LABEL - 8) / data.minutes;
    const height = AXIS + data.rows.length * ROW + 4;
    const origin = new Date(data.start);
    const svg = el("svg", { width, height, class: "ob-gantt", role: "group", "aria-label": holder.dataset.labelChart });
    holder.replaceChildren(svg);
    const at = (minute) => LABEL + minute * scale;
    const moment = (minute) => new Date(origin.getTime() + minute * 60000);
    const dayFormat = new Intl.DateTimeFormat(lang, { weekday: "short", month: "numeric", day: "numeric" });
    const timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hour12: false });
    const fullFormat = new Intl.DateTimeFormat(lang, {
      month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
    });

    // The widest label of a kind decides the step: every step is at least that wide plus a gap.
    function widest(format, minutes) {
      const probe = el("text", { x: 0, y: -10, class: "ob-gantt-tick" }, format.format(moment(minutes)));
      svg.appendChild(probe);
      const size = probe.getComputedTextLength ? probe.getComputedTextLength() : 60;
      probe.remove();
      return size || 60;
    }
    const offset = origin.getHours() * 60 + origin.getMinutes(); // minutes past local midnight
    function ticks(steps, labelWidth) {
      const step = steps.find((s) => s * scale >= labelWidth + GAP);
      if (!step) return [];
      const first = (step - ((offset % step) + step) % step) % step;
      const out = [];
      for (let m = first; m <= data.minutes; m += step) out.push(m);
      return out;
    }
    function axisRow(minutes, format, y, cls, line) {
      let right = -Infinity;
      for (const m of minutes) {
        const x = at(m);
        if (line) svg.appendChild(el("line", { x1: x, x2: x, y1: y + 3, y2: height, class: "ob-gantt-grid" }));
        const label = el("text", { x: x + 2, y, class: cls }, format.format(moment(m)));
        svg.appendChild(label);
        const size = label.getComputedTextLength ? label.getComputedTextLength() : 60;
        if (x + 2 < right + GAP || x + 2 + size > width) {
          label.remove(); // never two labels over each other, never one cut off at the edge
          continue;
        }
        right = x + 2 + size;
      }
    }
    const days = ticks(DAY_STEPS, widest(dayFormat, 0));
    axisRow(days, dayFormat, 13, "ob-gantt-tick ob-gantt-day", true);
    const hours = ticks(HOUR_STEPS, widest(timeFormat, 0)).filter((m) => (m + offset) % 1440 !== 0);
    axisRow(hours, timeFormat, 30, "ob-gantt-tick", false);

    data.rows.forEach(([code, unit], index) => {
      const y = AXIS + index * ROW;
      svg.appendChild(el("line", { x1: 0, x2: width, y1: y, y2: y, class: "ob-gantt-row" }));
      svg.appendChild(el("text", { x: 4, y: y + 15, class: "ob-gantt-line" }, `${code} #${unit}`));
    });

    for (const [row, start, end, number, name, kindIndex, flags] of data.bars) {
      const kind = data.kinds[kindIndex];
      const operation = name >= 0 ? data.names[name] : "";
      const x = at(start);
      const w = Math.max(2, (end - start) * scale);
      const y = AXIS + row * ROW + 3;
      const classes = [`ob-bar ob-bar-${kind}`];
      if (flags & FROZEN) classes.push("ob-bar-frozen");
      if (flags & AT_RISK) classes.push("ob-bar-risk");
      if (flags & PINNED) classes.push("ob-bar-pin");
      const when = `${fullFormat.format(moment(start))} – ${fullFormat.format(moment(end))}`;
      const title = flags & HIDDEN ? `${holder.dataset.labelHidden} · ${when}` : `${number} · ${operation} · ${when}`;
      const bar = el("rect", { x, y, width: w, height: ROW - 6, rx: 3, class: classes.join(" ") });
      bar.appendChild(el("title", {}, title));
      if (!(flags & HIDDEN)) {
        bar.setAttribute("tabindex", "0");
        bar.setAttribute("role", "button");
        bar.setAttribute("aria-label", `${holder.dataset.labelOpen} ${title}`);
        bar.dataset.number = number;
      }
      svg.appendChild(bar);
      if (!(flags & HIDDEN) && w > 70) {
        svg.appendChild(el("text", { x: x + 3, y: y + 12, class: "ob-bar-text" }, number));
      }
    }

    svg.addEventListener("click", (event) => {
      const bar = event.target.closest("[data-number]");
      if (bar) openPanel(holder, bar.dataset.number);
    });
    svg.addEventListener("keydown", (event) => {
      const bar = event.target.closest("[data-number]");
      if (bar && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        openPanel(holder, bar.dataset.number);
      }
    });
  }

  // The panel answers 400 with its form errors: show them rather than nothing.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (event.detail.xhr.status === 400 && target && ["wo-panel", "release-results"].includes(target.id)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function start() {
    const holder = document.getElementById("gantt");
    const source = document.getElementById("gantt-data");
    if (!holder || !source) return;
    draw(holder, JSON.parse(source.textContent));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
