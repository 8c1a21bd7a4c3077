// Recorded /proc bytes, as the kernel writes them, from tests/fixtures.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

inline std::string fixture(const std::string& name) {
    std::ifstream in(std::string(FIXTURES_DIR) + "/" + name, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + name);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}
