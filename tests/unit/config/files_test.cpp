#include "config/exec_plugin.hpp"
#include "config/files.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace meshctl::config::detail;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "meshctl-files-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

struct EnvVar {
  std::string name;
  std::optional<std::string> old;
  EnvVar(std::string n, const std::string& value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) {
      old = v;
    }
    setenv(name.c_str(), value.c_str(), 1);
  }
  ~EnvVar() {
    if (old) {
      setenv(name.c_str(), old->c_str(), 1);
    } else {
      unsetenv(name.c_str());
    }
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;
};

} // namespace

TEST_CASE("paths inside a config resolve against the directory of the file", "[config][files]") {
  CHECK(resolve_path("", "/k") == "");
  CHECK(resolve_path("/abs/ca.pem", "/k") == "/abs/ca.pem");
  CHECK(resolve_path("certs/../ca.pem", "/k/dir") == "/k/dir/ca.pem");
  CHECK(absolute_dir_of("/k/dir/config") == "/k/dir");
  CHECK(absolute_dir_of("rel/config") == (fs::current_path() / "rel").lexically_normal().string());
}

TEST_CASE("read_file returns bytes, and names the path when it cannot", "[config][files]") {
  TempDir dir;
  const fs::path file = dir.path / "f";
  std::ofstream(file, std::ios::binary) << std::string("a\0b\n", 4);
  CHECK(read_file(file.string()) == std::string("a\0b\n", 4));

  auto is_dir = read_file(dir.path.string());
  REQUIRE_FALSE(is_dir);
  CHECK(is_dir.error().what() == dir.path.string() + " is a directory, not a file");

  auto missing = read_file((dir.path / "none").string(), "config file");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().what() ==
        "cannot read config file " + (dir.path / "none").string() + ": No such file or directory");
  CHECK(missing.error().hint() == "check the file's permissions");
}

TEST_CASE("home_dir is $HOME, and nothing when it is empty", "[config][files]") {
  {
    const EnvVar home("HOME", "/home/op");
    CHECK(home_dir() == "/home/op");
  }
  const EnvVar empty("HOME", "");
  CHECK_FALSE(home_dir().has_value());
}

TEST_CASE("plugin commands are looked up in PATH as Go's exec.LookPath does", "[config][exec]") {
  TempDir dir;
  const fs::path bin = dir.path / "bin";
  fs::create_directories(bin / "plugin-dir");
  const fs::path exe = bin / "plugin";
  std::ofstream(exe) << "#!/bin/sh\necho out; echo err >&2; exit 3\n";
  fs::permissions(exe, fs::perms::owner_all);
  const fs::path plain = bin / "not-executable";
  std::ofstream(plain) << "x";

  const EnvVar path("PATH", "/nonexistent:" + bin.string());
  CHECK(look_path("plugin") == exe.string());
  CHECK_FALSE(look_path("not-executable").has_value());
  CHECK_FALSE(look_path("plugin-dir").has_value()); // a directory is no command
  CHECK(look_path("./x/y") == "./x/y");             // with a slash: used as written

  const PluginRun run = run_plugin(exe.string(), {}, {}, std::chrono::seconds(10), 1 << 20);
  CHECK(run.spawn_error == 0);
  CHECK(run.exit_status == 3);
  CHECK(run.out == "out\n");
  CHECK(run.err == "err\n");
}

TEST_CASE("a plugin is killed after its timeout, and its output is capped", "[config][exec]") {
  TempDir dir;
  const fs::path exe = dir.path / "slow";
  std::ofstream(exe) << "#!/bin/sh\nprintf 0123456789\nexec sleep 30\n";
  fs::permissions(exe, fs::perms::owner_all);
  const auto start = std::chrono::steady_clock::now();
  const PluginRun run = run_plugin(exe.string(), {}, {}, std::chrono::milliseconds(300), 4);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(run.timed_out);
  CHECK(run.signal == 9);
  // The limit drops whole reads once reached: the first read is kept.
  CHECK(run.out.rfind("0123", 0) == 0);

  const PluginRun missing =
      run_plugin((dir.path / "none").string(), {}, {}, std::chrono::seconds(5), 1024);
  CHECK(missing.spawn_error == ENOENT);
}

TEST_CASE("a plugin that closes its output and hangs is killed at the bound, with what it started",
          "[config][exec]") {
  TempDir dir;
  const fs::path exe = dir.path / "hang";
  const fs::path pid_file = dir.path / "child.pid";
  // Closes stdout and stderr (so no EOF wait can notice), starts a helper, and waits forever.
  std::ofstream(exe) << "#!/bin/sh\nexec >/dev/null 2>&1\nsleep 60 &\necho $! > " +
                            pid_file.string() + "\nwait\n";
  fs::permissions(exe, fs::perms::owner_all);
  const auto start = std::chrono::steady_clock::now();
  const PluginRun run = run_plugin(exe.string(), {}, {}, std::chrono::milliseconds(500), 1024);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK(run.timed_out);
  // The helper went with it (its process group was killed).
  std::ifstream in(pid_file);
  pid_t helper = 0;
  in >> helper;
  REQUIRE(helper > 0);
  // Gone, or a zombie waiting for a reaper that is not us (it was reparented).
  auto dead = [helper] {
    std::ifstream stat("/proc/" + std::to_string(helper) + "/stat");
    std::string pid, comm, state;
    return !(stat >> pid >> comm >> state) || state == "Z";
  };
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = dead();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(gone);
}
