/* SPDX-License-Identifier: AGPL-3.0-or-later */
// osm_floor.cpp — "libosmium alone": reads an OSM file the way covoit's importer does (osm/osm_reader.cpp: one
// osmium::io::Reader over nodes, ways and relations, metadata not decoded) and touches every entity minimally
// (ids, locations, node refs, tags of nodes, ways and relations, members), with no profile, no storage and no
// graph. Its wall time is the floor that an import of the same file cannot go below. Prints one JSON object on stdout.
//
// usage: osm_floor FILE
#include <osmium/io/any_input.hpp>
#include <osmium/osm.hpp>
#include <osmium/version.hpp>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

namespace
{

struct counts {
    std::uint64_t nodes = 0, nodes_no_location = 0, ways = 0, relations = 0;
    std::uint64_t way_refs = 0, members = 0, tags = 0;
    std::uint64_t checksum = 0; // keeps the compiler from dropping the reads
    bool sorted = true;         // types in order node, way, relation and ids increasing within each
    int last_type = -1;
    std::int64_t last_id = 0;
};

void sum_tags(const osmium::TagList &tl, counts &c)
{
    for (const osmium::Tag &t : tl) {
        c.tags++;
        c.checksum += static_cast<unsigned char>(t.key()[0]) + static_cast<unsigned char>(t.value()[0]);
    }
}

void json_string(const char *s)
{
    std::putchar('"');
    for (; *s; s++) {
        unsigned char ch = static_cast<unsigned char>(*s);
        if (ch == '"' || ch == '\\')
            std::printf("\\%c", ch);
        else if (ch < 0x20)
            std::printf("\\u%04x", ch);
        else
            std::putchar(ch);
    }
    std::putchar('"');
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        std::fprintf(stderr, "usage: osm_floor FILE\n\nReads FILE with libosmium as covoit import does, touching every "
                             "entity minimally, and prints counts and the read time as JSON.\n");
        return 2;
    }
    counts c;
    std::string sorting;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        osmium::io::File file{argv[1]};
        osmium::io::Reader reader{
            file, osmium::osm_entity_bits::node | osmium::osm_entity_bits::way | osmium::osm_entity_bits::relation,
            osmium::io::read_meta::no};
        sorting = reader.header().get("sorting");
        while (osmium::memory::Buffer buffer = reader.read()) {
            for (const osmium::OSMEntity &e : buffer.select<osmium::OSMEntity>()) {
                int type = -1;
                if (e.type() == osmium::item_type::node) {
                    type = 0;
                    const auto &n = static_cast<const osmium::Node &>(e);
                    const osmium::Location loc = n.location();
                    if (loc.valid()) {
                        c.nodes++;
                        c.checksum += static_cast<std::uint32_t>(loc.x()) ^ static_cast<std::uint32_t>(loc.y());
                        sum_tags(n.tags(), c); // the importer reads node tags too (barriers, access)
                    } else {
                        c.nodes_no_location++;
                    }
                } else if (e.type() == osmium::item_type::way) {
                    type = 1;
                    const auto &w = static_cast<const osmium::Way &>(e);
                    c.ways++;
                    for (const osmium::NodeRef &r : w.nodes()) {
                        c.way_refs++;
                        c.checksum += static_cast<std::uint64_t>(r.ref());
                    }
                    sum_tags(w.tags(), c);
                } else if (e.type() == osmium::item_type::relation) {
                    type = 2;
                    const auto &r = static_cast<const osmium::Relation &>(e);
                    c.relations++;
                    for (const osmium::RelationMember &m : r.members()) {
                        c.members++;
                        c.checksum += static_cast<std::uint64_t>(m.ref()) + static_cast<unsigned char>(m.role()[0]);
                    }
                    sum_tags(r.tags(), c);
                }
                if (type >= 0) {
                    const osmium::object_id_type id = static_cast<const osmium::OSMObject &>(e).id();
                    if (type < c.last_type || (type == c.last_type && id <= c.last_id))
                        c.sorted = false;
                    c.last_type = type;
                    c.last_id = id;
                }
            }
        }
        reader.close();
    } catch (const std::exception &ex) {
        std::fprintf(stderr, "osm_floor: %s: %s\n", argv[1], ex.what());
        return 1;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"file\":");
    json_string(argv[1]);
    std::printf(",\"libosmium\":\"%s\",\"read_s\":%.6f,\"nodes\":%" PRIu64 ",\"nodes_without_location\":%" PRIu64
                ",\"ways\":%" PRIu64 ",\"relations\":%" PRIu64 ",\"way_refs\":%" PRIu64 ",\"members\":%" PRIu64
                ",\"tags\":%" PRIu64 ",\"sorted\":%s,\"header_sorting\":",
                LIBOSMIUM_VERSION_STRING, secs, c.nodes, c.nodes_no_location, c.ways, c.relations, c.way_refs,
                c.members, c.tags, c.sorted ? "true" : "false");
    json_string(sorting.c_str());
    std::printf(",\"checksum\":%" PRIu64 "}\n", c.checksum);
    return 0;
}
