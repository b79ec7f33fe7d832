// The progress line on a terminal: drawn in place, erased around log lines and before results.
#include "core/log.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {
std::string g_drawn;
void capture(std::string_view text) {
  g_drawn += text;
}
} // namespace

TEST_CASE("the status line is drawn in place, erased around a log line and at the end",
          "[core][log][progress]") {
  namespace log = meshctl::log;
  g_drawn.clear();
  log::set_status_sink(capture);
  log::status_title("join");
  log::status("wuxi", "1/3 preconditions");
  CHECK(g_drawn.empty()); // off unless enabled (a pipe, TERM=dumb, -v)

  log::enable_status(true);
  log::status_title("join");
  log::status("cn-shanghai", "1/3 preconditions");
  log::status("wuxi", "1/3 preconditions");
  log::status("cn-shanghai", "2/3 base objects");
  const std::string last = "\r\033[Kjoin  cn-shanghai: 2/3 base objects · wuxi: 1/3 preconditions";
  CHECK(g_drawn.ends_with(last)); // clusters keep their first order; states are replaced

  g_drawn.clear();
  log::warn("something to say"); // erased first, drawn again after the line
  CHECK(g_drawn == "\r\033[K" + last);

  g_drawn.clear();
  log::clear_status();
  CHECK(g_drawn == "\r\033[K");
  g_drawn.clear();
  log::clear_status(); // nothing drawn: nothing to erase
  CHECK(g_drawn.empty());

  log::enable_status(false);
  log::set_status_sink(nullptr);
}
