import React, { createContext, useContext, useLayoutEffect, useEffect, useRef, useState } from "react";
import {
  DndContext,
  MouseSensor,
  TouchSensor,
  pointerWithin,
  rectIntersection,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
} from "@dnd-kit/core";

// Drag and drop of the staff calendar (dnd-kit). The server decides: a drop only calls
// onMove(itemId, targetId, dy); the block stays where it was dropped until the server's
// answer arrives (`settle` changes), then it is drawn from the server's state again
// (moved, or back home when the move was refused).

const Board = createContext({ pending: null, lastDrop: { current: 0 }, pxPerMinute: 0 });

// minutes after local midnight -> "11:30 AM" (the clinic clock's format)
function clock(minute) {
  const m = ((minute % 1440) + 1440) % 1440;
  const h = Math.floor(m / 60);
  return `${h % 12 || 12}:${String(m % 60).padStart(2, "0")} ${h < 12 ? "AM" : "PM"}`;
}

function collide(args) {
  const hits = pointerWithin(args);
  return hits.length ? hits : rectIntersection(args);
}

export function CalendarDnd({ children, onMove, snapPx = 0, pxPerMinute = 0, settle = 0 }) {
  const [pending, setPending] = useState(null);
  const lastDrop = useRef(0);
  const sensors = useSensors(
    useSensor(MouseSensor, { activationConstraint: { distance: 5 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 250, tolerance: 8 } }),
  );
  // the server answered (moved or refused): draw from its state again, before the next paint
  useLayoutEffect(() => { setPending(null); }, [settle]);
  useEffect(() => {
    if (!pending) return undefined;
    const t = setTimeout(() => setPending(null), 8000); // no answer (offline): back home
    return () => clearTimeout(t);
  }, [pending]);
  // day grid: the block's top edge snaps to the grid's rows (snapPx); the week grid moves freely
  const snap = ({ transform, active }) => {
    if (!snapPx || !active || !transform) return transform;
    const top = active.data.current?.top || 0;
    return { ...transform, y: Math.round((top + transform.y) / snapPx) * snapPx - top };
  };
  const onDragEnd = ({ active, over, delta }) => {
    lastDrop.current = Date.now();
    if (!active || !over) return;
    const top = active.data.current?.top || 0;
    const dy = snapPx ? Math.round((top + delta.y) / snapPx) * snapPx - top : 0;
    if (String(over.id) === String(active.data.current?.home || "") && Math.abs(dy) < 1) return;
    setPending({ id: String(active.id), x: delta.x, y: snapPx ? dy : delta.y });
    if (onMove) onMove(String(active.id), String(over.id), Math.round(delta.y));
  };
  return (
    <Board.Provider value={{ pending, lastDrop, pxPerMinute }}>
      {/* no auto-scroll: near the window's edge it scrolled the page past the grid and the
          time badge ran off the day (new-user trial); a longer move goes through Edit */}
      <DndContext sensors={sensors} collisionDetection={collide} modifiers={[snap]} autoScroll={false}
                  onDragStart={() => { lastDrop.current = Date.now(); }} onDragEnd={onDragEnd}
                  onDragCancel={() => { lastDrop.current = Date.now(); }}>
        {children}
      </DndContext>
    </Board.Provider>
  );
}

// A visit block or week chip. atTop/atLeft/atWidth/atHeight: absolute placement (day grid);
// without them a plain block-level wrapper (week chips). home: the drop target it sits in.
export function DragItem({ children, dragId, home = "", movable = true, minute, atTop, atLeft, atWidth, atHeight,
                           css: _css, ...rest }) {
  const { pending, lastDrop, pxPerMinute } = useContext(Board);
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({
    id: dragId, disabled: !movable, data: { home, top: parseFloat(atTop) || 0 },
  });
  let t = transform;
  if (!t && pending && pending.id === dragId) t = pending;
  const style = {
    transform: t ? `translate3d(${t.x}px, ${t.y}px, 0)` : undefined,

    boxShadow: isDragging ? "0 8px 24px rgba(16, 24, 40, 0.28)" : undefined,
    borderRadius: "6px",
    cursor: movable ? (isDragging ? "grabbing" : "grab") : undefined,
    zIndex: isDragging || t ? 4 : undefined,
  };
  if (atTop !== undefined) {
    Object.assign(style, { position: "absolute", top: atTop, left: atLeft, width: atWidth, height: atHeight,
                           zIndex: isDragging || t ? 4 : 2 });
  } else {
    style.width = "100%";
    style.position = "relative";
  }
  // a click right after a drag is the end of the drag, not a click on the visit
  const onClickCapture = (e) => {
    if (Date.now() - lastDrop.current < 350) { e.stopPropagation(); e.preventDefault(); }
  };
  // Enter opens the visit like a click (keyboard users move visits with the panel's Edit)
  const onKeyDown = (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.currentTarget.firstElementChild?.click(); }
  };
  // while dragging on the day grid: the start it would get, in a badge on the block
  const badge = isDragging && t && pxPerMinute && minute !== undefined
    ? clock(minute + Math.round(t.y / pxPerMinute)) : "";
  return (
    <div ref={setNodeRef} {...rest} {...attributes} {...(movable ? listeners : {})}
         aria-roledescription={movable ? "movable visit" : "visit"} onKeyDown={onKeyDown}
         onClickCapture={onClickCapture} style={style} data-dragging={isDragging ? "true" : undefined}>
      {children}
      {badge ? (
        <span data-drag-time="" style={{ position: "absolute", top: "-11px", right: "6px", padding: "1px 7px",
          borderRadius: "999px", background: "var(--teal-9)", color: "white", fontSize: "11px", fontWeight: 700,
          lineHeight: "18px", boxShadow: "0 1px 3px rgba(16, 24, 40, 0.25)", pointerEvents: "none" }}>
          {badge}
        </span>
      ) : null}
    </div>
  );
}

// A drop target: a day-grid column (absolute, atLeft/atWidth) or a week cell (fills its grid cell).
export function DropZone({ children, dropId, atLeft, atWidth, css: _css, ...rest }) {
  const { setNodeRef, isOver, active } = useDroppable({ id: dropId });
  const style = atLeft !== undefined
    ? { position: "absolute", top: 0, bottom: 0, left: atLeft, width: atWidth, pointerEvents: "none",
        background: isOver ? "var(--teal-a2)" : undefined, transition: "background 80ms ease" }
    : { display: "flex", flexDirection: "column",
        outline: isOver && active ? "2px solid var(--teal-8)" : undefined, outlineOffset: "-2px" };
  return (
    <div ref={setNodeRef} {...rest} style={style} data-over={isOver ? "true" : undefined}>
      {children}
    </div>
  );
}
