// defines: qinfer::jinja::LoopContext

#include "chat/jinja/loop_context.h"

#include "chat/jinja/error.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

bool LoopContext::has_item(size_t i) const {
    while (items_.size() <= i && !exhausted_) {
        std::optional<Value> v = pull_();
        if (v) {
            items_.push_back(std::move(*v));
        } else {
            exhausted_ = true;
        }
    }
    return i < items_.size();
}

size_t LoopContext::length() const {
    while (!exhausted_) has_item(items_.size());
    return items_.size();
}

bool LoopContext::advance() {
    size_t next = started_ ? index0_ + 1 : 0;
    if (!has_item(next)) return false;
    index0_ = next;
    started_ = true;
    return true;
}

Value LoopContext::get_attr(std::string_view name) const {
    const int64_t i = static_cast<int64_t>(index0_);
    if (name == "index") return Value::integer(i + 1);
    if (name == "index0") return Value::integer(i);
    if (name == "first") return Value::boolean(i == 0);
    if (name == "depth") return Value::integer(1);
    if (name == "depth0") return Value::integer(0);
    if (name == "last") return Value::boolean(!has_item(index0_ + 1));
    if (name == "previtem") {
        if (i == 0) return Value::undefined("there is no previous item");
        return items_[index0_ - 1];
    }
    if (name == "nextitem") {
        if (!has_item(index0_ + 1)) return Value::undefined("there is no next item");
        return items_[index0_ + 1];
    }
    const int64_t n =
        (name == "length" || name == "revindex" || name == "revindex0") ? static_cast<int64_t>(length()) : 0;
    if (name == "revindex") return Value::integer(n - i);
    if (name == "revindex0") return Value::integer(n - i - 1);
    if (name == "length") return Value::integer(n);
    if (name == "cycle") {
        size_t idx = index0_;
        return Value::function("cycle", FunctionKind::Method, [idx](Interpreter&, CallArgs& args) {
            if (!args.keyword.empty()) fail_value("loop.cycle() takes no keyword arguments");
            if (args.positional.empty()) fail_value("no items for cycling given");
            return args.positional[idx % args.positional.size()];
        });
    }
    if (name == "changed") {
        auto last = last_changed_;
        auto called = changed_called_;
        return Value::function("changed", FunctionKind::Method, [last, called](Interpreter&, CallArgs& args) {
            if (!args.keyword.empty()) fail_value("loop.changed() takes no keyword arguments");
            bool differs = !*called || last->size() != args.positional.size();
            for (size_t k = 0; !differs && k < last->size(); ++k) differs = !equals((*last)[k], args.positional[k]);
            *called = true;
            if (differs) *last = args.positional;
            return Value::boolean(differs);
        });
    }
    return Value::undefined(str_cat("'LoopContext' object has no attribute '", name, "'"));
}

std::string LoopContext::repr() const {
    return str_cat("<LoopContext ", index0_ + 1, "/", length(), ">");
}

}  // namespace qinfer::jinja
