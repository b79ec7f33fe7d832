// meshctl proxy-config through the real binary: istioctl's goldens on stdout, stdin, flags,
// aliases, usage errors and exit codes.

#include "support/testing.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

using meshctl::testing::read_file;
using meshctl::testing::run_meshctl;
using meshctl::testing::TempDir;

TEST_CASE("proxy-config prints istioctl's tables byte for byte", "[cli][envoy][conformance]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto eds = istio / "istioctl-testdata/current/writer-envoy-configdump/endpoint";
  const std::string dump = (eds / "configdump.json").string();

  auto r = run_meshctl({"proxy-config", "eds", "-f", dump});
  CHECK(r.exit_code == 0);
  CHECK(r.out == read_file(eds / "emptyfilter_output.txt"));
  r = run_meshctl({"pc", "eds", "-f", dump, "--port", "8080"});
  CHECK(r.out == read_file(eds / "portfilter_output.txt"));
  r = run_meshctl({"pc", "eds", "-f", dump, "--port", "8080", "-o", "json"});
  CHECK(r.out == read_file(eds / "portfilter_output.json"));
  r = run_meshctl({"pc", "eds", "-f", dump, "-o", "yaml"});
  CHECK(r.out == read_file(eds / "emptyfilter_output.yaml"));

  const auto clusters = istio / "istioctl-testdata/historical-2020/writer-envoy-clusters";
  r = run_meshctl({"pc", "endpoints", "-f", (clusters / "clusters.json").string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out == read_file(clusters / "clustersummary.txt"));
  r = run_meshctl(
      {"pc", "ep", "-f", (clusters / "clusters.json").string(), "--status", "unhealthy"});
  CHECK(r.out == read_file(clusters / "clustersummaryfiltered.txt"));
  r = run_meshctl({"pc", "endpoints", "-f", (clusters / "clusters.json").string(), "--cluster",
                   "outbound|9080||reviews.default.svc.cluster.local", "-o", "json"});
  CHECK(r.out == read_file(clusters / "clustermultihostsfiltered.txt"));

  const auto old = istio / "istioctl-testdata/historical-2020/writer-envoy-configdump";
  r = run_meshctl(
      {"pc", "listeners", "-f", (old / "configdump.json").string(), "-o", "json", "--port", "443"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == read_file(old / "listenerdumpfiltered.json") + "\n"); // golden lacks Fprintln's \n
  r = run_meshctl({"pc", "clusters", "-f", (old / "configdump.json").string(), "-o", "json"});
  CHECK(r.out == read_file(old / "clusterdump.json") + "\n");
}

TEST_CASE("proxy-config reads stdin and adds LOCALITY/PRIORITY with -o wide", "[cli][envoy]") {
  TempDir tmp;
  const auto file = tmp.write(
      "clusters.json", R"({"cluster_statuses": [{"name": "outbound|5000||h.s.svc.cluster.local",
    "host_statuses": [{"address": {"socket_address": {"address": "47.100.1.2", "port_value": 15443}},
      "health_status": {"eds_health_status": "HEALTHY"}, "priority": 1, "locality": {"region": "cn-shanghai"}}]}]})");
  std::string command = "'";
  command += meshctl::testing::meshctl_bin().string();
  command += "' pc endpoints -f - -o wide < '";
  command += file.string();
  command += "'";
  auto r = meshctl::testing::run({"/bin/sh", "-c", command});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "ENDPOINT             STATUS      OUTLIER CHECK     LOCALITY        PRIORITY     "
                 "CLUSTER\n"
                 "47.100.1.2:15443     HEALTHY     OK                cn-shanghai     1            "
                 "outbound|5000||h.s.svc.cluster.local\n");
}

