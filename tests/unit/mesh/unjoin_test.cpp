// unjoin's planning: only meshctl's objects, the reader token only when no one else uses it,
// --all and --purge-ca widen the set.

#include "mesh/unjoin.hpp"
#include "support/fake_transport.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace meshctl::mesh;
using nlohmann::json;

namespace {

FoundObject object(const std::string& kind, const std::string& name, bool managed,
                   const std::string& role) {
  json live = {{"kind", kind},
               {"metadata",
                {{"name", name},
                 {"namespace", "istio-system"},
                 {"uid", "u-" + name},
                 {"resourceVersion", "9"}}}};
  if (managed) {
    live["metadata"]["labels"] = {{"app.kubernetes.io/managed-by", "meshctl"}};
  }
  return found_object({"", "v1", "secrets", "istio-system", name, ""}, live, role);
}

UnjoinCluster linked(const std::string& name, const std::string& peer) {
  UnjoinCluster c;
  c.cluster = name;
  c.remote_secrets.emplace(
      peer, object("Secret", "istio-remote-secret-" + peer, true, "remote secret of " + peer));
  c.reader_token = object("Secret", "reader-token", true, "reader token");
  c.cacerts = object("Secret", "cacerts", true, "the mesh CA (cacerts)");
  c.extras.push_back(object("Deployment", "istio-eastwestgateway", true, "east-west gateway"));
  return c;
}

std::vector<std::string> removed(const UnjoinPlan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) {
    if (s.remove) {
      out.push_back(s.cluster + ":" + s.object.ref.name);
    }
  }
  return out;
}

} // namespace

TEST_CASE("found objects keep their identity for the delete's preconditions", "[mesh][unjoin]") {
  const auto o = object("Secret", "x", true, "why");
  CHECK(o.uid == "u-x");
  CHECK(o.resource_version == "9");
  CHECK(o.managed);
  CHECK(o.ref.namespace_ == "istio-system");
  CHECK_FALSE(object("Secret", "y", false, "why").managed);
}

TEST_CASE("unjoin removes remote secrets and unused reader tokens — --all and --purge-ca more",
          "[mesh][unjoin]") {
  UnjoinInputs in;
  in.clusters = {linked("a", "b"), linked("b", "a")};
  auto plan = plan_unjoin(in);
  CHECK(removed(plan) == std::vector<std::string>{"a:istio-remote-secret-b", "a:reader-token",
                                                  "b:istio-remote-secret-a", "b:reader-token"});
  REQUIRE(plan.notes.size() == 1);
  CHECK(plan.notes[0].find("unjoin --all") != std::string::npos);

  in.options.all = true;
  plan = plan_unjoin(in);
  CHECK(removed(plan).size() == 6);
  CHECK(plan.notes.empty());

  in.options.purge_ca = true;
  plan = plan_unjoin(in);
  CHECK(removed(plan).size() == 8);
  CHECK(plan.notes.size() == 2); // restart istiod in each
}

TEST_CASE("a reader token another cluster still uses, or might use, is kept", "[mesh][unjoin]") {
  UnjoinInputs in;
  in.clusters = {linked("a", "b"), linked("b", "a")};
  in.reader_users["a"] = {"c"};
  auto plan = plan_unjoin(in);
  CHECK(removed(plan) == std::vector<std::string>{"a:istio-remote-secret-b",
                                                  "b:istio-remote-secret-a", "b:reader-token"});
  const auto kept = std::find_if(plan.steps.begin(), plan.steps.end(), [](const auto& s) {
    return s.cluster == "a" && s.object.ref.name == "reader-token";
  });
  REQUIRE(kept != plan.steps.end());
  CHECK(kept->reason == "reader token: still used by c");
  in.reader_users.clear();
  in.unknown = {"d"};
  plan = plan_unjoin(in);
  CHECK(removed(plan).size() == 2); // neither token: d could not be asked
}

