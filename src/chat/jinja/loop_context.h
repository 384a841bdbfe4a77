#pragma once
// defines: qinfer::jinja::LoopContext (the `loop` variable of a for loop)

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chat/jinja/value.h"

namespace qinfer::jinja {

// loop.index, index0, revindex, revindex0, first, last, length, previtem, nextitem, depth, depth0, cycle(...),
// changed(...). Items are pulled on demand, as jinja2's LoopContext does over the (lazily filtered) iterable: a
// loop filter (`for x in xs if cond`) is evaluated for an item only when the loop reaches it, or when loop.last /
// loop.nextitem / loop.length look ahead.
class LoopContext : public Object {
public:
    using Pull = std::function<std::optional<Value>()>;  // the next item, nullopt at the end
    explicit LoopContext(Pull pull) : pull_(std::move(pull)) {}

    // Moves to the next item; false when there is none.
    bool advance();
    const Value& current() const { return items_[index0_]; }

    std::string type_name() const override { return "LoopContext"; }
    Value get_attr(std::string_view name) const override;
    std::string repr() const override;

private:
    bool has_item(size_t i) const;  // pulls until item i exists or the source ends
    size_t length() const;

    mutable Pull pull_;
    mutable std::vector<Value> items_;
    mutable bool exhausted_ = false;
    size_t index0_ = 0;
    bool started_ = false;
    std::shared_ptr<std::vector<Value>> last_changed_ = std::make_shared<std::vector<Value>>();
    std::shared_ptr<bool> changed_called_ = std::make_shared<bool>(false);
};

}  // namespace qinfer::jinja
