#include "sys/polkit.hpp"

#include <dlfcn.h>
#include <polkit/polkit.h>

#include <optional>

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
    decltype(&polkit_authority_check_authorization) check_authorization;
    decltype(&polkit_authority_check_authorization_finish) check_authorization_finish;
    decltype(&g_main_context_iteration) main_context_iteration;
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
                  resolve(handle, "polkit_authority_check_authorization", lib.check_authorization) &&
                  resolve(handle, "polkit_authority_check_authorization_finish", lib.check_authorization_finish) &&
                  resolve(handle, "g_main_context_iteration", lib.main_context_iteration) &&
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

// One connection to polkitd for the whole call: a batch of pids must not
// connect to the system bus once per pid. Kept until exit.
// Also kept when it fails: a later attempt would connect with other
// credentials (after the helper gave up root), which polkitd would not trust.
Result<PolkitAuthority*> authority(const PolkitLib& pk) {
    static std::optional<Result<PolkitAuthority*>> cached;
    if (cached) return *cached;
    GError* error = nullptr;
    PolkitAuthority* made = pk.authority_get_sync(nullptr, &error);
    if (made == nullptr) {
        std::string why = error != nullptr ? error->message : "unknown error";
        if (error != nullptr) pk.error_free(error);
        cached = denied(fmt::format("cannot reach polkit on the system bus ({}); is polkitd running?", why));
    } else {
        cached = made;
    }
    return *cached;
}

// The subject is the caller process with the caller's uid: polkitd would
// authorize any uid-0 subject, and banger-signal itself runs as root. Its
// start time is the one read when the caller was pinned.
PolkitSubject* new_subject(const PolkitLib& pk, const PolkitQuery& query) {
    return pk.unix_process_new_for_owner(query.subject_pid, query.subject_start_time,
                                         static_cast<gint>(query.subject_uid));
}

PolkitDetails* new_details(const PolkitLib& pk, const PolkitQuery& query) {
    PolkitDetails* details = pk.details_new();
    for (const auto& [key, value] : query.details) pk.details_insert(details, key.c_str(), value.c_str());
    return details;
}

// The answer of one finished check, or why there is none.
Result<PolkitAnswer> read_result(const PolkitLib& pk, const PolkitQuery& query, PolkitAuthorizationResult* result,
                                 GError* error) {
    if (result == nullptr) {
        std::string why = error != nullptr ? error->message : "unknown error";
        if (error != nullptr) pk.error_free(error);
        return denied(fmt::format("polkit could not check {} ({}); is org.banger.signal.policy installed?",
                                  query.action_id, why));
    }
    PolkitAnswer answer = PolkitAnswer::No;
    if (pk.result_is_authorized(result) != FALSE) {
        answer = PolkitAnswer::Yes;
    } else if (pk.result_is_challenge(result) != FALSE) {
        answer = PolkitAnswer::Challenge;
    }
    pk.object_unref(result);
    return answer;
}

Status to_status(const PolkitQuery& query, Result<PolkitAnswer> answer) {
    if (!answer) return std::move(answer).failure();
    switch (answer.value()) {
        case PolkitAnswer::Yes: return Done{};
        case PolkitAnswer::Challenge:
            return denied(
                fmt::format("polkit denied {} for uid {} (it would need authentication, which is not "
                            "possible here)",
                            query.action_id, query.subject_uid));
        case PolkitAnswer::No: break;
    }
    return denied(fmt::format("polkit denied {} for uid {}", query.action_id, query.subject_uid));
}

// The checks of one call, sent through a bounded window: the system bus
// allows a connection only so many replies pending at once (dbus-daemon's
// max_replies_per_connection, 128 on Debian) and answers the rest with
// LimitsExceeded, which would deny targets the rules allow. polkitd answers
// one check at a time anyway, so a window well below the limit costs nothing.
constexpr std::size_t kChecksInFlight = 64;

struct Batch {
    const PolkitLib* pk;
    PolkitAuthority* authority;
    const std::vector<PolkitQuery>* queries;
    std::vector<std::optional<Result<PolkitAnswer>>> answers;
    std::size_t sent = 0;
    std::size_t in_flight = 0;
};