TEST_CASE("a remote secret left alone keeps its source's reader token", "[mesh][unjoin]") {
  UnjoinInputs in;
  in.clusters = {linked("a", "b"), linked("b", "a")};
  in.clusters[1].remote_secrets.begin()->second.managed = false; // b's secret of a: istioctl's
  const auto plan = plan_unjoin(in);
  CHECK(removed(plan) == std::vector<std::string>{"a:istio-remote-secret-b", "b:reader-token"});
  REQUIRE(plan.steps.size() >= 2);
  CHECK(plan.steps[1].reason == "reader token: still used by b");
}

TEST_CASE("objects without meshctl's label are left alone, with the reason", "[mesh][unjoin]") {
  UnjoinInputs in;
  UnjoinCluster a;
  a.cluster = "a";
  a.remote_secrets.emplace("b",
                           object("Secret", "istio-remote-secret-b", false, "remote secret of b"));
  in.clusters = {a};
  const auto plan = plan_unjoin(in);
  REQUIRE(plan.steps.size() == 1);
  CHECK_FALSE(plan.steps[0].remove);
  CHECK(plan.steps[0].reason ==
        "remote secret of b: not labelled app.kubernetes.io/managed-by=meshctl, so not meshctl's");
}

TEST_CASE("unjoin --all keeps an east-west gateway someone else installed under meshctl's name",
          "[mesh][unjoin]") {
  // gen-eastwest-gateway.sh + istioctl installs istio-system/istio-eastwestgateway too; Helm labels
  // its objects app.kubernetes.io/managed-by: Helm. join used it and made none; unjoin keeps it.
  UnjoinCluster a;
  a.cluster = "a";
  for (const char* kind : {"Service", "Deployment", "ServiceAccount"}) {
    json live = {{"kind", kind},
                 {"metadata",
                  {{"name", "istio-eastwestgateway"},
                   {"namespace", "istio-system"},
                   {"uid", std::string("u-") + kind},
                   {"labels", {{"app.kubernetes.io/managed-by", "Helm"}}}}}};
    a.extras.push_back(
        found_object({"", "v1", "services", "istio-system", "", ""}, live, "east-west gateway"));
  }
  json expose = {{"kind", "Gateway"},
                 {"metadata",
                  {{"name", "cross-network-gateway"},
                   {"namespace", "istio-system"},
                   {"labels", {{"app.kubernetes.io/managed-by", "meshctl"}}}}}};
  a.extras.push_back(found_object({"networking.istio.io", "v1", "gateways", "", "", ""}, expose,
                                  "expose Gateway"));
  UnjoinInputs in;
  in.clusters = {a};
  in.options.all = true;
  const auto plan = plan_unjoin(in);
  REQUIRE(plan.steps.size() == 4);
  for (const auto& s : plan.steps) {
    INFO(s.object.kind);
    CHECK(s.remove == (s.object.kind == "Gateway"));
  }
  CHECK(plan.steps[0].reason ==
        "east-west gateway: not labelled app.kubernetes.io/managed-by=meshctl, so not meshctl's");
}

TEST_CASE("the unjoin report a person reads", "[mesh][unjoin][golden]") {
  UnjoinInputs in;
  in.clusters = {linked("cn-shanghai", "wuxi"), linked("wuxi", "cn-shanghai")};
  in.clusters[1].remote_secrets.begin()->second.managed = false;
  in.reader_users["cn-shanghai"] = {"beijing"};
  UnjoinReport report;
  report.plan = plan_unjoin(in);
  report.dry_run = DryRun::k_client;
  meshctl::testing::check_golden("unjoin/dry-run.txt", format_unjoin_report(report));
  CHECK(format_unjoin_report(report).find("note:") == std::string::npos); // cmd prints notes
  report.dry_run = DryRun::k_none;
  meshctl::testing::check_golden("unjoin/report.json", unjoin_report_json(report).dump(2) + "\n");
  CHECK(format_unjoin_report(UnjoinReport{}) ==
        "nothing to remove: no object meshctl made is left\n");
}

