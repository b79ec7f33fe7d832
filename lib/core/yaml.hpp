#pragma once
// Reading a YAML stream of several documents with yaml-cpp, safely.

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace meshctl {

/// YAML::LoadAll(text), except that it returns for every input. yaml-cpp 0.7's LoadAll never
/// returns for a ',' at the top of a document (",", "- a\n,"): the parser reports an empty
/// document without consuming the comma, again and again, and memory grows until the process is
/// killed (jbeder/yaml-cpp#1040, fixed upstream after 0.8.0). This throws YAML::ParserException at
/// the token the parser is stuck on instead; a syntax error throws as LoadAll does.
std::vector<YAML::Node> load_all_yaml(const std::string& text);

} // namespace meshctl
