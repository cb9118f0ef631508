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
  window.covoit = { map: map }; /* for the browser's console (and the browser test) */

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
  var linkLayer = L.layerGroup().addTo(map); /* a passenger's points from a journey link (below) */

  /* Sets the start (a) or the destination (b) at ll; its field shows label, or what the point is called
     (GET /v1/places/reverse) when none is given. */
  function setPoint(which, ll, label) {
    var m = which === 'a' ? origin : destination;
    if (!m) {
      m = L.marker(ll, { draggable: true, icon: pinIcon(which === 'a' ? 'A' : 'B', which),
        title: which === 'a' ? 'start' : 'destination', autoPan: true }).addTo(map);
      m.on('dragend', function () { nameField(which, m.getLatLng()); pointsChanged(); });
      if (which === 'a') origin = m; else destination = m;
    } else {
      m.setLatLng(ll);
    }
    if (label !== undefined) fieldOf(which).value = label;
    else nameField(which, ll);
    pointsChanged();
  }

  /* --- place search: the start and destination fields (GET /v1/places, the server's own index) --- */

  var placesOn = true; /* false once the server says it has no place index */
  function fieldOf(which) { return $(which === 'a' ? 'from-place' : 'to-place'); }

  /* What the point is called, into its field (unless someone is typing there). */
  function nameField(which, ll) {
    if (!placesOn) return;
    var input = fieldOf(which);
    var p = lonlat(ll);
    placeName(p).then(function (label) {
      if (document.activeElement !== input) input.value = label || p[1].toFixed(5) + ', ' + p[0].toFixed(5);
    });
  }

  /* The label of a point (GET /v1/places/reverse), or '' when nothing is named near it. */
  var names = {};
  function placeName(p) {
    var key = p[0].toFixed(5) + ',' + p[1].toFixed(5);
    if (!names[key]) {
      names[key] = api('GET', '/v1/places/reverse?at=' + key).then(function (doc) { return doc.label; },
        function (e) {
          if (e.status === 503) placesOn = false;
          return '';
        });
    }
    return names[key];
  }

  function placeField(which) {
    var input = fieldOf(which), list = $(which === 'a' ? 'from-list' : 'to-list');
    var found = [], active = -1, seq = 0, timer = null;
    function close() {
      list.hidden = true;
      list.textContent = '';
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, k) {
        li.setAttribute('aria-selected', k === i ? 'true' : 'false');
      });
      if (i >= 0) {
        input.setAttribute('aria-activedescendant', list.children[i].id);
        list.children[i].scrollIntoView({ block: 'nearest' });
      }
    }
    function pick(i) {
      var p = found[i];
      close();
      if (!p) return;
      var ll = L.latLng(p.location[1], p.location[0]);
      setPoint(which, ll, p.label);
      if (!(origin && destination)) map.setView(ll, Math.max(map.getZoom(), 15));
    }
    function suggest() {
      var q = input.value.trim();
      var mine = ++seq;
      if (q.length < 2 || !placesOn) { close(); return; }
      var other = which === 'a' ? destination : origin;
      var near = lonlat(other ? other.getLatLng() : map.getCenter());
      api('GET', '/v1/places?limit=8&q=' + encodeURIComponent(q) + '&near=' + near[0] + ',' + near[1])
        .then(function (doc) {
          if (mine !== seq) return;
          found = doc.places;
          list.textContent = '';
          found.forEach(function (p, k) {
            var li = el('li');
            li.id = list.id + '-' + k;
            li.setAttribute('role', 'option');
            li.setAttribute('aria-selected', 'false');
            li.appendChild(document.createTextNode(p.name));
            if (p.detail) li.appendChild(el('small', '', p.detail));
            li.addEventListener('mousedown', function (ev) { ev.preventDefault(); pick(k); });
            list.appendChild(li);
          });
          if (!found.length) {
            var none = el('li', '', 'No place by that name here.');
            none.setAttribute('role', 'option');
            none.setAttribute('aria-disabled', 'true');
            list.appendChild(none);
          }
          list.hidden = false;
          input.setAttribute('aria-expanded', 'true');
          active = -1;
        }).catch(function (e) {
          if (mine !== seq) return;
          close();
          if (e.status === 503) {
            placesOn = false;
            input.placeholder = 'no place index on this server: click the map';
          } else {
            showError(e);
          }
        });
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 120);
    });
    input.addEventListener('keydown', function (ev) {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        if (list.hidden || !found.length) return;
        ev.preventDefault();
        var n = found.length;
        highlight(ev.key === 'ArrowDown' ? (active + 1) % n : (active - 1 + n) % n);
      } else if (ev.key === 'Enter') {
        ev.preventDefault();
        if (!list.hidden && found.length) pick(active >= 0 ? active : 0);
      } else if (ev.key === 'Escape') {
        close();
      }
    });
    input.addEventListener('blur', function () { setTimeout(close, 150); });
  }
  placeField('a');
  placeField('b');
  /* the start and the destination as [lon, lat] (null when not set) */
  window.covoit.points = function () {
    return [origin ? lonlat(origin.getLatLng()) : null, destination ? lonlat(destination.getLatLng()) : null];
  };
  $('places-form').addEventListener('submit', function (ev) { ev.preventDefault(); });

  map.on('click', function (ev) {
    if (!origin) setPoint('a', ev.latlng);
    else setPoint('b', ev.latlng); /* later clicks move the destination */
  });

  $('clear').addEventListener('click', function () {
    [origin, destination, routeLine].forEach(function (l) { if (l) map.removeLayer(l); });
    origin = destination = routeLine = null;
    fieldOf('a').value = fieldOf('b').value = '';
    clearMatches();
    clearLink();
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
    runSearch($('s-depart').value);
  });

  var searchSeq = 0;

  /* POST /v1/search from A to B leaving at depart (the form's departure, or an exact ISO time), with the form's
     seats and margin; lists the matches and draws offer `prefer`'s when it is among them, else the best.
     Resolves with the matches, or null when there was no search or it failed (the error is shown). */
  function runSearch(depart, prefer) {
    if (!needPoints()) return Promise.resolve(null);
    clearMatches();
    var seq = ++searchSeq;
    var body = {
      from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()),
      depart: depart, seats: Number($('s-seats').value)
    };
    var margin = optionalNumber($('s-margin'));
    if (margin !== undefined) body.margin_min = margin;
    $('search-info').textContent = 'Searching…';
    return api('POST', '/v1/search?limit=20', body).then(function (doc) {
      if (seq !== searchSeq) return null; /* a newer search has started */
      showError(null);
      matches = doc.matches || [];
      $('search-info').textContent = matches.length ? matches.length + ' ride' + (matches.length > 1 ? 's' : '') +
        ' found, best first:' : 'No ride found for this trip and time.';
      matches.forEach(function (m, i) { $('matches').appendChild(matchItem(m, i)); });
      nameMatches(matches, seq);
      if (!matches.length) noRide(depart);
      var chosen = offerIndex(matches, prefer);
      if (matches.length) selectMatch(chosen >= 0 ? chosen : 0);
      return matches;
    }).catch(function (e) {
      if (seq !== searchSeq) return null;
      $('search-info').textContent = '';
      showError(e);
      return null;
    });
  }

  /* The place names of the first matches' pickups and drop-offs, filled in as they come. */
  function nameMatches(list, seq) {
    list.slice(0, 10).forEach(function (m, i) {
      Promise.all([placeName(m.pickup.location), placeName(m.dropoff.location)]).then(function (n) {
        var li = $('matches').children[i];
        if (seq !== searchSeq || !li || (!n[0] && !n[1])) return;
        li.querySelector('.match-places').textContent = 'pickup ' + (n[0] || 'on the road') + ', ' +
          clock(m.pickup.time) + ' · drop-off ' + (n[1] || 'on the road') + ', ' + clock(m.dropoff.time);
      });
    });
  }

  /* No ride: what to relax (an earlier or later time, a wider margin), each a search again; or keep the search as a
     request, which drivers' offers are matched against as they come (its matches: GET /v1/requests/ID/matches). */
  function noRide(depart) {
    var box = $('search-info');
    var shift = function (min) {
      var d = new Date(depart.length > 16 ? depart.slice(0, 16) : depart);
      d = new Date(d.getTime() + min * 60000);
      var p2 = function (n) { return String(n).padStart(2, '0'); };
      return d.getFullYear() + '-' + p2(d.getMonth() + 1) + '-' + p2(d.getDate()) + 'T' + p2(d.getHours()) + ':' +
        p2(d.getMinutes());
    };
    var row = el('div', 'relax');
    row.appendChild(el('span', '', 'Try: '));
    [['30 min earlier', function () { $('s-depart').value = shift(-30); runSearch($('s-depart').value); }],
      ['30 min later', function () { $('s-depart').value = shift(30); runSearch($('s-depart').value); }],
      ['a wider margin (45 min)', function () { $('s-margin').value = 45; runSearch($('s-depart').value); }]]
      .forEach(function (t) {
        var b = el('button', '', t[0]);
        b.type = 'button';
        b.addEventListener('click', t[1]);
        row.appendChild(b);
      });
    box.appendChild(row);
    var save = el('button', 'save-request', 'Save this search as a request');
    save.type = 'button';
    save.addEventListener('click', function () {
      var owner = me();
      if (!owner || !needPoints()) return;
      var body = { from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()), depart: depart,
        seats: Number($('s-seats').value), owner: owner };
      var margin = optionalNumber($('s-margin'));
      if (margin !== undefined) body.margin_min = margin;
      save.disabled = true;
      api('POST', '/v1/requests', body).then(function (doc) {
        showError(null);
        save.replaceWith(el('div', 'ok', 'Saved as request #' + doc.request.id + ' for ' + owner +
          ': drivers\' offers are matched against it as they come.'));
      }).catch(function (e) { save.disabled = false; showError(e); });
    });
    box.appendChild(save);
  }

  function offerIndex(list, offerId) {
    for (var i = 0; i < list.length; i++)
      if (list[i].offer_id === offerId) return i;
    return -1;
  }

  function matchItem(m, i) {
    var li = el('li');
    var b = el('button');
    b.type = 'button';
    b.appendChild(el('div', 'match-head', 'Offer #' + m.offer_id + ' · pickup ' + clock(m.pickup.time) +
      ' · drop-off ' + clock(m.dropoff.time)));
    b.appendChild(el('div', 'match-line match-places', ''));
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
    var book = el('button', 'book', 'Book this ride');
    book.type = 'button';
    book.addEventListener('click', function () { bookMatch(m, book); });
    li.appendChild(book);
    return li;
  }

  /* --- booking and my trips: a request for this trip, then its booking on the offer (POST /v1/requests,
     /v1/bookings); the bookings of the reference kept in this browser, both sides (GET /v1/bookings?owner=) --- */

  var meInput = $('me');
  try { meInput.value = window.localStorage.getItem('covoit-owner') || ''; } catch (e) { /* storage off */ }
  meInput.addEventListener('change', function () {
    try { window.localStorage.setItem('covoit-owner', meInput.value.trim()); } catch (e) { /* storage off */ }
    if (!$('o-owner').value) $('o-owner').value = meInput.value.trim();
    loadTrips();
  });
  if (meInput.value && !$('o-owner').value) $('o-owner').value = meInput.value;
  function me() {
    var v = meInput.value.trim();
    if (!v) {
      $('mine').open = true;
      meInput.focus();
      showError({ message: 'give your reference under "My trips" first: your bookings are kept under it' });
    }
    return v;
  }

  function bookMatch(m, button) {
    var owner = me();
    if (!owner || !needPoints()) return;
    button.disabled = true;
    var body = { from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()), depart: $('s-depart').value,
      seats: Number($('s-seats').value), owner: owner };
    var margin = optionalNumber($('s-margin'));
    if (margin !== undefined) body.margin_min = margin;
    api('POST', '/v1/requests', body).then(function (doc) {
      return api('POST', '/v1/bookings', { offer_id: m.offer_id, request_id: doc.request.id });
    }).then(function (doc) {
      showError(null);
      button.textContent = 'Booked: waiting for the driver';
      $('mine').open = true;
      loadTrips();
      return doc;
    }).catch(function (e) {
      button.disabled = false;
      showError(e);
    });
  }

  function tripItem(b) {
    var li = el('li');
    li.dataset.booking = b.id;
    var head = el('div');
    head.appendChild(el('span', '', (b.as === 'driver' ? 'Your passenger' : 'Your ride') + ' · booking #' + b.id +
      ' · '));
    head.appendChild(el('span', 'status-' + b.status, b.status));
    li.appendChild(head);
    var line = el('div', 'match-line', 'pickup ' + clock(b.pickup.time) + ' · drop-off ' + clock(b.dropoff.time) +
      ' · ' + b.seats + ' seat' + (b.seats > 1 ? 's' : '') + ' · ' +
      (b.contribution ? b.contribution.amount.toFixed(2) + ' ' + b.contribution.currency + ' for the booking' : ''));
    li.appendChild(line);
    Promise.all([placeName(b.pickup.location), placeName(b.dropoff.location)]).then(function (n) {
      if (n[0] || n[1])
        line.textContent = 'pickup ' + (n[0] || 'on the road') + ', ' + clock(b.pickup.time) + ' · drop-off ' +
          (n[1] || 'on the road') + ', ' + clock(b.dropoff.time) + ' · ' + b.seats + ' seat' +
          (b.seats > 1 ? 's' : '') + (b.contribution ? ' · ' + b.contribution.amount.toFixed(2) + ' ' +
          b.contribution.currency + ' for the booking' : '');
    });
    var actions = [];
    if (b.as === 'driver' && b.status === 'pending') actions.push(['accept', 'Accept'], ['refuse', 'Refuse']);
    if (b.status === 'pending' || b.status === 'accepted') actions.push(['cancel', 'Cancel']);
    actions.forEach(function (a) {
      var btn = el('button', '', a[1]);
      btn.type = 'button';
      btn.addEventListener('click', function () {
        btn.disabled = true;
        api('POST', '/v1/bookings/' + b.id + '/' + a[0]).then(function () { showError(null); loadTrips(); },
          function (e) { btn.disabled = false; showError(e); });
      });
      li.appendChild(btn);
    });
    return li;
  }

  var tripsSeq = 0;
  function loadTrips() {
    var owner = meInput.value.trim(), list = $('my-trips'), seq = ++tripsSeq;
    if (!owner) { list.textContent = ''; return; }
    api('GET', '/v1/bookings?owner=' + encodeURIComponent(owner)).then(function (doc) {
      if (seq !== tripsSeq) return;
      list.textContent = '';
      doc.bookings.forEach(function (b) { list.appendChild(tripItem(b)); });
      if (!doc.bookings.length) list.appendChild(el('li', '', 'No booking yet for ' + owner + '.'));
    }).catch(function (e) {
      if (seq === tripsSeq) showError(e);
    });
  }
  $('refresh-trips').addEventListener('click', loadTrips);
  if (meInput.value) loadTrips();

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

  /* punctual, or every week on some days between two dates (a commute) */
  $('o-regular').addEventListener('change', function () {
    var weekly = $('o-regular').checked;
    $('o-weekly').hidden = !weekly;
    $('o-once').hidden = weekly;
    $('o-depart').required = !weekly;
    if (weekly && !$('o-first').value) {
      $('o-first').value = tomorrowAt('00:00').slice(0, 10);
      var end = new Date(Date.now() + 90 * 86400000);
      $('o-last').value = end.getFullYear() + '-' + String(end.getMonth() + 1).padStart(2, '0') + '-' +
        String(end.getDate()).padStart(2, '0');
    }
  });

  $('offer-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!needPoints()) return;
    var body = {
      from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()),
      seats: Number($('o-seats').value), owner: $('o-owner').value.trim()
    };
    if ($('o-regular').checked) {
      var days = Array.prototype.filter.call($('o-weekly').querySelectorAll('input[type="checkbox"]'),
        function (c) { return c.checked; }).map(function (c) { return c.value; });
      if (!days.length) { showError({ message: 'pick at least one day of the week' }); return; }
      body.depart = { weekdays: days.join(','), time: $('o-time').value }; /* docs/API.md, trip fields */
      if ($('o-first').value) body.depart.first_date = $('o-first').value;
      if ($('o-last').value) body.depart.last_date = $('o-last').value;
    } else {
      body.depart = $('o-depart').value;
    }
    var margin = optionalNumber($('o-margin'));
    if (margin !== undefined) body.margin_min = margin;
    $('offer-info').textContent = 'Publishing…';
    api('POST', '/v1/offers', body).then(function (doc) {
      showError(null);
      var o = doc.offer;
      var info = $('offer-info');
      info.textContent = '';
      var when = o.schedule.type === 'regular'
        ? 'every ' + o.schedule.weekdays + ' at ' + o.schedule.time + ' from ' + o.schedule.first_date + ' to ' +
          o.schedule.last_date
        : 'departs ' + o.schedule.depart;
      info.appendChild(el('div', 'ok', 'Offer #' + o.id + ' published for ' + o.owner + ': ' + o.seats +
        ' seat' + (o.seats > 1 ? 's' : '') + ', ' + when + ', route ' +
        minutes(o.direct.duration) + ', ' + km(o.direct.distance) + '.'));
    }).catch(function (e) {
      $('offer-info').textContent = '';
      showError(e);
    });
  });

  /* --- a journey's link: /?journey=ID&from=LON,LAT&to=LON,LAT[&at=UNIX] ---
     The webUrl that /stdcov/v1 gives partners (docs/API.md, The map page). ID is offer-N-YYYY-MM-DD (offer N's
     journey on that date), offer-N (its weekly trip), request-N-YYYY-MM-DD or request-N (a passenger's); from and
     to are the passenger's pickup and drop-off, at the pickup time in UNIX seconds (absent for a weekly trip).
     An offer's link puts A and B on the pickup and drop-off, runs the page's own search and draws offer N's match
     as a click on it would (nothing more of the driver's trip); a request's link shows the passenger's points and
     time. What cannot be read is left out with a note in the panel; nothing here throws. */

  var JOURNEY_ID = /^(offer|request)-([1-9][0-9]{0,14})(?:-([0-9]{4})-([0-9]{2})-([0-9]{2}))?$/;
  var DAY_MS = 86400000;
  var pad2 = function (n) { return String(n).padStart(2, '0'); };

  function linkNote(text, warn) {
    $('journey').appendChild(el('div', warn ? 'warn' : '', text));
    $('journey').hidden = false;
  }
  function clearLink() {
    linkLayer.clearLayers();
    $('journey').textContent = '';
    $('journey').hidden = true;
  }
  function quoted(text) { return "'" + (text.length > 60 ? text.slice(0, 60) + '…' : text) + "'"; }

  /* "LON,LAT" as [lon, lat], or null */
  function readPoint(text) {
    var m = /^(-?[0-9]{1,3}(?:\.[0-9]{1,12})?),(-?[0-9]{1,2}(?:\.[0-9]{1,12})?)$/.exec(text || '');
    if (!m) return null;
    var p = [Number(m[1]), Number(m[2])];
    return Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90 ? p : null;
  }
  /* "YYYY-MM-DDTHH:MM" of the instant ms seen at offsetMin minutes from UTC (the datetime-local field's form) */
  function fieldValue(ms, offsetMin) {
    var d = new Date(ms + offsetMin * 60000);
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) + 'T' +
      pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes());
  }
  /* the server's offset from UTC in minutes, read from a time it wrote ("…+01:00"); null when there is none */
  function serverOffset(iso) {
    var m = /(?:([+-])([0-9]{2}):([0-9]{2})|Z)$/.exec(typeof iso === 'string' ? iso : '');
    return !m ? null : m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  }

  /* The link's parameters, or null when there is no link or nothing of it can be used (with notes saying why). */
  function readLink(query) {
    var p = new URLSearchParams(query);
    var raw = p.get('journey');
    if (raw === null) {
      if (p.has('from') || p.has('to') || p.has('at'))
        linkNote('This link names no journey (journey=…): its from, to and at are ignored.', true);
      return null;
    }
    var m = JOURNEY_ID.exec(raw), day = null;
    if (m && m[3]) {
      var t = Date.UTC(Number(m[3]), Number(m[4]) - 1, Number(m[5]));
      day = m[3] + '-' + m[4] + '-' + m[5];
      if (isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day) m = null; /* 2030-02-31 and the like */
    }
    if (!m) {
      linkNote('The link names the journey ' + quoted(raw) + ', which is none this page knows (offer-N-YYYY-MM-DD, ' +
        'offer-N, request-N-YYYY-MM-DD or request-N): the link is ignored.', true);
      return null;
    }
    var link = { kind: m[1], id: Number(m[2]), day: day, from: readPoint(p.get('from')), to: readPoint(p.get('to')),
      at: null };
    var what = (link.kind === 'offer' ? 'offer #' : 'request #') + link.id;
    var at = p.get('at');
    if (at !== null) {
      if (/^[0-9]{1,11}$/.test(at) && Number(at) > 0) link.at = Number(at);
      else linkNote('The time in the link (at=' + quoted(at) + ', UNIX seconds expected) is ignored.', true);
    }
    if (link.at !== null && day && Math.abs(link.at * 1000 - (Date.parse(day) + DAY_MS / 2)) > DAY_MS) {
      linkNote('The time in the link is not on the journey\'s date, ' + day + ': the date is kept, the time ignored.',
        true);
      link.at = null;
    }
    var bad = [];
    if (!link.from) bad.push('pickup (from=' + quoted(p.get('from') || '') + ')');
    if (!link.to) bad.push('drop-off (to=' + quoted(p.get('to') || '') + ')');
    if (!bad.length && link.from[0] === link.to[0] && link.from[1] === link.to[1]) bad.push('drop-off (the pickup)');
    if (bad.length) {
      linkNote('The link to ' + what + ' has no usable ' + bad.join(' or ') + ' (LON,LAT expected): it is ignored; ' +
        'set the start and destination on the map and search.', true);
      return null;
    }
    return link;
  }

  /* Opens the link in the page's address, if any, once the map is fitted to the graph (box, or null). */
  function openLink(box) {
    var link;
    try {
      link = readLink(window.location.search);
      if (!link) return;
      var area = box ? L.latLngBounds(box).pad(0.05) : null;
      if (area && !(area.contains(latlng(link.from)) && area.contains(latlng(link.to)))) {
        linkNote('The link\'s pickup or drop-off is outside the area this server covers: the link is ignored.', true);
        return;
      }
      if (link.kind === 'request') openRequest(link);
      else openOffer(link).catch(showError);
    } catch (e) { /* never leave the page half-opened on an exception */
      linkNote('The link could not be opened (' + e.message + ').', true);
    }
  }

  /* A passenger looking for a driver: their pickup and drop-off and the time; none of it is a ride. */
  function openRequest(link) {
    var when = link.at === null ? null : new Date(link.at * 1000);
    var text = when ? when.toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
      hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }) : null;
    L.marker(latlng(link.from), { icon: pinIcon('P', 'p'), title: "the passenger's pickup" }).addTo(linkLayer)
      .bindTooltip("passenger's pickup" + (text ? ', ' + text : ''));
    L.marker(latlng(link.to), { icon: pinIcon('D', 'd'), title: "the passenger's drop-off" }).addTo(linkLayer)
      .bindTooltip("passenger's drop-off");
    fit(L.latLngBounds([latlng(link.from), latlng(link.to)]).pad(0.3));
    linkNote('Request #' + link.id + ': a passenger looking for a driver, ' + (text ? 'to be picked up at P on ' + text
      : 'to be picked up at P every week' + (link.day ? ' (this time on ' + link.day + ')' : '')) + ', dropped off at ' +
      'D. This is no ride offer: a driver who passes by can offer one (Offer a ride, below).');
    if (when && when.getTime() < Date.now()) linkNote('That time has passed.', true);
    $('offer').open = true;
  }

  /* A driver's journey: the page's own search from its pickup to its drop-off, offer N's match drawn. */
  function openOffer(link) {
    setPoint('a', latlng(link.from));
    setPoint('b', latlng(link.to));
    var what = 'offer #' + link.id + (link.day ? ' on ' + link.day : ' (a weekly trip)');
    if (link.at !== null) {
      /* the field shows the browser's clock until the server's answer tells its own zone; the search itself asks
         for the exact instant */
      $('s-depart').value = fieldValue(link.at * 1000, -new Date(link.at * 1000).getTimezoneOffset());
      if (link.at * 1000 < Date.now() - 15 * 60000) {
        linkNote('You followed a link to ' + what + ': that journey has passed. Set a new departure and search.', true);
        return Promise.resolve();
      }
      return searchLink(link, what, new Date(link.at * 1000).toISOString().replace(/\.[0-9]+Z$/, 'Z'));
    }
    return weeklyDeparture(link).then(function (depart) {
      $('s-depart').value = depart;
      return searchLink(link, what, depart);
    });
  }

  function searchLink(link, what, depart) {
    linkNote('You followed a link to ' + what + ': A and B are its pickup and drop-off, and the search below ' +
      'finds it.');
    return runSearch(depart, link.id).then(function (found) {
      if (!found) {
        linkNote('The search failed (see the message below).', true);
        return;
      }
      if (link.at !== null && found.length) {
        var off = serverOffset(found[0].pickup.time); /* the field is in the server's zone */
        if (off !== null) $('s-depart').value = fieldValue(link.at * 1000, off);
      }
      if (offerIndex(found, link.id) >= 0)
        linkNote('Offer #' + link.id + ' is the highlighted ride: its pickup P, drop-off D and the driver\'s route.');
      else
        linkNote('This journey is no longer offered: offer #' + link.id + ' is cancelled, full, or no longer fits ' +
          'this trip. ' + (found.length ? 'Other rides for the same trip are listed below.' : 'No other ride ' +
          'fits this trip at this time either.'), true);
    });
  }

  /* The link gives no time (a weekly trip, or a dated journey without at): offer N's next date from tomorrow on (or
     the link's date) at its departure time plus the drive to the pickup; when the offer cannot be read (another
     client's in auth mode), the link's date or tomorrow at 08:00, the page's default. Resolves with the field's
     value, in the server's zone as the offer's own times are. */
  function weeklyDeparture(link) {
    var fallback = (link.day || tomorrowAt('08:00').slice(0, 10)) + 'T08:00';
    return api('GET', '/v1/offers/' + link.id).then(function (doc) {
      var o = doc.offer, s = o.schedule || {}, start = null;
      var day = s.type === 'regular' ? link.day || nextRunDay(s) : null;
      if (day && typeof s.time === 'string')
        start = day + 'T' + s.time;
      else if (s.type === 'punctual' && typeof s.depart === 'string')
        start = s.depart.slice(0, 16);
      if (!start || isNaN(Date.parse(start + ':00Z'))) throw new Error('no date ahead');
      return api('GET', '/route/v1/driving/' + coords([o.from, link.from]) + '?overview=false').then(function (r) {
        return fieldValue(Date.parse(start + ':00Z') + Math.round(r.routes[0].duration / 60) * 60000, 0);
      }, function () { return start; });
    }).catch(function (e) {
      linkNote('The link gives no time and the timetable of offer #' + link.id + ' cannot be read (' + e.message +
        '): the search is for ' + fallback.replace('T', ' at ') + '; change the departure and search again.', true);
      return fallback;
    });
  }

  /* The first date from tomorrow on (browser's calendar) that a regular schedule runs, or null. */
  function nextRunDay(s) {
    var names = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    var days = String(s.weekdays || '').toLowerCase();
    var t = Math.max(Date.parse(tomorrowAt('00:00').slice(0, 10)), Date.parse(s.first_date) || 0);
    var last = Date.parse(s.last_date);
    for (var k = 0; k < 7 && !isNaN(t) && !(t > last); k++, t += DAY_MS)
      if (days.indexOf(names[new Date(t).getUTCDay()]) >= 0) return new Date(t).toISOString().slice(0, 10);
    return null;
  }

  /* --- start: fit the map to the graph (GET /health carries its bounding box), then open a journey's link --- */

  /* The basemap from this server's own vector tiles (OpenMapTiles layers, as tilemaker writes them), drawn by
     protomaps-leaflet on canvas: land, water, parks, buildings, and the roads by their class. */
  function vectorBasemap(vt) {
    var P = window.protomapsL;
    var fill = function (layer, color, filter) {
      return { dataLayer: layer, symbolizer: new P.PolygonSymbolizer({ fill: color }), filter: filter };
    };
    var cls = function (names) {
      return function (z, f) { return names.indexOf(f.props['class']) >= 0; };
    };
    var road = function (names, color, width) {
      return { dataLayer: 'transportation', symbolizer: new P.LineSymbolizer({ color: color, width: width }),
        filter: cls(names) };
    };
    var w = function (z0, w0, z1, w1) { return P.exp(1.6, [[z0, w0], [z1, w1]]); };
    var layer = P.leafletLayer({
      url: vt.url, maxDataZoom: vt.maxzoom, backgroundColor: '#f2efe9', attribution: ATTRIBUTION,
      paintRules: [
        fill('landuse', '#e8e4dc'),
        fill('landcover', '#d8e8c8', cls(['wood', 'forest'])),
        fill('landcover', '#e4efd8', cls(['grass', 'farmland', 'wetland'])),
        fill('park', '#d2e8c4'),
        fill('water', '#aad3df'),
        { dataLayer: 'waterway', symbolizer: new P.LineSymbolizer({ color: '#aad3df', width: 1.5 }) },
        fill('building', '#d9d0c9'),
        road(['path', 'track'], '#c9b9a8', 0.7),
        road(['service', 'minor'], '#ffffff', w(12, 0.5, 18, 9)),
        road(['tertiary', 'secondary'], '#fdf6c6', w(9, 0.6, 18, 12)),
        road(['primary', 'trunk'], '#fbd5a0', w(7, 0.8, 18, 14)),
        road(['motorway'], '#f2a285', w(5, 1, 18, 16)),
        { dataLayer: 'boundary', symbolizer: new P.LineSymbolizer({ color: '#a08db0', width: 1, dash: [3, 2] }) }
      ],
      labelRules: []
    });
    layer.addTo(map);
    return layer;
  }

  api('GET', '/health').then(function (doc) {
    var g = doc.graph || {}, page = doc.page || {}, tiles = page.tiles, vt = page.vector_tiles;
    var box = g.bbox && g.bbox.length === 4 ? [[g.bbox[1], g.bbox[0]], [g.bbox[3], g.bbox[2]]] : null;
    if (vt && window.protomapsL)
      window.covoit.basemap = vectorBasemap(vt);
    else if (tiles)
      L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    if (!vt && !tiles && box) /* no basemap: the covered area, not a grey void */
      L.rectangle(box, { color: '#555', weight: 1, fill: false, dashArray: '4 4' }).addTo(map);
    if (box)
      fit(box);
    $('status').textContent = 'Graph ' + (g.source || '?') + (g.osm_timestamp ? ' (OSM data of ' +
      g.osm_timestamp.slice(0, 10) + ')' : '') + ' · ' + (g.nodes || 0).toLocaleString() + ' junctions' +
      (vt ? ' · map tiles of this server' : tiles ? '' :
        ' · no basemap (covoit serve --tiles FILE.mbtiles, made by scripts/run.sh, or --tile-url)');
    return box;
  }).catch(function (e) {
    map.setView([0, 0], 2);
    $('status').textContent = 'The server did not answer /health.';
    showError(e);
    return null;
  }).then(openLink);
})();
