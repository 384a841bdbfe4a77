#pragma once
// defines: qinfer::layers::ParamMap, param
//
// Layers bind to the model's fp32 runtime parameters by runtime name once, at construction.

#include <map>
#include <string>

#include "core/check.h"
#include "core/tensor.h"

namespace qinfer::layers {

using ParamMap = std::map<std::string, Tensor>;

inline const Tensor& param(const ParamMap& params, const std::string& name) {
    auto it = params.find(name);
    QINFER_CHECK(it != params.end(), "internal: runtime parameter ", name, " was not loaded");
    return it->second;
}

}  // namespace qinfer::layers
