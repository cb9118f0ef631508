/* SPDX-License-Identifier: AGPL-3.0-or-later */
// osm_extract.cpp — makes the OSM seeds of the fuzz targets (tests/fuzz/make_seeds.sh): reads an OSM file with
// libosmium and writes the roads inside a box (ways tagged highway=* or route=ferry whose nodes all lie inside,
// their nodes, the nodes inside with tags the car profile reads (barriers, access), and the restriction relations whose
// members are all kept) as .osm or .osm.pbf, the format chosen by the output's name. PBF blocks are written
// uncompressed unless --zlib, so that the fuzzer's mutations land in the protobuf itself rather than in a deflate
// stream; --no-dense writes plain nodes instead of dense ones.
//
// usage: osm_extract INPUT OUTPUT [--bbox MINLON,MINLAT,MAXLON,MAXLAT] [--zlib] [--no-dense]
#include <osmium/io/any_input.hpp>
#include <osmium/io/any_output.hpp>
#include <osmium/osm.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <unordered_set>

namespace
{

struct box {
    double lon0 = -180, lat0 = -90, lon1 = 180, lat1 = 90;
    bool inside(const osmium::Location &l) const
    {
        return l.valid() && l.lon() >= lon0 && l.lon() <= lon1 && l.lat() >= lat0 && l.lat() <= lat1;
    }
};

bool is_road(const osmium::Way &w)
{
    const char *route = w.tags()["route"];
    return w.tags()["highway"] || (route && !std::strcmp(route, "ferry"));
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: osm_extract INPUT OUTPUT [--bbox MINLON,MINLAT,MAXLON,MAXLAT] [--zlib] "
                             "[--no-dense]\n");
        return 2;
    }
    box b;
    bool zlib = false, dense = true;
    for (int i = 3; i < argc; i++) {
        if (!std::strcmp(argv[i], "--bbox") && i + 1 < argc) {
            if (std::sscanf(argv[++i], "%lf,%lf,%lf,%lf", &b.lon0, &b.lat0, &b.lon1, &b.lat1) != 4) {
                std::fprintf(stderr, "osm_extract: bad --bbox '%s'\n", argv[i]);
                return 2;
            }
        } else if (!std::strcmp(argv[i], "--zlib")) {
            zlib = true;
        } else if (!std::strcmp(argv[i], "--no-dense")) {
            dense = false;
        } else {
            std::fprintf(stderr, "osm_extract: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    try {
        // pass 1: which nodes are inside, which roads lie wholly inside, which restrictions have all their members
        std::unordered_set<osmium::object_id_type> inside, nodes, ways, relations;
        {
            osmium::io::Reader r{argv[1]};
            while (osmium::memory::Buffer buf = r.read()) {
                for (const auto &n : buf.select<osmium::Node>())
                    if (b.inside(n.location())) {
                        inside.insert(n.id());
                        const osmium::TagList &t = n.tags();
                        if (t["barrier"] || t["highway"] || t["access"] || t["motor_vehicle"] || t["motorcar"] ||
                            t["vehicle"])
                            nodes.insert(n.id());
                    }
                for (const auto &w : buf.select<osmium::Way>()) {
                    if (!is_road(w) || w.nodes().size() < 2)
                        continue;
                    bool all = true;
                    for (const auto &nr : w.nodes())
                        all = all && inside.count(nr.ref());
                    if (!all)
                        continue;
                    ways.insert(w.id());
                    for (const auto &nr : w.nodes())
                        nodes.insert(nr.ref());
                }
                for (const auto &rel : buf.select<osmium::Relation>()) {
                    const char *type = rel.tags()["type"];
                    if (!type || std::strcmp(type, "restriction"))
                        continue;
                    bool all = !rel.members().empty();
                    for (const auto &m : rel.members())
                        all = all && ((m.type() == osmium::item_type::way && ways.count(m.ref())) ||
                                      (m.type() == osmium::item_type::node && nodes.count(m.ref())));
                    if (all)
                        relations.insert(rel.id());
                }
            }
            r.close();
        }
        // pass 2: write what was kept, in file order
        osmium::io::Reader r{argv[1]};
        osmium::io::Header h = r.header();
        h.set("generator", "covoit osm_extract");
        osmium::io::File out{argv[2]};
        out.set("pbf_compression", zlib ? "zlib" : "none");
        out.set("pbf_dense_nodes", dense ? "true" : "false");
        out.set("add_metadata", "false");
        osmium::io::Writer w{out, h, osmium::io::overwrite::allow};
        while (osmium::memory::Buffer buf = r.read()) {
            for (const auto &item : buf.select<osmium::OSMObject>()) {
                bool keep = (item.type() == osmium::item_type::node && nodes.count(item.id())) ||
                            (item.type() == osmium::item_type::way && ways.count(item.id())) ||
                            (item.type() == osmium::item_type::relation && relations.count(item.id()));
                if (keep)
                    w(item);
            }
        }
        w.close();
        r.close();
        std::fprintf(stderr, "%s: %zu nodes, %zu ways, %zu restrictions\n", argv[2], nodes.size(), ways.size(),
                     relations.size());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "osm_extract: %s\n", e.what());
        return 1;
    }
    return 0;
}
