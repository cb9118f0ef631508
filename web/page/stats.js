// SPDX-License-Identifier: AGPL-3.0-or-later
/* stats.js — the territory's open statistics page: GET /v1/stats for the period and cell size chosen, the weekly
   totals as Chart.js charts (from npm, served by this server), the rows as a table, a CSV link; in the map page's
   languages and local number formats (i18n.js). */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var I = window.covoitI18n, t = I.t, fmt = I.fmt;
  var charts = {};
  var last = null; /* the last answer, drawn again in another language */
  function ymd(d) { return d.toISOString().slice(0, 10); }
  var today = new Date();
  $('to').value = ymd(today);
  $('from').value = ymd(new Date(today.getTime() - 83 * 86400000));

  function chart(id, type, labels, sets) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart($(id), {
      type: type,
      data: { labels: labels, datasets: sets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } },
        locale: I.locale() }
    });
  }

  function num(v, digits) {
    return Number(v).toLocaleString(I.locale(), { maximumFractionDigits: digits === undefined ? 1 : digits });
  }

  function draw(doc) {
    var weeks = {};
    doc.rows.forEach(function (r) {
      var w = weeks[r.week] || (weeks[r.week] = { offered: 0, requested: 0, matched: 0, shared: 0, avoided: 0 });
      w.offered += r.offered; w.requested += r.requested; w.matched += r.matched;
      w.shared += r.shared_km; w.avoided += r.vehicle_km_avoided;
    });
    var labels = Object.keys(weeks).sort();
    var col = function (k) { return labels.map(function (w) { return Math.round(weeks[w][k] * 10) / 10; }); };
    chart('trips', 'bar', labels, [
      { label: t('stats.set.offered'), data: col('offered'), backgroundColor: '#1d4ed8' },
      { label: t('stats.set.requested'), data: col('requested'), backgroundColor: '#b45309' },
      { label: t('stats.set.matched'), data: col('matched'), backgroundColor: '#15803d' }]);
    chart('km', 'line', labels, [
      { label: t('stats.set.shared'), data: col('shared'), borderColor: '#1d4ed8' },
      { label: t('stats.set.avoided'), data: col('avoided'), borderColor: '#15803d' }]);
    var body = $('rows').tBodies[0];
    body.textContent = '';
    doc.rows.forEach(function (r) {
      var tr = document.createElement('tr');
      /* a cell's coordinates as they are (a decimal comma would run into the comma between them) */
      [r.week, r.cell[0].toFixed(4) + ', ' + r.cell[1].toFixed(4), num(r.offered), num(r.requested), num(r.matched),
        num(r.shared_km), num(r.vehicle_km_avoided), num(r.co2_kg_avoided)].forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = String(v);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var s = doc.total;
    $('info').textContent = t('stats.info', { from: fmt.day(doc.from), to: fmt.day(doc.to), offered: num(s.offered),
      requested: num(s.requested), matched: num(s.matched), shared: num(s.shared_km),
      avoided: num(s.vehicle_km_avoided), co2: num(s.co2_kg_avoided), rows: doc.rows.length, cell: doc.cell_km,
      suppressed: num(doc.suppressed), k: doc.k });
    $('info').dataset.total = JSON.stringify(s); /* the figures as the server gave them */
  }

  function show() {
    var q = 'from=' + $('from').value + '&to=' + $('to').value + '&cell_km=' + encodeURIComponent($('cell').value);
    $('csv').href = '/v1/stats?format=csv&' + q;
    $('info').textContent = t('stats.loading');
    fetch('/v1/stats?' + q, { headers: { Accept: 'application/json' } }).then(function (res) {
      return res.json().then(function (doc) {
        if (!res.ok || doc.code !== 'Ok') throw new Error(doc.message || 'HTTP ' + res.status);
        return doc;
      });
    }).then(function (doc) {
      last = doc;
      draw(doc);
      document.body.dataset.ready = 'true';
    }).catch(function (e) {
      last = null;
      $('info').textContent = t('stats.failed', { why: e.message });
      document.body.dataset.ready = 'error';
    });
  }

  I.langs.forEach(function (l) {
    var o = document.createElement('option');
    o.value = l;
    o.lang = l;
    o.textContent = I.name(l);
    $('lang').appendChild(o);
  });
  $('lang').value = I.lang;
  $('lang').addEventListener('change', function () {
    I.set($('lang').value);
    if (last) draw(last);
  });
  I.apply();
  $('period').addEventListener('submit', function (ev) { ev.preventDefault(); show(); });
  show();
})();
