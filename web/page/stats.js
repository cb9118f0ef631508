// SPDX-License-Identifier: AGPL-3.0-or-later
/* stats.js — the territory's open statistics page: GET /v1/stats for the period and cell size chosen, the weekly
   totals as Chart.js charts (from npm, served by this server), the rows as a table, a CSV link. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var charts = {};
  function ymd(d) { return d.toISOString().slice(0, 10); }
  var today = new Date();
  $('to').value = ymd(today);
  $('from').value = ymd(new Date(today.getTime() - 83 * 86400000));

  function chart(id, type, labels, sets) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart($(id), {
      type: type,
      data: { labels: labels, datasets: sets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } }
    });
  }

  function show() {
    var q = 'from=' + $('from').value + '&to=' + $('to').value + '&cell_km=' + encodeURIComponent($('cell').value);
    $('csv').href = '/v1/stats?format=csv&' + q;
    $('info').textContent = 'Loading…';
    fetch('/v1/stats?' + q, { headers: { Accept: 'application/json' } }).then(function (res) {
      return res.json().then(function (doc) {
        if (!res.ok || doc.code !== 'Ok') throw new Error(doc.message || 'HTTP ' + res.status);
        return doc;
      });
    }).then(function (doc) {
      var weeks = {};
      doc.rows.forEach(function (r) {
        var w = weeks[r.week] || (weeks[r.week] = { offered: 0, requested: 0, matched: 0, shared: 0, avoided: 0 });
        w.offered += r.offered; w.requested += r.requested; w.matched += r.matched;
        w.shared += r.shared_km; w.avoided += r.vehicle_km_avoided;
      });
      var labels = Object.keys(weeks).sort();
      var col = function (k) { return labels.map(function (w) { return Math.round(weeks[w][k] * 10) / 10; }); };
      chart('trips', 'bar', labels, [
        { label: 'offered', data: col('offered'), backgroundColor: '#1d4ed8' },
        { label: 'requested', data: col('requested'), backgroundColor: '#b45309' },
        { label: 'matched', data: col('matched'), backgroundColor: '#15803d' }]);
      chart('km', 'line', labels, [
        { label: 'km shared', data: col('shared'), borderColor: '#1d4ed8' },
        { label: 'vehicle-km avoided', data: col('avoided'), borderColor: '#15803d' }]);
      var body = $('rows').tBodies[0];
      body.textContent = '';
      doc.rows.forEach(function (r) {
        var tr = document.createElement('tr');
        [r.week, r.cell[0].toFixed(4) + ', ' + r.cell[1].toFixed(4), r.offered, r.requested, r.matched, r.shared_km,
          r.vehicle_km_avoided, r.co2_kg_avoided].forEach(function (v) {
          var td = document.createElement('td');
          td.textContent = String(v);
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      var t = doc.total;
      $('info').textContent = doc.from + ' to ' + doc.to + ': ' + t.offered + ' trips offered, ' + t.requested +
        ' requested, ' + t.matched + ' matched, ' + t.shared_km + ' km shared, ' + t.vehicle_km_avoided +
        ' vehicle-km and ' + t.co2_kg_avoided + ' kg of CO₂ avoided; ' + doc.rows.length + ' row' + (doc.rows.length === 1 ? '' : 's') +
        ' (a week and a cell of ' + doc.cell_km + ' km each) shown, ' + doc.suppressed + ' with fewer than ' + doc.k +
        ' trips not shown.';
      document.body.dataset.ready = 'true';
    }).catch(function (e) {
      $('info').textContent = 'The statistics could not be read: ' + e.message;
      document.body.dataset.ready = 'error';
    });
  }
  $('period').addEventListener('submit', function (ev) { ev.preventDefault(); show(); });
  show();
})();
