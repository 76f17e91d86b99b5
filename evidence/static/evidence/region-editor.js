// Draw a rectangle over the photo preview, type its numbers, or move and resize it with the keyboard;
// the form receives it in preview pixels. The server converts it to the original's stored pixels,
// whatever the EXIF orientation.
(function () {
  "use strict";
  const stage = document.getElementById("region-stage");
  if (!stage) return;
  const image = stage.querySelector("img");
  const box = document.getElementById("region-box");
  const fields = ["x", "y", "width", "height"].map((name) => document.getElementById("region-" + name));
  let start = null;

  function natural() {
    return { width: image.naturalWidth || Number(image.getAttribute("width")),
             height: image.naturalHeight || Number(image.getAttribute("height")) };
  }

  function toPreviewPixels(event) {
    const bounds = image.getBoundingClientRect();
    const size = natural();
    const x = Math.min(Math.max(event.clientX - bounds.left, 0), bounds.width);
    const y = Math.min(Math.max(event.clientY - bounds.top, 0), bounds.height);
    return { x: x * size.width / bounds.width, y: y * size.height / bounds.height };
  }

  function read() {
    const values = fields.map((field) => parseInt(field.value, 10));
    return values.some((value) => Number.isNaN(value)) ? null : values;
  }

  // The box is drawn in percent of the preview, so it stays on its pixels whatever the page's width.
  function show(values) {
    if (!values || values[2] <= 0 || values[3] <= 0) { box.hidden = true; return; }
    const size = natural();
    Object.assign(box.style, {
      left: 100 * values[0] / size.width + "%", top: 100 * values[1] / size.height + "%",
      width: 100 * values[2] / size.width + "%", height: 100 * values[3] / size.height + "%",
    });
    box.hidden = false;
  }

  function write(values) {
    const size = natural();
    let [x, y, width, height] = values.map(Math.round);
    width = Math.min(Math.max(width, 1), size.width);
    height = Math.min(Math.max(height, 1), size.height);
    x = Math.min(Math.max(x, 0), size.width - width);
    y = Math.min(Math.max(y, 0), size.height - height);
    [x, y, width, height].forEach((value, index) => { fields[index].value = value; });
    show([x, y, width, height]);
  }

  function draw(a, b) {
    write([Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(a.x - b.x), Math.abs(a.y - b.y)]);
  }

  stage.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    stage.focus();
    start = toPreviewPixels(event);
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => { if (start) draw(start, toPreviewPixels(event)); });
  stage.addEventListener("pointerup", (event) => {
    if (!start) return;
    draw(start, toPreviewPixels(event));
    start = null;
  });

  // Arrow keys move the region; with Shift they resize it. A region starts in the middle if none is drawn.
  stage.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const size = natural();
    const step = Math.max(1, Math.round(Math.max(size.width, size.height) / 200));
    const values = read() || [size.width * 0.4, size.height * 0.4, size.width * 0.2, size.height * 0.2];
    if (event.shiftKey) {
      values[2] += move[0] * step;
      values[3] += move[1] * step;
    } else {
      values[0] += move[0] * step;
      values[1] += move[1] * step;
    }
    write(values);
  });

  fields.forEach((field) => field.addEventListener("input", () => show(read())));
  if (image.complete) show(read());
  else image.addEventListener("load", () => show(read()));
})();
