// Draw a rectangle over the photo preview; the form receives it in preview pixels.
// The server converts it to the original's stored pixels, whatever the EXIF orientation.
(function () {
  "use strict";
  const stage = document.getElementById("region-stage");
  if (!stage) return;
  const image = stage.querySelector("img");
  const box = document.getElementById("region-box");
  const fields = ["x", "y", "width", "height"].map((name) => document.getElementById("region-" + name));
  let start = null;

  function toPreviewPixels(event) {
    const bounds = image.getBoundingClientRect();
    const scale = image.naturalWidth / bounds.width;
    const x = Math.min(Math.max(event.clientX - bounds.left, 0), bounds.width);
    const y = Math.min(Math.max(event.clientY - bounds.top, 0), bounds.height);
    return { x: x, y: y, scale: scale };
  }

  function draw(a, b) {
    const left = Math.min(a.x, b.x), top = Math.min(a.y, b.y);
    const width = Math.abs(a.x - b.x), height = Math.abs(a.y - b.y);
    Object.assign(box.style, { left: left + "px", top: top + "px", width: width + "px", height: height + "px", display: "block" });
    const values = [left, top, width, height].map((value) => Math.round(value * a.scale));
    fields.forEach((field, index) => { field.value = values[index]; });
  }

  stage.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    start = toPreviewPixels(event);
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => { if (start) draw(start, toPreviewPixels(event)); });
  stage.addEventListener("pointerup", (event) => {
    if (!start) return;
    draw(start, toPreviewPixels(event));
    start = null;
  });
})();
