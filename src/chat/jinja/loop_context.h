#pragma once
// defines: qinfer::jinja::LoopContext (the `loop` variable of a for loop)

#include <memory>
#include <string>
#include <vector>

#include "chat/jinja/value.h"

namespace qinfer::jinja {

// loop.index, index0, revindex, revindex0, first, last, length, previtem, nextitem, depth, depth0, cycle(...),
// changed(...). One object per loop; the interpreter advances index0 before each iteration.
class LoopContext : public Object {
public:
    explicit LoopContext(std::vector<Value> items) : items_(std::move(items)) {}
    void set_index0(size_t i) { index0_ = i; }

    std::string type_name() const override { return "LoopContext"; }
    Value get_attr(std::string_view name) const override;
    std::string repr() const override;

private:
    std::vector<Value> items_;
    size_t index0_ = 0;
    std::shared_ptr<std::vector<Value>> last_changed_ = std::make_shared<std::vector<Value>>();
    std::shared_ptr<bool> changed_called_ = std::make_shared<bool>(false);
};

}  // namespace qinfer::jinja
