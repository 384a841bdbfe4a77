#include <iostream>

#include "args.h"
#include "commands.h"
#include "models/inspect.h"

namespace qinfer::cli {

int cmd_inspect(const std::vector<std::string>& argv) {
    Args args("inspect",
              "Explains a Hugging Face checkpoint folder without loading weight data: architecture, key config values,\n"
              "layer pattern, parameter count and bytes, and for every checkpoint linear module its stored format and\n"
              "the runtime module it feeds. Fails (exit 1) if the checkpoint contradicts its config.",
              {"MODEL_DIR"}, {{"json", "", "print the report as JSON (object with a `modules` array)"}}, argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const nlohmann::json report = models::inspect_checkpoint(args.positional(0));
    if (args.has("json")) {
        std::cout << report.dump(2) << '\n';
    } else {
        std::cout << models::inspect_text(report);
    }
    return 0;
}

}  // namespace qinfer::cli
