#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policy/text.hpp"

using namespace banger;

namespace {

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) out.emplace_back(next_line(text));
    return out;
}

}  // namespace

TEST_CASE("next_line takes one line at a time, with or without a final newline") {
    using L = std::vector<std::string>;
    CHECK(lines_of("") == L{});
    CHECK(lines_of("a") == L{"a"});
    CHECK(lines_of("a\n") == L{"a"});
    CHECK(lines_of("a\nb") == L{"a", "b"});
    CHECK(lines_of("a\nb\n") == L{"a", "b"});
    CHECK(lines_of("\n") == L{""});
    CHECK(lines_of("\n\nx\n") == L{"", "", "x"});
    CHECK(lines_of("a\r\nb") == L{"a\r", "b"});  // only '\n' ends a line
    CHECK(lines_of(std::string_view("a\0b\nc", 5)) == L{std::string("a\0b", 3), "c"});

    std::string_view rest = "first\nsecond";
    CHECK(next_line(rest) == "first");
    CHECK(rest == "second");
    CHECK(next_line(rest) == "second");
    CHECK(rest.empty());
    CHECK(next_line(rest).empty());  // nothing left: an empty line, rest stays empty
    CHECK(rest.empty());
}

TEST_CASE("printable keeps printable ASCII and nothing else") {
    CHECK(printable("plain text") == "plain text");
    CHECK(printable("a\nb\rc\td") == "a?b?c?d");
    CHECK(printable("\x1b[31mred") == "?[31mred");
    CHECK(printable("del\x7f") == "del?");
    CHECK(printable(std::string_view("nul\0x", 5)) == "nul?x");
    CHECK(printable("caf\xc3\xa9") == "caf??");
    CHECK(printable("\xc2\x9b"
                    "2J") == "??2J");  // U+009B: CSI in UTF-8
    CHECK(printable("a\xe2\x80\xae"
                    "cba") == "a???cba");  // U+202E: right-to-left override
    CHECK(printable(" ~") == " ~");
}

TEST_CASE("excerpt keeps printable ASCII, at most max bytes, and says when it cut") {
    CHECK(excerpt("short") == "short");
    CHECK(excerpt("abcdef", 3) == "abc...");
    CHECK(excerpt("abc", 3) == "abc");
    CHECK(excerpt("a\nb", 8) == "a?b");
    CHECK(excerpt("caf\xc3\xa9", 8) == "caf??");
    CHECK(excerpt(std::string(100, 'x')).size() == 32 + 3);
}

TEST_CASE("has_control_character") {
    CHECK_FALSE(has_control_character(""));
    CHECK_FALSE(has_control_character("/run/banger/vm1.sock"));
    CHECK(has_control_character("a\nb"));
    CHECK(has_control_character("\x7f"));
    CHECK(has_control_character(std::string_view("\0", 1)));
    CHECK_FALSE(has_control_character("\xc3\xa9"));
}

TEST_CASE("text: well-formed UTF-8") {
    for (const char* good : {"", "/usr/bin/firecracker", "/srv/caf\xc3\xa9/vm", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                             "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}) {
        CAPTURE(good);
        CHECK(is_valid_utf8(good));
    }
    for (const char* bad : {"/tmp/\xff/firecracker", "\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                            "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "caf\xc3\x28"}) {
        CAPTURE(bad);
        CHECK_FALSE(is_valid_utf8(bad));
    }
}
