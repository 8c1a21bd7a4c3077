#include "sys/polkit.hpp"

#include <dlfcn.h>
#include <polkit/polkit.h>

#include <memory>

#include <fmt/format.h>

namespace banger {

namespace {

// libpolkit-gobject-1 pulls in GLib, GIO and a dozen more libraries: loading
// them at startup would cost most of a direct call's time, although only
// pkexec'd calls and --doctor ever ask polkit. So it is opened on first use,
// the way systemd dlopens its optional libraries. The headers are used for
// the types only; every call goes through these pointers.
struct PolkitLib {
    decltype(&polkit_authority_get_sync) authority_get_sync;
    decltype(&polkit_unix_process_new_for_owner) unix_process_new_for_owner;
    decltype(&polkit_details_new) details_new;
    decltype(&polkit_details_insert) details_insert;
    decltype(&polkit_authority_check_authorization_sync) check_authorization_sync;
    decltype(&polkit_authorization_result_get_is_authorized) result_is_authorized;
    decltype(&polkit_authorization_result_get_is_challenge) result_is_challenge;
    decltype(&g_object_unref) object_unref;
    decltype(&g_error_free) error_free;
};

template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out) {
    void* sym = ::dlsym(handle, name);  // also searches the library's own dependencies (GLib)
    if (sym == nullptr) return false;
    out = reinterpret_cast<Fn>(sym);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's contract
    return true;
}

Result<const PolkitLib*> load_polkit() {
    static PolkitLib lib{};
    static std::string error;
    static const bool loaded = [] {
        // Never unloaded: GLib does not support it.
        void* handle = ::dlopen("libpolkit-gobject-1.so.0", RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = ::dlerror();
            error = why != nullptr ? why : "dlopen failed";
            return false;
        }
        bool ok = resolve(handle, "polkit_authority_get_sync", lib.authority_get_sync) &&
                  resolve(handle, "polkit_unix_process_new_for_owner", lib.unix_process_new_for_owner) &&
                  resolve(handle, "polkit_details_new", lib.details_new) &&
                  resolve(handle, "polkit_details_insert", lib.details_insert) &&
                  resolve(handle, "polkit_authority_check_authorization_sync", lib.check_authorization_sync) &&
                  resolve(handle, "polkit_authorization_result_get_is_authorized", lib.result_is_authorized) &&
                  resolve(handle, "polkit_authorization_result_get_is_challenge", lib.result_is_challenge) &&
                  resolve(handle, "g_object_unref", lib.object_unref) &&
                  resolve(handle, "g_error_free", lib.error_free);
        if (!ok) error = "libpolkit-gobject-1 lacks a symbol banger-signal needs";
        return ok;
    }();
    if (!loaded) {
        return Failure{Outcome::NotAuthorized,
                       fmt::format("cannot load libpolkit-gobject-1 ({}); install libpolkit-gobject-1-0", error)};
    }
    return &lib;
}

Failure denied(std::string reason) { return Failure{Outcome::NotAuthorized, std::move(reason)}; }

}  // namespace

Result<PolkitAnswer> ask_polkit(const PolkitQuery& query) {
    auto loaded = load_polkit();
    if (!loaded) return std::move(loaded).failure();
    const PolkitLib& pk = *loaded.value();

    auto unref = [&pk](gpointer p) {
        if (p != nullptr) pk.object_unref(p);
    };
    auto free_error = [&pk](GError* e) {
        if (e != nullptr) pk.error_free(e);
    };
    using ErrorPtr = std::unique_ptr<GError, decltype(free_error)>;

    // One connection to polkitd for the whole call: a batch of 100 pids
    // must not connect to the system bus 100 times. Kept until exit.
    static PolkitAuthority* authority = nullptr;
    GError* raw_error = nullptr;
    if (authority == nullptr) authority = pk.authority_get_sync(nullptr, &raw_error);
    ErrorPtr error(raw_error, free_error);
    if (authority == nullptr) {
        return denied(fmt::format("cannot reach polkit on the system bus ({}); is polkitd running?",
                                  error ? error->message : "unknown error"));
    }
    // The subject is the caller process with the caller's uid: polkitd would
    // authorize any uid-0 subject, and banger-signal itself runs as root.
    // start_time 0: polkit reads it from /proc itself.
    std::unique_ptr<PolkitSubject, decltype(unref)> subject(
        pk.unix_process_new_for_owner(query.subject_pid, 0, static_cast<gint>(query.subject_uid)), unref);
    std::unique_ptr<PolkitDetails, decltype(unref)> details(pk.details_new(), unref);
    for (const auto& [key, value] : query.details) pk.details_insert(details.get(), key.c_str(), value.c_str());

    raw_error = nullptr;
    // Flags none: no interaction. A challenge counts as a denial, because
    // nobody could answer it here.
    std::unique_ptr<PolkitAuthorizationResult, decltype(unref)> result(
        pk.check_authorization_sync(authority, subject.get(), query.action_id.c_str(), details.get(),
                                    POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE, nullptr, &raw_error),
        unref);
    error.reset(raw_error);
    if (!result) {
        return denied(fmt::format("polkit could not check {} ({}); is org.banger.signal.policy installed?",
                                  query.action_id, error ? error->message : "unknown error"));
    }
    if (pk.result_is_authorized(result.get()) != FALSE) return PolkitAnswer::Yes;
    if (pk.result_is_challenge(result.get()) != FALSE) return PolkitAnswer::Challenge;
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
