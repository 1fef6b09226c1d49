#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace runlog {
inline namespace v0 {
namespace detail {

/// A scalar shown in a message: control characters escaped, shortened to 60 bytes.
inline std::string shown(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 60)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    if (s.size() > 60) out += "...";
    return out;
}

}  // namespace detail

namespace detail::yaml {

/// A 1-based line and column (columns count characters, not bytes).
struct position {
    int line = 1;
    int column = 1;
};

/// A node of the YAML subset: null, a scalar (its text, quoted or plain), a mapping or a sequence.
struct node {
    enum class kind { null, scalar, mapping, sequence };
    kind type = kind::null;
    position pos{};
    std::string text;            ///< a scalar's value, escapes resolved
    bool quoted = false;         ///< a quoted scalar is always a string
    std::vector<node> keys;      ///< a mapping's keys (scalars), in order
    std::vector<node> values;    ///< a mapping's values, or a sequence's items

    /// The value of key in a mapping, or null.
    const node* find(std::string_view key) const noexcept {
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i].text == key) return &values[i];
        return nullptr;
    }
};

/// What went wrong, and where.
struct error {
    position pos{};
    std::string message;
};

/// Limits that keep a hostile file from costing much.
inline constexpr std::size_t max_input = 1 << 20;
inline constexpr std::size_t max_scalar = 64 * 1024;
inline constexpr int max_depth = 64;
/// What anchors and aliases may make of a document, in bytes of nodes (a "billion laughs" file stops here).
inline constexpr std::size_t max_expansion = 16u << 20;

/// How a document is read.
struct parse_options {
    /// `<<: *base` (or a sequence of such) merges the mappings' keys into the mapping that holds it, keys
    /// written there winning (YAML 1.1's merge key, common in run configs); false keeps `<<` an ordinary key.
    bool merge_keys = true;
};

/// The keys of one mapping and where each is, to refuse duplicates in constant time (open addressing).
class key_set {
public:
    /// Adds key; if it is there already, returns where it was first (and adds nothing), else null.
    const position* insert(const std::string& key, position pos) {
        if ((keys_.size() + 1) * 2 > slots_.size()) grow();
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
            if (slots_[i] == 0) {
                keys_.push_back({key, pos});
                slots_[i] = static_cast<std::uint32_t>(keys_.size());
                return nullptr;
            }
            const auto& k = keys_[slots_[i] - 1];
            if (k.first == key) return &k.second;
        }
    }

private:
    static std::size_t hash(std::string_view s) noexcept {
        std::uint64_t h = 14695981039346656037ULL;  // FNV-1a
        for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
    void grow() {
        slots_.assign(slots_.empty() ? 16 : slots_.size() * 2, 0);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t k = 0; k < keys_.size(); ++k) {
            std::size_t i = hash(keys_[k].first) & mask;
            while (slots_[i] != 0) i = (i + 1) & mask;
            slots_[i] = static_cast<std::uint32_t>(k + 1);
        }
    }

    std::vector<std::pair<std::string, position>> keys_;
    std::vector<std::uint32_t> slots_;  ///< 1 + an index into keys_, or 0 for an empty slot
};

/// Parses the subset: block mappings and sequences, plain, single- and double-quoted scalars (on one line or
/// several), block scalars, flow mappings and sequences (on one line or several), anchors, aliases and merge
/// keys, comments, one leading `---`, a UTF-8 BOM. Anything else is an error rather than a guess.
class parser {
public:
    explicit parser(std::string_view text, parse_options options = {}) : in_(text), options_(options) {}

    /// The document (null for a stream of comments), or the first error.
    std::pair<std::optional<node>, std::optional<error>> parse() {
        try {
            check_input();
            split_lines();
            std::size_t li = 0;
            skip_blank(li);
            if (li < lines_.size() && is_marker(lines_[li], "---")) {
                ++li;
                skip_blank(li);
            } else if (li < lines_.size() && lines_[li].indent == 0 &&
                       (lines_[li].text.starts_with("--- ") || lines_[li].text.starts_with("---\t"))) {
                fail(lines_[li], 4, "a node on the '---' line is not supported: start it on the next line");
            }
            node doc;
            doc.pos = {li < lines_.size() ? lines_[li].number : 1, 1};
            if (li < lines_.size()) {
                doc = block(li, lines_[li].indent, 0, -1);
            }
            skip_blank(li);
            if (li < lines_.size()) {
                const line& l = lines_[li];
                if (is_marker(l, "---")) fail(l, 0, "a second document ('---'): multi-document streams are not supported");
                if (is_marker(l, "...")) {
                    ++li;
                    skip_blank(li);
                    if (li < lines_.size()) fail(lines_[li], 0, "content after the end of the document ('...')");
                } else {
                    fail(l, 0, "unexpected content at column " + std::to_string(l.indent + 1) + ": expected the end of the "
                               "document or a key aligned with the ones above");
                }
            }
            return {std::move(doc), std::nullopt};
        } catch (const failure& f) {
            return {std::nullopt, f.err};
        }
    }

private:
    struct failure {
        error err;
    };
    struct line {
        int number;             ///< 1-based
        std::size_t start;      ///< byte offset of the line in the input
        int indent;             ///< leading spaces (in characters)
        std::string_view text;  ///< the line after its indentation, without the newline
    };
    /// A place in the input: byte `off` of lines_[li].text. Scalars and flow collections may span lines.
    struct cursor {
        std::size_t li;
        std::size_t off;
    };
    struct anchored {
        node value;
        std::size_t weight;
    };

    [[noreturn]] static void fail(position p, std::string message) { throw failure{{p, std::move(message)}}; }
    [[noreturn]] void fail(const line& l, std::size_t offset, std::string message) const {
        fail(pos(l, offset), std::move(message));
    }

