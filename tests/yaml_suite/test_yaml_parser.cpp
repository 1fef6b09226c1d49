// The YAML reader behind config.yaml, on its own: what it makes of block scalars, anchors, aliases, merge keys
// and nodes over several lines, and how it refuses what would cost too much. (check_yaml_suite.py runs it over
// the yaml-test-suite.) Built header-only from include/ in every mode: the reader is an internal header.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include <runlog/detail/yaml.hpp>

using runlog::detail::yaml::node;
using runlog::detail::yaml::parser;

namespace {

/// The document, or the test fails with the reader's message.
node read(std::string_view text, runlog::detail::yaml::parse_options options = {}) {
    auto [doc, err] = parser(text, options).parse();
    if (err) FAIL(std::to_string(err->pos.line) + ":" + std::to_string(err->pos.column) + ": " + err->message);
    return *doc;
}

/// The reader's message for text ("line:column: message"), or "" when it reads it.
std::string refusal(std::string_view text) {
    auto [doc, err] = parser(text).parse();
    if (!err) return "";
    return std::to_string(err->pos.line) + ":" + std::to_string(err->pos.column) + ": " + err->message;
}

std::vector<std::string> texts(const node& n) {
    std::vector<std::string> out;
    for (const auto& v : n.values) out.push_back(v.text);
    return out;
}

}  // namespace

TEST_CASE("YAML block scalars: literal, folded, chomping and indentation indicators", "[yaml]") {
    CHECK(texts(read("a: |\n  one\n    two\n\n  three\nb: 1\n")) == std::vector<std::string>{"one\n  two\n\nthree\n", "1"});
    CHECK(texts(read("a: >\n  one\n  two\n\n  three\n    more\n  four\n")) ==
          std::vector<std::string>{"one two\nthree\n  more\nfour\n"});
    CHECK(texts(read("strip: |-\n  t\n\nclip: |\n  t\n\nkeep: |+\n  t\n\n")) == std::vector<std::string>{"t", "t\n", "t\n\n"});
    CHECK(texts(read("- |1\n  x\n- >2-\n   y\n")) == std::vector<std::string>{" x\n", " y"});
    CHECK(texts(read("empty: |\nnext: 1\n")) == std::vector<std::string>{"", "1"});
    CHECK(read("a: |\n  1\n").values[0].quoted);  // a block scalar is always a string
}

TEST_CASE("YAML plain and quoted scalars over several lines fold as YAML folds them", "[yaml]") {
    CHECK(texts(read("a: one\n  two\n\n  three\n\n\n  four\nb: x\n")) ==
          std::vector<std::string>{"one two\nthree\n\nfour", "x"});
    CHECK(texts(read("- one\n  two # a comment ends it\n- three\n")) == std::vector<std::string>{"one two", "three"});
    CHECK(texts(read("a: \"one  \n   two\\\n   three\\ \n  four\"\n")) == std::vector<std::string>{"one twothree  four"});
    CHECK(texts(read("a: 'it''s\n\n  here'\n")) == std::vector<std::string>{"it's\nhere"});
    // A continuation line must be indented more than the key; a key cannot go over lines.
    CHECK(refusal("a: one\ntwo\n") == "2:4: expected ':' after a key");
    CHECK(refusal("a: one\n  two: 2\n") == "2:6: a ':' in a continuation line of a plain scalar: a key cannot span lines "
                                          "(quote the value, or check the indentation)");
    CHECK(refusal("a:\n  key\n    nested: 1\n") == "2:6: expected ':' after a key");
    CHECK(refusal("a: \"one\ntwo\"\n") ==
          "2:1: a quoted scalar's next line must be indented more than column 1 (or is its closing quote missing?)");
    CHECK(refusal("a: \"one\n  two\n") == "1:4: unterminated double-quoted scalar");
    CHECK(refusal("a: 'x\n---\n'\n") == "2:1: a document marker inside a quoted scalar (it is not closed)");
}

