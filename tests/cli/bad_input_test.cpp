// The corpus of bad input (tests/data/bad/<area>/<case>.case): every case runs the real binary and
// must end as the case says, with one clear line on stderr, no signal, no hang, nothing echoed raw.
//
// A case file holds "key: value" lines ('#' starts a comment):
//   args: WORDS       the arguments; "double quotes" group words and read \xNN, \n, \t, \\, \";
//                     {dir} is the case's folder, {tmp} a fresh temporary folder, and
//                     {repeat:TEXT:N} TEXT N times (a 100 KB argument is {repeat:a:100000})
//   exit: N           the exit code expected (2 usage or input, 1 failed)
//   stderr: TEXT      what the one "error:" line must contain
//   make: NAME SIZE [FROM]   makes {tmp}/NAME before the run: a copy of {dir}/FROM (or nothing)
//                     grown to SIZE bytes (K, M, G suffixes) as a sparse file, so that a 2 GB
//                     input costs neither disk nor time; the size check must refuse it unread
//   spaces: NAME SIZE [FROM] makes {tmp}/NAME: {dir}/FROM (or nothing) then real spaces up to SIZE
//                     bytes (keep it small)
//   stdin: PATH       stdin of the run ({dir}/{tmp} expanded; /dev/zero is an endless stream)
//   env: KEY=VALUE    set for the run (repeatable); HOME, KUBECONFIG, MESHCTL_CONFIG are cleared
//   timeout: SECONDS  per-case bound (default 10)

#include "support/testing.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using meshctl::testing::RunOptions;
using meshctl::testing::TempDir;

struct BadCase {
  std::string name;
  std::vector<std::string> args;
  int exit_code = -1;
  std::string message;
  std::map<std::string, std::string> env;
  RunOptions options;
};

std::string expand(std::string text, const fs::path& dir, const fs::path& tmp) {
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"{dir}", dir.string()}, {"{tmp}", tmp.string()}}) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
      text.replace(at, key.size(), value);
      at += value.size();
    }
  }
  for (auto at = text.find("{repeat:"); at != std::string::npos; at = text.find("{repeat:", at)) {
    const auto colon = text.rfind(':', text.find('}', at));
    const auto close = text.find('}', at);
    const std::string piece = text.substr(at + 8, colon - at - 8);
    const auto count = std::stoul(text.substr(colon + 1, close - colon - 1));
    std::string repeated;
    for (std::size_t i = 0; i < count; ++i) {
      repeated += piece;
    }
    text.replace(at, close + 1 - at, repeated);
    at += repeated.size();
  }
  return text;
}

// Splits `line` into words: spaces separate, "double quotes" group and read C-like escapes.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        quoted = false;
      } else if (c == '\\' && i + 1 < line.size()) {
        const char e = line[++i];
        if (e == 'x' && i + 2 < line.size()) {
          word += static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          word += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        }
      } else {
        word += c;
      }
      continue;
    }
    if (c == ' ') {
      if (in_word) {
        out.push_back(word);
        word.clear();
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c == '"') {
      quoted = true;
    } else {
      word += c;
    }
  }
  if (in_word) {
    out.push_back(word);
  }
  return out;
}

std::uintmax_t size_of(const std::string& text) {
  std::uintmax_t n = std::stoull(text);
  switch (text.back()) {
  case 'K':
    return n << 10U;
  case 'M':
    return n << 20U;
  case 'G':
    return n << 30U;
  default:
    return n;
  }
}

// Reads one case file, making the files it asks for in `tmp`.
BadCase load_case(const fs::path& file, const fs::path& tmp) {
  BadCase c;
  c.name = file.parent_path().filename().string() + "/" + file.stem().string();
  c.options.timeout = std::chrono::seconds(10);
  const fs::path dir = file.parent_path();
  std::istringstream lines(meshctl::testing::read_file(file));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const auto colon = line.find(": ");
    INFO(c.name << ": " << line);
    REQUIRE(colon != std::string::npos);
    const std::string key = line.substr(0, colon);
    const std::string value = expand(line.substr(colon + 2), dir, tmp);
    if (key == "args") {
      c.args = words(value);
    } else if (key == "exit") {
      c.exit_code = std::stoi(value);
    } else if (key == "stderr") {
      c.message = value;
    } else if (key == "env") {
      c.env[value.substr(0, value.find('='))] = value.substr(value.find('=') + 1);
    } else if (key == "stdin") {
      c.options.stdin_path = value;
    } else if (key == "timeout") {
      c.options.timeout = std::chrono::seconds(std::stoi(value));
    } else if (key == "make" || key == "spaces") {
      const auto w = words(value);
      REQUIRE(w.size() >= 2);
      const fs::path target = tmp / w[0];
      const std::uintmax_t size = size_of(w[1]);
      if (key == "spaces") {
        const std::string start = w.size() > 2 ? meshctl::testing::read_file(dir / w[2]) : "";
        std::ofstream(target, std::ios::binary) << start << std::string(size - start.size(), ' ');
      } else {
        if (w.size() > 2) {
          fs::copy_file(dir / w[2], target, fs::copy_options::overwrite_existing);
        } else {
          std::ofstream(target, std::ios::binary).flush();
        }
        fs::resize_file(target, size);
      }
    } else {
      FAIL(c.name << ": unknown key " << key);
    }
  }
  REQUIRE(c.exit_code >= 0);
  REQUIRE(!c.message.empty());
  return c;
}

// The control characters of `text` other than line feeds, shown for a failure message.
std::string control_characters(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n') || c == 0x7f) {
      out += "\\x" + std::to_string(c) + " ";
    }
  }
  return out;
}

} // namespace

TEST_CASE("bad input: every case of tests/data/bad ends with one clear line", "[cli][bad]") {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::recursive_directory_iterator(meshctl::testing::source_dir() / "tests/data/bad")) {
    if (entry.path().extension() == ".case") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 40);
  for (const auto& file : files) {
    const TempDir tmp;
    const BadCase c = load_case(file, tmp.path());
    const auto started = std::chrono::steady_clock::now();
    const auto r = meshctl::testing::run_meshctl(c.args, c.env, c.options);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    INFO(c.name << " (" << took.count() << " ms)\nstderr: " << r.err.substr(0, 2000));
    REQUIRE_FALSE(r.timed_out);
    CHECK(r.exit_code == c.exit_code); // 128 + N would be a signal
    // One line naming the problem (an "error:" line), and at most a hint after it; warnings
    // about something else (a key file others can read) may come before it.
    std::vector<std::string> lines;
    std::istringstream err(r.err);
    for (std::string l; std::getline(err, l);) {
      if (!(lines.empty() && l.rfind("warning: ", 0) == 0)) {
        lines.push_back(l);
      }
    }
    REQUIRE_FALSE(lines.empty());
    CHECK(lines[0].rfind("error: ", 0) == 0);
    CHECK(lines[0].find(c.message) != std::string::npos);
    CHECK(lines.size() <= 2);
    if (lines.size() == 2) {
      CHECK(lines[1].rfind("hint: ", 0) == 0);
    }
    // Nothing raw: no control character reaches the terminal, no line is a flood.
    CHECK(control_characters(r.err).empty());
    for (const auto& l : lines) {
      CHECK(l.size() <= 1100);
    }
    CHECK(r.out.empty());
  }
}
