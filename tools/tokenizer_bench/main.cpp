// qinfer_tokenizer_bench: measures single-threaded Tokenizer::encode (and decode) throughput.
//
//   qinfer_tokenizer_bench --tokenizer DIR_OR_TOKENIZER_JSON [--file TEXT] [--mb 4] [--repeat 5] [--chunk 0]
//
// Without --file the text is a generated English corpus (seeded, so runs are comparable). --chunk N encodes the
// text in pieces of about N bytes (cut at spaces), as a server encoding many prompts would; 0 encodes it whole.
// Reports the best and mean MB/s over the repeats after one warm-up pass (which also fills the BPE cache, as any
// long-running process has it filled), by wall time and by the thread's CPU time (which other processes competing
// for the cores do not inflate; on an idle machine the two agree).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "tokenizer/tokenizer.h"

namespace {

std::string generate_english(size_t bytes) {
    static const char* words[] = {
        "the",       "of",        "and",       "to",       "a",          "in",        "is",          "it",
        "you",       "that",      "he",        "was",      "for",        "on",        "are",         "with",
        "as",        "I",         "his",       "they",     "be",         "at",        "one",         "have",
        "this",      "from",      "or",        "had",      "by",         "not",       "word",        "but",
        "what",      "some",      "we",        "can",      "out",        "other",     "were",        "all",
        "there",     "when",      "up",        "use",      "your",       "how",       "said",        "an",
        "each",      "she",       "which",     "do",       "their",      "time",      "if",          "will",
        "way",       "about",     "many",      "then",     "them",       "write",     "would",       "like",
        "so",        "these",     "her",       "long",     "make",       "thing",     "see",         "him",
        "two",       "has",       "look",      "more",     "day",        "could",     "go",          "come",
        "did",       "number",    "sound",     "no",       "most",       "people",    "my",          "over",
        "know",      "water",     "than",      "call",     "first",      "who",       "may",         "down",
        "side",      "been",      "now",       "find",     "model",      "language",  "inference",   "engine",
        "tokenizer", "sequence",  "attention", "memory",   "throughput", "latency",   "benchmark",   "network",
        "computer",  "algorithm", "system",    "research", "government", "important", "development", "experience",
        "don't",     "it's",      "we're",     "they'll",  "couldn't",   "world",     "question",    "answer"};
    constexpr size_t n_words = sizeof(words) / sizeof(words[0]);
    std::mt19937 rng(20240607);
    std::string out;
    out.reserve(bytes + 64);
    bool sentence_start = true;
    int words_in_sentence = 0, sentences_in_paragraph = 0;
    while (out.size() < bytes) {
        std::string w = words[rng() % n_words];
        if (rng() % 50 == 0) w = std::to_string(rng() % 100000);
        if (sentence_start) {
            w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
            sentence_start = false;
        }
        out += w;
        ++words_in_sentence;
        if (words_in_sentence > 5 && rng() % 9 == 0) {
            out += (rng() % 10 == 0) ? "?" : ".";
            words_in_sentence = 0;
            sentence_start = true;
            if (++sentences_in_paragraph > 4 && rng() % 3 == 0) {
                out += "\n\n";
                sentences_in_paragraph = 0;
                continue;
            }
        } else if (rng() % 12 == 0) {
            out += ",";
        }
        out += " ";
    }
    return out;
}

std::vector<std::string_view> chunks_of(std::string_view text, size_t chunk) {
    std::vector<std::string_view> out;
    if (chunk == 0) {
        out.push_back(text);
        return out;
    }
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = std::min(text.size(), pos + chunk);
        if (end < text.size()) {
            const size_t sp = text.find(' ', end);
            end = sp == std::string_view::npos ? text.size() : sp;
        }
        out.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: qinfer_tokenizer_bench --tokenizer DIR_OR_JSON [--file TEXT] [--mb 4] [--repeat 5] "
                 "[--chunk 0]\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string tokenizer_path, file;
    double mb = 4;
    int repeat = 5;
    size_t chunk = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--tokenizer") {
            tokenizer_path = next();
        } else if (a == "--file") {
            file = next();
        } else if (a == "--mb") {
            mb = std::atof(next().c_str());
        } else if (a == "--repeat") {
            repeat = std::max(1, std::atoi(next().c_str()));
        } else if (a == "--chunk") {
            chunk = static_cast<size_t>(std::atoll(next().c_str()));
        } else {
            usage();
        }
    }
    if (tokenizer_path.empty()) usage();
    using clock = std::chrono::steady_clock;
    auto seconds = [](clock::duration d) { return std::chrono::duration<double>(d).count(); };
    try {
        const auto t0 = clock::now();
        const auto tok = std::filesystem::is_directory(tokenizer_path)
                             ? qinfer::tok::Tokenizer::from_dir(tokenizer_path)
                             : qinfer::tok::Tokenizer::from_file(tokenizer_path);
        std::printf("load: %.3f s (vocab_size %zu)\n", seconds(clock::now() - t0), tok.vocab_size());

        std::string text;
        if (!file.empty()) {
            std::ifstream f(file, std::ios::binary | std::ios::ate);
            QINFER_CHECK(f.good(), "cannot open ", file);
            text.resize(static_cast<size_t>(f.tellg()));
            f.seekg(0);
            f.read(text.data(), static_cast<std::streamsize>(text.size()));
            QINFER_CHECK(f.good(), "cannot read ", file);
        } else {
            text = generate_english(static_cast<size_t>(mb * 1e6));
        }
        const auto parts = chunks_of(text, chunk);
        std::printf("text: %s, %.2f MB in %zu chunk(s)\n", file.empty() ? "generated English" : file.c_str(),
                    static_cast<double>(text.size()) / 1e6, parts.size());

        size_t n_tokens = 0;
        std::vector<int32_t> all_ids;
        for (auto p : parts) {  // warm-up (fills the BPE cache)
            auto ids = tok.encode(p);
            n_tokens += ids.size();
            all_ids.insert(all_ids.end(), ids.begin(), ids.end());
        }
        auto cpu_seconds = [] {
            timespec ts{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
        };
        double best = 1e30, total = 0, best_cpu = 1e30, total_cpu = 0;
        for (int r = 0; r < repeat; ++r) {
            const auto s = clock::now();
            const double c = cpu_seconds();
            size_t sink = 0;
            for (auto p : parts) sink += tok.encode(p).size();
            const double dt = seconds(clock::now() - s);
            const double dc = cpu_seconds() - c;
            QINFER_CHECK(sink == n_tokens, "encode is not deterministic");
            best = std::min(best, dt);
            total += dt;
            best_cpu = std::min(best_cpu, dc);
            total_cpu += dc;
        }
        const double mbytes = static_cast<double>(text.size()) / 1e6;
        std::printf("encode: best %.1f MB/s, mean %.1f MB/s, %.2f M tokens/s (%zu tokens, %.2f bytes/token, %d runs)\n",
                    mbytes / best, mbytes * repeat / total, static_cast<double>(n_tokens) / best / 1e6, n_tokens,
                    static_cast<double>(text.size()) / static_cast<double>(n_tokens), repeat);
        std::printf("encode (thread CPU time): best %.1f MB/s, mean %.1f MB/s\n", mbytes / best_cpu,
                    mbytes * repeat / total_cpu);

        const auto s = clock::now();
        const std::string back = tok.decode(all_ids);
        const double dt = seconds(clock::now() - s);
        std::printf("decode: %.1f MB/s (round trip %s)\n", static_cast<double>(back.size()) / 1e6 / dt,
                    back == text ? "exact" : "differs (NFC or special-token text)");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "qinfer_tokenizer_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