TEST_CASE("proxy-config usage errors exit 2 with a hint", "[cli][envoy]") {
  auto none = run_meshctl({"proxy-config", "listener"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("needs a pod (POD[.NAMESPACE]) or -f FILE") != std::string::npos);

  // A live pod needs a cluster: without a kubeconfig that is a usage error naming --context.
  auto pod = run_meshctl({"proxy-config", "listener", "istio-eastwestgateway-7d9c.istio-system"});
  CHECK(pod.exit_code == 2);
  CHECK(pod.err.find("no context given") != std::string::npos);
  CHECK(pod.err.find("--context") != std::string::npos);

  auto context_with_file = run_meshctl({"pc", "listener", "-f", "x.json", "--context", "wuxi"});
  CHECK(context_with_file.exit_code == 2);
  CHECK(context_with_file.err.find("--context applies to a pod") != std::string::npos);

  auto both = run_meshctl({"pc", "eds", "sleep-1", "-f", "x.json"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("got both a pod (\"sleep-1\") and -f x.json") != std::string::npos);

  auto missing = run_meshctl({"pc", "clusters", "-f", "/nonexistent/dump.json"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("cannot open /nonexistent/dump.json") != std::string::npos);
  CHECK(missing.err.find("hint:") != std::string::npos);

  // A directory is as wrong a -f as a missing file: the same exit code.
  TempDir tmp;
  auto dir = run_meshctl({"pc", "clusters", "-f", tmp.path().string()});
  CHECK(dir.exit_code == 2);
  CHECK(dir.err.find("is a directory, not a file") != std::string::npos);

  auto sub = run_meshctl({"pc"});
  CHECK(sub.exit_code == 2);
}

TEST_CASE("proxy-config reports a broken dump with its line and exits 1", "[cli][envoy]") {
  TempDir tmp;
  const auto file = tmp.write("cut.json", "{\"configs\": [\n  {\"static_listeners\": [\n    {\"li");
  auto r = run_meshctl({"pc", "listener", "-f", file.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cut.json: line 3, column") != std::string::npos);
  CHECK(r.out.empty());

  const auto eds_only = tmp.write("eds.json", R"({"configs": [{"dynamic_endpoint_configs": []}]})");
  auto wrong = run_meshctl({"pc", "endpoints", "-f", eds_only.string()});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("proxy-config eds") != std::string::npos);
}

TEST_CASE("proxy-config -o json and -o yaml stay valid with invalid UTF-8 in the dump",
          "[cli][envoy]") {
  TempDir tmp;
  // A listener name and Struct (filter_metadata) keys and values that are not UTF-8.
  const auto file = tmp.write(
      "bad-utf8.json",
      "{\"configs\": [{\"@type\": \"type.googleapis.com/envoy.admin.v3.ListenersConfigDump\", "
      "\"static_listeners\": [{\"listener\": {\"name\": \"bad\xff\xfename\", \"address\": "
      "{\"socket_address\": {\"address\": \"0.0.0.0\", \"port_value\": 80}}, \"metadata\": "
      "{\"filter_metadata\": {\"istio\": {\"k\xc3\": \"v\xe2\x82\"}}}}}]}]}");
  auto json = run_meshctl({"pc", "listener", "-f", file.string(), "-o", "json"});
  CHECK(json.exit_code == 0);
  CHECK(json.err.empty());
  nlohmann::json parsed;
  REQUIRE_NOTHROW(parsed = nlohmann::json::parse(json.out));
  CHECK(parsed.at(0).at("name") == "bad\xef\xbf\xbd\xef\xbf\xbdname"); // two U+FFFD
  CHECK(json.out.find("bad\\ufffd\\ufffdname") != std::string::npos);  // as Go writes it
  CHECK(parsed.at(0).at("metadata").at("filterMetadata").at("istio").at("k\xef\xbf\xbd") ==
        "v\xef\xbf\xbd\xef\xbf\xbd");

  auto yaml = run_meshctl({"pc", "listener", "-f", file.string(), "-o", "yaml"});
  CHECK(yaml.exit_code == 0);
  CHECK(yaml.err.empty());
  YAML::Node doc;
  REQUIRE_NOTHROW(doc = YAML::Load(yaml.out));
  CHECK(doc[0]["name"].as<std::string>() == "bad\xef\xbf\xbd\xef\xbf\xbdname");
}
