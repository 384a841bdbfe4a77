// The jinja2 goldens of tests/chat/data/jinja_cases.json (tools/chat/make_jinja_cases.py): each template rendered
// by the environment transformers uses, with one shared context. Rendered text must match exactly; where jinja2
// fails, qinfer must fail too (raise_exception with the same message); where qinfer deliberately refuses a
// construct ("qinfer_error"), it must fail with a clear error instead of printing something.

#include <gtest/gtest.h>

#include "chat/chat_test_util.h"
#include "chat/jinja/template.h"

namespace qinfer {
namespace {

using nlohmann::ordered_json;

struct Outcome {
    bool ok = false;
    bool raised = false;  // TemplateRaisedError
    std::string text;     // output or error message
};

Outcome run_case(const std::string& tmpl, const ordered_json& context) {
    Outcome o;
    try {
        jinja::Template t(tmpl, "case");
        o.text = t.render(context);
        o.ok = true;
    } catch (const jinja::TemplateRaisedError& e) {
        o.raised = true;
        o.text = e.message();
    } catch (const Error& e) {
        o.text = e.what();
    }
    return o;
}

TEST(JinjaCases, MatchJinja2Goldens) {
    const ordered_json data = test::read_json_file(test::chat_data_dir() / "jinja_cases.json");
    const ordered_json& context = data.at("context");
    size_t n = 0, n_error = 0;
    for (const ordered_json& c : data.at("cases")) {
        const std::string tmpl = c.at("template").get<std::string>();
        SCOPED_TRACE("template: " + tmpl);
        Outcome o = run_case(tmpl, context);
        ++n;
        if (c.value("qinfer_error", false)) {
            EXPECT_FALSE(o.ok) << "qinfer should refuse this construct, but rendered: " << o.text;
            if (!o.ok) {
                EXPECT_FALSE(o.text.empty());
            }
        } else if (c.contains("expected")) {
            EXPECT_TRUE(o.ok) << "failed: " << o.text;
            if (o.ok) {
                EXPECT_EQ(o.text, c.at("expected").get<std::string>());
            }
        } else {
            ++n_error;
            const ordered_json& err = c.at("error");
            EXPECT_FALSE(o.ok) << "jinja2 fails with " << err.at("type").get<std::string>() << ": "
                               << err.at("message").get<std::string>() << "\nbut qinfer rendered: " << o.text;
            if (err.at("type") == "raise_exception") {
                EXPECT_TRUE(o.raised) << "expected raise_exception, got: " << o.text;
                EXPECT_EQ(o.text, err.at("message").get<std::string>());
            } else if (!o.ok) {
                EXPECT_FALSE(o.raised);
            }
        }
    }
    EXPECT_GT(n, 300u);
    EXPECT_GT(n_error, 50u);
}

}  // namespace
}  // namespace qinfer
