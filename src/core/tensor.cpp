#include "core/tensor.h"

#include <algorithm>
#include <sstream>

#include "core/check.h"

namespace qinfer {

int64_t numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}

std::string shape_str(const Shape& s) {
    std::ostringstream os;
    os << '[';
    for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
    os << ']';
    return os.str();
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
    for (int64_t d : shape_) QINFER_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape_));
    data_.assign(static_cast<size_t>(qinfer::numel(shape_)), 0.0f);
}

Tensor::Tensor(Shape shape, std::vector<float> values) : shape_(std::move(shape)), data_(std::move(values)) {
    QINFER_CHECK(static_cast<int64_t>(data_.size()) == qinfer::numel(shape_), "tensor of shape ", shape_str(shape_),
                 " given ", data_.size(), " values");
}

int64_t Tensor::dim(int i) const {
    const int n = ndim();
    const int j = i < 0 ? i + n : i;
    QINFER_CHECK(j >= 0 && j < n, "dim ", i, " out of range for shape ", shape_str(shape_));
    return shape_[static_cast<size_t>(j)];
}

int64_t Tensor::row_size() const {
    QINFER_CHECK(!shape_.empty(), "row access on a 0-d tensor");
    return shape_[0] == 0 ? 0 : numel() / shape_[0];
}

Tensor& Tensor::reshape(Shape shape) {
    int64_t known = 1;
    int infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            QINFER_CHECK(infer < 0, "reshape to ", shape_str(shape), ": more than one -1");
            infer = static_cast<int>(i);
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0) {
        QINFER_CHECK(known > 0 && numel() % known == 0, "cannot reshape ", shape_str(shape_), " to ", shape_str(shape));
        shape[static_cast<size_t>(infer)] = numel() / known;
    }
    QINFER_CHECK(qinfer::numel(shape) == numel(), "cannot reshape ", shape_str(shape_), " to ", shape_str(shape));
    shape_ = std::move(shape);
    return *this;
}

Tensor Tensor::reshaped(Shape shape) const {
    Tensor t = *this;
    t.reshape(std::move(shape));
    return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
    QINFER_CHECK(ndim() >= 1 && 0 <= begin && begin <= end && end <= shape_[0], "rows [", begin, ", ", end,
                 ") out of range for shape ", shape_str(shape_));
    Shape s = shape_;
    s[0] = end - begin;
    const int64_t rs = row_size();
    return Tensor(std::move(s), std::vector<float>(data_.begin() + begin * rs, data_.begin() + end * rs));
}

Tensor slice_cols(const Tensor& x, int64_t begin, int64_t end) {
    QINFER_CHECK(x.ndim() == 2 && 0 <= begin && begin <= end && end <= x.dim(1), "columns [", begin, ", ", end,
                 ") out of range for shape ", shape_str(x.shape()));
    const int64_t rows = x.dim(0), cols = x.dim(1), w = end - begin;
    Tensor out({rows, w});
    for (int64_t r = 0; r < rows; ++r) std::copy(x.data() + r * cols + begin, x.data() + r * cols + end, out.row(r));
    return out;
}

}  // namespace qinfer
