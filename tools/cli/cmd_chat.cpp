// `qinfer chat`: an interactive REPL over the model's chat template. Each turn renders the whole conversation with
// the template (so the template's rules about earlier <think> blocks apply) and generates the reply, streamed.
// Ctrl-C during a reply stops that reply; Ctrl-C at the prompt (or /exit, or end of input) leaves.

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>

#include "args.h"
#include "chat/chat_template.h"
#include "commands.h"
#include "device_flags.h"
#include "core/check.h"
#include "io/generation_config.h"
#include "runtime/generate.h"
#include "text_stream.h"
#include "tokenizer/tokenizer.h"

namespace qinfer::cli {

namespace {

std::atomic<bool> g_generating{false};
std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
    if (g_generating.load()) {
        g_interrupted.store(true);
        return;
    }
    constexpr char kBye[] = "\n";
    [[maybe_unused]] const ssize_t n = ::write(STDOUT_FILENO, kBye, sizeof kBye - 1);
    ::_exit(0);
}

}  // namespace

int cmd_chat(const std::vector<std::string>& argv) {
    std::vector<FlagSpec> flags = {
        {"model", "DIR", "Hugging Face model folder (weights, tokenizer, chat template)"},
        {"system", "TEXT", "system message at the start of the conversation"},
        {"enable-thinking", "true|false", "initial thinking mode passed to the template (toggle with /think)"},
        {"max-new-tokens", "N", "tokens per reply (default: generation_config.json, else 512)"},
        device_flag(),
        max_ctx_flag(),
    };
    for (auto& f : sampling_flags()) flags.push_back(f);
    Args args("chat",
              "Interactive chat. Type a message and press Enter. Commands: /reset (forget the conversation),\n"
              "/think on|off (thinking mode), /exit. Ctrl-C stops the current reply; at the prompt it exits.",
              {}, flags, argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const std::filesystem::path model_dir = args.get("model");
    const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(model_dir);
    const ChatTemplateSource src = load_chat_template(model_dir);
    const ChatTemplate tmpl(src.text, src.origin);
    const GenerationConfig gen = load_generation_config(model_dir);
    std::optional<bool> thinking;
    if (args.has("enable-thinking")) {
        const std::string v = args.get("enable-thinking");
        QINFER_CHECK(v == "true" || v == "false", "--enable-thinking: expected true or false, got '", v, "'");
        thinking = v == "true";
    }
    GenerateOptions opt;
    opt.max_new_tokens = args.get_int("max-new-tokens", gen.max_new_tokens.value_or(512));
    opt.sampling = sampling_from(args, gen);
    const auto model = load_engine(model_dir, engine_options(args));
    opt.stop_ids = model->config().eos_token_ids;
    for (int64_t id : gen.eos_token_ids) opt.stop_ids.push_back(id);
    if (auto id = tokenizer.token_to_id("<|im_end|>")) opt.stop_ids.push_back(*id);

    std::vector<ChatMessage> history;
    const auto reset = [&] {
        history.clear();
        if (args.has("system")) history.push_back(ChatMessage::from_json({{"role", "system"}, {"content", args.get("system")}}));
    };
    reset();
    struct sigaction sa{};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);

    const bool tty = ::isatty(STDIN_FILENO) == 1;
    std::string line;
    for (;;) {
        if (tty) std::fputs(">>> ", stdout), std::fflush(stdout);
        if (!std::getline(std::cin, line)) break;
        if (line.empty()) continue;
        if (line == "/exit" || line == "/quit") break;
        if (line == "/reset") {
            reset();
            std::puts("(conversation cleared)");
            continue;
        }
        if (line == "/think on" || line == "/think off") {
            thinking = line == "/think on";
            std::printf("(thinking %s)\n", *thinking ? "on" : "off");
            continue;
        }
        history.push_back(ChatMessage::from_json({{"role", "user"}, {"content", line}}));
        ChatTemplateInputs in;
        in.messages = history;
        in.add_generation_prompt = true;
        in.enable_thinking = thinking;
        if (auto id = tokenizer.bos_token_id()) in.bos_token = tokenizer.id_to_token(*id);
        if (auto id = tokenizer.eos_token_id()) in.eos_token = tokenizer.id_to_token(*id);
        std::vector<int64_t> prompt;
        for (int32_t id : tokenizer.encode(tmpl.render(in))) prompt.push_back(id);

        TextStream text(tokenizer, {}, stdout, /*skip_special=*/true);
        g_interrupted.store(false);
        opt.on_token = [&](int64_t id) { return text.push(static_cast<int32_t>(id)) && !g_interrupted.load(); };
        g_generating.store(true);
        const GenerateResult r = generate(*model, prompt, opt);
        g_generating.store(false);
        text.finish();
        std::printf(g_interrupted.load() ? " [stopped]\n" : "\n");
        std::fprintf(stderr, "(%zu tokens, %.1f tok/s)\n", r.tokens.size(),
                     r.decode_seconds > 0 ? static_cast<double>(r.tokens.size()) / r.decode_seconds : 0.0);
        history.push_back(ChatMessage::from_json({{"role", "assistant"}, {"content", text.text()}}));
    }
    return 0;
}

}  // namespace qinfer::cli
