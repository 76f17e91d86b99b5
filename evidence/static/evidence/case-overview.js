/* The case overview: the map of positions and the dossiers' progress. Data comes from json_script
   blocks (the Content-Security-Policy allows no inline script). */
"use strict";

(function () {
  const KIND_STYLES = {recovery: {colour: "#0b6e99", radius: 7}, photo: {colour: "#444444", radius: 5}};

  function readJSON(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function popup(feature, data) {
    const box = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = data.kinds[feature.kind] + ": " + feature.label;
    const detail = document.createElement("div");
    detail.textContent = feature.detail;
    const link = document.createElement("a");
    link.href = feature.url;
    link.textContent = data.open;
    box.append(title, detail, link);
    return box;
  }

  function drawMap() {
    const container = document.getElementById("attest-map");
    const data = readJSON("attest-map-data");
    if (!container || !data || typeof L === "undefined") return;
    const map = L.map(container, {attributionControl: true});
    if (data.tiles) {
      L.tileLayer(data.tiles, {maxZoom: 18}).addTo(map);
    }
    fetch(data.borders, {credentials: "same-origin"})
      .then((response) => response.json())
      .then((borders) => {
        L.geoJSON(borders, {style: {color: "#888", weight: 1, fillColor: "#eee", fillOpacity: data.tiles ? 0 : 0.6}})
          .addTo(map).bringToBack();
      })
      .catch(() => {});
    const markers = [];
    for (const feature of data.features) {
      const style = feature.kind === "incident"
        ? {colour: data.colours[feature.outcome] || "#666666", radius: 9}
        : KIND_STYLES[feature.kind];
      // Shape and popup text say what a marker is, not colour alone: incidents are filled circles,
      // recovery places rings, photo positions small dots.
      const marker = L.circleMarker([feature.lat, feature.lon], {
        radius: style.radius, color: style.colour, weight: 2, className: "attest-marker attest-marker-" + feature.kind,
        fillOpacity: feature.kind === "recovery" ? 0 : 0.8,
      });
      marker.bindTooltip(feature.label);
      marker.bindPopup(popup(feature, data));
      marker.addTo(map);
      markers.push(marker);
    }
    if (markers.length) {
      map.fitBounds(L.featureGroup(markers).getBounds().pad(0.3), {maxZoom: 12});
    } else {
      map.setView([48.5, 31.2], 5);
    }
  }

  function pollDossiers() {
    const labels = readJSON("attest-export-labels") || {status: {}, stages: {}};
    // "exhibits 3/12": the stage's name in the reader's language, its count as it is.
    function stageLabel(stage) {
      const counted = stage.match(/^([a-z]+)( \d+\/\d+)$/);
      if (counted) return (labels.stages[counted[1]] || counted[1]) + counted[2];
      return labels.stages[stage] || stage;
    }
    const rows = Array.from(document.querySelectorAll("tr.attest-export[data-poll-url]"));
    if (!rows.length) return;
    function update(row) {
      return fetch(row.dataset.pollUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((export_) => {
          row.querySelector(".attest-export-status").textContent = labels.status[export_.status] || export_.status;
          row.querySelector(".attest-export-stage").textContent = stageLabel(export_.stage || "");
          const bar = row.querySelector(".attest-export-progress");
          bar.value = export_.progress;
          bar.textContent = export_.progress + "%";
          if (export_.status === "done") {
            row.querySelector(".attest-export-download").hidden = false;
          }
          if (export_.status === "failed") {
            const error = row.querySelector(".attest-export-error");
            error.textContent = export_.error;  // the stored reason, worded for users (never a server detail)
            error.hidden = false;
          }
          if (export_.status === "done" || export_.status === "failed") {
            delete row.dataset.pollUrl;
          }
        })
        .catch(() => { delete row.dataset.pollUrl; });  // refused or gone: stop asking
    }
    function tick() {
      const pending = rows.filter((row) => row.dataset.pollUrl);
      if (!pending.length) return;
      Promise.all(pending.map(update)).then(() => window.setTimeout(tick, 3000));
    }
    window.setTimeout(tick, 1500);
  }

  document.addEventListener("DOMContentLoaded", () => {
    drawMap();
    pollDossiers();
  });
})();
