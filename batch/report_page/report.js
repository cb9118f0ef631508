// SPDX-License-Identifier: AGPL-3.0-or-later
/* report.js — the batch report's map, charts and list of who is left unmatched, drawn from what report-data.js
   holds (window.COVOIT_REPORT, written by covoit batch). Leaflet and Chart.js are the npm packages copied beside
   the report (lib/); nothing is fetched from anywhere: the map has no basemap, only the plan. */
(function () {
  'use strict';
  const R = window.COVOIT_REPORT;

  /* --- the map: each carpool as its driver's way out through the passengers' places (the road route, simplified,
     when the plan is small enough to carry it; its stops joined by straight lines beyond), homes and workplaces --- */
  const map = L.map('map', { preferCanvas: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(
    'Roads &copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors, ODbL');
  const bounds = L.latLngBounds([]);
  const lines = L.layerGroup().addTo(map);
  const places = L.layerGroup().addTo(map);
  for (const c of R.carpools) {
    const line = L.polyline(c.route || c.stops, { color: '#1565c0', weight: 2, opacity: 0.75 });
    line.bindTooltip(`Carpool ${c.id}: ${c.driver} drives ${c.passengers.join(', ')}, ` +
      `+${c.added_out_min.toFixed(1)} min out, +${c.added_back_min.toFixed(1)} min back, ` +
      `${c.km_saved_week.toFixed(1)} km saved a week`);
    line.addTo(lines);
    L.circleMarker(c.stops[0], { radius: 3, color: '#1565c0', fillOpacity: 1 }).addTo(places);
    for (const h of c.homes) L.circleMarker(h, { radius: 3, color: '#2e7d32', fillOpacity: 1 }).addTo(places);
    L.circleMarker(c.stops[c.stops.length - 1], { radius: 3, color: '#6a1b9a', fillOpacity: 1 }).addTo(places);
    for (const p of c.stops) bounds.extend(p);
  }
  for (const u of R.unmatched) {
    L.circleMarker(u.home, { radius: 2, color: '#9e9e9e', fillOpacity: 0.6, weight: 1 })
      .bindTooltip(`${u.id}: ${u.why}`).addTo(places);
    bounds.extend(u.home);
  }
  map.getContainer().dataset.lines = String(lines.getLayers().length);
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
  else map.setView([0, 0], 2);
  const legend = L.control({ position: 'bottomleft' });
  legend.onAdd = function () {
    const div = L.DomUtil.create('div', 'legend');
    div.innerHTML = '<span class="sw drive"></span> a carpool, the driver\'s way out' +
      (R.carpools.length && !R.carpools[0].route ? ' (straight between its stops)' : '') +
      '<br><span class="dot driver"></span> driver\'s home <span class="dot rider"></span> passenger\'s home' +
      ' <span class="dot work"></span> driver\'s work <span class="dot alone"></span> unmatched';
    return div;
  };
  legend.addTo(map);

  /* --- histograms --- */
  function histogram(values, width) {
    const top = values.length ? Math.max(...values) : 0;
    const n = Math.max(1, Math.ceil((top + 1e-9) / width));
    const counts = new Array(n).fill(0);
    for (const v of values) counts[Math.min(n - 1, Math.floor(v / width))]++;
    const labels = counts.map((_, i) => `${(i * width).toFixed(0)}–${((i + 1) * width).toFixed(0)}`);
    return { labels, counts };
  }
  function bars(id, h, label, axis, color) {
    return new Chart(document.getElementById(id), {
      type: 'bar',
      data: { labels: h.labels, datasets: [{ label, data: h.counts, backgroundColor: color }] },
      options: {
        animation: false,
        plugins: { legend: { display: false } },
        scales: { x: { title: { display: true, text: axis } }, y: { title: { display: true, text: label } } },
      },
    });
  }
  const added = R.carpools.map((c) => Math.max(c.added_out_min, c.added_back_min));
  bars('detours', histogram(added, 2), 'carpools', 'driver\'s added minutes (the longer way)', '#1565c0');
  bars('saved', histogram(R.carpools.map((c) => c.km_saved_week), 20), 'carpools', 'km saved per week', '#2e7d32');
  new Chart(document.getElementById('versus'), {
    type: 'bar',
    data: {
      labels: ['km saved per week'],
      datasets: [
        { label: 'optimal plan', data: [R.optimal.km_saved_per_week], backgroundColor: '#1565c0' },
        { label: 'greedy rule', data: [R.greedy.km_saved_per_week], backgroundColor: '#bdbdbd' },
      ],
    },
    options: { animation: false, indexAxis: 'y' },
  });

  /* --- who is left unmatched, and why --- */
  const box = document.getElementById('unmatched');
  const byWhy = new Map();
  for (const u of R.unmatched) {
    if (!byWhy.has(u.why)) byWhy.set(u.why, []);
    byWhy.get(u.why).push(u.id);
  }
  if (!R.unmatched.length) box.textContent = 'Everyone is in a carpool.';
  for (const [why, ids] of byWhy) {
    const d = document.createElement('details');
    const s = document.createElement('summary');
    s.textContent = `${why}: ${ids.length}`;
    const p = document.createElement('p');
    p.textContent = ids.join(', ');
    d.append(s, p);
    box.append(d);
  }
  document.body.dataset.ready = 'yes';
})();