struct PendingCheck {
    Batch* batch;
    std::size_t index;
};

void on_checked(GObject* source, GAsyncResult* res, gpointer user_data) {
    auto* pending = static_cast<PendingCheck*>(user_data);
    Batch& batch = *pending->batch;
    GError* error = nullptr;
    PolkitAuthorizationResult* result = batch.pk->check_authorization_finish(
        reinterpret_cast<PolkitAuthority*>(source), res,
        &error);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): GObject upcast
    batch.answers[pending->index].emplace(read_result(*batch.pk, (*batch.queries)[pending->index], result, error));
    --batch.in_flight;
}

void send_check(Batch& batch, PendingCheck& pending) {
    const PolkitLib& pk = *batch.pk;
    const PolkitQuery& query = (*batch.queries)[pending.index];
    PolkitSubject* subject = new_subject(pk, query);
    PolkitDetails* details = new_details(pk, query);
    // Flags none, as in ask_polkit: a challenge is a denial.
    pk.check_authorization(batch.authority, subject, query.action_id.c_str(), details,
                           POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE, nullptr, on_checked, &pending);
    pk.object_unref(details);
    pk.object_unref(subject);
    ++batch.in_flight;
}

}  // namespace

Result<PolkitAnswer> ask_polkit(const PolkitQuery& query) {
    auto loaded = load_polkit();
    if (!loaded) return std::move(loaded).failure();
    const PolkitLib& pk = *loaded.value();
    auto auth = authority(pk);
    if (!auth) return std::move(auth).failure();

    PolkitSubject* subject = new_subject(pk, query);
    PolkitDetails* details = new_details(pk, query);
    GError* error = nullptr;
    // Flags none: no interaction. A challenge counts as a denial, because
    // nobody could answer it here.
    PolkitAuthorizationResult* result =
        pk.check_authorization_sync(auth.value(), subject, query.action_id.c_str(), details,
                                    POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE, nullptr, &error);
    pk.object_unref(details);
    pk.object_unref(subject);
    return read_result(pk, query, result, error);
}

Status connect_polkit() {
    auto loaded = load_polkit();
    if (!loaded) return std::move(loaded).failure();
    auto auth = authority(*loaded.value());
    if (!auth) return std::move(auth).failure();
    return Done{};
}

std::vector<Status> check_polkit_all(const std::vector<PolkitQuery>& queries,
                                     const std::function<Status()>& subject_still_valid) {
    std::vector<Status> statuses;
    statuses.reserve(queries.size());
    auto loaded = load_polkit();
    auto auth = loaded ? authority(*loaded.value()) : Result<PolkitAuthority*>(loaded.failure());
    if (!auth) {
        for (std::size_t i = 0; i < queries.size(); ++i) statuses.emplace_back(auth.failure());
        return statuses;
    }
    Batch batch{loaded.value(), auth.value(), &queries,
                std::vector<std::optional<Result<PolkitAnswer>>>(queries.size())};
    std::vector<PendingCheck> pending(queries.size());
    // The replies arrive on the default main context; each callback fills
    // its slot and frees a place in the window. polkit always completes a
    // call, with a result or an error.
    while (batch.sent < queries.size() || batch.in_flight > 0) {
        while (batch.sent < queries.size() && batch.in_flight < kChecksInFlight) {
            if (Status valid = subject_still_valid(); !valid) {
                for (; batch.sent < queries.size(); ++batch.sent) batch.answers[batch.sent].emplace(valid.failure());
                break;
            }
            pending[batch.sent] = PendingCheck{&batch, batch.sent};
            send_check(batch, pending[batch.sent]);
            ++batch.sent;
        }
        if (batch.in_flight == 0) break;
        batch.pk->main_context_iteration(nullptr, TRUE);
    }
    for (std::size_t i = 0; i < queries.size(); ++i)
        statuses.push_back(to_status(queries[i], std::move(*batch.answers[i])));
    return statuses;
}

}  // namespace banger
