// /proc/<pid>/cmdline: split_cmdline, find_api_sock and judge_api_sock_claim.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "policy/cmdline.hpp"
#include "policy/judge.hpp"
#include "policy/path.hpp"

using namespace banger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes = fuzz::as_text(data, size);
    const std::vector<std::string_view> args = split_cmdline(bytes);

    // Splitting loses nothing but one final NUL.
    std::string joined;
    for (std::size_t i = 0; i < args.size(); ++i) {
        FUZZ_REQUIRE(args[i].find('\0') == std::string_view::npos);
        if (i > 0) joined += '\0';
        joined += args[i];
    }
    FUZZ_REQUIRE(joined == bytes || joined + '\0' == bytes);

    auto sock = find_api_sock(args);
    if (sock) {
        // The value is one the command line really carries: "--api-sock V",
        // "-a V" or "--api-sock=V", never args[0] (the program name).
        const std::string& value = sock.value();
        bool carried = false;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--api-sock=" + value) carried = true;
            if (i >= 2 && args[i] == value && (args[i - 1] == "--api-sock" || args[i - 1] == "-a")) carried = true;
        }
        FUZZ_REQUIRE(carried);
    } else {
        FUZZ_REQUIRE(sock.failure().outcome == Outcome::NotManaged);
    }

    // The whole claim: firecracker, one flag, a normalized path strictly
    // inside the runtime dir, no control characters.
    constexpr std::string_view kRuntimeDir = "/run/banger";
    auto claim = judge_api_sock_claim(std::string_view("/usr/bin/firecracker"), bytes, kRuntimeDir);
    if (claim) {
        FUZZ_REQUIRE(sock && sock.value() == claim.value());
        FUZZ_REQUIRE(!fuzz::has_control_char(claim.value()));
        FUZZ_REQUIRE(!path_problem(claim.value()));
        FUZZ_REQUIRE(fuzz::starts_with(claim.value(), "/run/banger/"));
    } else {
        FUZZ_REQUIRE(claim.failure().outcome == Outcome::NotManaged);
    }
    // Never without the right executable, whatever argv says.
    for (std::optional<std::string_view> exe :
         {std::optional<std::string_view>{}, std::optional<std::string_view>("/usr/bin/firecracker (deleted)"),
          std::optional<std::string_view>("/usr/bin/firecracker-x")}) {
        FUZZ_REQUIRE(!judge_api_sock_claim(exe, bytes, kRuntimeDir).ok());
    }
    return 0;
}
