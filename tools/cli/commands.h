#pragma once
// defines: the qinfer subcommands. Each takes the arguments after the subcommand name and returns an exit code;
// errors are thrown as qinfer::Error and printed by main().

#include <string>
#include <vector>

namespace qinfer::cli {

int cmd_inspect(const std::vector<std::string>& argv);
int cmd_logits(const std::vector<std::string>& argv);
int cmd_generate(const std::vector<std::string>& argv);
int cmd_quantize(const std::vector<std::string>& argv);

}  // namespace qinfer::cli
