// The score heatmap (and, for a single varying parameter, the score line), drawn on a canvas:
// tens of thousands of cells cost one draw call each instead of one SVG node each, so the page
// stays responsive while a large job runs. The server sends everything display-ready:
//   dataJson = JSON text of {kind: "heatmap" | "line", xLabel, yLabel, xTicks: [text], yTicks: [text],
//           cells: [[xPosition, yPosition, shade 0..1 (1 = best), index, scoreText, otherText]],
//           scoreLabel, lineTicks: [[shade, text]]}
// A cell's tooltip names both values, the score in the table's unit and the other parameters;
// a click calls onPick(index).
import { useEffect, useMemo, useRef, useState } from "react";

const WORST = [207, 63, 56];
const MIDDLE = [201, 162, 39];
const BEST = [26, 127, 55];
const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const TICK_GAP = 10;
const GEOMETRY = ["left", "top", "plotW", "plotH", "nx", "ny"];

function mix(a, b, t) {
  return a.map((v, k) => Math.round(v + (b[k] - v) * t));
}

export function shade(t) {
  const [r, g, b] = t < 0.5 ? mix(WORST, MIDDLE, t * 2) : mix(MIDDLE, BEST, (t - 0.5) * 2);
  return `rgb(${r}, ${g}, ${b})`;
}

function strideFor(labels, room, measure) {
  // Every n-th tick so that labels never overlap.
  if (!labels.length) return 1;
  const widest = Math.max(...labels.map(measure)) + TICK_GAP;
  return Math.max(1, Math.ceil((widest * labels.length) / Math.max(room, 1)));
}

function layout(data, width, height, ctx) {
  ctx.font = FONT;
  const measure = (text) => ctx.measureText(text).width;
  const line = data.kind === "line";
  const yTexts = line ? data.lineTicks.map((t) => t[1]) : data.yTicks;
  const yWidest = yTexts.length ? Math.max(...yTexts.map(measure)) : 0;
  const left = Math.ceil(yWidest) + 30;
  const top = 8;
  const right = 12;
  const bottom = 44;
  const plotW = Math.max(10, width - left - right);
  const plotH = Math.max(10, height - top - bottom);
  const nx = Math.max(1, data.xTicks.length);
  const ny = line ? 1 : Math.max(1, data.yTicks.length);
  return { left, top, plotW, plotH, nx, ny, cw: plotW / nx, ch: plotH / ny, measure };
}

function cellAt(geo, data, lookup, px, py) {
  const { left, top, plotW, plotH, cw, ch, ny } = geo;
  if (px < left || px >= left + plotW || py < top || py >= top + plotH) return null;
  const xi = Math.floor((px - left) / cw);
  if (data.kind === "line") {
    // the nearest point of the line at this column
    return lookup.get(`${xi}:0`) || null;
  }
  const yi = ny - 1 - Math.floor((py - top) / ch);
  return lookup.get(`${xi}:${yi}`) || null;
}

function lineY(geo, t) {
  return geo.top + 6 + (1 - t) * (geo.plotH - 12);
}

