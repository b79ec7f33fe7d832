#include "core/yaml.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <optional>
#include <sstream>

namespace meshctl {

namespace {

// Records where each document starts and ignores everything else.
class DocumentStarts : public YAML::EventHandler {
public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
  void OnAlias(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
  void OnScalar(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {}
  void OnSequenceStart(const YAML::Mark& /*mark*/, const std::string& /*tag*/,
                       YAML::anchor_t /*anchor*/, YAML::EmitterStyle::value /*style*/) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {}
  void OnMapEnd() override {}
};

// Where the parser stops making progress: a document that starts where the one before it started
// consumed no token, and every later one will be the same. nullopt when the stream ends.
std::optional<YAML::Mark> stuck_at(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts documents;
  while (parser.HandleNextDocument(documents)) {
    const auto& s = documents.starts;
    if (s.size() >= 2 && s[s.size() - 1].pos == s[s.size() - 2].pos) {
      return s.back();
    }
  }
  return std::nullopt;
}

} // namespace

std::vector<YAML::Node> load_all_yaml(const std::string& text) {
  if (const auto mark = stuck_at(text)) {
    const auto at = static_cast<std::size_t>(mark->pos);
    throw YAML::ParserException(*mark, at < text.size() ? "unexpected '" + text.substr(at, 1) + "'"
                                                        : std::string("unexpected end"));
  }
  return YAML::LoadAll(text);
}

} // namespace meshctl
