#include "sys/polkit.hpp"

#include <dlfcn.h>
#include <gio/gunixfdlist.h>
#include <polkit/polkit.h>

#include <charconv>
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
    decltype(&polkit_authority_get_backend_version) backend_version;
    decltype(&g_main_context_iteration) main_context_iteration;
    decltype(&g_object_unref) object_unref;
    decltype(&g_error_free) error_free;
    // GIO and GLib, which libpolkit-gobject-1 brings along: a check with a
    // pidfd subject is a D-Bus call made here (see send_check_with_pidfd).
    decltype(&g_bus_get_sync) bus_get_sync;
    decltype(&g_dbus_connection_call_with_unix_fd_list) call_with_fd_list;
    decltype(&g_dbus_connection_call_with_unix_fd_list_finish) call_with_fd_list_finish;
    decltype(&g_unix_fd_list_new) fd_list_new;
    decltype(&g_unix_fd_list_append) fd_list_append;
    decltype(&g_variant_builder_new) builder_new;
    decltype(&g_variant_builder_add) builder_add;
    decltype(&g_variant_builder_unref) builder_unref;
    decltype(&g_variant_new) variant_new;
    decltype(&g_variant_get) variant_get;
    decltype(&g_variant_unref) variant_unref;
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
        bool ok =
            resolve(handle, "polkit_authority_get_sync", lib.authority_get_sync) &&
            resolve(handle, "polkit_unix_process_new_for_owner", lib.unix_process_new_for_owner) &&
            resolve(handle, "polkit_details_new", lib.details_new) &&
            resolve(handle, "polkit_details_insert", lib.details_insert) &&
            resolve(handle, "polkit_authority_check_authorization_sync", lib.check_authorization_sync) &&
            resolve(handle, "polkit_authorization_result_get_is_authorized", lib.result_is_authorized) &&
            resolve(handle, "polkit_authorization_result_get_is_challenge", lib.result_is_challenge) &&
            resolve(handle, "polkit_authority_check_authorization", lib.check_authorization) &&
            resolve(handle, "polkit_authority_check_authorization_finish", lib.check_authorization_finish) &&
            resolve(handle, "polkit_authority_get_backend_version", lib.backend_version) &&
            resolve(handle, "g_main_context_iteration", lib.main_context_iteration) &&
            resolve(handle, "g_object_unref", lib.object_unref) && resolve(handle, "g_error_free", lib.error_free) &&
            resolve(handle, "g_bus_get_sync", lib.bus_get_sync) &&
            resolve(handle, "g_dbus_connection_call_with_unix_fd_list", lib.call_with_fd_list) &&
            resolve(handle, "g_dbus_connection_call_with_unix_fd_list_finish", lib.call_with_fd_list_finish) &&
            resolve(handle, "g_unix_fd_list_new", lib.fd_list_new) &&
            resolve(handle, "g_unix_fd_list_append", lib.fd_list_append) &&
            resolve(handle, "g_variant_builder_new", lib.builder_new) &&
            resolve(handle, "g_variant_builder_add", lib.builder_add) &&
            resolve(handle, "g_variant_builder_unref", lib.builder_unref) &&
            resolve(handle, "g_variant_new", lib.variant_new) && resolve(handle, "g_variant_get", lib.variant_get) &&
            resolve(handle, "g_variant_unref", lib.variant_unref);
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

// polkitd's version, as it told libpolkit when the connection was made ("126").
std::string_view backend_version(const PolkitLib& pk, PolkitAuthority* authority) {
    const char* version = pk.backend_version(authority);
    return version != nullptr ? std::string_view(version) : std::string_view();
}

// The system bus connection libpolkit made (GIO shares one per process),
// or null.
GDBusConnection* system_bus(const PolkitLib& pk) {
    static GDBusConnection* const bus = [&pk] {
        GError* error = nullptr;
        GDBusConnection* made = pk.bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
        if (error != nullptr) pk.error_free(error);
        return made;
    }();
    return bus;
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
    GDBusConnection* bus;  // set when the checks carry pidfd subjects
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

// CheckAuthorization's answer, (bba{ss}) in a tuple, or why there is none.
Result<PolkitAnswer> read_reply(const PolkitLib& pk, const PolkitQuery& query, GVariant* reply, GError* error) {
    if (reply == nullptr) {
        std::string why = error != nullptr ? error->message : "unknown error";
        if (error != nullptr) pk.error_free(error);
        return denied(fmt::format("polkit could not check {} ({}); is org.banger.signal.policy installed?",
                                  query.action_id, why));
    }
    gboolean authorized = FALSE;
    gboolean challenge = FALSE;
    GVariant* details = nullptr;
    pk.variant_get(reply, "((bb@a{ss}))", &authorized, &challenge, &details);
    pk.variant_unref(details);
    pk.variant_unref(reply);
    if (authorized != FALSE) return PolkitAnswer::Yes;
    return challenge != FALSE ? PolkitAnswer::Challenge : PolkitAnswer::No;
}

void on_checked_over_bus(GObject* source, GAsyncResult* res, gpointer user_data) {
    auto* pending = static_cast<PendingCheck*>(user_data);
    Batch& batch = *pending->batch;
    GError* error = nullptr;
    GVariant* reply = batch.pk->call_with_fd_list_finish(
        reinterpret_cast<GDBusConnection*>(source), nullptr, res,
        &error);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): GObject upcast
    batch.answers[pending->index].emplace(read_reply(*batch.pk, (*batch.queries)[pending->index], reply, error));
    --batch.in_flight;
}

