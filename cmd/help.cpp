// meshctl help [VERB…], and the help text every verb shares: its own flags, then the global
// flags (kubectl lists them under each command too), then its footer.

#include "context.hpp"

#include <cstdio>
#include <memory>

namespace meshctl::cmd {

namespace {

// Appends the root's flags to every subcommand's help, before the subcommand's footer.
class HelpFormatter final : public CLI::Formatter {
public:
  std::string make_footer(const CLI::App* app) const override {
    std::string out;
    if (app->get_parent() != nullptr) {
      const CLI::App* root = app;
      while (root->get_parent() != nullptr) {
        root = root->get_parent();
      }
      std::vector<const CLI::Option*> globals;
      for (const auto* o : root->get_options()) {
        if (o != root->get_help_ptr()) {
          globals.push_back(o);
        }
      }
      // make_group starts with a blank line; make_help already put one before the footer.
      const std::string group =
          make_group("Global flags (before or after the verb)", false, globals);
      out += group.substr(group.find_first_not_of('\n')) + "\n";
    }
    return out + CLI::Formatter::make_footer(app);
  }
};

} // namespace

void use_help_formatter(CLI::App& app) {
  app.formatter(std::make_shared<HelpFormatter>());
}

void register_help(CLI::App& app, Context& ctx) {
  auto* sub =
      app.add_subcommand("help", "Show the help of meshctl or of a verb: meshctl help VERB");
  auto verbs = std::make_shared<std::vector<std::string>>();
  sub->add_option("verb", *verbs, "The verb (and subcommand) to explain");
  // The command line is rewritten to `VERB --help` before parsing (args.cpp); should this run
  // anyway, it shows meshctl's help.
  sub->callback([&ctx, &app] {
    ctx.action = [&app]() -> Result<ExitCode> {
      const std::string text =
          app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      std::fputs(text.c_str(), stdout);
      return ExitCode::k_ok;
    };
  });
}

} // namespace meshctl::cmd
