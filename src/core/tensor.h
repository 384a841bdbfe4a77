#pragma once
// defines: qinfer::Shape, qinfer::Tensor (owning fp32, row-major), shape_str, numel
//
// The CPU reference backend computes in fp32, so its one tensor type is an owning, contiguous fp32 array with a
// PyTorch-order shape (outermost first, last dimension contiguous; docs/NUMERICS.md). Device tensors and stored
// (quantized) weight formats get their own types when the CUDA backend arrives; this one stays the oracle's.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace qinfer {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
// "[2, 3, 4]"
std::string shape_str(const Shape& s);

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(Shape shape);                      // zero-filled
    Tensor(Shape shape, std::vector<float> values);    // values.size() must equal numel(shape)
    static Tensor zeros(Shape shape) { return Tensor(std::move(shape)); }

    const Shape& shape() const { return shape_; }
    int64_t dim(int i) const;                          // negative i counts from the end
    int ndim() const { return static_cast<int>(shape_.size()); }
    int64_t numel() const { return static_cast<int64_t>(data_.size()); }
    bool empty() const { return data_.empty(); }

    float* data() { return data_.data(); }
    const float* data() const { return data_.data(); }
    std::span<float> span() { return data_; }
    std::span<const float> span() const { return data_; }
    std::vector<float>& vec() { return data_; }
    const std::vector<float>& vec() const { return data_; }

    // Same data, new shape with the same element count (one dimension may be -1).
    Tensor& reshape(Shape shape);
    Tensor reshaped(Shape shape) const;

    // Rows [begin, end) of the outermost dimension, copied.
    Tensor rows(int64_t begin, int64_t end) const;
    // Pointer to row r of the outermost dimension.
    float* row(int64_t r) { return data_.data() + r * row_size(); }
    const float* row(int64_t r) const { return data_.data() + r * row_size(); }
    int64_t row_size() const;

private:
    Shape shape_;
    std::vector<float> data_;
};

// Columns [begin, end) of a 2-D tensor [R, C], copied: [R, end - begin].
Tensor slice_cols(const Tensor& x, int64_t begin, int64_t end);

}  // namespace qinfer
