import React from "react";

// The chart's face diagram (issue 18): three views drawn from the shapes the server sends
// (medspa/domain/clinical/face_map.py: one drawing for the page and the PDF), numbered dots
// coloured per product, and a click reported as onAdd(view, x, y) in thousandths (0..1000).
// A click on a dot reports onPick(number) instead of adding a point.

const SIZE = 1000;

function Shape({ shape }) {
  const style = { fill: "none", stroke: "#71717a", strokeWidth: 7, strokeLinecap: "round", strokeLinejoin: "round" };
  if (shape.kind === "ellipse") {
    return <ellipse cx={shape.cx} cy={shape.cy} rx={shape.rx} ry={shape.ry} style={style} />;
  }
  return <path d={shape.d} style={style} />;
}

export function FaceMap({ views = [], points = [], editable = false, selected = 0, onAdd, onPick, ...rest }) {
  const click = (view) => (ev) => {
    if (!editable || !onAdd) return;
    const box = ev.currentTarget.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const x = Math.round(((ev.clientX - box.left) / box.width) * SIZE);
    const y = Math.round(((ev.clientY - box.top) / box.height) * SIZE);
    if (x < 0 || x > SIZE || y < 0 || y > SIZE) return;
    onAdd(view, x, y);
  };
  return (
    <div {...rest} style={{ display: "flex", flexWrap: "wrap", gap: "12px", justifyContent: "center", width: "100%" }}>
      {views.map((v) => (
        <figure key={v.view} style={{ margin: 0, textAlign: "center", flex: "1 1 200px", maxWidth: "300px" }}>
          <svg
            viewBox={`0 0 ${SIZE} ${SIZE}`}
            data-view={v.view}
            className="face-view"
            role="img"
            aria-label={`${v.label} view${editable ? ": click to add a point" : ""}`}
            onClick={click(v.view)}
            style={{
              display: "block", width: "100%", aspectRatio: "1 / 1", background: "#fff",
              border: "1px solid #e4e4e7", borderRadius: "12px", cursor: editable ? "crosshair" : "default",
              touchAction: "manipulation",
            }}
          >
            {v.shapes.map((s, i) => <Shape key={i} shape={s} />)}
            {points.filter((p) => p.view === v.view).map((p) => (
              <g
                key={p.n}
                data-point={p.n}
                className="face-point"
                onClick={(ev) => { ev.stopPropagation(); if (onPick) onPick(p.n); }}
                style={{ cursor: "pointer" }}
              >
                <title>{p.label}</title>
                <circle cx={p.x} cy={p.y} r={p.n === selected ? 50 : 42} fill={p.colour}
                        stroke={p.n === selected ? "#18181b" : "#fff"} strokeWidth={8} />
                <text x={p.x} y={p.y} dy="0.36em" textAnchor="middle" fontSize="48" fontWeight="700" fill="#fff"
                      style={{ pointerEvents: "none", fontFamily: "system-ui, sans-serif" }}>{p.n}</text>
              </g>
            ))}
          </svg>
          <figcaption style={{ fontSize: "12px", color: "#71717a", marginTop: "4px" }}>{v.label}</figcaption>
        </figure>
      ))}
    </div>
  );
}
