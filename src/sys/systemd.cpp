#include "sys/systemd.hpp"

#include <dlfcn.h>
#include <gio/gio.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace banger {

namespace {

constexpr int kTimeoutMs = 5000;

// Like sys/polkit.cpp: GIO is loaded only by the calls that need it.
struct GioLib {
    decltype(&g_bus_get_sync) bus_get_sync;
    decltype(&g_dbus_connection_call_sync) call_sync;
    decltype(&g_variant_new) variant_new;
    decltype(&g_variant_get) variant_get;
    decltype(&g_variant_get_type_string) type_string;
    decltype(&g_variant_get_uint32) get_uint32;
    decltype(&g_variant_unref) variant_unref;
    decltype(&g_error_free) error_free;
};

template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out) {
    void* sym = ::dlsym(handle, name);
    if (sym == nullptr) return false;
    out = reinterpret_cast<Fn>(sym);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's contract
    return true;
}

const GioLib* load_gio() {
    static GioLib lib{};
    static const bool loaded = [] {
        void* handle = ::dlopen("libgio-2.0.so.0", RTLD_NOW | RTLD_LOCAL);  // never unloaded, as GLib wants
        return handle != nullptr && resolve(handle, "g_bus_get_sync", lib.bus_get_sync) &&
               resolve(handle, "g_dbus_connection_call_sync", lib.call_sync) &&
               resolve(handle, "g_variant_new", lib.variant_new) && resolve(handle, "g_variant_get", lib.variant_get) &&
               resolve(handle, "g_variant_get_type_string", lib.type_string) &&
               resolve(handle, "g_variant_get_uint32", lib.get_uint32) &&
               resolve(handle, "g_variant_unref", lib.variant_unref) && resolve(handle, "g_error_free", lib.error_free);
    }();
    return loaded ? &lib : nullptr;
}

Failure cannot(std::string why) {
    return Failure{Outcome::SystemError, fmt::format("cannot ask systemd for the service's own processes ({})", why)};
}

// One call to systemd; the reply, or why there is none (and whether it was
// systemd saying the unit is not loaded).
struct Reply {
    GVariant* value = nullptr;
    std::string error;
    bool no_such_unit = false;
};

Reply call(const GioLib& gio, GDBusConnection* bus, const char* path, const char* interface, const char* method,
           GVariant* params) {
    GError* error = nullptr;
    Reply reply;
    reply.value = gio.call_sync(bus, "org.freedesktop.systemd1", path, interface, method, params, nullptr,
                                G_DBUS_CALL_FLAGS_NO_AUTO_START, kTimeoutMs, nullptr, &error);
    if (reply.value == nullptr) {
        reply.error = error != nullptr ? error->message : "no reply";
        reply.no_such_unit = reply.error.find("org.freedesktop.systemd1.NoSuchUnit") != std::string::npos;
        if (error != nullptr) gio.error_free(error);
    }
    return reply;
}

Result<std::uint32_t> pid_property(const GioLib& gio, GDBusConnection* bus, const std::string& path, const char* name) {
    Reply reply = call(gio, bus, path.c_str(), "org.freedesktop.DBus.Properties", "Get",
                       gio.variant_new("(ss)", "org.freedesktop.systemd1.Service", name));
    if (reply.value == nullptr) return cannot(reply.error);
    std::uint32_t pid = 0;
    bool ok = std::string_view(gio.type_string(reply.value)) == "(v)";
    if (ok) {
        GVariant* inner = nullptr;
        gio.variant_get(reply.value, "(v)", &inner);
        ok = std::string_view(gio.type_string(inner)) == "u";
        if (ok) pid = gio.get_uint32(inner);
        gio.variant_unref(inner);
    }
    gio.variant_unref(reply.value);
    if (!ok) return cannot(fmt::format("{} is not a uint32", name));
    return pid;
}

}  // namespace

bool systemd_runs() noexcept {
    struct stat st {};
    return ::lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

Result<ServiceProcesses> ask_service_processes(const std::string& unit) {
    const GioLib* gio = load_gio();
    if (gio == nullptr) return cannot("libgio-2.0 cannot be loaded");
    GError* error = nullptr;
    GDBusConnection* bus = gio->bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
    if (bus == nullptr) {
        std::string why = error != nullptr ? error->message : "no system bus";
        if (error != nullptr) gio->error_free(error);
        return cannot(why);
    }
    // GetUnit, not the unit's path at once: a unit that is not loaded has
    // no processes, and asking by path would load it.
    Reply unit_path = call(*gio, bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "GetUnit",
                           gio->variant_new("(s)", unit.c_str()));
    if (unit_path.value == nullptr) {
        if (unit_path.no_such_unit) return ServiceProcesses{};
        return cannot(unit_path.error);
    }
    std::string path;
    if (std::string_view(gio->type_string(unit_path.value)) == "(o)") {
        const char* text = nullptr;
        gio->variant_get(unit_path.value, "(&o)", &text);
        path = text != nullptr ? text : "";
    }
    gio->variant_unref(unit_path.value);
    if (path.empty()) return cannot("GetUnit did not answer with an object path");
    auto main_pid = pid_property(*gio, bus, path, "MainPID");
    if (!main_pid) return std::move(main_pid).failure();
    auto control_pid = pid_property(*gio, bus, path, "ControlPID");
    if (!control_pid) return std::move(control_pid).failure();
    return ServiceProcesses{main_pid.value(), control_pid.value()};
}

}  // namespace banger
