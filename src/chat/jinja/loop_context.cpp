// defines: qinfer::jinja::LoopContext

#include "chat/jinja/loop_context.h"

#include "chat/jinja/error.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

Value LoopContext::get_attr(std::string_view name) const {
    const int64_t n = static_cast<int64_t>(items_.size());
    const int64_t i = static_cast<int64_t>(index0_);
    if (name == "index") return Value::integer(i + 1);
    if (name == "index0") return Value::integer(i);
    if (name == "revindex") return Value::integer(n - i);
    if (name == "revindex0") return Value::integer(n - i - 1);
    if (name == "first") return Value::boolean(i == 0);
    if (name == "last") return Value::boolean(i == n - 1);
    if (name == "length") return Value::integer(n);
    if (name == "depth") return Value::integer(1);
    if (name == "depth0") return Value::integer(0);
    if (name == "previtem") {
        if (i == 0) return Value::undefined("there is no previous item");
        return items_[index0_ - 1];
    }
    if (name == "nextitem") {
        if (i + 1 >= n) return Value::undefined("there is no next item");
        return items_[index0_ + 1];
    }
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

std::string LoopContext::repr() const { return str_cat("<LoopContext ", index0_ + 1, "/", items_.size(), ">"); }

}  // namespace qinfer::jinja
