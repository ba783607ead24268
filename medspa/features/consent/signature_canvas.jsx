import React, { useRef } from "react";
import SignatureCanvasModule from "react-signature-canvas";

// react-signature-canvas is CommonJS only: its default import is the module object (WIDGETS.md, shim)
export const SignatureCanvas = SignatureCanvasModule?.default ?? SignatureCanvasModule;

const button = {
  font: "inherit", fontSize: "15px", fontWeight: 500, borderRadius: "8px", padding: "0 16px", height: "40px",
  cursor: "pointer", border: "none",
};

// A drawing pad with "Clear" and a save button that sends the PNG data URL ("" when empty) to onSave.
export function SignaturePad({ onSave, canvasProps, penColor = "black", saveLabel = "Save", clearLabel = "Clear",
                               disabled = false, ...rest }) {
  const pad = useRef(null);
  const save = () => {
    const s = pad.current;
    if (onSave) onSave(s && !s.isEmpty() ? s.getCanvas().toDataURL("image/png") : "");
  };
  return (
    <div {...rest}>
      <SignatureCanvas ref={pad} canvasProps={canvasProps} penColor={penColor} />
      <div style={{ display: "flex", gap: "8px", marginTop: "8px", flexWrap: "wrap" }}>
        <button type="button" data-role="save" disabled={disabled} onClick={save}
                style={{ ...button, background: "var(--teal-9, #12a594)", color: "white", flex: "1 1 auto",
                         opacity: disabled ? 0.6 : 1 }}>{saveLabel}</button>
        <button type="button" data-role="clear" onClick={() => pad.current?.clear()}
                style={{ ...button, background: "var(--gray-a3, #eee)", color: "var(--gray-12, #222)" }}>
          {clearLabel}</button>
      </div>
    </div>
  );
}
