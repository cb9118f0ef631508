/* app.js — the covoit map page: a route between two points, a carpool search, publishing an offer, all against
   this server's own API (docs/API.md). Plain browser JavaScript, no build step; Leaflet (L) is loaded before it
   from /static/leaflet/. The page asks nothing of any other host: its basemap is the tile server the operator
   named (covoit serve --tile-url, given by /health); without one it outlines the area the graph covers. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var map = L.map('map', { zoomControl: true });
  var ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';
  map.attributionControl.addAttribution(ATTRIBUTION); /* the routes are OpenStreetMap data, tiles or not */
  /* no view and no tiles until /health gives the graph's box and the operator's tile server (below) */
  window.covoit = { map: map }; /* for the browser's console */

  /* --- talking to the server --- */

  var keyInput = $('key');
  try { keyInput.value = window.sessionStorage.getItem('covoit-key') || ''; } catch (e) { /* storage off */ }
  $('key-form').addEventListener('submit', function (ev) { ev.preventDefault(); });
  keyInput.addEventListener('change', function () {
    try { window.sessionStorage.setItem('covoit-key', keyInput.value.trim()); } catch (e) { /* storage off */ }
  });

  /* A JSON request to this server; resolves with the answer's document, rejects with an Error whose message is
     the answer's `message` (every covoit error has one). */
  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    var key = keyInput.value.trim();
    if (key) headers['X-API-Key'] = key;
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var doc = null;
        try { doc = JSON.parse(text); } catch (e) { /* not JSON */ }
        if (!res.ok || !doc || doc.code !== 'Ok') {
          var msg = doc && doc.message ? doc.message : 'HTTP ' + res.status + (text ? ': ' + text.slice(0, 200) : '');
          var err = new Error(msg);
          err.status = res.status;
          err.code = doc && doc.code;
          throw err;
        }
        return doc;
      });
    });
  }

  function showError(e) {
    var box = $('error');
    box.textContent = e ? (e.code ? e.code + ': ' : '') + e.message : '';
    box.hidden = !e;
  }

  /* --- formatting --- */

  function minutes(s) {
    if (s < 60) return Math.round(s) + ' s';
    var m = Math.round(s / 60);
    return m < 60 ? m + ' min' : Math.floor(m / 60) + ' h ' + String(m % 60).padStart(2, '0');
  }
  function km(m) { return (m / 1000).toFixed(Math.abs(m) < 10000 ? 2 : 1) + ' km'; }
  function signed(text) { return text.charAt(0) === '-' ? '\u2212' + text.slice(1) : '+' + text; }
  /* fits the map to bounds, leaving room for the panel where it floats over the map's left side */
  function fit(bounds) {
    var panel = $('panel').getBoundingClientRect();
    var wide = panel.width < window.innerWidth * 0.6;
    map.fitBounds(bounds, { paddingTopLeft: [wide ? panel.right + 10 : 20, 20],
      paddingBottomRight: [20, wide ? 20 : window.innerHeight - panel.top + 10] });
  }
  function clock(iso) { return typeof iso === 'string' && iso.length >= 16 ? iso.slice(11, 16) : String(iso); }
  function lonlat(ll) { return [Number(ll.lng.toFixed(6)), Number(ll.lat.toFixed(6))]; }
  function latlng(p) { return [p[1], p[0]]; }
  function coords(points) { return points.map(function (p) { return p[0] + ',' + p[1]; }).join(';'); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function pinIcon(letter, cls) {
    return L.divIcon({ className: 'pin-icon', html: '<span class="pin ' + cls + '">' + letter + '</span>',
      iconSize: [28, 28], iconAnchor: [14, 14] });
  }
  /* datetime-local value for tomorrow at hh:mm (the browser's calendar; the server reads it in its own zone) */
  function tomorrowAt(hhmm) {
    var d = new Date(Date.now() + 86400000);
    var pad = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + hhmm;
  }

  /* --- start, destination and the route between them --- */

  var origin = null, destination = null, routeLine = null, routeSeq = 0;
  var matchLayer = L.layerGroup().addTo(map);

  function setPoint(which, ll) {
    var m = which === 'a' ? origin : destination;
    if (!m) {
      m = L.marker(ll, { draggable: true, icon: pinIcon(which === 'a' ? 'A' : 'B', which),
        title: which === 'a' ? 'start' : 'destination', autoPan: true }).addTo(map);
      m.on('dragend', pointsChanged);
      if (which === 'a') origin = m; else destination = m;
    } else {
      m.setLatLng(ll);
    }
    pointsChanged();
  }

  map.on('click', function (ev) {
    if (!origin) setPoint('a', ev.latlng);
    else setPoint('b', ev.latlng); /* later clicks move the destination */
  });

  $('clear').addEventListener('click', function () {
    [origin, destination, routeLine].forEach(function (l) { if (l) map.removeLayer(l); });
    origin = destination = routeLine = null;
    clearMatches();
    $('route-info').textContent = 'No route yet.';
    showError(null);
  });

  function pointsChanged() {
    clearMatches();
    if (!origin || !destination) {
      $('route-info').textContent = 'Now click the destination.';
      return;
    }
    var seq = ++routeSeq;
    var pts = [lonlat(origin.getLatLng()), lonlat(destination.getLatLng())];
    $('route-info').textContent = 'Routing…';
    api('GET', '/route/v1/driving/' + coords(pts) + '?overview=full&geometries=geojson').then(function (doc) {
      if (seq !== routeSeq) return; /* a newer drag has started its own request */
      var r = doc.routes[0];
      if (routeLine) map.removeLayer(routeLine);
      routeLine = L.geoJSON(r.geometry, { style: { color: '#2563eb', weight: 5, opacity: 0.8 } }).addTo(map);
      $('route-info').textContent = minutes(r.duration) + ' · ' + km(r.distance);
      showError(null);
    }).catch(function (e) {
      if (seq !== routeSeq) return;
      if (routeLine) map.removeLayer(routeLine);
      routeLine = null;
      $('route-info').textContent = 'No route.';
      showError(e);
    });
  }

  function needPoints() {
    if (origin && destination) return true;
    showError({ message: 'set the start (A) and the destination (B) on the map first' });
    return false;
  }

  function optionalNumber(input) {
    var v = input.value.trim();
    return v === '' ? undefined : Number(v);
  }

  /* --- find a ride: POST /v1/search --- */

  var matches = [];

  function clearMatches() {
    matches = [];
    matchLayer.clearLayers();
    $('matches').textContent = '';
    $('search-info').textContent = '';
  }

  $('s-depart').value = tomorrowAt('08:00');
  $('o-depart').value = tomorrowAt('08:00');

  $('search-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!needPoints()) return;
    clearMatches();
    var body = {
      from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()),
      depart: $('s-depart').value, seats: Number($('s-seats').value)
    };
    var margin = optionalNumber($('s-margin'));
    if (margin !== undefined) body.margin_min = margin;
    $('search-info').textContent = 'Searching…';
    api('POST', '/v1/search?limit=20', body).then(function (doc) {
      showError(null);
      matches = doc.matches || [];
      $('search-info').textContent = matches.length ? matches.length + ' ride' + (matches.length > 1 ? 's' : '') +
        ' found, best first:' : 'No ride found for this trip and time.';
      matches.forEach(function (m, i) { $('matches').appendChild(matchItem(m, i)); });
      if (matches.length) selectMatch(0);
    }).catch(function (e) {
      $('search-info').textContent = '';
      showError(e);
    });
  });

  function matchItem(m, i) {
    var li = el('li');
    var b = el('button');
    b.type = 'button';
    b.appendChild(el('div', 'match-head', 'Offer #' + m.offer_id + ' · pickup ' + clock(m.pickup.time) +
      ' · drop-off ' + clock(m.dropoff.time)));
    b.appendChild(el('div', 'match-line', 'detour ' + signed(minutes(m.detour.duration)) + ', ' +
      signed(km(m.detour.distance)) +
      ' (' + m.detour.percent.toFixed(0) + ' %) · ride ' + minutes(m.shared.duration) + ', ' + km(m.shared.distance)));
    var c = m.contribution;
    b.appendChild(el('div', 'match-line', 'contribution ' + c.amount.toFixed(2) + ' ' + c.currency +
      ' (commission ' + c.commission + ') · ' + (m.time_mismatch ? minutes(m.time_mismatch) + ' from your time'
        : 'on time')));
    b.title = 'pickup ' + m.pickup.time + ', drop-off ' + m.dropoff.time;
    b.addEventListener('click', function () { selectMatch(i); });
    li.appendChild(b);
    return li;
  }

  var selectSeq = 0;

  /* Draws match i: its pickup and drop-off, and the driver's route with this passenger. The route is the offer's
     stops (GET /v1/offers/ID) with the pickup and drop-off inserted where they add the least time (one /table),
     as the matcher inserts them; when the offer cannot be read (another client's, in auth mode) only the two
     points are drawn. */
  function selectMatch(i) {
    var m = matches[i];
    var seq = ++selectSeq;
    Array.prototype.forEach.call($('matches').children, function (li, k) {
      li.classList.toggle('selected', k === i);
    });
    matchLayer.clearLayers();
    var pick = m.pickup.location, drop = m.dropoff.location;
    L.marker(latlng(pick), { icon: pinIcon('P', 'p'), title: 'pickup ' + m.pickup.time }).addTo(matchLayer)
      .bindTooltip('pickup ' + clock(m.pickup.time));
    L.marker(latlng(drop), { icon: pinIcon('D', 'd'), title: 'drop-off ' + m.dropoff.time }).addTo(matchLayer)
      .bindTooltip('drop-off ' + clock(m.dropoff.time));
    api('GET', '/v1/offers/' + m.offer_id).then(function (doc) {
      var stops = (doc.offer.stops || []).map(function (s) { return s.location; });
      if (stops.length < 2) stops = [doc.offer.from].concat(doc.offer.vias || [], [doc.offer.to]);
      return insertionOrder(stops, pick, drop).then(function (order) {
        return api('GET', '/route/v1/driving/' + coords(order) + '?overview=full&geometries=geojson')
          .then(function (r) { return { offer: doc.offer, order: order, route: r.routes[0] }; });
      });
    }).then(function (res) {
      if (seq !== selectSeq) return;
      var line = L.geoJSON(res.route.geometry, { style: { color: '#f0a020', weight: 5, opacity: 0.85,
        dashArray: '10 6' } }).addTo(matchLayer);
      L.circleMarker(latlng(res.order[0]), { radius: 6, color: '#f0a020', fillOpacity: 1 }).addTo(matchLayer)
        .bindTooltip("driver's start");
      L.circleMarker(latlng(res.order[res.order.length - 1]), { radius: 6, color: '#f0a020', fillOpacity: 1 })
        .addTo(matchLayer).bindTooltip("driver's destination");
      fit(line.getBounds());
      $('search-info').textContent = 'Offer #' + m.offer_id + ": the driver's route with you (dashed): " +
        minutes(res.route.duration) + ', ' + km(res.route.distance) + ', of which ' +
        minutes(m.detour.duration) + ' of detour to take you.';
    }).catch(function (e) {
      if (seq !== selectSeq) return;
      fit(L.latLngBounds([latlng(pick), latlng(drop)]).pad(0.3));
      $('search-info').textContent = "Offer #" + m.offer_id + ": pickup and drop-off shown; the driver's route " +
        'cannot be shown (' + e.message + ').';
    });
  }

  /* The stops with pickup and drop-off inserted at the legs (i <= j) that add the least driving time. */
  function insertionOrder(stops, pick, drop) {
    var pts = stops.concat([pick, drop]);
    var n = stops.length, P = n, D = n + 1;
    return api('GET', '/table/v1/driving/' + coords(pts) + '?skip_waypoints=true').then(function (doc) {
      var t = doc.durations;
      var c = function (a, b) { return t[a][b] === null ? Infinity : t[a][b]; };
      var best = Infinity, bi = 0, bj = 0;
      for (var i = 0; i + 1 < n; i++) {
        for (var j = i; j + 1 < n; j++) {
          var add = i === j ? c(i, P) + c(P, D) + c(D, i + 1) - c(i, i + 1)
            : c(i, P) + c(P, i + 1) - c(i, i + 1) + c(j, D) + c(D, j + 1) - c(j, j + 1);
          if (add < best) { best = add; bi = i; bj = j; }
        }
      }
      var order = [];
      for (var k = 0; k < n; k++) {
        order.push(stops[k]);
        if (k === bi) order.push(pick);
        if (k === bj) order.push(drop);
      }
      return order;
    });
  }

  /* --- offer a ride: POST /v1/offers --- */

  $('offer-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!needPoints()) return;
    var body = {
      from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()), depart: $('o-depart').value,
      seats: Number($('o-seats').value), owner: $('o-owner').value.trim()
    };
    var margin = optionalNumber($('o-margin'));
    if (margin !== undefined) body.margin_min = margin;
    $('offer-info').textContent = 'Publishing…';
    api('POST', '/v1/offers', body).then(function (doc) {
      showError(null);
      var o = doc.offer;
      var info = $('offer-info');
      info.textContent = '';
      info.appendChild(el('div', 'ok', 'Offer #' + o.id + ' published for ' + o.owner + ': ' + o.seats +
        ' seat' + (o.seats > 1 ? 's' : '') + ', departs ' + o.schedule.depart + ', route ' +
        minutes(o.direct.duration) + ', ' + km(o.direct.distance) + '.'));
    }).catch(function (e) {
      $('offer-info').textContent = '';
      showError(e);
    });
  });

  /* --- start: fit the map to the graph (GET /health carries its bounding box) --- */

  api('GET', '/health').then(function (doc) {
    var g = doc.graph || {}, tiles = (doc.page || {}).tiles;
    var box = g.bbox && g.bbox.length === 4 ? [[g.bbox[1], g.bbox[0]], [g.bbox[3], g.bbox[2]]] : null;
    if (tiles)
      L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    else if (box) /* no basemap configured: the covered area, not a grey void */
      L.rectangle(box, { color: '#555', weight: 1, fill: false, dashArray: '4 4' }).addTo(map);
    if (box)
      fit(box);
    $('status').textContent = 'Graph ' + (g.source || '?') + (g.osm_timestamp ? ' (OSM data of ' +
      g.osm_timestamp.slice(0, 10) + ')' : '') + ' · ' + (g.nodes || 0).toLocaleString() + ' junctions' +
      (tiles ? '' : ' · no basemap (the operator names a tile server with covoit serve --tile-url)');
  }).catch(function (e) {
    map.setView([0, 0], 2);
    $('status').textContent = 'The server did not answer /health.';
    showError(e);
  });
})();
