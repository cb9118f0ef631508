-- SPDX-License-Identifier: AGPL-3.0-or-later
-- process.lua: what tilemaker puts in the map page's vector tiles, by layer (tiles/tilemaker/config.json): water,
-- waterways, land use and cover, parks, buildings, roads by class, boundaries. The layer names and the road classes
-- are those of the OpenMapTiles schema, which the page's paint rules (web/page/app.js) draw. Data (c) OpenStreetMap
-- contributors, ODbL. tilemaker 2.x's Lua interface (Debian 12).

node_keys = {}

local road_class = {
  motorway = "motorway", motorway_link = "motorway", trunk = "trunk", trunk_link = "trunk",
  primary = "primary", primary_link = "primary", secondary = "secondary", secondary_link = "secondary",
  tertiary = "tertiary", tertiary_link = "tertiary", unclassified = "minor", residential = "minor",
  living_street = "minor", road = "minor", pedestrian = "minor", service = "service",
  track = "track", footway = "path", path = "path", cycleway = "path", steps = "path", bridleway = "path"
}
local road_minzoom = {
  motorway = 5, trunk = 6, primary = 7, secondary = 9, tertiary = 10, minor = 12, service = 13, track = 13, path = 14
}
local landcover = {
  wood = "wood", forest = "wood", grassland = "grass", grass = "grass", meadow = "grass", heath = "grass",
  scrub = "grass", wetland = "wetland", farmland = "farmland", orchard = "farmland", vineyard = "farmland"
}
local landuse = {
  residential = "residential", commercial = "commercial", retail = "commercial", industrial = "industrial",
  railway = "industrial", cemetery = "cemetery", hospital = "hospital", school = "school", university = "school",
  college = "school"
}

function way_function(way)
  local highway = way:Find("highway")
  local waterway = way:Find("waterway")
  local natural = way:Find("natural")
  local lu = way:Find("landuse")
  local leisure = way:Find("leisure")
  local closed = way:IsClosed()

  local class = road_class[highway]
  if class then
    way:Layer("transportation", false)
    way:Attribute("class", class)
    way:MinZoom(road_minzoom[class])
    if way:Find("bridge") == "yes" then way:AttributeNumeric("brunnel", 1) end
    return
  end
  if waterway == "river" or waterway == "canal" or waterway == "stream" then
    way:Layer("waterway", false)
    way:Attribute("class", waterway)
    if waterway == "stream" then way:MinZoom(13) end
    return
  end
  if not closed then
    if way:Find("boundary") == "administrative" and (way:Find("admin_level") == "2" or way:Find("admin_level") == "4") then
      way:Layer("boundary", false)
      way:AttributeNumeric("admin_level", tonumber(way:Find("admin_level")))
    end
    return
  end
  if natural == "water" or lu == "reservoir" or lu == "basin" or waterway == "riverbank" then
    way:Layer("water", true)
    return
  end
  if way:Find("building") ~= "" then
    way:Layer("building", true)
    return
  end
  if leisure == "park" or leisure == "garden" or leisure == "nature_reserve" then
    way:Layer("park", true)
    way:Attribute("class", leisure)
    return
  end
  local cover = landcover[natural] or landcover[lu]
  if cover then
    way:Layer("landcover", true)
    way:Attribute("class", cover)
    return
  end
  local use = landuse[lu] or landuse[way:Find("amenity")]
  if use then
    way:Layer("landuse", true)
    way:Attribute("class", use)
  end
end
