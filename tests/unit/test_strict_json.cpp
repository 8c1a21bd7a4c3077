#include <doctest/doctest.h>

#include <string>

#include "door/strict_json.hpp"

using banger::JsonLimits;
using banger::JsonValue;
using banger::parse_strict_json;
using Kind = banger::JsonValue::Kind;

namespace {
constexpr JsonLimits kLimits{.max_depth = 4, .max_members = 8};
}  // namespace

TEST_CASE("strict json: what a lenient reader would take, refused") {
    const std::string nul_inside("{\"a\":1}\0", 8);
    const char* rows[] = {
        "",
        "{",
        "{\"a\":1} {}",               // two values
        "{\"a\":1}x",                 // trailing bytes
        "{\"a\":1,}",                 // trailing comma
        "{'a':1}",                    // single quotes
        "{\"a\":1 /* c */}",          // comments are not JSON
        "{\"a\":01}",                 // leading zero
        "{\"a\":NaN}",                //
        "{\"a\":\"\xff\"}",           // not UTF-8
        "{\"a\":\"\xc0\xaf\"}",       // overlong
        "{\"a\":1,\"a\":2}",          // a key twice
        "{\"a\":{\"b\":1,\"b\":1}}",  // twice, nested
        "[[[[[1]]]]]",                // five deep, four allowed
        "{\"a\":\"x\n\"}",            // a raw control character in a string
    };
    for (const char* text : rows) {
        CAPTURE(text);
        auto r = parse_strict_json(text, kLimits);
        CHECK_FALSE(r.ok());
        if (!r.ok()) CHECK(r.failure().outcome == banger::Outcome::UsageError);
    }
    CHECK_FALSE(parse_strict_json(nul_inside, kLimits).ok());
    CHECK(parse_strict_json("{\"a\":1,\"a\":2}", kLimits).failure().reason.find("twice") != std::string::npos);
    CHECK(parse_strict_json("[[[[[1]]]]]", kLimits).failure().reason.find("deeper") != std::string::npos);
    // Nine members where eight are allowed.
    CHECK(parse_strict_json(R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9})", kLimits)
              .failure()
              .reason.find("more than 8") != std::string::npos);
    CHECK(parse_strict_json(R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8})", kLimits).ok());
}

TEST_CASE("strict json: numbers keep the text they were written with") {
    struct Row {
        const char* text;
        Kind kind;
        const char* kept;
    };
    const Row rows[] = {
        {"[5]", Kind::Unsigned, "5"},
        {"[4294967296]", Kind::Unsigned, "4294967296"},
        {"[-1]", Kind::Negative, "-1"},
        {"[-0]", Kind::Negative, "0"},
        {"[0.5]", Kind::Float, "0.5"},
        {"[1.500]", Kind::Float, "1.500"},
        {"[1e3]", Kind::Float, "1e3"},
        {"[99999999999999999999999]", Kind::Float, "99999999999999999999999"},  // beyond 64 bits
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        auto r = parse_strict_json(row.text, kLimits);
        REQUIRE(r.ok());
        REQUIRE(r.value().items.size() == 1);
        CHECK(r.value().items[0].kind == row.kind);
        CHECK(r.value().items[0].text == row.kept);
        CHECK(r.value().items[0].is_number());
    }
}

TEST_CASE("strict json: objects in order, strings decoded") {
    auto r = parse_strict_json(R"({"b":[true,null],"a":"x\u0000y","c":{}})", kLimits);
    REQUIRE(r.ok());
    const JsonValue& v = r.value();
    CHECK(v.kind == Kind::Object);
    REQUIRE(v.members.size() == 3);
    CHECK(v.members[0].first == "b");
    CHECK(v.members[1].first == "a");
    CHECK(v.find("a")->text == std::string("x\0y", 3));
    CHECK(v.find("b")->items[0].boolean);
    CHECK(v.find("b")->items[1].kind == Kind::Null);
    CHECK(v.find("c")->kind == Kind::Object);
    CHECK(v.find("missing") == nullptr);
    CHECK(parse_strict_json("[[[[1]]]]", kLimits).ok());  // four deep: allowed
}
