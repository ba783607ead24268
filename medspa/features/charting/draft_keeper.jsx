import React, { useEffect, useRef } from "react";

// The chart draft's safety net (issue 18). Renders nothing visible.
//
// 1. A copy in this browser: on every keystroke in the chart form (a DOM "input" event, so
//    it works while the websocket is down) and whenever the state's form buffer changes, the
//    form is written to localStorage under `storageKey` with the time. Text fields are read
//    from the DOM (`.chart-line` rows, fields `.line-<field>` input/textarea, `#chart-note`)
//    over the state's copy (`current`, JSON {rows, note}), so keystrokes the server has not
//    received are kept too. Nothing is stored while the form equals the server's draft.
// 2. The offer: when the chart is (re)loaded (`server` changes) and the stored copy differs
//    from the server's draft and is less than MAX_AGE old, onOffer(copyJson) is called; the
//    page offers "Restore unsaved changes from this browser, 10:42 AM".
// 3. Autosave: after `idleMs` without typing (and at least every `maxMs` while typing) with
//    the form different from the server's draft, onIdle() asks the server to save.
// 4. `clearToken` changes (saved, signed, restored or discarded): the stored copy is removed.

const MAX_AGE_MS = 24 * 3600 * 1000;

function parse(text) {
  try { return JSON.parse(text || "null"); } catch (e) { return null; }
}

function canonical(draft) {
  if (!draft) return "";
  // a row counts when a text field holds something (numbers alone, e.g. x/y 0 of no point, do not)
  const rows = (draft.rows || []).filter((r) => Object.entries(r).some(([k, v]) => !k.endsWith("_error") && typeof v === "string" && v !== ""));
  return JSON.stringify({ rows: rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.endsWith("_error")).sort())), note: draft.note || "" });
}

function fromDom(current) {
  const draft = parse(current) || { rows: [], note: "" };
  const rows = (draft.rows || []).map((r) => ({ ...r }));
  document.querySelectorAll(".chart-line").forEach((el, i) => {
    if (i >= rows.length) return;
    Object.keys(rows[i]).forEach((field) => {
      if (field.endsWith("_error")) return;
      const box = el.querySelector(`.line-${field.replace(/_/g, "-")}`);
      const input = box && (box.matches("input, textarea") ? box : box.querySelector("input, textarea"));
      if (input && typeof input.value === "string") rows[i][field] = input.value;
    });
  });
  const note = document.getElementById("chart-note");
  return { rows, note: note && typeof note.value === "string" ? note.value : draft.note || "" };
}

export function DraftKeeper({ storageKey, current, server, clearToken, idleMs = 3000, maxMs = 10000, onOffer, onIdle, ...rest }) {
  const latest = useRef({ current, server, storageKey });
  latest.current = { current, server, storageKey };
  const timers = useRef({ idle: null, first: 0 });

  const store = (draft) => {
    const { server: srv, storageKey: key } = latest.current;
    if (!key) return;
    try {
      if (canonical(draft) === canonical(parse(srv))) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, JSON.stringify({ at: new Date().toISOString(), draft }));
      }
    } catch (e) { /* storage full or disabled: the server autosave still runs */ }
  };

  const schedule = () => {
    const t = timers.current;
    const now = Date.now();
    if (!t.first) t.first = now;
    if (t.idle) clearTimeout(t.idle);
    const wait = Math.max(0, Math.min(idleMs, t.first + maxMs - now));
    t.idle = setTimeout(() => {
      t.idle = null; t.first = 0;
      const { current: cur, server: srv } = latest.current;
      if (onIdle && canonical(fromDom(cur)) !== canonical(parse(srv))) onIdle();
    }, wait);
  };

  // keystrokes (DOM), also while disconnected
  useEffect(() => {
    const onInput = (ev) => {
      const target = ev.target;
      if (!target || !target.closest || !(target.closest(".chart-line") || target.id === "chart-note")) return;
      store(fromDom(latest.current.current));
      schedule();
    };
    document.addEventListener("input", onInput, true);
    return () => {
      document.removeEventListener("input", onInput, true);
      if (timers.current.idle) clearTimeout(timers.current.idle);
    };
  }, [idleMs, maxMs, onIdle]);

  // saved, signed, restored or discarded: forget the copy (runs before the check below)
  const firstClear = useRef(true);
  useEffect(() => {
    if (firstClear.current) { firstClear.current = false; return; }
    try { if (storageKey) window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
  }, [clearToken]);

  // the chart was (re)loaded (a new key): offer the stored copy when it differs from the
  // server's draft; afterwards (typing, a select, a new row, an autosave): keep the copy up to date
  const seen = useRef({ server: null, key: null });
  useEffect(() => {
    if (!storageKey || !server) return;
    if (seen.current.key !== storageKey) {  // a page (re)load or another chart / version
      seen.current = { server, key: storageKey };
      let kept = null;
      try { kept = parse(window.localStorage.getItem(storageKey)); } catch (e) { kept = null; }
      if (!kept || !kept.draft || !kept.at) return;
      const at = Date.parse(kept.at);
      if (!(Date.now() - at <= MAX_AGE_MS)) {
        try { window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
        return;
      }
      if (canonical(kept.draft) !== canonical(parse(server)) && onOffer) {
        onOffer(JSON.stringify(kept), new Date(at).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" }));
      }
      return;
    }
    store(fromDom(current));
  }, [storageKey, server, current]);

  return <span hidden {...rest} />;
}
