#pragma once
// defines: qinfer::quant::summarise_exclude, qinfer::quant::check_exclude_summary
//
// The `exclude_modules` list a ModelOpt export writes (shared/docs/quantized_checkpoints.md §3.1, ModelOpt's
// `_prefix_wildcard_summarize_exclude_modules` in modelopt/torch/export/quant_utils.py): the unquantized module names
// summarised with prefix wildcards cut at dots only. For each unquantized name, the candidates in order are, at every
// '.', `prefix*` and then the pair {`prefix`, `prefix.*`}, and finally the exact name; the first candidate none of
// whose patterns matches a quantized module is taken (nothing is added when it is already in the list). So
// `model.layers.0.linear_attn*` is used when no quantized module starts with that text, a whole unquantized layer
// becomes `model.layers.3*` (or {`model.layers.3`, `model.layers.3.*`} when a `model.layers.30...` is quantized), and
// an excluded `in_proj_a` whose sibling `in_proj_ab` is quantized is written by its exact name.
//
// Patterns are fnmatch globs (`*` crosses dots) over checkpoint module names, as loaders match them (§3.2).

#include <string>
#include <vector>

namespace qinfer::quant {

// The sorted summary. Module names must not contain glob characters (*?[); that is an error naming the module.
std::vector<std::string> summarise_exclude(const std::vector<std::string>& unquantized,
                                           const std::vector<std::string>& quantized);

// The property a summary must have, checked with fnmatch itself: no pattern matches any quantized module, and every
// unquantized module is matched by some pattern. Throws qinfer::Error naming the pattern and the module otherwise.
void check_exclude_summary(const std::vector<std::string>& patterns, const std::vector<std::string>& unquantized,
                           const std::vector<std::string>& quantized);

}  // namespace qinfer::quant
