/* SPDX-License-Identifier: AGPL-3.0-or-later */
// osm_reader.cpp — the only C++ in covoit: libosmium reads the file, C callbacks receive plain structs.
#include "osm/osm_reader.h"

#include <osmium/io/any_input.hpp>
#include <osmium/osm.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace
{

void copy_str(char *dst, std::size_t cap, const std::string &src)
{
    std::size_t n = src.size() < cap - 1 ? src.size() : cap - 1;
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

// The tags as pairs of NUL-terminated strings, read within the list's bytes. Not with the list's iterator: libosmium
// (2.19) copies a PBF string table entry as it is, so a key or value holding a NUL byte becomes two strings, the
// pairs shift, and the iterator, which steps from NUL to NUL, walks past the end of the list (a heap over-read found
// by fuzz_osm_pbf). Such a list gives shifted tags here, an unpaired last string is dropped, and nothing outside the
// list is read.
void collect_tags(const osmium::TagList &tl, std::vector<cv_tag> &out)
{
    out.clear();
    using tag_collection = osmium::memory::Collection<osmium::Tag, osmium::item_type::tag_list>;
    const char *p = reinterpret_cast<const char *>(tl.data()) + sizeof(tag_collection); // where cbegin() points
    const char *end = reinterpret_cast<const char *>(tl.data()) + tl.byte_size();       // and cend()
    while (p < end) {
        const void *key_end = std::memchr(p, 0, static_cast<std::size_t>(end - p));
        const char *value = key_end ? static_cast<const char *>(key_end) + 1 : end;
        const void *value_end = value < end ? std::memchr(value, 0, static_cast<std::size_t>(end - value)) : nullptr;
        if (!value_end)
            break;
        out.push_back(cv_tag{p, value});
        p = static_cast<const char *>(value_end) + 1;
    }
}

char member_type(osmium::item_type t)
{
    switch (t) {
    case osmium::item_type::node:
        return 'n';
    case osmium::item_type::way:
        return 'w';
    default:
        return 'r';
    }
}

// libosmium (2.19) leaks the descriptor of a PBF file whose parsing fails: its PBF parser closes the file only
// after reading it to the end, and the reader leaves the descriptor to the parser. A process that reads many files
// (the fuzzer found it: one descriptor per bad file, until open fails) would run out. This notes the descriptors
// open before a read and, once the reader is destroyed, closes any new one that is open on the file read.
class leaked_descriptors
{
    std::vector<int> before_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    bool active_ = false;

    static std::vector<int> open_fds()
    {
        std::vector<int> fds;
        DIR *d = opendir("/proc/self/fd");
        if (!d)
            return fds;
        int self = dirfd(d);
        while (const struct dirent *e = readdir(d)) {
            char *end;
            long fd = std::strtol(e->d_name, &end, 10);
            if (end != e->d_name && *end == '\0' && fd != self)
                fds.push_back(static_cast<int>(fd));
        }
        closedir(d);
        return fds;
    }

  public:
    explicit leaked_descriptors(const char *path)
    {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return;
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        before_ = open_fds();
        active_ = true;
    }

    void close()
    {
        if (!active_)
            return;
        for (int fd : open_fds()) {
            bool old = false;
            for (int b : before_)
                old = old || b == fd;
            struct stat st;
            if (!old && fstat(fd, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
                ::close(fd);
        }
        active_ = false;
    }
};

} // namespace

namespace
{

// Reads the whole file into the handler; libosmium's errors come out as exceptions.
int read_all(const char *path, const cv_osm_handler *h, cv_osm_header *hdr)
{
    osmium::io::File file{path};
    osmium::osm_entity_bits::type bits = osmium::osm_entity_bits::nothing;
    if (h->node)
        bits |= osmium::osm_entity_bits::node;
    if (h->way)
        bits |= osmium::osm_entity_bits::way;
    if (h->relation)
        bits |= osmium::osm_entity_bits::relation;
    osmium::io::Reader reader{file, bits, osmium::io::read_meta::no};
    if (hdr) {
        const osmium::io::Header &oh = reader.header();
        std::memset(hdr, 0, sizeof *hdr);
        copy_str(hdr->timestamp, sizeof hdr->timestamp, oh.get("timestamp", oh.get("osmosis_replication_timestamp")));
        copy_str(hdr->generator, sizeof hdr->generator, oh.get("generator"));
        hdr->sorted = oh.get("sorting") == "Type_then_ID";
        if (!oh.boxes().empty() && oh.box().valid()) {
            const osmium::Box b = oh.box();
            hdr->has_bbox = 1;
            hdr->bbox[0] = b.bottom_left().x();
            hdr->bbox[1] = b.bottom_left().y();
            hdr->bbox[2] = b.top_right().x();
            hdr->bbox[3] = b.top_right().y();
        }
    }
    std::vector<cv_tag> tags;
    std::vector<int64_t> refs;
    std::vector<cv_osm_member> members;
    int rc = 0;
    while (osmium::memory::Buffer buffer = reader.read()) {
        for (const osmium::OSMEntity &e : buffer.select<osmium::OSMEntity>()) {
            if (e.type() == osmium::item_type::node) {
                const auto &n = static_cast<const osmium::Node &>(e);
                const osmium::Location loc = n.location();
                if (loc.valid()) {
                    if (n.tags().empty())
                        rc = h->node(h->ud, n.id(), loc.x(), loc.y(), nullptr, 0);
                    else {
                        collect_tags(n.tags(), tags);
                        rc = h->node(h->ud, n.id(), loc.x(), loc.y(), tags.data(), tags.size());
                    }
                }
            } else if (e.type() == osmium::item_type::way) {
                const auto &w = static_cast<const osmium::Way &>(e);
                refs.clear();
                for (const osmium::NodeRef &r : w.nodes())
                    refs.push_back(r.ref());
                collect_tags(w.tags(), tags);
                rc = h->way(h->ud, w.id(), refs.data(), refs.size(), tags.data(), tags.size());
            } else if (e.type() == osmium::item_type::relation) {
                const auto &r = static_cast<const osmium::Relation &>(e);
                members.clear();
                for (const osmium::RelationMember &m : r.members())
                    members.push_back(cv_osm_member{member_type(m.type()), m.ref(), m.role()});
                collect_tags(r.tags(), tags);
                rc = h->relation(h->ud, r.id(), members.data(), members.size(), tags.data(), tags.size());
            }
            if (rc != 0) {
                reader.close();
                return rc;
            }
        }
        if (h->progress)
            h->progress(h->ud, reader.offset(), reader.file_size());
    }
    reader.close();
    return 0;
}

} // namespace

extern "C" int cv_osm_read(const char *path, const cv_osm_handler *h, cv_osm_header *hdr, cv_error *err)
{
    leaked_descriptors guard{path};
    int rc;
    try {
        rc = read_all(path, h, hdr);
    } catch (const std::bad_alloc &) {
        rc = cv_fail(err, CV_ENOMEM, "%s: out of memory while reading", path);
    } catch (const std::exception &ex) {
        rc = cv_fail(err, CV_EFORMAT, "%s: cannot read OSM data: %s", path, ex.what());
    }
    guard.close(); // the reader is gone: whatever is still open on the file is nobody's
    return rc;
}
