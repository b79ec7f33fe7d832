#include "exec.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kubesim {
namespace {

// Splits a shell script into words, honouring single and double quotes.
std::vector<std::string> shell_words(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        cur.push_back(c);
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        out.push_back(cur);
        cur.clear();
        in_word = false;
      }
    } else if (c == ';') {
      if (in_word) {
        out.push_back(cur);
        cur.clear();
        in_word = false;
      }
      out.emplace_back(";");
    } else if ((c == '&' || c == '|') && i + 1 < s.size() && s[i + 1] == c) {
      if (in_word) {
        out.push_back(cur);
        cur.clear();
        in_word = false;
      }
      out.emplace_back(std::string(2, c));
      ++i;
    } else {
      cur.push_back(c);
      in_word = true;
    }
  }
  if (in_word) {
    out.push_back(cur);
  }
  return out;
}

struct Outcome {
  std::string out;
  std::string err;
  int code = 0;
  bool exited = false; // `exit` stops the script
  bool not_found = false;
};

Outcome run_simple(std::vector<std::string> argv, const std::string& stdin_data,
                   const PodHttpGet& http_get) {
  Outcome o;
  bool to_stderr = false;
  std::erase_if(argv, [&](const std::string& w) {
    if (w == ">&2" || w == "1>&2") {
      to_stderr = true;
      return true;
    }
    return false;
  });
  if (argv.empty()) {
    return o;
  }
  const std::string& cmd = argv[0];
  std::string text;
  if (cmd == "echo") {
    bool newline = true;
    std::size_t i = 1;
    if (argv.size() > 1 && argv[1] == "-n") {
      newline = false;
      i = 2;
    }
    for (; i < argv.size(); ++i) {
      text += argv[i] + (i + 1 < argv.size() ? " " : "");
    }
    if (newline) {
      text += "\n";
    }
  } else if (cmd == "cat") {
    text = stdin_data;
  } else if (cmd == "true") {
  } else if (cmd == "false") {
    o.code = 1;
  } else if (cmd == "exit") {
    o.exited = true;
    try {
      o.code = argv.size() > 1 ? std::stoi(argv[1]) & 255 : 0;
    } catch (...) {
      o.err = "sh: 1: exit: Illegal number: " + argv[1] + "\n";
      o.code = 2;
    }
  } else if (cmd == "pilot-agent" || cmd == "/usr/local/bin/pilot-agent") {
    int port = 15000;
    std::vector<std::string> rest;
    for (std::size_t i = 1; i < argv.size(); ++i) {
      if (argv[i] == "--debug-port" && i + 1 < argv.size()) {
        port = std::stoi(argv[++i]);
      } else if (argv[i].rfind("--debug-port=", 0) == 0) {
        port = std::stoi(argv[i].substr(13));
      } else {
        rest.push_back(argv[i]);
      }
    }
    if (rest.size() < 3 || rest[0] != "request") {
      o.err = "Error: unsupported pilot-agent invocation in kubesim (use: pilot-agent request GET "
              "<path>)\n";
      o.code = 1;
      return o;
    }
    if (rest[1] != "GET") {
      o.err = "Error: kubesim answers only GET requests\n";
      o.code = 1;
      return o;
    }
    const auto body = http_get(port, rest[2]);
    if (!body) {
      o.err = "Error: received unsuccessful status code 404: invalid path: " + rest[2] + "\n";
      o.code = 1;
      return o;
    }
    text = *body;
  } else {
    o.not_found = true;
    o.code = 127;
    return o;
  }
  (to_stderr ? o.err : o.out) += text;
  return o;
}

Outcome run_script(const std::string& script, const std::string& stdin_data,
                   const PodHttpGet& http_get) {
  const auto words = shell_words(script);
  Outcome total;
  std::vector<std::string> cur;
  std::string pending_op = ";";
  auto flush = [&](const std::string& next_op) {
    const bool run = pending_op == ";" || (pending_op == "&&" && total.code == 0) ||
                     (pending_op == "||" && total.code != 0);
    if (run && !cur.empty()) {
      Outcome o = run_simple(cur, stdin_data, http_get);
      total.out += o.out;
      total.err += o.err;
      total.code = o.code;
      if (o.not_found) {
        total.err += "sh: 1: " + cur[0] + ": not found\n";
      }
      if (o.exited) {
        total.exited = true;
      }
    }
    cur.clear();
    pending_op = next_op;
  };
  for (const auto& w : words) {
    if (total.exited) {
      break;
    }
    if (w == ";" || w == "&&" || w == "||") {
      flush(w);
    } else {
      cur.push_back(w);
    }
  }
  if (!total.exited) {
    flush(";");
  }
  return total;
}

} // namespace

ExecResult run_command(const std::vector<std::string>& argv, const std::string& stdin_data,
                       const PodHttpGet& http_get) {
  ExecResult r;
  if (argv.empty()) {
    r.failure = "you must specify at least one command for the container";
    return r;
  }
  const std::string& cmd = argv[0];
  if ((cmd == "sh" || cmd == "/bin/sh" || cmd == "bash" || cmd == "/bin/bash") &&
      argv.size() >= 3 && argv[1] == "-c") {
    Outcome o = run_script(argv[2], stdin_data, http_get);
    r.out = o.out;
    r.err = o.err;
    r.exit_code = o.code;
    return r;
  }
  Outcome o = run_simple(argv, stdin_data, http_get);
  if (o.not_found) {
    r.failure = "Internal error occurred: error executing command in container: failed to exec in "
                "container: failed to start exec: OCI runtime exec failed: exec failed: unable to "
                "start container process: exec: \"" +
                cmd + "\": executable file not found in $PATH: unknown";
    return r;
  }
  r.out = o.out;
  r.err = o.err;
  r.exit_code = o.code;
  return r;
}

std::string sanitise_path(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p[0] == '/') {
    p.erase(0, 1);
  }
  for (auto& c : p) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      c = '_';
    }
  }
  return p;
}

std::optional<std::string> read_pod_data_dir(const std::string& dir, const std::string& ns,
                                             const std::string& pod, int port,
                                             const std::string& path) {
  if (dir.empty()) {
    return std::nullopt;
  }
  const auto base = std::filesystem::path(dir) / ns / pod / std::to_string(port);
  const std::string name = sanitise_path(path);
  for (const auto& candidate : {base / name, base / (name + ".json")}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) {
      std::ifstream f(candidate, std::ios::binary);
      std::ostringstream ss;
      ss << f.rdbuf();
      return ss.str();
    }
  }
  return std::nullopt;
}

} // namespace kubesim
