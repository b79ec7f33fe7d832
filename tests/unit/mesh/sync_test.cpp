// sync-svc's pure half: the copy of a Service, records, selectors, sameness, and every planning
// rule (create, unchanged, update on change or edit, present, conflict, two sources, prune,
// namespaces, scope).

#include "mesh/sync.hpp"
#include "mesh/sync_live.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>

using namespace meshctl::mesh;
using nlohmann::json;

namespace {

json service(const std::string& ns, const std::string& name, json spec = nullptr,
             json labels = json::object()) {
  if (spec.is_null()) {
    spec = {{"type", "ClusterIP"},
            {"clusterIP", "10.96.3.4"},
            {"clusterIPs", {"10.96.3.4"}},
            {"selector", {{"app", name}}},
            {"ports",
             json::array(
                 {{{"name", "http"}, {"port", 5000}, {"protocol", "TCP"}, {"targetPort", 5000}}})}};
  }
  return {{"metadata",
           {{"name", name},
            {"namespace", ns},
            {"uid", "uid-" + name},
            {"resourceVersion", "42"},
            {"labels", labels}}},
          {"spec", spec},
          {"status", {{"loadBalancer", json::object()}}}};
}

// A cluster holding `services` (originals or copies as their labels say) and their namespaces.
ClusterState cluster(const std::string& name, const std::vector<json>& services,
                     std::set<std::string> namespaces = {"default", "dev"}) {
  ClusterState c;
  c.cluster = name;
  c.namespaces = std::move(namespaces);
  for (const auto& s : services) {
    auto r = service_record(s);
    c.services.emplace(service_key(r.namespace_, r.name), std::move(r));
  }
  return c;
}

// The copy sync would write from `source` in `from`, as a target would hold it afterwards
// (server-allocated fields added, like an API server does).
json as_written(const json& source, const std::string& from) {
  json copy = finish_copy(copy_body(source), from);
  copy["metadata"]["uid"] = "copy-uid";
  copy["metadata"]["resourceVersion"] = "7";
  copy["spec"]["clusterIP"] = copy["spec"].value("clusterIP", "10.96.9.9");
  copy["spec"]["sessionAffinity"] = "None";
  return copy;
}

SyncSettings two_way() {
  SyncSettings s;
  s.sources = {"cn-shanghai", "wuxi"};
  s.targets = {"cn-shanghai", "wuxi"};
  return s;
}

SyncPlan plan(const std::vector<ClusterState>& clusters, const SyncSettings& s) {
  std::vector<const ClusterState*> view;
  for (const auto& c : clusters) {
    view.push_back(&c);
  }
  return plan_sync(view, s);
}

const SyncChange* find(const SyncPlan& p, const std::string& to, const std::string& name) {
  for (const auto& c : p.changes) {
    if (c.to == to && c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

} // namespace

TEST_CASE("a copy keeps what DNS and Istio need and drops what the source cluster owns",
          "[mesh][sync]") {
  json src = service("dev", "web");
  src["metadata"]["labels"] = {{"app", "web"}, {"app.kubernetes.io/managed-by", "Helm"}};
  src["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}};
  src["metadata"]["ownerReferences"] = json::array({{{"kind", "X"}}});
  src["metadata"]["managedFields"] = json::array({{{"manager", "kubectl"}}});
  src["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00Z";
  src["spec"]["type"] = "LoadBalancer";
  src["spec"]["externalIPs"] = {"192.0.2.1"};
  src["spec"]["loadBalancerIP"] = "192.0.2.2";
  src["spec"]["loadBalancerSourceRanges"] = {"0.0.0.0/0"};
  src["spec"]["externalTrafficPolicy"] = "Local";
  src["spec"]["healthCheckNodePort"] = 31000;
  src["spec"]["ports"] = json::array({{{"name", "http"},
                                       {"port", 80},
                                       {"protocol", "TCP"},
                                       {"targetPort", "http-web"},
                                       {"nodePort", 30080},
                                       {"appProtocol", "http"}},
                                      {{"name", "grpc"}, {"port", 9090}, {"nodePort", 30090}}});
  const json copy = finish_copy(copy_body(src), "cn-shanghai");

  CHECK(copy["apiVersion"] == "v1");
  CHECK(copy["kind"] == "Service");
  CHECK(copy["metadata"]["name"] == "web");
  CHECK(copy["metadata"]["namespace"] == "dev");
  CHECK(copy["metadata"]["labels"] == json{{"app", "web"},
                                           {"app.kubernetes.io/managed-by", "meshctl"},
                                           {"meshctl.dev/synced-from", "cn-shanghai"}});
  CHECK(copy["metadata"]["annotations"].size() == 1);
  CHECK(copy["metadata"]["annotations"]["meshctl.dev/source-hash"].get<std::string>().size() == 32);
  for (const char* gone :
       {"uid", "resourceVersion", "ownerReferences", "managedFields", "creationTimestamp"}) {
    CHECK_FALSE(copy["metadata"].contains(gone));
  }
  CHECK_FALSE(copy.contains("status"));
  CHECK(copy["spec"] ==
        json{{"type", "ClusterIP"},
             {"selector", {{"app", "web"}}},
             {"ports",
              {{{"name", "http"},
                {"port", 80},
                {"protocol", "TCP"},
                {"targetPort", "http-web"},
                {"appProtocol", "http"}},
               {{"name", "grpc"}, {"port", 9090}, {"protocol", "TCP"}, {"targetPort", 9090}}}}});
}

TEST_CASE("headless stays headless and ExternalName is copied as is", "[mesh][sync]") {
  json headless = service("dev", "db");
  headless["spec"]["clusterIP"] = "None";
  headless["spec"]["clusterIPs"] = {"None"};
  const json h = copy_body(headless);
  CHECK(h["spec"]["clusterIP"] == "None");
  CHECK(h["spec"]["type"] == "ClusterIP");
  CHECK_FALSE(h["spec"].contains("clusterIPs"));
  CHECK(shape_of(headless).type == "headless");

  const json ext =
      service("dev", "mail", {{"type", "ExternalName"}, {"externalName", "mail.example.com"}});
  const json e = copy_body(ext);
  CHECK(e["spec"] == json{{"type", "ExternalName"}, {"externalName", "mail.example.com"}});
  CHECK(shape_of(ext).type == "ExternalName");
}

TEST_CASE("the hash ignores server-set fields and catches edits", "[mesh][sync]") {
  const json src = service("dev", "web");
  std::string hash;
  const json copy = finish_copy(copy_body(src), "cn-shanghai", &hash);
  const auto rec = service_record(as_written(src, "cn-shanghai"));
  CHECK(rec.copy);
  CHECK(rec.synced_from == "cn-shanghai");
  CHECK(rec.annotated_hash == hash);
  CHECK(rec.content_hash == hash); // what the API server added does not count

  json edited = as_written(src, "cn-shanghai");
  edited["spec"]["ports"][0]["name"] = "grpc";
  const auto e = service_record(edited);
  CHECK(e.annotated_hash == hash);
  CHECK(e.content_hash != hash);

  // The source's labels are part of the copy, so a label change is a change.
  json relabelled = src;
  relabelled["metadata"]["labels"]["tier"] = "web";
  std::string other;
  finish_copy(copy_body(relabelled), "cn-shanghai", &other);
  CHECK(other != hash);
}

TEST_CASE("a Service is a copy only with both meshctl labels", "[mesh][sync]") {
  CHECK_FALSE(
      service_record(service("dev", "a", nullptr, {{"meshctl.dev/synced-from", "x"}})).copy);
  CHECK_FALSE(
      service_record(service("dev", "a", nullptr, {{"app.kubernetes.io/managed-by", "meshctl"}}))
          .copy);
  CHECK(service_record(service("dev", "a", nullptr,
                               {{"app.kubernetes.io/managed-by", "meshctl"},
                                {"meshctl.dev/synced-from", "x"}}))
            .copy);
  CHECK_FALSE(service_record(service("dev", "a")).body.empty());
}

TEST_CASE("label selectors follow kubectl's syntax", "[mesh][sync]") {
  const std::map<std::string, std::string> labels{{"app", "web"}, {"tier", "front"}};
  auto match = [&](const char* text) {
    auto s = LabelSelector::parse(text);
    REQUIRE(s);
    return s->matches(labels);
  };
  CHECK(match(""));
  CHECK(match("app=web"));
  CHECK(match("app==web"));
  CHECK_FALSE(match("app!=web"));
  CHECK(match("app in (db, web)"));
  CHECK_FALSE(match("app notin (web)"));
  CHECK(match("tier"));
  CHECK(match("!legacy"));
  CHECK_FALSE(match("!tier"));
  CHECK(match("app=web, tier in (front,back), !legacy"));
  CHECK_FALSE(match("app=web,tier=back"));
  CHECK_FALSE(LabelSelector::parse("app=web,,x"));
  CHECK_FALSE(LabelSelector::parse("app foo (x)"));
  CHECK(LabelSelector::parse("a b=c").error().code() == meshctl::ExitCode::k_usage);
}

TEST_CASE("scope skips the control plane's namespaces and default/kubernetes", "[mesh][sync]") {
  SyncScope all;
  CHECK(all.covers("dev", "web"));
  CHECK_FALSE(all.covers("default", "kubernetes"));
  CHECK(all.covers("default", "other"));
  for (const char* ns : {"kube-system", "kube-public", "kube-node-lease", "istio-system"}) {
    CHECK_FALSE(all.covers(ns, "x"));
  }
  SyncScope named;
  named.namespaces = {"istio-system"};
  CHECK(named.covers("istio-system", "x")); // named explicitly
  CHECK_FALSE(named.covers("dev", "x"));
  SyncScope changed;
  changed.excluded = {"dev"};
  CHECK(changed.covers("kube-system", "x"));
  CHECK_FALSE(changed.covers("dev", "x"));
  CHECK_FALSE(changed.covers("default", "kubernetes"));
}

TEST_CASE("sameness follows FACTS 8: type and ports by number, name and protocol", "[mesh][sync]") {
  const json a = service("dev", "web");
  json b = a;
  b["spec"]["selector"] = {{"app", "other"}}; // not part of sameness
  b["spec"]["ports"][0]["targetPort"] = 8080; // neither
  CHECK(shape_of(a) == shape_of(b));
  b["spec"]["ports"][0]["name"] = "grpc";
  b["spec"]["clusterIP"] = "None";
  b["spec"]["ports"].push_back({{"name", "metrics"}, {"port", 9100}, {"protocol", "UDP"}});
  const auto diff = shape_diff(shape_of(a), "cn-shanghai", shape_of(b), "wuxi");
  REQUIRE(diff.size() == 3);
  CHECK(diff[0] == "type: ClusterIP in cn-shanghai, headless in wuxi");
  CHECK(diff[1] == "port 5000/TCP: name \"http\" in cn-shanghai, \"grpc\" in wuxi");
  CHECK(diff[2] == "port 9100/UDP: in wuxi only");
}

TEST_CASE("plan: a missing Service is created, with its namespace when needed", "[mesh][sync]") {
  const auto a =
      cluster("cn-shanghai", {service("dev", "web"), service("shop", "cart")}, {"dev", "shop"});
  const auto b = cluster("wuxi", {}, {"dev"});
  const auto p = plan({a, b}, two_way());
  REQUIRE(p.changes.size() == 2);
  const auto* web = find(p, "wuxi", "web");
  REQUIRE(web != nullptr);
  CHECK(web->action == SyncAction::k_create);
  CHECK(web->from == "cn-shanghai");
  const json body = json::parse(web->body);
  CHECK(body["metadata"]["labels"]["meshctl.dev/synced-from"] == "cn-shanghai");
  REQUIRE(p.namespaces.size() == 1);
  CHECK(p.namespaces[0].cluster == "wuxi");
  CHECK(p.namespaces[0].name == "shop");
  CHECK(namespace_object("shop")["metadata"]["labels"]["app.kubernetes.io/managed-by"] ==
        "meshctl");

  auto no_ns = two_way();
  no_ns.create_namespaces = false;
  const auto q = plan({a, b}, no_ns);
  CHECK(q.namespaces.empty());
  CHECK(find(q, "wuxi", "cart")->action == SyncAction::k_skipped);
  CHECK(find(q, "wuxi", "web")->action == SyncAction::k_create);
}

TEST_CASE("plan: an up-to-date copy is unchanged — a changed source or an edited copy is updated",
          "[mesh][sync]") {
  const json src = service("dev", "web");
  {
    const auto p =
        plan({cluster("cn-shanghai", {src}), cluster("wuxi", {as_written(src, "cn-shanghai")})},
             two_way());
    REQUIRE(p.changes.size() == 1);
    CHECK(p.changes[0].action == SyncAction::k_unchanged);
    CHECK(p.changes[0].body.empty());
  }
  {
    json changed = src;
    changed["spec"]["ports"][0]["port"] = 5001;
    const auto p =
        plan({cluster("cn-shanghai", {changed}), cluster("wuxi", {as_written(src, "cn-shanghai")})},
             two_way());
    REQUIRE(p.changes.size() == 1);
    CHECK(p.changes[0].action == SyncAction::k_update);
    CHECK(p.changes[0].details == std::vector<std::string>{"the source changed"});
    CHECK(json::parse(p.changes[0].body)["spec"]["ports"][0]["port"] == 5001);
  }
  {
    json edited = as_written(src, "cn-shanghai");
    edited["spec"]["selector"] = {{"app", "hijacked"}};
    const auto p = plan({cluster("cn-shanghai", {src}), cluster("wuxi", {edited})}, two_way());
    REQUIRE(!p.changes.empty());
    CHECK(p.changes[0].action == SyncAction::k_update);
    CHECK(p.changes[0].details == std::vector<std::string>{"the copy was edited in wuxi"});
  }
}

TEST_CASE("plan: a foreign Service is present when the same, a conflict when not, never written",
          "[mesh][sync]") {
  const json src = service("dev", "web");
  json theirs = src;
  theirs["spec"]["selector"] = {{"app", "theirs"}};
  auto p = plan({cluster("cn-shanghai", {src}), cluster("wuxi", {theirs})}, two_way());
  REQUIRE(p.changes.size() == 2); // each is the other's source: present both ways
  CHECK(find(p, "wuxi", "web")->action == SyncAction::k_present);
  CHECK(find(p, "cn-shanghai", "web")->action == SyncAction::k_present);
  CHECK(count_conflicts(p) == 0);

  theirs["spec"]["ports"][0]["name"] = "grpc";
  auto one_way = two_way();
  one_way.sources = {"cn-shanghai"};
  one_way.targets = {"wuxi"};
  p = plan({cluster("cn-shanghai", {src}), cluster("wuxi", {theirs})}, one_way);
  REQUIRE(p.changes.size() == 1);
  CHECK(p.changes[0].action == SyncAction::k_conflict);
  CHECK(p.changes[0].body.empty());
  REQUIRE(p.changes[0].details.size() == 2);
  CHECK(p.changes[0].details[1] == "port 5000/TCP: name \"http\" in cn-shanghai, \"grpc\" in wuxi");
  CHECK(count_conflicts(p) == 1);
}

TEST_CASE("plan: the first source wins, and sources that disagree are a conflict", "[mesh][sync]") {
  const json a = service("dev", "web");
  json b = a;
  b["spec"]["ports"][0]["protocol"] = "UDP";
  SyncSettings s;
  s.sources = {"a", "b"};
  s.targets = {"c"};
  const auto p = plan({cluster("a", {a}), cluster("b", {b}), cluster("c", {})}, s);
  const auto* to_c = find(p, "c", "web");
  REQUIRE(to_c != nullptr);
  CHECK(to_c->action == SyncAction::k_create);
  CHECK(to_c->from == "a");
  const auto* between = find(p, "b", "web");
  REQUIRE(between != nullptr);
  CHECK(between->action == SyncAction::k_conflict);
  CHECK(between->from == "a");
  CHECK(between->details.front() == "the sources disagree; copies come from a");

  // The same order of sources reversed: b wins.
  s.sources = {"b", "a"};
  CHECK(find(plan({cluster("a", {a}), cluster("b", {b}), cluster("c", {})}, s), "c", "web")->from ==
        "b");
  // Sources that agree are no conflict.
  s.sources = {"a", "b"};
  CHECK(count_conflicts(plan({cluster("a", {a}), cluster("b", {a}), cluster("c", {})}, s)) == 0);
}

TEST_CASE("plan: a copy whose source is gone is pruned, unless told not to", "[mesh][sync]") {
  const json src = service("dev", "web");
  const auto orphan = as_written(src, "cn-shanghai");
  auto p = plan({cluster("cn-shanghai", {}), cluster("wuxi", {orphan})}, two_way());
  REQUIRE(p.changes.size() == 1);
  CHECK(p.changes[0].action == SyncAction::k_prune);
  CHECK(p.changes[0].from == "cn-shanghai");
  CHECK(p.changes[0].uid == "copy-uid");
  CHECK(p.changes[0].resource_version == "7");

  auto keep = two_way();
  keep.prune = false;
  CHECK(plan({cluster("cn-shanghai", {}), cluster("wuxi", {orphan})}, keep).changes.empty());

  // A copy from a cluster outside this run is not ours to prune.
  auto narrow = two_way();
  narrow.sources = {"wuxi"};
  CHECK(plan({cluster("cn-shanghai", {}), cluster("wuxi", {orphan})}, narrow).changes.empty());

  // An original the selector leaves out keeps its copy.
  json labelled = src;
  labelled["metadata"]["labels"] = {{"sync", "no"}};
  auto selective = two_way();
  selective.selector = *LabelSelector::parse("sync=yes");
  CHECK(plan({cluster("cn-shanghai", {labelled}), cluster("wuxi", {orphan})}, selective)
            .changes.empty());
}

TEST_CASE("plan: copies are never sources, and only the named keys are planned", "[mesh][sync]") {
  const json src = service("dev", "web");
  const auto copy = as_written(src, "cn-shanghai");
  // wuxi's copy does not flow back to cn-shanghai, which has the original.
  const auto p = plan({cluster("cn-shanghai", {src}), cluster("wuxi", {copy})}, two_way());
  REQUIRE(p.changes.size() == 1);
  CHECK(p.changes[0].to == "wuxi");

  const auto a = cluster("cn-shanghai", {src, service("dev", "other")});
  const auto b = cluster("wuxi", {});
  const std::vector<std::string> keys{"dev/other"};
  const auto only = plan_sync({&a, &b}, two_way(), &keys);
  REQUIRE(only.changes.size() == 1);
  CHECK(only.changes[0].name == "other");
}

TEST_CASE("summaries list every pair with its counts", "[mesh][sync]") {
  const json src = service("dev", "web");
  const auto p = plan({cluster("cn-shanghai", {src, service("dev", "api")}),
                       cluster("wuxi", {as_written(src, "cn-shanghai")})},
                      two_way());
  const auto sum = summarize_sync(p, two_way());
  REQUIRE(sum.size() == 2);
  CHECK(sum[0].from == "cn-shanghai");
  CHECK(sum[0].to == "wuxi");
  CHECK(sum[0].created == 1);
  CHECK(sum[0].unchanged == 1);
  CHECK(sum[1].from == "wuxi");
  CHECK(sum[1].to == "cn-shanghai");
  CHECK(sum[1].created + sum[1].updated + sum[1].unchanged == 0);
}

TEST_CASE("the sync report a person reads", "[mesh][sync][golden]") {
  const json src = service("dev", "web");
  json theirs = service("dev", "api");
  theirs["spec"]["ports"][0]["name"] = "grpc";
  json copy_of_gone = as_written(service("dev", "gone"), "cn-shanghai");
  const auto a = cluster("cn-shanghai", {src, service("dev", "api"), service("shop", "cart")},
                         {"dev", "shop"});
  const auto b = cluster("wuxi", {theirs, copy_of_gone}, {"dev"});
  SyncReport report;
  report.settings = two_way();
  report.plan = plan({a, b}, report.settings);
  report.dry_run = DryRun::k_client;
  meshctl::testing::check_golden("sync/dry-run.txt", format_sync_report(report, 0));
  report.dry_run = DryRun::k_none;
  report.failures.push_back({"wuxi", "create Service dev/web", "dev", "web",
                             meshctl::Error(meshctl::ExitCode::k_failed, "boom")});
  report.throttled = 2;
  meshctl::testing::check_golden("sync/report.txt", format_sync_report(report, 0));
  // Notes are not part of the report (cmd prints them on stderr).
  const auto notes = sync_notes(report);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0] ==
        "the API servers answered 429 (too many requests); meshctl slowed down 2 time(s)");
  meshctl::testing::check_golden("sync/report.json", sync_report_json(report).dump(2) + "\n");
}
