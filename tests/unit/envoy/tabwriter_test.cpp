// The Go text/tabwriter port and the Go sort.Slice port, on cases whose Go output is known.

#include "envoy/go_sort.hpp"
#include "envoy/tabwriter.hpp"
#include "support/testing.hpp"

#include <algorithm>
#include <random>

using meshctl::envoy::go_sort_slice;
using meshctl::envoy::rune_count;
using meshctl::envoy::TabWriter;

namespace {

std::string tab(const std::string& text, int minwidth, int tabwidth, int padding, char padchar) {
  TabWriter w(minwidth, tabwidth, padding, padchar);
  w.write(text);
  return w.flush();
}

} // namespace

TEST_CASE("TabWriter matches Go's documented example with tab padding", "[envoy][tabwriter]") {
  // Go's ExampleWriter_Init, first table: w.Init(os.Stdout, 0, 8, 0, '\t', 0).
  const std::string text = "a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n";
  CHECK(tab(text, 0, 8, 0, '\t') == "a\tb\tc\td\t\t.\n123\t12345\t1234567\t123456789\t.\n\n");
}

TEST_CASE("TabWriter pads columns per block and leaves the last cell alone", "[envoy][tabwriter]") {
  // A column's width is its widest cell + padding; the last cell of a line is not padded.
  CHECK(tab("NAME\tSTATUS\nlong-name\tOK\n", 0, 8, 1, ' ') == "NAME      STATUS\nlong-name OK\n");
  // A line without the column (here: empty) ends the block: the next table aligns on its own.
  CHECK(tab("a\tbb\nccc\td\n\ne\tf\n", 0, 8, 1, ' ') == "a   bb\nccc d\n\ne f\n");
  // Empty cells are padded too; a trailing tab makes the last cell empty (istioctl's rows with an
  // empty DESTINATION RULE end in spaces).
  // x, 11 spaces, z; then 6 spaces, y, 5 spaces.
  const std::string padded = "x           z\n      y     \n";
  CHECK(tab("x\t\tz\n\ty\t\n", 0, 8, 5, ' ') == padded);
  // minwidth raises narrow columns; padding counts in runes, not bytes.
  CHECK(tab("a\tb\n", 4, 8, 0, ' ') == "a   b\n");
  CHECK(tab("\xC3\xA9\tb\nab\tc\n", 0, 8, 1, ' ') == "\xC3\xA9  b\nab c\n");
  // Text after the last newline is flushed without one.
  CHECK(tab("a\tb\nc", 0, 8, 1, ' ') == "a b\nc");
  CHECK(rune_count("\xE2\x82\xAC\xFF") == 2);
}

TEST_CASE("go_sort_slice sorts correctly and is stable up to 12 elements", "[envoy][sort]") {
  std::mt19937 rng(7);
  for (int n : {0, 1, 2, 5, 12, 13, 49, 50, 51, 200, 1000, 5000}) {
    std::vector<std::pair<int, int>> v;
    for (int i = 0; i < n; ++i) {
      v.emplace_back(static_cast<int>(rng() % 17), i); // many duplicates
    }
    auto sorted = v;
    go_sort_slice(sorted, [](const auto& a, const auto& b) { return a.first < b.first; });
    CHECK(std::is_sorted(sorted.begin(), sorted.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; }));
    auto a = v;
    auto b = sorted;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    CHECK(a == b); // a permutation of the input
    if (n <= 12) {
      CHECK(std::is_sorted(sorted.begin(), sorted.end())); // equal keys keep input order
    }
  }
  // Descending, ascending and organ-pipe inputs exercise reversal, partial insertion sort and
  // pattern breaking.
  for (int n : {100, 1000}) {
    std::vector<int> desc(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      desc[static_cast<std::size_t>(i)] = n - i;
    }
    go_sort_slice(desc, std::less<>());
    CHECK(std::is_sorted(desc.begin(), desc.end()));
    std::vector<int> pipe;
    for (int i = 0; i < n / 2; ++i) {
      pipe.push_back(i);
    }
    for (int i = n / 2; i > 0; --i) {
      pipe.push_back(i);
    }
    go_sort_slice(pipe, std::less<>());
    CHECK(std::is_sorted(pipe.begin(), pipe.end()));
  }
}