TEST_CASE("YAML flow collections over several lines", "[yaml]") {
    const node doc = read("a: [x,\n  y, # a comment\n\n  {k: v,\n   w}]\nb: {\n  c: 1, d: [2]\n  }\n");
    REQUIRE(doc.values.size() == 2);
    const node& a = doc.values[0];
    REQUIRE(a.values.size() == 3);
    CHECK(a.values[0].text == "x");
    CHECK(a.values[2].find("k")->text == "v");
    CHECK(a.values[2].find("w")->type == node::kind::null);  // a key without a value
    CHECK(doc.values[1].find("d")->values[0].text == "2");
    CHECK(texts(read("[a: 1, b]")).size() == 2);  // "a: 1" in a sequence: a mapping of one pair
    CHECK(read("[a: 1, b]").values[0].find("a")->text == "1");
    CHECK(refusal("a: [x,\ny]\n") ==
          "2:1: this line of a flow sequence (opened at line 1) must be indented more than column 1, where the keys of its "
          "block start");
    CHECK(read("a:\n  b: [x,\n     y\n  ]\n").find("a")->find("b")->values.size() == 2);  // ']' at its block's column
    CHECK(refusal("a: [x, y\n") == "1:4: unterminated flow sequence: expected ']'");
    CHECK(refusal("a: [x]# c\n") == "1:7: a comment needs a space before '#'");
    CHECK(refusal("a: [-, x]\n") == "1:5: a lone '-' in a flow collection: quote it ('\"-\"')");
}

TEST_CASE("YAML anchors and aliases copy nodes, and a billion laughs is refused early", "[yaml]") {
    const node doc = read("base: &b\n  host: db\n  ports: [1, 2]\nother: *b\nlist:\n  - &item x\n  - *item\n  - &k key: *item\n"
                          "again: *k\n");
    const node& other = *doc.find("other");
    CHECK(other.find("host")->text == "db");
    CHECK(other.find("ports")->values.size() == 2);
    CHECK(other.pos.line == 4);  // the copy is where the alias is
    CHECK(texts(*doc.find("list"))[1] == "x");
    CHECK(doc.find("list")->values[2].find("key")->text == "x");
    CHECK(doc.find("again")->text == "key");  // an anchor before a key names the key
    CHECK(read("a: &x 1\nb: &x 2\nc: *x\n").find("c")->text == "2");  // a later anchor replaces an earlier one
    CHECK(read("&top\nk: v\n").find("k")->text == "v");
    CHECK(refusal("a: *nothing\n") == "1:4: unknown alias '*nothing': no anchor '&nothing' comes before it");
    CHECK(refusal("a: &x *y\n") == "1:7: an alias cannot have an anchor");
    CHECK(refusal("a: &x\n  &y 1\n") == "2:3: a second anchor on one node");
    CHECK(refusal("a: &x [*x]\n") == "1:8: unknown alias '*x': no anchor '&x' comes before it");  // not recursive
    CHECK(refusal("a: !!str x\n") == "1:4: tags ('!') are not supported");

    // Nine levels of ten aliases each would be a billion nodes: refused after a bounded amount of work.
    std::string laughs = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
        const std::string prev = "*l" + std::to_string(i - 1);
        laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) laughs += (k ? ", " : "") + prev;
        laughs += "]\n";
    }
    const std::string why = refusal(laughs);
    CHECK_THAT(why, Catch::Contains("anchors and aliases expand to more than 16 MiB (a 'billion laughs' document?)"));
    CHECK_THAT(why, Catch::StartsWith("6:") || Catch::StartsWith("5:"));
}

TEST_CASE("YAML merge keys: the mapping's own keys win, earlier merges win over later ones", "[yaml]") {
    const node doc = read("base: &base {a: 1, b: 2}\nmore: &more {b: 3, c: 4}\nm:\n  <<: [*base, *more]\n  a: own\n");
    const node& m = *doc.find("m");
    CHECK(m.find("a")->text == "own");
    CHECK(m.find("b")->text == "2");
    CHECK(m.find("c")->text == "4");
    CHECK(m.find("<<") == nullptr);
    CHECK(read("x: {<<: {k: v}, j: w}\n").find("x")->find("k")->text == "v");
    CHECK(read("m:\n  '<<': 1\n").find("m")->find("<<")->text == "1");  // quoted: an ordinary key
    runlog::detail::yaml::parse_options keep;
    keep.merge_keys = false;
    CHECK(read("m:\n  <<: {k: v}\n", keep).find("m")->find("<<") != nullptr);
    CHECK(refusal("m:\n  <<: 1\n") ==
          "2:7: a merge key ('<<') takes a mapping (usually an alias such as '*base') or a sequence of them");
    CHECK(refusal("m:\n  <<: [{a: 1}, 2]\n") == "2:16: a merge key ('<<') takes mappings: this item of its sequence is not one");
    CHECK(refusal("m:\n  <<: {a: 1}\n  <<: {b: 1}\n") == "3:3: duplicate key '<<' (first at line 2, column 3)");
}
