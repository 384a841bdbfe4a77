#include <iostream>
#include <iterator>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "core/check.h"
#include "tokenizer/tokenizer.h"

namespace qinfer::cli {

int cmd_tokenize(const std::vector<std::string>& argv) {
    Args args("tokenize",
              "Reads text from stdin (all of it, bytes as given) and prints its token ids, space-separated, or as a\n"
              "JSON array with --json. Special tokens written in the text (<|im_start|>, ...) are recognised, as\n"
              "transformers' tokenizer does. DIR may hold only tokenizer files (tokenizer.json, tokenizer_config.json).",
              {}, {{"model", "DIR", "folder with tokenizer.json"}, {"json", "", "print a JSON array of ids"}}, argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(args.get("model"));
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    const std::vector<int32_t> ids = tokenizer.encode(buf.str());
    if (args.has("json")) {
        std::cout << '[';
        for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? "," : "") << ids[i];
        std::cout << "]\n";
    } else {
        for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
        std::cout << '\n';
    }
    return 0;
}

int cmd_detokenize(const std::vector<std::string>& argv) {
    Args args("detokenize",
              "Prints the text of the given token ids (invalid UTF-8 is replaced by U+FFFD, as transformers does).\n"
              "No newline is added.",
              {},
              {{"model", "DIR", "folder with tokenizer.json"},
               {"ids", "1,2,3", "comma-separated token ids"},
               {"skip-special-tokens", "", "leave out special tokens"}},
              argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(args.get("model"));
    std::vector<int32_t> ids;
    for (int64_t id : parse_id_list("ids", args.get("ids"))) {
        QINFER_CHECK(id <= INT32_MAX && tokenizer.is_known(static_cast<int32_t>(id)), "--ids: token id ", id,
                     " is not in the vocabulary (size ", tokenizer.vocab_size(), ")");
        ids.push_back(static_cast<int32_t>(id));
    }
    std::cout << tokenizer.decode(ids, args.has("skip-special-tokens"));
    return 0;
}

}  // namespace qinfer::cli
