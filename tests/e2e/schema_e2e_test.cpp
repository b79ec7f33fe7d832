// One JSON contract: every verb's -o json, from the real binary on the test clusters (and the
// offline ones: join --dry-run, verify --from-bundle, version --client), is held against its
// kind's JSON Schema in docs/schema/ (draft 2020-12) by Python's jsonschema. Every kind printed
// must have a schema, and every schema must be met by some output, so neither can drift alone.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

using meshctl::e2e::TestClusters;
using meshctl::testing::TempDir;
using nlohmann::json;

namespace {

// Validates every *.json file of argv[1] (one document each) against docs/schema (argv[2]):
// prints one line per failure and exits 1 if there was any.
constexpr const char* k_validate = R"PY(
import json, pathlib, sys
import jsonschema
out, schemas = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
known = {p.name[:-len(".schema.json")]: p for p in schemas.glob("*.schema.json")}
used, failed = set(), 0
for f in sorted(out.glob("*.json")):
    doc = json.loads(f.read_text())
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind not in known:
        print(f"{f.name}: kind {kind!r} has no schema in docs/schema"); failed += 1; continue
    used.add(kind)
    schema = json.loads(known[kind].read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for e in jsonschema.Draft202012Validator(schema).iter_errors(doc):
        print(f"{f.name} ({kind}): at /{'/'.join(map(str, e.absolute_path))}: {e.message}"); failed += 1
for kind in sorted(set(known) - used):
    print(f"docs/schema/{kind}.schema.json: no output of kind {kind} was checked against it"); failed += 1
print(f"{len(used)} kinds, {len(list(out.glob('*.json')))} documents checked")
sys.exit(1 if failed else 0)
)PY";

bool have_jsonschema() {
  return meshctl::testing::run({"python3", "-c", "import jsonschema"}).exit_code == 0;
}

// The outputs collected, one file each, named after the command that printed them.
class Outputs {
public:
  // Keeps what `args` printed on stdout (one JSON document) when it ran as expected.
  void add(const TestClusters& clusters, const std::string& name,
           const std::vector<std::string>& args, std::vector<int> codes = {0}) {
    const auto r = clusters.meshctl(args);
    INFO(name << ": exit " << r.exit_code << "\n" << r.out << r.err);
    REQUIRE(std::find(codes.begin(), codes.end(), r.exit_code) != codes.end());
    keep(name, r.out);
  }
  void keep(const std::string& name, const std::string& text) {
    INFO(name << ":\n" << text);
    REQUIRE_NOTHROW(json::parse(text)); // one document, nothing else on stdout
    m_dir.write(name + ".json", text);
    ++m_count;
  }
  [[nodiscard]] const TempDir& dir() const { return m_dir; }
  [[nodiscard]] int count() const { return m_count; }

private:
  TempDir m_dir;
  int m_count = 0;
};

// Polls `pred` for up to 20 s.
template <class Pred> bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

} // namespace

TEST_CASE("every -o json result matches its kind's JSON Schema in docs/schema", "[e2e][schema]") {
  if (!have_jsonschema()) {
    MESHCTL_SKIP("python3-jsonschema is absent (scripts/setup installs it): no JSON Schema to "
                 "validate with");
  }
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  Outputs o;
  // Offline: nothing contacted.
  o.add(clusters, "version-client", {"version", "--client", "-o", "json"});
  o.add(clusters, "join-dry-run-offline", {"join", a, b, "--dry-run", "-o", "json"});
  o.add(clusters, "expose-dry-run-offline", {"expose", "--all", "--dry-run", "-o", "json"});
  // Live, in the order a person would run them.
  o.add(clusters, "version", {"version", "-o", "json"});
  o.add(clusters, "join-dry-run-client", {"join", a, b, "--dry-run=client", "-o", "json"});
  o.add(clusters, "status-before-join", {"status", "-o", "json"}, {1});
  o.add(clusters, "join", {"join", a, b, "-o", "json"});
  o.add(clusters, "status", {"status", "-o", "json"});
  o.add(clusters, "expose-all", {"expose", "--all", "-o", "json"});
  o.add(clusters, "expose-list", {"expose", "-o", "json"});
  o.add(clusters, "localize", {"localize", "helloworld.dev", "-o", "json"});
  o.add(clusters, "localize-list", {"localize", "-o", "json"});
  o.add(clusters, "localize-remove-dry-run",
        {"localize", "--remove", "helloworld.dev", "--dry-run=client", "-o", "json"});
  o.add(clusters, "sync-svc-dry-run", {"sync-svc", "--dry-run", "-o", "json"}, {0, 1});
  o.add(clusters, "sync-svc", {"sync-svc", "-n", "dev", "-o", "json"}, {0, 1});
  const auto bundle = clusters.dir().path() / "bundle";
  o.add(clusters, "verify",
        {"verify", "helloworld.dev", "--save-bundle", bundle.string(), "-o", "json"}, {0, 1});
  o.add(clusters, "verify-from-bundle", {"verify", "--from-bundle", bundle.string(), "-o", "json"},
        {0, 1});

  {
    // --watch -o json: JSON Lines, a SyncResult for each full pass and a SyncChange for each write.
    meshctl::testing::BackgroundProcess watch(
        {meshctl::testing::meshctl_bin().string(), "-c", clusters.config().string(), "sync-svc",
         "--watch", "-n", "dev", "-o", "json"},
        {{"KUBECONFIG", clusters.kubeconfig()}, {"HOME", clusters.dir().path().string()}}, true);
    REQUIRE(eventually([&] { return watch.out().find("\"SyncResult\"") != std::string::npos; }));
    REQUIRE(clusters
                .kubectl(a, {"-n", "dev", "create", "service", "clusterip", "schema-watch",
                             "--tcp=80:8080"})
                .exit_code == 0);
    const bool changed =
        eventually([&] { return watch.out().find("\"SyncChange\"") != std::string::npos; });
    clusters.kubectl(a, {"-n", "dev", "delete", "service", "schema-watch"});
    const int code = watch.stop();
    INFO(watch.out() << watch.err());
    REQUIRE(changed);
    CHECK(code == 0);
    std::istringstream lines(watch.out());
    std::string line;
    for (int i = 0; std::getline(lines, line); ++i) {
      o.keep("sync-svc-watch-" + std::to_string(i), line);
    }
  }

  o.add(clusters, "unjoin-dry-run", {"unjoin", a, b, "--all", "--dry-run", "-o", "json"});
  o.add(clusters, "unjoin", {"unjoin", a, b, "--all", "--purge-ca", "-o", "json"});

  const auto r = meshctl::testing::run({"python3", "-c", k_validate, o.dir().path().string(),
                                        (meshctl::testing::source_dir() / "docs/schema").string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(o.count() > 15);
}