    /// The position of byte `offset` of l.text. Columns count characters; the count resumes from the last
    /// call on the same line, so a long line costs linear time, not quadratic.
    position pos(const line& l, std::size_t offset) const {
        offset = std::min(offset, l.text.size());
        if (cache_text_ != l.text.data() || offset < cache_offset_) {
            cache_text_ = l.text.data();
            cache_offset_ = 0;
            cache_col_ = l.indent + 1;
        }
        for (; cache_offset_ < offset; ++cache_offset_)
            if ((static_cast<unsigned char>(l.text[cache_offset_]) & 0xC0) != 0x80) ++cache_col_;
        return {l.number, cache_col_};
    }

    /// Rejects input that is too big, not UTF-8, or holds control characters or a second BOM; skips a leading BOM.
    void check_input() {
        if (in_.size() > max_input)
            fail({1, 1}, "the file is larger than " + std::to_string(max_input) + " bytes");
        if (in_.substr(0, 3) == "\xEF\xBB\xBF") in_.remove_prefix(3);
        int line_no = 1, col = 1;
        for (std::size_t i = 0; i < in_.size();) {
            const auto c = static_cast<unsigned char>(in_[i]);
            if (c == '\n') {
                ++line_no;
                col = 1;
                ++i;
                continue;
            }
            if (c < 0x80) {
                if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
                    char hex[8];
                    static constexpr char digits[] = "0123456789ABCDEF";
                    hex[0] = 'U', hex[1] = '+', hex[2] = '0', hex[3] = '0', hex[4] = digits[c >> 4], hex[5] = digits[c & 15];
                    fail({line_no, col}, "control character " + std::string(hex, 6) + " is not allowed (is this a binary file?)");
                }
                if (c == '\r' && (i + 1 >= in_.size() || in_[i + 1] != '\n'))
                    fail({line_no, col}, "a carriage return not followed by a line feed");
                ++i;
                ++col;
                continue;
            }
            const int n = utf8_length(i);
            if (n == 0) fail({line_no, col}, "invalid UTF-8: the file must be UTF-8 text");
            if (in_.compare(i, 3, "\xEF\xBB\xBF") == 0)
                fail({line_no, col}, "a byte order mark (U+FEFF) after the start of the file: only the first byte may start one");
            i += static_cast<std::size_t>(n);
            ++col;
        }
    }

    /// The length of a valid UTF-8 sequence at i (2 to 4), or 0.
    int utf8_length(std::size_t i) const noexcept {
        auto at = [&](std::size_t k) { return k < in_.size() ? static_cast<unsigned char>(in_[k]) : 0u; };
        const unsigned c = at(i);
        auto cont = [&](std::size_t k) { return (at(k) & 0xC0) == 0x80; };
        if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
        if (c >= 0xE0 && c <= 0xEF) {
            const unsigned c1 = at(i + 1);
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) return 0;
            return cont(i + 1) && cont(i + 2) ? 3 : 0;
        }
        if (c >= 0xF0 && c <= 0xF4) {
            const unsigned c1 = at(i + 1);
            if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) return 0;
            return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
        }
        return 0;
    }

    void split_lines() {
        std::size_t start = 0;
        int number = 1;
        while (start <= in_.size()) {
            std::size_t end = in_.find('\n', start);
            const bool last = end == std::string_view::npos;
            if (last) end = in_.size();
            std::string_view text = in_.substr(start, end - start);
            if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
            std::size_t indent = 0;
            while (indent < text.size() && text[indent] == ' ') ++indent;
            line l{number, start, static_cast<int>(indent), text.substr(indent)};
            if (!l.text.empty() && l.text[0] == '\t')
                fail(l, 0, "a tab in the indentation: YAML indents with spaces only");
            lines_.push_back(l);
            if (last) break;
            start = end + 1;
            ++number;
        }
    }

    static bool blank(const line& l) noexcept {
        std::size_t i = 0;
        while (i < l.text.size() && (l.text[i] == ' ' || l.text[i] == '\t')) ++i;
        return i == l.text.size() || l.text[i] == '#';
    }
    void skip_blank(std::size_t& li) const noexcept {
        while (li < lines_.size() && blank(lines_[li])) ++li;
    }
    static bool is_marker(const line& l, std::string_view m) noexcept {
        if (l.indent != 0 || l.text.substr(0, 3) != m) return false;
        std::string_view rest = l.text.substr(3);
        while (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t')) rest.remove_prefix(1);
        return rest.empty() || rest[0] == '#';
    }
    static bool is_seq_entry(std::string_view t) noexcept {
        return !t.empty() && t[0] == '-' && (t.size() == 1 || t[1] == ' ' || t[1] == '\t');
    }

    /// Whether only spaces, tabs and a comment remain on l from off.
    static bool rest_empty(const line& l, std::size_t off) noexcept {
        while (off < l.text.size() && (l.text[off] == ' ' || l.text[off] == '\t')) ++off;
        return off >= l.text.size() || l.text[off] == '#';
    }
    static bool whitespace_only(const line& l) noexcept {
        for (const char c : l.text)
            if (c != ' ' && c != '\t') return false;
        return true;
    }

    /// A block node whose first line is lines_[li], at exactly `indent`, inside a node indented `parent`.
    node block(std::size_t& li, int indent, int depth, int parent) {
        if (depth > max_depth) fail(lines_[li], 0, "nesting deeper than " + std::to_string(max_depth) + " levels");
        const line& l = lines_[li];
        if (is_seq_entry(l.text)) return sequence(li, indent, depth);
        if (is_marker(l, "---") || is_marker(l, "...")) fail(l, 0, "a document marker inside the document");
        // An anchor alone on its line names the block node below it.
        cursor props{li, 0};
        std::string anchor = properties(props);
        if (!anchor.empty() && rest_empty(l, props.off)) {
            const position at = pos(l, 0);
            ++li;
            skip_blank(li);
            node n;
            n.pos = at;
            if (li < lines_.size() && lines_[li].indent >= indent && lines_[li].indent > parent)
                n = anchored_block(li, depth + 1, parent);
            remember(anchor, n);
            return n;
        }
        if (!anchor.empty() && props.off < l.text.size() && (l.text[props.off] == '|' || l.text[props.off] == '>')) {
            node n = block_scalar(li, props.off, parent);
            remember(anchor, n);
            return n;
        }
        if (anchor.empty() && (l.text[0] == '|' || l.text[0] == '>')) return block_scalar(li, 0, parent);
        // A mapping, or a lone scalar / flow collection.
        std::size_t colon = find_key_colon(l, 0);
        if (colon == std::string_view::npos) {
            cursor c{li, 0};
            node n = value(c, parent, depth, false, false);
            const line& end = lines_[c.li];
            expect_line_end(end, c.off);
            li = c.li + 1;
            skip_blank(li);
            // "key\n    nested:" is a key that lost its colon, not a value continued on the next line.
            if (li < lines_.size() && lines_[li].indent > indent) fail(end, c.off, "expected ':' after a key");
            return n;
        }
        return mapping(li, indent, depth);
    }

    /// The block node at lines_[li] that an anchor alone on the line above names: a scalar there cannot carry
    /// properties of its own ("&a" above "&b x" is two anchors on one node), a collection's first key can.
    node anchored_block(std::size_t& li, int depth, int parent) {
        const line first = lines_[li];
        node n = block(li, first.indent, depth, parent);
        if (n.type != node::kind::mapping && n.type != node::kind::sequence && !first.text.empty() &&
            (first.text[0] == '&' || first.text[0] == '*'))
            fail(first, 0, first.text[0] == '&' ? "a second anchor on one node" : "an alias cannot have an anchor");
        return n;
    }

    node sequence(std::size_t& li, int indent, int depth) {
        node seq;
        seq.type = node::kind::sequence;
        seq.pos = pos(lines_[li], 0);
        while (li < lines_.size()) {
            line& l = lines_[li];
            if (l.indent != indent || !is_seq_entry(l.text)) break;
            std::size_t off = 1;
            while (off < l.text.size() && (l.text[off] == ' ' || l.text[off] == '\t')) ++off;
            if (l.text.substr(1, off - 1).find('\t') != std::string_view::npos &&
                (is_seq_entry(l.text.substr(off)) || find_key_colon(l, off) != std::string_view::npos))
                fail(l, 1, "a tab before a nested block collection: YAML indents with spaces only");
            cursor props{li, off};
            std::string anchor = properties(props);
            if (rest_empty(l, props.off)) {
                const position at = pos(l, anchor.empty() ? 1 : off);
                ++li;
                skip_blank(li);
                node item;
                item.pos = at;
                if (li < lines_.size() && lines_[li].indent > indent)
                    item = anchor.empty() ? block(li, lines_[li].indent, depth + 1, indent) : anchored_block(li, depth + 1, indent);
                remember(anchor, item);
                seq.values.push_back(std::move(item));
            } else if (l.text[props.off] == '|' || l.text[props.off] == '>') {
                node item = block_scalar(li, props.off, indent);
                remember(anchor, item);
                seq.values.push_back(std::move(item));
            } else {
                // The rest of the line starts a node at its own column: "- key: value" or "- - x" (the anchor, if
                // any, read again there: on a key it names the key).
                const std::size_t at = li;
                const line saved = l;
                const position p = pos(l, off);
                l.text = l.text.substr(off);
                l.indent = p.column - 1;
                seq.values.push_back(block(li, l.indent, depth + 1, indent));
                lines_[at] = saved;
            }
            skip_blank(li);
            if (li < lines_.size() && lines_[li].indent > indent)
                fail(lines_[li], 0, "unexpected indentation: expected a '- ' entry at column " + std::to_string(indent + 1));
        }
        return seq;
    }

    node mapping(std::size_t& li, int indent, int depth) {
        node map;
        map.type = node::kind::mapping;
        map.pos = pos(lines_[li], 0);
        key_set seen;
        std::vector<node> merges;
        while (li < lines_.size()) {
            const line& l = lines_[li];
            if (l.indent != indent || is_seq_entry(l.text) || is_marker(l, "---") || is_marker(l, "...")) break;
            const std::size_t colon = find_key_colon(l, 0);
            if (colon == std::string_view::npos) {
                cursor c{li, 0};
                (void)properties(c);
                std::size_t off = c.off;
                if (off < l.text.size() && l.text[off] != '*' && l.text[off] != '{' && l.text[off] != '[') {
                    cursor s{li, off};
                    (void)scalar(s, false, indent, true);
                    off = s.off;
                }
                fail(l, off < l.text.size() ? off : l.text.size(), "expected ':' after a key");
            }
            cursor kc{li, 0};
            node key = value(kc, indent, depth, false, true);
            if (key.type != node::kind::scalar) fail(l, 0, "a key must be a scalar");
            claim_key(key, seen);
            const bool merge = options_.merge_keys && !key.quoted && key.text == "<<";
            std::size_t off = colon + 1;
            while (off < l.text.size() && (l.text[off] == ' ' || l.text[off] == '\t')) ++off;
            if (l.text.substr(1, off - 1).find('\t') != std::string_view::npos &&
                (is_seq_entry(l.text.substr(off)) || find_key_colon(l, off) != std::string_view::npos))
                fail(l, 1, "a tab before a nested block collection: YAML indents with spaces only");
            cursor props{li, off};
            std::string anchor = properties(props);
            node v;
            if (rest_empty(l, props.off)) {
                const position after = pos(l, colon + 1);
                ++li;
                skip_blank(li);
                v.pos = after;
                if (li < lines_.size() && (lines_[li].indent > indent ||
                                           (lines_[li].indent == indent && is_seq_entry(lines_[li].text))))
                    v = anchor.empty() ? block(li, lines_[li].indent, depth + 1, indent) : anchored_block(li, depth + 1, indent);
                remember(anchor, v);
            } else if (l.text[props.off] == '|' || l.text[props.off] == '>') {
                v = block_scalar(li, props.off, indent);  // li moves past its lines
                remember(anchor, v);
            } else {
                cursor c{li, off};
                v = value(c, indent, depth + 1, false, false);
                expect_line_end(lines_[c.li], c.off);
                li = c.li + 1;
            }
            if (merge)
                merges.push_back(std::move(v));
            else
                add_key(map, std::move(key), std::move(v));
            skip_blank(li);
            if (li < lines_.size() && lines_[li].indent > indent)
                fail(lines_[li], 0, "unexpected indentation: expected a key at column " + std::to_string(indent + 1));
        }
        apply_merges(map, seen, merges);
        return map;
    }

    /// The offset of the ':' that ends the key starting at `from`, or npos when the line is no key.
    std::size_t find_key_colon(const line& l, std::size_t from) const {
        std::string_view t = l.text;
        std::size_t i = from;
        // Properties first: "&a key: v" anchors the key.
        while (i < t.size() && t[i] == '&') {
            while (i < t.size() && !name_end(t[i])) ++i;
            while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
        }
        if (i < t.size() && t[i] == '*') {
            // An alias's name may hold ':', so "*a : x" is a key and "*a:" an alias.
            while (i < t.size() && !name_end(t[i])) ++i;
            while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
            return i < t.size() && t[i] == ':' && (i + 1 == t.size() || t[i + 1] == ' ' || t[i + 1] == '\t')
                       ? i
                       : std::string_view::npos;
        }
        if (i < t.size() && (t[i] == '"' || t[i] == '\'')) {
            const std::size_t close = closing_quote(t, i);
            if (close == std::string_view::npos) return std::string_view::npos;  // a quoted scalar going on below
            std::size_t off = close + 1;
            while (off < t.size() && (t[off] == ' ' || t[off] == '\t')) ++off;
            return off < t.size() && t[off] == ':' ? off : std::string_view::npos;
        }
        if (i < t.size() && (t[i] == '{' || t[i] == '[')) return std::string_view::npos;
        const std::size_t start = i;
        for (; i < t.size(); ++i) {
            if (t[i] == '#' && i > start && (t[i - 1] == ' ' || t[i - 1] == '\t')) return std::string_view::npos;
            if (t[i] == ':' && (i + 1 == t.size() || t[i + 1] == ' ' || t[i + 1] == '\t')) return i;
        }
        return std::string_view::npos;
    }

    /// The offset of the quote that closes the quoted scalar opening at t[open], or npos when it does not close on t.
    static std::size_t closing_quote(std::string_view t, std::size_t open) noexcept {
        const char q = t[open];
        for (std::size_t i = open + 1; i < t.size(); ++i) {
            if (q == '"' && t[i] == '\\') {
                ++i;
                continue;
            }
            if (t[i] != q) continue;
            if (q == '\'' && i + 1 < t.size() && t[i + 1] == '\'') {
                ++i;
                continue;
            }
            return i;
        }
        return std::string_view::npos;
    }

    void expect_line_end(const line& l, std::size_t off) const {
        if (off > 0 && off < l.text.size() && l.text[off] == '#' && l.text[off - 1] != ' ' && l.text[off - 1] != '\t')
            fail(l, off, "a comment needs a space before '#'");
        while (off < l.text.size() && (l.text[off] == ' ' || l.text[off] == '\t')) ++off;
        if (off < l.text.size() && l.text[off] != '#')
            fail(l, off, "unexpected '" + std::string(1, l.text[off]) + "' after the value");
    }

    /// A block scalar whose indicator ('|' literal, '>' folded) is at lines_[li].text[off], in a node indented
    /// `parent`; li ends at the first line after its content. Chomping ('-' strip, '+' keep, else clip) and an
    /// indentation indicator (1-9) may follow the indicator in either order.
    node block_scalar(std::size_t& li, std::size_t off, int parent) {
        const line& head = lines_[li];
        node n;
        n.pos = pos(head, off);
        n.type = node::kind::scalar;
        n.quoted = true;  // always a string
        const bool folded = head.text[off] == '>';
        char chomp = 'c';
        int explicit_indent = 0;
        std::size_t i = off + 1;
        for (int k = 0; k < 2 && i < head.text.size(); ++k, ++i) {
            const char c = head.text[i];
            if ((c == '-' || c == '+') && chomp == 'c')
                chomp = c;
            else if (c >= '1' && c <= '9' && explicit_indent == 0)
                explicit_indent = c - '0';
            else
                break;
        }
        if (i < head.text.size() && head.text[i] != ' ' && head.text[i] != '\t')
            fail(head, i, "unexpected '" + std::string(1, head.text[i]) +
                              "' after a block scalar's indicator: expected '-', '+', a digit 1-9 or the end of the line");
        expect_line_end(head, i);
        // The content: every following line indented at least `content` (found from the first non-empty line
        // unless given), and empty lines among them.
        const int base = parent < 0 ? 0 : parent;
        int content = explicit_indent ? base + explicit_indent : -1;
        std::size_t k = li + 1;
        int widest_empty = 0;
        std::size_t widest_at = k;
        if (content < 0) {
            for (std::size_t j = k; j < lines_.size(); ++j) {
                if (lines_[j].text.empty()) {
                    if (lines_[j].indent > widest_empty) widest_empty = lines_[j].indent, widest_at = j;
                    continue;
                }
                content = lines_[j].indent;
                break;
            }
            if (content <= base) content = -1;  // no content: the scalar is empty
            if (content > 0 && widest_empty > content)
                fail(lines_[widest_at], 0, "an empty line of a block scalar is indented more than its first line");
        }
        std::vector<std::string_view> rows;  // the content lines, with the spaces beyond `content`
        std::vector<std::string> padded;     // rows that keep spaces of the indentation (storage)
        padded.reserve(lines_.size() - k);
        for (; k < lines_.size(); ++k) {
            const line& l = lines_[k];
            // The "line" after the file's last newline is no line of the scalar.
            if (k + 1 == lines_.size() && l.indent == 0 && l.text.empty() && !in_.empty() && in_.back() == '\n') break;
            if (l.text.empty()) {
                if (content > 0 && l.indent > content) {
                    padded.emplace_back(static_cast<std::size_t>(l.indent - content), ' ');
                    rows.push_back(padded.back());
                } else {
                    rows.push_back({});
                }
                continue;
            }
            if (content < 0 || l.indent < content) break;
            if (l.indent > content) {
                padded.push_back(std::string(static_cast<std::size_t>(l.indent - content), ' ') + std::string(l.text));
                rows.push_back(padded.back());
            } else {
                rows.push_back(l.text);
            }
        }
        li = k;
        // Trailing empty rows belong to the chomping, not to the text.
        std::size_t last = rows.size();
        while (last > 0 && rows[last - 1].empty()) --last;
        std::string out;
        if (!folded) {
            for (std::size_t r = 0; r < last; ++r) {
                if (r) out.push_back('\n');
                out.append(rows[r]);
            }
        } else {
            // Folding: a line break between two lines of text becomes a space; one followed by empty lines becomes
            // those lines' breaks; breaks around more-indented lines stay.
            bool any = false, prev_more = false;
            std::size_t breaks = 0;
            for (std::size_t r = 0; r < last; ++r) {
                if (rows[r].empty()) {
                    ++breaks;
                    continue;
                }
                const bool more = rows[r][0] == ' ' || rows[r][0] == '\t';
                if (!any)
                    out.append(breaks, '\n');
                else if (!prev_more && !more)
                    breaks ? out.append(breaks, '\n') : out.append(" ");
                else
                    out.append(breaks + 1, '\n');
                out.append(rows[r]);
                any = true;
                prev_more = more;
                breaks = 0;
            }
        }
        if (last > 0 && chomp != '-') out.push_back('\n');
        if (chomp == '+') out.append(rows.size() - last, '\n');  // the trailing empty lines, kept
        if (out.size() > max_scalar) fail(head, off, "a scalar longer than " + std::to_string(max_scalar) + " bytes");
        n.text = std::move(out);
        skip_blank(li);
        return n;
    }

    /// The characters that end an anchor's or alias's name.
    static bool name_end(char c) noexcept {
        return c == ' ' || c == '\t' || c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
    }

    /// A node's properties at c: an anchor ("&name", returned) and the spaces after it; tags are refused.
    std::string properties(cursor& c) const {
        const line& l = lines_[c.li];
        const std::string_view t = l.text;
        std::string anchor;
        while (c.off < t.size()) {
            if (t[c.off] == '!') fail(l, c.off, "tags ('!') are not supported");
            if (t[c.off] != '&') break;
            if (!anchor.empty()) fail(l, c.off, "a second anchor on one node");
            std::size_t end = c.off + 1;
            while (end < t.size() && !name_end(t[end])) ++end;
            if (end == c.off + 1) fail(l, c.off, "an anchor ('&') without a name");
            anchor = std::string(t.substr(c.off + 1, end - c.off - 1));
            c.off = end;
            skip_spaces(l, c.off);
        }
        return anchor;
    }

    /// The size a node stands for when copied: what anchors store and aliases add is bounded by it.
    static std::size_t weight(const node& n) noexcept {
        std::size_t w = sizeof(node) + n.text.size();
        for (const node& k : n.keys) w += weight(k);
        for (const node& v : n.values) w += weight(v);
        return w;
    }
    void spend(std::size_t w, position at) {
        expanded_ += w;
        if (expanded_ > max_expansion)
            fail(at, "anchors and aliases expand to more than " + std::to_string(max_expansion >> 20) +
                             " MiB (a 'billion laughs' document?)");
    }
    /// Keeps a copy of n under its anchor's name (a later anchor of the same name replaces it, as in YAML).
    void remember(const std::string& anchor, const node& n) {
        if (anchor.empty()) return;
        const std::size_t w = weight(n);
        spend(w, n.pos);
        anchors_.insert_or_assign(anchor, anchored{n, w});
    }
    /// The copy of an anchored node that the alias at c names.
    node alias(cursor& c) {
        const line& l = lines_[c.li];
        const std::string_view t = l.text;
        std::size_t end = c.off + 1;
        while (end < t.size() && !name_end(t[end])) ++end;
        if (end == c.off + 1) fail(l, c.off, "an alias ('*') without a name");
        const std::string name(t.substr(c.off + 1, end - c.off - 1));
        const auto it = anchors_.find(name);
        if (it == anchors_.end())
            fail(l, c.off, "unknown alias '*" + shown(name) + "': no anchor '&" + shown(name) + "' comes before it");
        spend(it->second.weight, pos(l, c.off));
        node n = it->second.value;
        n.pos = pos(l, c.off);
        c.off = end;
        return n;
    }

    /// The keys of the mappings merged with '<<' that the mapping does not have already, in order.
    static void apply_merges(node& map, key_set& seen, std::vector<node>& merges) {
        for (node& m : merges) {
            std::vector<node*> sources;
            if (m.type == node::kind::mapping) {
                sources.push_back(&m);
            } else if (m.type == node::kind::sequence) {
                for (node& item : m.values) {
                    if (item.type != node::kind::mapping)
                        fail(item.pos, "a merge key ('<<') takes mappings: this item of its sequence is not one");
                    sources.push_back(&item);
                }
            } else {
                fail(m.pos, "a merge key ('<<') takes a mapping (usually an alias such as '*base') or a sequence of them");
            }
            for (node* src : sources)
                for (std::size_t i = 0; i < src->keys.size(); ++i)
                    if (seen.insert(src->keys[i].text, src->keys[i].pos) == nullptr)
                        add_key(map, std::move(src->keys[i]), std::move(src->values[i]));
        }
    }

    /// A node in a value's place: properties, then an alias, a flow collection or a scalar. c ends after it
    /// (scalars and flow collections may continue on the lines below, indented more than `parent`).
    node value(cursor& c, int parent, int depth, bool in_flow, bool is_key) {
        std::string anchor = properties(c);
        const line& l = lines_[c.li];
        if (c.off < l.text.size() && l.text[c.off] == '*') {
            if (!anchor.empty()) fail(l, c.off, "an alias cannot have an anchor");
            return alias(c);  // what follows it on its line is the caller's to check
        }
        node n;
        if (c.off < l.text.size() && (l.text[c.off] == '{' || l.text[c.off] == '['))
            n = flow(c, parent, depth);
        else
            n = scalar(c, in_flow, parent, is_key);
        remember(anchor, n);
        return n;
    }

    static bool plain_stop(std::string_view t, std::size_t i, bool in_flow) noexcept {
        const char c = t[i];
        if (c == ':' && (i + 1 == t.size() || t[i + 1] == ' ' || t[i + 1] == '\t' ||
                         (in_flow && (t[i + 1] == ',' || t[i + 1] == '}' || t[i + 1] == ']'))))
            return true;
        if (c == '#' && i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t')) return true;
        if (in_flow && (c == ',' || c == '}' || c == ']' || c == '{' || c == '[')) return true;
        return false;
    }

    /// A plain or quoted scalar starting at c; c ends after it. A plain scalar that is no key goes on over the
    /// lines below that are indented more than `parent` (each line break folds into a space, empty lines into
    /// line breaks), up to a comment, a line indented less, or a flow indicator in a flow collection.
    node scalar(cursor& c, bool in_flow, int parent, bool is_key) {
        const line& l = lines_[c.li];
        const std::string_view t = l.text;
        node n;
        n.pos = pos(l, c.off);
        if (c.off >= t.size()) return n;  // null
        const char ch = t[c.off];
        if (ch == '"' || ch == '\'') {
            n.type = node::kind::scalar;
            n.quoted = true;
            n.text = quoted(c, parent);
            return n;
        }
        switch (ch) {
            case '|':
            case '>':
                fail(l, c.off, in_flow ? "a block scalar ('|' or '>') cannot stand in a flow collection"
                                       : "a block scalar ('|' or '>') cannot stand here");
            case '%': fail(l, c.off, "directives ('%') are not supported");
            case '@':
            case '`': fail(l, c.off, "'" + std::string(1, ch) + "' cannot start a plain scalar: quote the value");
            case '?': fail(l, c.off, "complex keys ('?') are not supported");
            case '#': fail(l, c.off, "a comment needs a space before '#'");
            case '}':
            case ']':
            case ',':
                if (!in_flow) fail(l, c.off, "'" + std::string(1, ch) + "' cannot start a plain scalar: quote the value");
                return n;
            default: break;
        }
        if (ch == '-') {
            const char next = c.off + 1 < t.size() ? t[c.off + 1] : ' ';
            if (next == ' ' || next == '\t')
                fail(l, c.off, "a sequence entry ('- ') cannot stand here: start it on its own line");
            if (in_flow && (next == ',' || next == ']' || next == '}' || next == '[' || next == '{'))
                fail(l, c.off, "a lone '-' in a flow collection: quote it ('\"-\"')");
        }
        n.type = node::kind::scalar;
        n.text = plain_segment(l, c.off, in_flow);
        if (is_key) return n;
        if (!in_flow && c.off < t.size() && t[c.off] == ':') {
            // "a: b: c" is not a mapping value YAML allows.
            fail(l, c.off, "a second ':' on the line: mapping values cannot hold plain ': ' (quote the value)");
        }
        if (!rest_empty(l, c.off) || (c.off < t.size() && t[c.off] == '#')) return n;
        // The lines below that continue it.
        const bool alone = n.pos.column == l.indent + 1;  // the scalar starts its line: it could be a key
        const cursor first_end = c;
        std::size_t empties = 0;
        for (std::size_t k = c.li + 1; k < lines_.size(); ++k) {
            const line& next = lines_[k];
            if (whitespace_only(next)) {
                ++empties;
                continue;
            }
            if (next.text[0] == '#' || next.indent <= parent || is_marker(next, "---") || is_marker(next, "...")) break;
            std::size_t off = 0;
            const std::string segment = plain_segment(next, off, in_flow);
            if (segment.empty()) break;  // a flow indicator: the collection goes on
            if (empties)
                n.text.append(empties, '\n');
            else
                n.text.push_back(' ');
            n.text += segment;
            if (n.text.size() > max_scalar) fail(l, 0, "a scalar longer than " + std::to_string(max_scalar) + " bytes");
            empties = 0;
            c = {k, off};
            if (off < next.text.size() && next.text[off] == ':' && !in_flow) {
                // "key\n  nested: 1" is a key that lost its colon, more likely than a value going on with ': '.
                if (alone) fail(l, first_end.off, "expected ':' after a key");
                fail(next, off, "a ':' in a continuation line of a plain scalar: a key cannot span lines (quote the "
                                "value, or check the indentation)");
            }
            if (!rest_empty(next, off) || (off < next.text.size() && next.text[off] == '#')) break;
        }
        return n;
    }

    /// The plain text on l from off up to what ends it (': ', ' #', the line's end, a flow indicator in a flow
    /// collection), without trailing blanks; off ends at what ended it.
    std::string plain_segment(const line& l, std::size_t& off, bool in_flow) const {
        const std::string_view t = l.text;
        std::size_t end = off;
        while (end < t.size() && !plain_stop(t, end, in_flow)) ++end;
        std::size_t last = end;
        while (last > off && (t[last - 1] == ' ' || t[last - 1] == '\t')) --last;
        if (last - off > max_scalar) fail(l, off, "a scalar longer than " + std::to_string(max_scalar) + " bytes");
        std::string out(t.substr(off, last - off));
        off = end;
        return out;
    }

    /// A single- or double-quoted scalar at c (which is at the quote); c ends after the closing quote. It may go
    /// on over the lines below that are indented more than `parent`: a line break folds into a space, empty lines
    /// into line breaks, blanks around a break go, and in double quotes a '\' at the end of a line joins the lines.
    std::string quoted(cursor& c, int parent) {
        const line* l = &lines_[c.li];
        const char q = l->text[c.off];
        const cursor open = c;
        const auto unterminated = [&] {
            fail(lines_[open.li], open.off,
                 std::string("unterminated ") + (q == '"' ? "double" : "single") + "-quoted scalar");
        };
        std::string out;
        std::size_t keep = 0;    // out's first `keep` bytes are text, never blanks before a line break
        bool join_next = false;  // the line ended in an escaped line break
        std::size_t i = c.off + 1;
        for (;;) {
            const std::string_view t = l->text;
            if (i >= t.size()) {
                // A line break inside the scalar: trailing blanks go, then the lines below.
                while (out.size() > keep && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
                const bool joined = join_next;
                join_next = false;
                std::size_t k = c.li + 1, empties = 0;
                while (k < lines_.size() && whitespace_only(lines_[k])) ++k, ++empties;
                if (k >= lines_.size()) unterminated();
                const line& next = lines_[k];
                if (is_marker(next, "---") || is_marker(next, "..."))
                    fail(next, 0, "a document marker inside a quoted scalar (it is not closed)");
                if (next.indent <= parent)
                    fail(next, 0, "a quoted scalar's next line must be indented more than column " +
                                      std::to_string(parent + 1) + " (or is its closing quote missing?)");
                if (empties)
                    out.append(empties, '\n');
                else if (!joined)
                    out.push_back(' ');
                keep = out.size();
                c.li = k;
                l = &next;
                i = 0;
                continue;
            }
            const char ch = t[i];
            if (out.size() > max_scalar)
                fail(lines_[open.li], open.off, "a scalar longer than " + std::to_string(max_scalar) + " bytes");
            if (q == '\'') {
                if (ch == '\'') {
                    if (i + 1 < t.size() && t[i + 1] == '\'') {
                        out.push_back('\'');
                        keep = out.size();
                        i += 2;
                        continue;
                    }
                    c.off = i + 1;
                    return out;
                }
                out.push_back(ch);
                if (ch != ' ' && ch != '\t') keep = out.size();
                ++i;
                continue;
            }
            if (ch == '"') {
                c.off = i + 1;
                return out;
            }
            if (ch != '\\') {
                out.push_back(ch);
                if (ch != ' ' && ch != '\t') keep = out.size();
                ++i;
                continue;
            }
            if (i + 1 >= t.size()) {
                // An escaped line break: the lines join without a space, the blanks before it kept.
                keep = out.size();
                join_next = true;
                i = t.size();
                continue;
            }
            const char e = t[i + 1];
            i += 2;
            switch (e) {
                case '0': out.push_back('\0'); break;
                case 'a': out.push_back('\a'); break;
                case 'b': out.push_back('\b'); break;
                case 't':
                case '\t': out.push_back('\t'); break;
                case 'n': out.push_back('\n'); break;
                case 'v': out.push_back('\v'); break;
                case 'f': out.push_back('\f'); break;
                case 'r': out.push_back('\r'); break;
                case 'e': out.push_back('\x1B'); break;
                case ' ': out.push_back(' '); break;
                case '"': out.push_back('"'); break;
                case '/': out.push_back('/'); break;
                case '\\': out.push_back('\\'); break;
                case 'N': out.append("\xC2\x85"); break;
                case '_': out.append("\xC2\xA0"); break;
                case 'L': out.append("\xE2\x80\xA8"); break;
                case 'P': out.append("\xE2\x80\xA9"); break;
                case 'x': append_code_point(*l, i, 2, out); break;
                case 'u': append_code_point(*l, i, 4, out); break;
                case 'U': append_code_point(*l, i, 8, out); break;
                default: fail(*l, i - 2, "unknown escape '\\" + std::string(1, e) + "' in a double-quoted scalar");
            }
            keep = out.size();
        }
    }

    void append_code_point(const line& l, std::size_t& i, int digits, std::string& out) const {
        const std::size_t esc = i - 2;
        std::uint32_t v = 0;
        for (int k = 0; k < digits; ++k, ++i) {
            const char c = i < l.text.size() ? l.text[i] : '\0';
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) fail(l, esc, "escape '\\" + std::string(1, l.text[esc + 1]) + "' needs " + std::to_string(digits) +
                                        " hexadecimal digits");
            v = v * 16 + static_cast<std::uint32_t>(d);
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            fail(l, esc, "escape '\\" + std::string(1, l.text[esc + 1]) + "' names no Unicode character");
        if (v < 0x80) {
            out.push_back(static_cast<char>(v));
        } else if (v < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (v >> 6)));
            out.push_back(static_cast<char>(0x80 | (v & 0x3F)));
        } else if (v < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (v >> 12)));
            out.push_back(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (v & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (v >> 18)));
            out.push_back(static_cast<char>(0x80 | ((v >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (v & 0x3F)));
        }
    }

    void skip_spaces(const line& l, std::size_t& off) const noexcept {
        while (off < l.text.size() && (l.text[off] == ' ' || l.text[off] == '\t')) ++off;
    }

    /// Skips blanks and comments inside a flow collection, over line ends: the lines it goes on to must be
    /// indented more than `parent`. At the input's end the collection (opened at `open`) is unterminated.
    void flow_space(cursor& c, int parent, const cursor& open, bool is_map) const {
        for (;;) {
            const line& l = lines_[c.li];
            const std::size_t before = c.off;
            skip_spaces(l, c.off);
            if (c.off < l.text.size() && l.text[c.off] != '#') return;
            if (c.off < l.text.size() && c.off > 0 && c.off == before && l.text[c.off - 1] != ' ' &&
                l.text[c.off - 1] != '\t')
                fail(l, c.off, "a comment needs a space before '#'");
            std::size_t k = c.li + 1;
            while (k < lines_.size() && blank(lines_[k])) ++k;
            if (k >= lines_.size())
                fail(lines_[open.li], open.off, std::string("unterminated flow ") + (is_map ? "mapping" : "sequence") +
                                                    ": expected '" + (is_map ? "}" : "]") + "'");
            const line& next = lines_[k];
            if (is_marker(next, "---") || is_marker(next, "..."))
                fail(next, 0, "a document marker inside a flow collection (it is not closed)");
            // The closing bracket may stand at its block's column (PyYAML, which Dagster reads configs with, allows
            // it); other lines must be indented more.
            const char close = is_map ? '}' : ']';
            if (next.indent < parent || (next.indent == parent && next.text[0] != close))
                fail(next, 0, "this line of a flow " + std::string(is_map ? "mapping" : "sequence") +
                                  " (opened at line " + std::to_string(lines_[open.li].number) +
                                  ") must be indented more than column " + std::to_string(parent + 1) +
                                  ", where the keys of its block start");
            c = {k, 0};
        }
    }

    /// A flow mapping `{a: 1, b: [x]}` or sequence `[a, b]` at c; c ends after its closing bracket, which may be
    /// on a later line.
    node flow(cursor& c, int parent, int depth) {
        if (depth > max_depth) fail(lines_[c.li], c.off, "nesting deeper than " + std::to_string(max_depth) + " levels");
        const bool is_map = lines_[c.li].text[c.off] == '{';
        const char close = is_map ? '}' : ']';
        node n;
        n.type = is_map ? node::kind::mapping : node::kind::sequence;
        n.pos = pos(lines_[c.li], c.off);
        const cursor open = c;
        key_set seen;
        std::vector<node> merges;
        ++c.off;
        for (;;) {
            flow_space(c, parent, open, is_map);
            if (lines_[c.li].text[c.off] == close) {
                ++c.off;
                apply_merges(n, seen, merges);
                return n;
            }
            const cursor item_at = c;
            node item = value(c, parent, depth + 1, true, is_map);
            const bool empty_item = c.li == item_at.li && c.off == item_at.off;
            if (is_map && c.li != item_at.li) fail(lines_[item_at.li], item_at.off, "a key in a flow mapping must be on one line");
            flow_space(c, parent, open, is_map);
            const line& l = lines_[c.li];
            if (is_map) {
                if (item.type != node::kind::scalar) fail(item.pos, "a key must be a scalar");
                claim_key(item, seen);
                const bool merge = options_.merge_keys && !item.quoted && item.text == "<<";
                node v;
                if (l.text[c.off] == ',' || l.text[c.off] == '}') {
                    v.pos = pos(l, c.off);  // "{a, b: 1}": a key without a value
                } else {
                    if (l.text[c.off] != ':') fail(l, c.off, "expected ':' after a key in a flow mapping");
                    if (c.li != item_at.li) fail(l, c.off, "a key's ':' must be on the key's line");
                    ++c.off;
                    flow_space(c, parent, open, is_map);
                    v = value(c, parent, depth + 1, true, false);
                }
                if (merge)
                    merges.push_back(std::move(v));
                else
                    add_key(n, std::move(item), std::move(v));
                flow_space(c, parent, open, is_map);
            } else {
                if (empty_item && l.text[c.off] == ',') fail(l, c.off, "an empty entry in a flow sequence");
                if (l.text[c.off] == ':') {
                    // "[a: 1]": a mapping of one pair, its key on one line.
                    if (item.type != node::kind::scalar && item.type != node::kind::null)
                        fail(item.pos, "a key must be a scalar");
                    if (c.li != item_at.li) fail(l, c.off, "a key's ':' must be on the key's line");
                    node pair;
                    pair.type = node::kind::mapping;
                    pair.pos = item.pos;
                    ++c.off;
                    flow_space(c, parent, open, is_map);
                    node v = value(c, parent, depth + 1, true, false);
                    add_key(pair, std::move(item), std::move(v));
                    item = std::move(pair);
                    flow_space(c, parent, open, is_map);
                }
                n.values.push_back(std::move(item));
            }
            const line& after = lines_[c.li];
            if (after.text[c.off] == ',') {
                ++c.off;
                continue;
            }
            if (after.text[c.off] == close) continue;
            fail(after, c.off,
                 std::string("expected ',' or '") + std::string(1, close) + "' in a flow " + (is_map ? "mapping" : "sequence"));
        }
    }

    /// Records a mapping key, refusing a duplicate (found in constant time); called before its value is
    /// parsed, so the error points at the second key.
    static void claim_key(const node& key, key_set& seen) {
        if (const position* first = seen.insert(key.text, key.pos))
            fail(key.pos, "duplicate key '" + shown(key.text) + "' (first at line " + std::to_string(first->line) +
                              ", column " + std::to_string(first->column) + ")");
    }
    static void add_key(node& map, node key, node value) {
        map.keys.push_back(std::move(key));
        map.values.push_back(std::move(value));
    }

    std::string_view in_;
    parse_options options_;
    std::vector<line> lines_;
    std::map<std::string, anchored, std::less<>> anchors_;
    std::size_t expanded_ = 0;  ///< what anchors stored and aliases copied (see max_expansion)
    mutable const char* cache_text_ = nullptr;
    mutable std::size_t cache_offset_ = 0;
    mutable int cache_col_ = 1;
};

}  // namespace detail::yaml
}  // namespace v0
}  // namespace runlog
