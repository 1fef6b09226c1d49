// Reads YAML files with runlog's config parser and prints, for each, one JSON line: {"file": ..., "tree": ...} or
// {"file": ..., "error": "line:column: message"}. Scalars keep whether they were plain or quoted ({"p": text} or
// {"q": text}), so check_yaml_suite.py can type plain ones by YAML's core schema before comparing with in.json.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <runlog/detail/yaml.hpp>

namespace {

using runlog::detail::yaml::node;

void put_string(std::ostream& out, const std::string& s) {
    out << '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out << '\\' << c;
        } else if (u < 0x20 || u == 0x7F) {
            static constexpr char hex[] = "0123456789abcdef";
            out << "\\u00" << hex[u >> 4] << hex[u & 15];
        } else {
            out << c;
        }
    }
    out << '"';
}

void put_node(std::ostream& out, const node& n) {
    switch (n.type) {
        case node::kind::null: out << "null"; break;
        case node::kind::scalar:
            out << (n.quoted ? "{\"q\":" : "{\"p\":");
            put_string(out, n.text);
            out << '}';
            break;
        case node::kind::sequence:
            out << "{\"s\":[";
            for (std::size_t i = 0; i < n.values.size(); ++i) {
                if (i) out << ',';
                put_node(out, n.values[i]);
            }
            out << "]}";
            break;
        case node::kind::mapping:
            out << "{\"m\":[";
            for (std::size_t i = 0; i < n.keys.size(); ++i) {
                if (i) out << ',';
                out << '[';
                put_node(out, n.keys[i]);
                out << ',';
                put_node(out, n.values[i]);
                out << ']';
            }
            out << "]}";
            break;
    }
}

}  // namespace

int main(int argc, char** argv) {
    // The suite's merge-key-free view: '<<' stays an ordinary key, as in in.json.
    runlog::detail::yaml::parse_options options;
    options.merge_keys = false;
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        if (!in) {
            std::cerr << argv[i] << ": cannot open\n";
            return 2;
        }
        std::ostringstream text;
        text << in.rdbuf();
        const std::string input = text.str();
        auto [doc, err] = runlog::detail::yaml::parser(input, options).parse();
        std::cout << "{\"file\":";
        put_string(std::cout, argv[i]);
        if (err) {
            std::cout << ",\"error\":";
            put_string(std::cout, std::to_string(err->pos.line) + ":" + std::to_string(err->pos.column) + ": " + err->message);
        } else {
            std::cout << ",\"tree\":";
            put_node(std::cout, *doc);
        }
        std::cout << "}\n";
    }
    return 0;
}
