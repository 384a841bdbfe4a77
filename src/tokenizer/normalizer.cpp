#include "tokenizer/normalizer.h"

#include <unicode/unorm2.h>
#include <unicode/uset.h>
#include <unicode/ustring.h>

#include "core/check.h"
#include "tokenizer/utf8.h"

namespace qinfer::tok {

namespace {

// The four ICU normalizers restricted to Unicode 9.0 characters (see normalizer.h), built once, never freed.
struct Instances {
    const UNormalizer2* filtered[4] = {};
    UErrorCode status = U_ZERO_ERROR;
    Instances() {
        static const UChar kAge9[] = u"[:age=9.0:]";
        USet* set = uset_openPattern(kAge9, -1, &status);
        if (U_FAILURE(status)) return;
        uset_freeze(set);
        const UNormalizer2* base[4] = {unorm2_getNFCInstance(&status), unorm2_getNFDInstance(&status),
                                       unorm2_getNFKCInstance(&status), unorm2_getNFKDInstance(&status)};
        for (int i = 0; i < 4 && U_SUCCESS(status); ++i) {
            filtered[i] = unorm2_openFiltered(base[i], set, &status);
        }
    }
};

const UNormalizer2* icu_instance(int form) {
    static const Instances inst;
    QINFER_CHECK(U_SUCCESS(inst.status) && inst.filtered[form] != nullptr,
                 "ICU: cannot load normalization data: ", u_errorName(inst.status));
    return inst.filtered[form];
}

void check_icu(UErrorCode st, const char* what) {
    QINFER_CHECK(U_SUCCESS(st), "ICU ", what, " failed: ", u_errorName(st));
}

// Normalizes UTF-8 `in` into `out`; returns false (out untouched) when `in` is already normalized.
bool normalize_one(const UNormalizer2* n, std::string_view in, std::string& out) {
    UErrorCode st = U_ZERO_ERROR;
    // UTF-8 -> UTF-16 (ICU's normalizer works on UTF-16).
    int32_t len16 = 0;
    u_strFromUTF8(nullptr, 0, &len16, in.data(), static_cast<int32_t>(in.size()), &st);
    if (st == U_BUFFER_OVERFLOW_ERROR) st = U_ZERO_ERROR;
    check_icu(st, "UTF-8 conversion");
    std::u16string src(static_cast<size_t>(len16), u'\0');
    u_strFromUTF8(reinterpret_cast<UChar*>(src.data()), len16, nullptr, in.data(), static_cast<int32_t>(in.size()),
                  &st);
    check_icu(st, "UTF-8 conversion");
    const auto* s16 = reinterpret_cast<const UChar*>(src.data());
    const int32_t yes = unorm2_spanQuickCheckYes(n, s16, len16, &st);
    check_icu(st, "normalization quick check");
    if (yes == len16) return false;
    // Keep the normalized prefix, normalize the rest (ICU's documented incremental pattern).
    std::u16string dst(src.data(), static_cast<size_t>(yes));
    dst.resize(static_cast<size_t>(len16) * 3 + 16);  // NFKD can expand; retried below if still too small
    int32_t len = unorm2_normalizeSecondAndAppend(n, reinterpret_cast<UChar*>(dst.data()), yes,
                                                  static_cast<int32_t>(dst.size()), s16 + yes, len16 - yes, &st);
    if (st == U_BUFFER_OVERFLOW_ERROR) {
        st = U_ZERO_ERROR;
        dst.assign(src.data(), static_cast<size_t>(yes));
        dst.resize(static_cast<size_t>(len) + 1);
        len = unorm2_normalizeSecondAndAppend(n, reinterpret_cast<UChar*>(dst.data()), yes,
                                              static_cast<int32_t>(dst.size()), s16 + yes, len16 - yes, &st);
    }
    check_icu(st, "normalization");
    // UTF-16 -> UTF-8.
    int32_t len8 = 0;
    u_strToUTF8(nullptr, 0, &len8, reinterpret_cast<const UChar*>(dst.data()), len, &st);
    if (st == U_BUFFER_OVERFLOW_ERROR) st = U_ZERO_ERROR;
    check_icu(st, "UTF-8 conversion");
    out.resize(static_cast<size_t>(len8));
    u_strToUTF8(out.data(), len8, nullptr, reinterpret_cast<const UChar*>(dst.data()), len, &st);
    check_icu(st, "UTF-8 conversion");
    return true;
}

}  // namespace

void Normalizer::parse_into(const JsonRef& j, std::vector<Form>& steps) {
    const std::string type = j.at("type").as_string();
    if (type == "NFC") {
        steps.push_back(Form::NFC);
    } else if (type == "NFD") {
        steps.push_back(Form::NFD);
    } else if (type == "NFKC") {
        steps.push_back(Form::NFKC);
    } else if (type == "NFKD") {
        steps.push_back(Form::NFKD);
    } else if (type == "Sequence") {
        const JsonRef list = j.at("normalizers");
        for (size_t i = 0; i < list.array_size(); ++i) parse_into(list.at(i), steps);
    } else {
        QINFER_FAIL(j.at("type").where(), ": unsupported normalizer type \"", type,
                    "\" (supported: NFC, NFD, NFKC, NFKD, Sequence, or null)");
    }
}

Normalizer Normalizer::from_json(const std::optional<JsonRef>& j) {
    Normalizer n;
    if (j) parse_into(*j, n.steps_);
    for (Form f : n.steps_) icu_instance(static_cast<int>(f));  // fail at load, not at the first encode
    return n;
}

std::string_view Normalizer::apply(std::string_view text, std::string& buf) const {
    // Every ASCII string is invariant under all four normalization forms.
    if (steps_.empty() || is_ascii(text)) return text;
    std::string_view cur = text;
    std::string tmp;
    for (Form f : steps_) {
        if (normalize_one(icu_instance(static_cast<int>(f)), cur, tmp)) {
            buf.swap(tmp);
            cur = buf;
        }
    }
    return cur;
}

}  // namespace qinfer::tok
