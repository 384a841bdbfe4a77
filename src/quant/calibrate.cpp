#include "quant/calibrate.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/check.h"
#include "models/model.h"

namespace qinfer::quant {

namespace {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Clears the observer however the forward ends.
struct ObserverGuard {
    Model& model;
    ~ObserverGuard() { model.set_input_observer({}); }
};

}  // namespace

std::vector<int64_t> default_calibration_ids(int64_t vocab_size) {
    QINFER_CHECK(vocab_size > 0, "calibration: vocab size ", vocab_size, " is not positive");
    uint64_t state = kCalibrationSeed;
    std::vector<int64_t> ids(static_cast<size_t>(kCalibrationLength));
    for (int64_t& id : ids) id = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(vocab_size));
    return ids;
}

std::vector<int64_t> read_calibration_ids(const std::filesystem::path& file, int64_t vocab_size) {
    std::ifstream f(file);
    QINFER_CHECK(f.good(), "--calib-ids: cannot open ", file.string());
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    std::vector<int64_t> ids;
    size_t i = 0;
    bool after_comma = false;  // a comma was seen since the last id: "1,,2" and a leading "," are errors
    while (i < text.size()) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            continue;
        }
        if (c == ',') {
            QINFER_CHECK(!after_comma && !ids.empty(), "--calib-ids ", file.string(),
                         ": empty element before the comma at byte ", i);
            after_comma = true;
            ++i;
            continue;
        }
        size_t end = i;
        while (end < text.size() && std::string_view(" \t\n\r,").find(text[end]) == std::string_view::npos) ++end;
        const std::string tok = text.substr(i, end - i);
        int64_t v = -1;
        bool digits = tok.size() <= 18 && !tok.empty();
        for (char d : tok) digits = digits && d >= '0' && d <= '9';
        if (digits) v = std::stoll(tok);
        QINFER_CHECK(digits, "--calib-ids ", file.string(), ": token '", tok, "' is not a non-negative integer id");
        QINFER_CHECK(v < vocab_size, "--calib-ids ", file.string(), ": token id ", v, " is out of range for vocab size ",
                     vocab_size);
        ids.push_back(v);
        after_comma = false;
        i = end;
    }
    QINFER_CHECK(!after_comma, "--calib-ids ", file.string(), ": trailing comma");
    QINFER_CHECK(!ids.empty(), "--calib-ids ", file.string(), ": no token ids in the file");
    return ids;
}

std::map<std::string, float> calibrate_input_amax(Model& model, std::span<const int64_t> ids) {
    std::map<std::string, float> amax;
    model.set_input_observer([&](const std::string& param, int64_t, int64_t, const Tensor& x) {
        float m = 0.0f;
        bool finite = true;
        for (float v : x.vec()) {
            finite = finite && std::isfinite(v);
            m = std::fmax(m, std::fabs(v));
        }
        QINFER_CHECK(finite, "calibration: the input of ", param, " is not finite");
        float& slot = amax[param];
        slot = std::fmax(slot, m);
    });
    ObserverGuard guard{model};
    SequenceState state = model.new_sequence();
    model.forward(ids, state);
    return amax;
}

}  // namespace qinfer::quant
