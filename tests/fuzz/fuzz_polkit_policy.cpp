// The installed polkit .policy file as --doctor reads it: policy_exec_path.
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "policy/doctor.hpp"

using namespace banger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view xml = fuzz::as_text(data, size);
    for (std::string_view action : {"org.banger.signal.run", "org.banger.signal.send"}) {
        auto path = policy_exec_path(xml, action);
        if (!path) continue;
        // Found inside that action's element, trimmed, never spanning a tag.
        FUZZ_REQUIRE(xml.find("<action id=\"" + std::string(action) + "\">") != std::string_view::npos);
        FUZZ_REQUIRE(xml.find(*path) != std::string_view::npos);
        FUZZ_REQUIRE(path->find("</annotate>") == std::string::npos);
        for (char edge : {' ', '\t', '\n'}) {
            FUZZ_REQUIRE(path->empty() || (path->front() != edge && path->back() != edge));
        }
    }
    return 0;
}
