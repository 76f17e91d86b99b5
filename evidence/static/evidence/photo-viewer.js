// Zoom and pan on a photo's preview, with its markings' outlines (links) scaled along.
// Mouse: drag pans, Ctrl+wheel zooms at the pointer. Keyboard on the frame: + and - zoom, arrows pan, 0 fits.
// "Full resolution" swaps the preview for the original (same upright aspect, so the outlines still fit).
(function () {
  "use strict";
  const MAX_SCALE = 16;
  const STEP = 1.25;

  function setUp(viewer) {
    const frame = viewer.querySelector(".attest-viewer-frame");
    const stage = viewer.querySelector(".attest-viewer-stage");
    const image = stage.querySelector("img");
    const scaleOutput = viewer.querySelector(".attest-viewer-scale");
    let scale = 1, x = 0, y = 0, drag = null, moved = false;

    function apply() {
      // Keep the stage over the whole frame: no panning into emptiness.
      const width = frame.clientWidth, height = frame.clientHeight;
      x = Math.min(0, Math.max(width - width * scale, x));
      y = Math.min(0, Math.max(height - height * scale, y));
      stage.style.transform = "translate(" + x + "px, " + y + "px) scale(" + scale + ")";
      if (scaleOutput) scaleOutput.textContent = Math.round(scale * 100) + "%";
    }

    function zoom(factor, cx, cy) {
      const next = Math.min(MAX_SCALE, Math.max(1, scale * factor));
      if (cx === undefined) { cx = frame.clientWidth / 2; cy = frame.clientHeight / 2; }
      x = cx - (cx - x) * next / scale;
      y = cy - (cy - y) * next / scale;
      scale = next;
      apply();
    }

    function fit() { scale = 1; x = 0; y = 0; apply(); }

    viewer.querySelectorAll("[data-zoom]").forEach((button) => {
      button.addEventListener("click", () => {
        const kind = button.dataset.zoom;
        if (kind === "in") zoom(STEP);
        else if (kind === "out") zoom(1 / STEP);
        else fit();
      });
    });

    const full = viewer.querySelector("[data-full]");
    if (full) {
      const preview = image.getAttribute("src");
      full.addEventListener("click", () => {
        const on = full.getAttribute("aria-pressed") !== "true";
        image.src = on ? full.dataset.full : preview;
        full.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    // The wheel scrolls the page as usual; with Ctrl (or once zoomed in) it zooms the photo instead.
    frame.addEventListener("wheel", (event) => {
      if (!event.ctrlKey && !event.metaKey && scale === 1) return;
      event.preventDefault();
      const bounds = frame.getBoundingClientRect();
      zoom(event.deltaY < 0 ? STEP : 1 / STEP, event.clientX - bounds.left, event.clientY - bounds.top);
    }, { passive: false });

    frame.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      drag = { x: event.clientX - x, y: event.clientY - y, startX: event.clientX, startY: event.clientY };
      moved = false;
    });
    frame.addEventListener("pointermove", (event) => {
      if (!drag) return;
      if (!moved && Math.abs(event.clientX - drag.startX) + Math.abs(event.clientY - drag.startY) > 4) {
        moved = true;
        frame.setPointerCapture(event.pointerId);
        frame.classList.add("attest-panning");
      }
      if (moved) { x = event.clientX - drag.x; y = event.clientY - drag.y; apply(); }
    });
    function release() { drag = null; frame.classList.remove("attest-panning"); }
    frame.addEventListener("pointerup", release);
    frame.addEventListener("pointercancel", release);
    // A drag that ends on an outline pans; only a plain click follows its link.
    frame.addEventListener("click", (event) => {
      if (moved) { event.preventDefault(); moved = false; }
    }, true);

    frame.addEventListener("keydown", (event) => {
      if (event.target !== frame) return;  // an outline link keeps its own keys
      const step = frame.clientWidth / 10;
      const keys = {
        "+": () => zoom(STEP), "=": () => zoom(STEP), "-": () => zoom(1 / STEP), "0": fit,
        ArrowLeft: () => { x += step; apply(); }, ArrowRight: () => { x -= step; apply(); },
        ArrowUp: () => { y += step; apply(); }, ArrowDown: () => { y -= step; apply(); },
      };
      if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
    });
    window.addEventListener("resize", apply);
    apply();
  }

  document.querySelectorAll(".attest-viewer").forEach(setUp);
})();