// GVariant type strings are valid types as they are (G_VARIANT_TYPE would
// call a checking function this file does not load).
const GVariantType* variant_type(const char* type) {
    return reinterpret_cast<const GVariantType*>(type);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

// The check as a D-Bus call of our own, because libpolkit-gobject-1 sends
// no fds with it (through 127): the subject names the caller by pidfd, pid,
// start time and uid, and the pidfd travels in the message's fd list. A
// polkitd that takes pidfd subjects (124+) reads the pid from the pidfd
// (and sets subject.system_unit for rules); an older one uses pid and start
// time, as for the other path.
void send_check_with_pidfd(Batch& batch, PendingCheck& pending) {
    const PolkitLib& pk = *batch.pk;
    const PolkitQuery& query = (*batch.queries)[pending.index];
    GUnixFDList* fds = pk.fd_list_new();
    GError* error = nullptr;
    const gint handle = pk.fd_list_append(fds, query.subject_pidfd, &error);  // a duplicate, closed with the list
    if (handle < 0) {
        std::string why = error != nullptr ? error->message : "unknown error";
        if (error != nullptr) pk.error_free(error);
        pk.object_unref(fds);
        batch.answers[pending.index].emplace(denied(fmt::format("cannot pass the caller's pidfd to polkit ({})", why)));
        return;
    }
    GVariantBuilder* subject = pk.builder_new(variant_type("a{sv}"));
    pk.builder_add(subject, "{sv}", "pid", pk.variant_new("u", static_cast<guint32>(query.subject_pid)));
    pk.builder_add(subject, "{sv}", "start-time", pk.variant_new("t", static_cast<guint64>(query.subject_start_time)));
    pk.builder_add(subject, "{sv}", "uid", pk.variant_new("i", static_cast<gint32>(query.subject_uid)));
    pk.builder_add(subject, "{sv}", "pidfd", pk.variant_new("h", handle));
    GVariantBuilder* details = pk.builder_new(variant_type("a{ss}"));
    for (const auto& [key, value] : query.details) pk.builder_add(details, "{ss}", key.c_str(), value.c_str());
    // Flags 0, as everywhere here: no interaction, a challenge is a denial.
    GVariant* parameters =
        pk.variant_new("((sa{sv})sa{ss}us)", "unix-process", subject, query.action_id.c_str(), details, guint32{0}, "");
    pk.builder_unref(subject);
    pk.builder_unref(details);
    pk.call_with_fd_list(batch.bus, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                         "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", parameters,
                         variant_type("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, G_MAXINT, fds, nullptr,
                         on_checked_over_bus, &pending);
    pk.object_unref(fds);
    ++batch.in_flight;
}

void send_check(Batch& batch, PendingCheck& pending) {
    const PolkitLib& pk = *batch.pk;
    const PolkitQuery& query = (*batch.queries)[pending.index];
    if (batch.bus != nullptr && query.subject_pidfd >= 0) return send_check_with_pidfd(batch, pending);
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
    (void)system_bus(*loaded.value());  // the same connection, kept for checks with pidfd subjects
    return Done{};
}

std::vector<Status> check_polkit_all(const std::vector<PolkitQuery>& queries,
                                     const std::function<Status()>& subject_still_valid, PidfdSubjects pidfds) {
    auto answers = ask_polkit_all(queries, subject_still_valid, pidfds);
    std::vector<Status> statuses;
    statuses.reserve(queries.size());
    for (std::size_t i = 0; i < queries.size(); ++i) statuses.push_back(to_status(queries[i], std::move(answers[i])));
    return statuses;
}

std::vector<Result<PolkitAnswer>> ask_polkit_all(const std::vector<PolkitQuery>& queries,
                                                 const std::function<Status()>& subject_still_valid,
                                                 PidfdSubjects pidfds) {
    std::vector<Result<PolkitAnswer>> answers;
    answers.reserve(queries.size());
    auto loaded = load_polkit();
    auto auth = loaded ? authority(*loaded.value()) : Result<PolkitAuthority*>(loaded.failure());
    if (!auth) {
        for (std::size_t i = 0; i < queries.size(); ++i) answers.emplace_back(auth.failure());
        return answers;
    }
    const PolkitLib& pk = *loaded.value();
    GDBusConnection* bus = nullptr;
    const bool by_pidfd = pidfds == PidfdSubjects::Always || (pidfds == PidfdSubjects::WhereTaken &&
                                                              takes_pidfd_subjects(backend_version(pk, auth.value())));
    if (by_pidfd) bus = system_bus(pk);  // libpolkit's own connection: no second one
    Batch batch{&pk, auth.value(), bus, &queries, std::vector<std::optional<Result<PolkitAnswer>>>(queries.size())};
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
            send_check(batch, pending[batch.sent]);  // or answered at once, if it could not be sent
            ++batch.sent;
        }
        if (batch.in_flight == 0) break;
        batch.pk->main_context_iteration(nullptr, TRUE);
    }
    for (std::optional<Result<PolkitAnswer>>& slot : batch.answers) answers.push_back(std::move(slot).value());
    return answers;
}

}  // namespace banger
