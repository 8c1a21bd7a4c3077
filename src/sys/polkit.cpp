#include "sys/polkit.hpp"

#include <polkit/polkit.h>

#include <memory>

#include <fmt/format.h>

namespace banger {

namespace {

struct GObjectUnref {
    void operator()(gpointer p) const noexcept {
        if (p != nullptr) g_object_unref(p);
    }
};
template <typename T>
using GRef = std::unique_ptr<T, GObjectUnref>;

struct GErrorFree {
    void operator()(GError* e) const noexcept { g_error_free(e); }
};
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;

Failure denied(std::string reason) { return Failure{Outcome::NotAuthorized, std::move(reason)}; }

}  // namespace

Result<PolkitAnswer> ask_polkit(const PolkitQuery& query) {
    GError* raw_error = nullptr;
    GRef<PolkitAuthority> authority(polkit_authority_get_sync(nullptr, &raw_error));
    GErrorPtr error(raw_error);
    if (!authority) {
        return denied(fmt::format("cannot reach polkit on the system bus ({}); is polkitd running?",
                                  error ? error->message : "unknown error"));
    }
    // The subject is the caller process with the caller's uid: polkitd would
    // authorize any uid-0 subject, and banger-signal itself runs as root.
    // start_time 0: polkit reads it from /proc itself.
    GRef<PolkitSubject> subject(polkit_unix_process_new_for_owner(query.subject_pid, 0, static_cast<gint>(query.subject_uid)));
    GRef<PolkitDetails> details(polkit_details_new());
    for (const auto& [key, value] : query.details) polkit_details_insert(details.get(), key.c_str(), value.c_str());

    raw_error = nullptr;
    // Flags none: no interaction. A challenge counts as a denial, because
    // nobody could answer it here.
    GRef<PolkitAuthorizationResult> result(polkit_authority_check_authorization_sync(
        authority.get(), subject.get(), query.action_id.c_str(), details.get(),
        POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE, nullptr, &raw_error));
    error.reset(raw_error);
    if (!result) {
        return denied(fmt::format("polkit could not check {} ({}); is org.banger.signal.policy installed?",
                                  query.action_id, error ? error->message : "unknown error"));
    }
    if (polkit_authorization_result_get_is_authorized(result.get()) != FALSE) return PolkitAnswer::Yes;
    if (polkit_authorization_result_get_is_challenge(result.get()) != FALSE) return PolkitAnswer::Challenge;
    return PolkitAnswer::No;
}

Status check_polkit(const PolkitQuery& query) {
    auto answer = ask_polkit(query);
    if (!answer) return std::move(answer).failure();
    switch (answer.value()) {
        case PolkitAnswer::Yes: return Done{};
        case PolkitAnswer::Challenge:
            return denied(fmt::format("polkit denied {} for uid {} (it would need authentication, which is not "
                                      "possible here)", query.action_id, query.subject_uid));
        case PolkitAnswer::No: break;
    }
    return denied(fmt::format("polkit denied {} for uid {}", query.action_id, query.subject_uid));
}

}  // namespace banger