namespace {

json remote_secret(const std::string& peer, const std::string& uid) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", "istio-remote-secret-" + peer},
            {"namespace", "istio-system"},
            {"uid", uid},
            {"labels",
             {{"app.kubernetes.io/managed-by", "meshctl"}, {"istio/multiCluster", "true"}}}}}};
}

} // namespace

TEST_CASE("unjoin leaves alone an object replaced between its read and its delete, and says so",
          "[mesh][unjoin][seam]") {
  using meshctl::kube::Method;
  using meshctl::testing::FakeReply;
  using meshctl::testing::FakeTransport;
  Session session;
  std::vector<std::shared_ptr<FakeTransport>> fakes;
  std::vector<std::unique_ptr<meshctl::kube::Client>> clients;
  for (const char* name : {"cn-shanghai", "wuxi"}) {
    meshctl::config::ClusterConfig c;
    c.name = c.context = c.network = name;
    session.config.clusters.push_back(c);
    fakes.push_back(std::make_shared<FakeTransport>());
    clients.push_back(meshctl::testing::fake_client(name, fakes.back()));
  }
  session.clusters = session.config.clusters;
  fakes[0]->serve_object(remote_secret("wuxi", "uid-read"));
  fakes[1]->serve_object(remote_secret("cn-shanghai", "uid-b"));
  const std::string replaced = "/api/v1/namespaces/istio-system/secrets/istio-remote-secret-wuxi";
  // Between unjoin's GET and its DELETE, someone deleted that Secret in cn-shanghai and made a new
  // one of the same name: the API server refuses a delete whose uid precondition no longer holds.
  fakes[0]->on(Method::k_delete, replaced, [](const meshctl::kube::Request& r) {
    const auto opts = json::parse(r.body);
    if (opts["preconditions"]["uid"] != "uid-now") {
      return FakeReply::api_status(
          409, "Conflict",
          "Operation cannot be fulfilled on secrets \"istio-remote-secret-wuxi\": Precondition "
          "failed: UID in precondition: " +
              opts["preconditions"]["uid"].get<std::string>() + ", UID in object meta: uid-now");
    }
    return FakeReply::json({{"kind", "Status"}, {"status", "Success"}});
  });
  const std::string other =
      "/api/v1/namespaces/istio-system/secrets/istio-remote-secret-cn-shanghai";
  fakes[1]->on(Method::k_delete, other,
               FakeReply::json({{"kind", "Status"}, {"status", "Success"}}));

  meshctl::GlobalOptions global;
  auto report = unjoin_live(session, global, clients, {});
  REQUIRE(report);
  // The delete was sent once, with the uid it read, and refused: the new Secret stays.
  const auto deletes = fakes[0]->calls(Method::k_delete, replaced);
  REQUIRE(deletes.size() == 1);
  // (the fake serves the object with a uid of its own: the one unjoin read, not the new one)
  const auto sent = json::parse(deletes[0].body)["preconditions"]["uid"].get<std::string>();
  CHECK_FALSE(sent.empty());
  CHECK(sent != "uid-now");
  // The other cluster's delete went through.
  CHECK(fakes[1]->calls(Method::k_delete, other).size() == 1);
  // The report says it plainly: kept, with the reason, and an error naming cluster and object.
  REQUIRE(report->errors.size() == 1);
  CHECK(report->errors[0].what() ==
        "cn-shanghai: Secret istio-system/istio-remote-secret-wuxi was replaced or changed between "
        "unjoin's read and its delete, so it was left alone");
  CHECK(report->errors[0].hint().find("run meshctl unjoin again") != std::string::npos);
  const std::string text = format_unjoin_report(*report);
  CHECK(text.find("cn-shanghai: 0 deleted, 1 left alone") != std::string::npos);
  CHECK(text.find("kept       Secret istio-system/istio-remote-secret-wuxi  (replaced or changed "
                  "after unjoin read it") != std::string::npos);
  CHECK(text.find("wuxi: 1 deleted, 0 left alone") != std::string::npos);
}
