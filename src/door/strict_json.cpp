#include "door/strict_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "policy/text.hpp"

namespace banger {

namespace {

// nlohmann's SAX interface builds the value: its lexer does the hard part
// (escapes, UTF-8, numbers), this keeps what a DOM would lose or merge.
class Builder {
public:
    using json = nlohmann::json;

    explicit Builder(const JsonLimits& limits) : limits_(limits) {}

    bool null() { return add(JsonValue{}); }
    bool boolean(bool b) {
        JsonValue v;
        v.kind = JsonValue::Kind::Boolean;
        v.boolean = b;
        return add(std::move(v));
    }
    bool number_integer(json::number_integer_t n) { return number(JsonValue::Kind::Negative, std::to_string(n)); }
    bool number_unsigned(json::number_unsigned_t n) { return number(JsonValue::Kind::Unsigned, std::to_string(n)); }
    bool number_float(json::number_float_t /*n*/, const json::string_t& text) {
        return number(JsonValue::Kind::Float, text);
    }
    bool string(json::string_t& s) {
        JsonValue v;
        v.kind = JsonValue::Kind::String;
        v.text = std::move(s);
        return add(std::move(v));
    }
    bool binary(json::binary_t& /*unused*/) { return fail("binary values are not JSON"); }
    bool start_object(std::size_t /*unknown*/) { return open(JsonValue::Kind::Object); }
    bool key(json::string_t& k) {
        const JsonValue& object = open_.back();
        if (object.find(k) != nullptr) return fail(fmt::format("the key \"{}\" appears twice", excerpt(k)));
        if (object.members.size() >= limits_.max_members) {
            return fail(fmt::format("an object has more than {} members", limits_.max_members));
        }
        keys_.back() = std::move(k);
        return true;
    }
    bool end_object() { return close(); }
    bool start_array(std::size_t /*unknown*/) { return open(JsonValue::Kind::Array); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t position, const std::string& /*token*/, const nlohmann::detail::exception& /*e*/) {
        // nlohmann's own message quotes the input: ours names only the place.
        return fail(fmt::format("not valid JSON (at byte {})", position));
    }

    [[nodiscard]] Result<JsonValue> result() && {
        if (!error_.empty()) return Failure{Outcome::UsageError, std::move(error_)};
        if (!root_ || !open_.empty()) return Failure{Outcome::UsageError, "not valid JSON"};
        return std::move(*root_);
    }

private:
    bool fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
        return false;
    }
    bool number(JsonValue::Kind kind, std::string text) {
        JsonValue v;
        v.kind = kind;
        v.text = std::move(text);
        return add(std::move(v));
    }
    bool open(JsonValue::Kind kind) {
        if (open_.size() >= limits_.max_depth) return fail(fmt::format("nested deeper than {}", limits_.max_depth));
        JsonValue v;
        v.kind = kind;
        open_.push_back(std::move(v));
        keys_.emplace_back();
        return true;
    }
    bool close() {
        JsonValue done = std::move(open_.back());
        open_.pop_back();
        keys_.pop_back();
        return add(std::move(done));
    }
    bool add(JsonValue v) {
        if (open_.empty()) {
            root_ = std::move(v);
            return true;
        }
        JsonValue& parent = open_.back();
        if (parent.kind == JsonValue::Kind::Array) {
            parent.items.push_back(std::move(v));
        } else {
            parent.members.emplace_back(std::move(keys_.back()), std::move(v));
        }
        return true;
    }

    const JsonLimits limits_;
    std::vector<JsonValue> open_;    // the arrays and objects not closed yet
    std::vector<std::string> keys_;  // for each: the key its next member gets
    std::optional<JsonValue> root_;
    std::string error_;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view key) const noexcept {
    for (const auto& [name, value] : members) {
        if (name == key) return &value;
    }
    return nullptr;
}

Result<JsonValue> parse_strict_json(std::string_view text, const JsonLimits& limits) {
    // nlohmann's lexer takes a NUL byte for the end of its input: whatever
    // followed it would go unseen.
    if (text.find('\0') != std::string_view::npos) return Failure{Outcome::UsageError, "a NUL byte inside the JSON"};
    Builder builder(limits);
    // strict: nothing may follow the value. Comments are not JSON.
    (void)nlohmann::json::sax_parse(text, &builder, nlohmann::json::input_format_t::json, true, false);
    return std::move(builder).result();
}

}  // namespace banger