function draw(canvas, data, width, height, hovered) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const geo = layout(data, width, height, ctx);
  const { left, top, plotW, plotH, nx, ny, cw, ch, measure } = geo;
  const style = getComputedStyle(canvas);
  const ink = style.getPropertyValue("--gray-11").trim() || "#60646c";
  const faint = style.getPropertyValue("--gray-3").trim() || "#f0f0f3";
  const rule = style.getPropertyValue("--gray-6").trim() || "#d9d9e0";
  ctx.fillStyle = faint;
  ctx.fillRect(left, top, plotW, plotH);
  const gap = cw > 6 && ch > 6 ? 1 : 0;
  if (data.kind === "line") {
    ctx.strokeStyle = rule;
    ctx.lineWidth = 1;
    for (const [t] of data.lineTicks) {
      const y = lineY(geo, t);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + plotW, y);
      ctx.stroke();
    }
    ctx.strokeStyle = ink;
    ctx.lineWidth = 2;
    ctx.beginPath();
    data.cells.forEach((c, k) => {
      const x = left + (c[0] + 0.5) * cw;
      const y = lineY(geo, c[2]);
      if (k === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    const dot = Math.min(4, Math.max(1.5, cw / 3));
    for (const c of data.cells) {
      ctx.fillStyle = shade(c[2]);
      ctx.beginPath();
      ctx.arc(left + (c[0] + 0.5) * cw, lineY(geo, c[2]), dot, 0, 2 * Math.PI);
      ctx.fill();
    }
  } else {
    for (const c of data.cells) {
      ctx.fillStyle = shade(c[2]);
      ctx.fillRect(left + c[0] * cw, top + (ny - 1 - c[1]) * ch, cw - gap, ch - gap);
    }
  }
  if (hovered) {
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2;
    if (data.kind === "line") {
      ctx.beginPath();
      ctx.arc(left + (hovered[0] + 0.5) * cw, lineY(geo, hovered[2]), 6, 0, 2 * Math.PI);
      ctx.stroke();
    } else {
      ctx.strokeRect(left + hovered[0] * cw, top + (ny - 1 - hovered[1]) * ch, cw, ch);
    }
  }
  // Ticks at the parameter's own values; every n-th when they would overlap.
  ctx.font = FONT;
  ctx.fillStyle = ink;
  ctx.strokeStyle = rule;
  ctx.lineWidth = 1;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const xStride = strideFor(data.xTicks, plotW, measure);
  data.xTicks.forEach((text, k) => {
    if (k % xStride) return;
    const x = left + (k + 0.5) * cw;
    ctx.beginPath();
    ctx.moveTo(x, top + plotH);
    ctx.lineTo(x, top + plotH + 4);
    ctx.stroke();
    ctx.fillText(text, x, top + plotH + 6);
  });
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  if (data.kind === "line") {
    for (const [t, text] of data.lineTicks) ctx.fillText(text, left - 6, lineY(geo, t));
  } else {
    const yStride = Math.max(1, Math.ceil((18 * ny) / plotH));
    data.yTicks.forEach((text, k) => {
      if (k % yStride) return;
      const y = top + (ny - 1 - k + 0.5) * ch;
      ctx.beginPath();
      ctx.moveTo(left - 4, y);
      ctx.lineTo(left, y);
      ctx.stroke();
      ctx.fillText(text, left - 6, y);
    });
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(data.xLabel, left + plotW / 2, height - 2);
  ctx.save();
  ctx.translate(12, top + plotH / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(data.kind === "line" ? data.scoreLabel : data.yLabel, 0, 0);
  ctx.restore();
  return geo;
}

export function ScoreHeatmap({ dataJson, onPick, height = 360, ...rest }) {
  const data = useMemo(() => (dataJson ? JSON.parse(dataJson) : null), [dataJson]);
  const wrapper = useRef(null);
  const canvas = useRef(null);
  const geometry = useRef(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState(null); // {cell, x, y}
  const [geo, setGeo] = useState(null); // the plot's geometry, exposed as data attributes
  const lookup = useMemo(() => {
    const cells = new Map();
    for (const c of (data && data.cells) || []) cells.set(`${c[0]}:${data.kind === "line" ? 0 : c[1]}`, c);
    return cells;
  }, [data]);

  useEffect(() => {
    const element = wrapper.current;
    if (!element) return undefined;
    const observer = new ResizeObserver((entries) => {
      setWidth(Math.floor(entries[0].contentRect.width));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (!canvas.current || !width || !data) return;
    const drawn = draw(canvas.current, data, width, height, hover && hover.cell);
    geometry.current = drawn;
    setGeo((old) => (old && GEOMETRY.every((k) => old[k] === drawn[k]) ? old : drawn));
  }, [data, width, height, hover]);

  useEffect(() => setHover(null), [data]);

  // Keyboard: the canvas takes focus; arrows move from cell to cell (over empty ones), Home
  // and End go to the best and worst, Enter or Space opens the combination, Escape leaves.
  const centreOf = (cell) => {
    const g = geometry.current;
    if (!g) return { x: 0, y: 0 };
    const row = data.kind === "line" ? 0 : cell[1];
    return { x: g.left + (cell[0] + 0.5) * g.cw, y: g.top + (g.ny - 1 - row + 0.5) * g.ch };
  };
  const focusCell = (cell) => setHover(cell ? { cell, ...centreOf(cell) } : null);
  const ranked = () => (data && data.cells ? data.cells : []);
  // a cell's shade (its third value) runs from 0 (worst) to 1 (best)
  const bestCell = () => ranked().reduce((best, c) => (!best || c[2] > best[2] ? c : best), null);
  const onKeyDown = (event) => {
    if (!data || !geometry.current) return;
    const { nx, ny } = geometry.current;
    const current = hover && hover.cell;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    let next = null;
    if (event.key in moves) {
      if (!current) {
        next = bestCell();
      } else {
        const [dx, dy] = data.kind === "line" ? [moves[event.key][0], 0] : moves[event.key];
        let [cx, cy] = [current[0], data.kind === "line" ? 0 : current[1]];
        for (;;) {
          cx += dx;
          cy += dy;
          if (cx < 0 || cy < 0 || cx >= nx || cy >= ny || (dx === 0 && dy === 0)) break;
          const found = lookup.get(`${cx}:${cy}`);
          if (found) { next = found; break; }
        }
        next = next || current;
      }
    } else if (event.key === "Home" || event.key === "End") {
      const cells = ranked();
      next = event.key === "Home" ? bestCell()
        : cells.reduce((worst, c) => (!worst || c[2] < worst[2] ? c : worst), null);
    } else if ((event.key === "Enter" || event.key === " ") && current) {
      event.preventDefault();
      if (onPick) onPick(current[3]);
      return;
    } else if (event.key === "Escape") {
      setHover(null);
      return;
    } else {
      return;
    }
    event.preventDefault();
    if (next) focusCell(next);
  };

  const pointAt = (event) => {
    const box = canvas.current.getBoundingClientRect();
    const px = event.clientX - box.left;
    const py = event.clientY - box.top;
    const cell = geometry.current ? cellAt(geometry.current, data, lookup, px, py) : null;
    return cell ? { cell, x: px, y: py } : null;
  };

  const tip = hover && hover.cell;
  const x = tip ? (data.xTips || data.xTicks)[tip[0]] : "";
  const y = tip && data.kind !== "line" ? (data.yTips || data.yTicks)[tip[1]] : "";
  const tipLeft = hover ? Math.min(Math.max(hover.x + 14, 0), Math.max(0, width - 230)) : 0;
  const tipTop = hover ? (hover.y > height / 2 ? hover.y - 120 : hover.y + 14) : 0;
  return (
    <div {...rest} role="group" ref={wrapper} style={{ position: "relative", width: "100%", height }}>
      <canvas
        ref={canvas}
        style={{ width: "100%", height, display: "block", cursor: tip ? "pointer" : "default" }}
        data-plot-left={geo ? geo.left : ""}
        data-plot-top={geo ? geo.top : ""}
        data-plot-width={geo ? geo.plotW : ""}
        data-plot-height={geo ? geo.plotH : ""}
        data-columns={geo ? geo.nx : ""}
        data-rows={geo ? geo.ny : ""}
        data-cells={data && data.cells ? data.cells.length : 0}
        tabIndex={0}
        role="application"
        aria-roledescription="heatmap"
        aria-label={`${rest["aria-label"] || "Heatmap"}: arrow keys move between cells, Enter opens the combination`}
        onKeyDown={onKeyDown}
        onFocus={() => { if (!hover) focusCell(bestCell()); }}
        onBlur={() => setHover(null)}
        onMouseMove={(event) => setHover(pointAt(event))}
        onMouseLeave={() => setHover(null)}
        onClick={(event) => {
          const found = pointAt(event);
          if (found && onPick) onPick(found.cell[3]);
        }}
      />
      {tip ? (
        <div
          role="tooltip"
          aria-live="polite"
          data-testid="heatmap-tooltip"
          style={{
            position: "absolute",
            left: tipLeft,
            top: Math.max(0, tipTop),
            pointerEvents: "none",
            background: "var(--color-panel-solid, #fff)",
            border: "1px solid var(--gray-6, #ddd)",
            borderRadius: 6,
            padding: "6px 8px",
            font: FONT,
            lineHeight: 1.45,
            boxShadow: "0 2px 8px rgba(0,0,0,0.15)",
            maxWidth: 230,
            color: "var(--gray-12, #111)",
          }}
        >
          <div>
            <strong>{data.xLabel}</strong> {x}
            {data.kind !== "line" ? (
              <>
                {" · "}
                <strong>{data.yLabel}</strong> {y}
              </>
            ) : null}
          </div>
          <div>
            {data.scoreLabel}: <strong>{tip[4]}</strong>
          </div>
          {tip[5] ? <div>{tip[5]}</div> : null}
          <div style={{ color: "var(--gray-11, #666)" }}>Combination #{tip[3].toLocaleString("en-US")} · click to open</div>
        </div>
      ) : null}
    </div>
  );
}
