#pragma once
// defines: qinfer::jinja::analyze_scopes
//
// jinja2 treats a name assigned anywhere in a frame (template, loop body, macro, ...) as local to the whole frame:
// read before the assignment (there, or in a nested frame) it is undefined rather than the context's value.
// analyze_scopes records, for every frame of a parsed template, the names to bind to undefined on entry.

#include <string>
#include <vector>

#include "chat/jinja/ast.h"

namespace qinfer::jinja {

// Fills the *_undefined / undefined_on_entry lists of every nested frame; returns the template frame's list.
std::vector<std::string> analyze_scopes(Body& template_body);

}  // namespace qinfer::jinja
