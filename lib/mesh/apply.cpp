#include "mesh/apply.hpp"

#include "core/log.hpp"
#include "core/try.hpp"
#include "render/manifests.hpp"

#include <future>

namespace meshctl::mesh {

namespace {

// What a Shared object that already exists needs: only meshctl's labels merged in.
nlohmann::json labels_only(const nlohmann::json& desired) {
  nlohmann::json out = {{"apiVersion", desired["apiVersion"]}, {"kind", desired["kind"]}};
  out["metadata"]["name"] = desired["metadata"]["name"];
  if (desired["metadata"].contains("namespace")) {
    out["metadata"]["namespace"] = desired["metadata"]["namespace"];
  }
  out["metadata"]["labels"] = desired["metadata"].value("labels", nlohmann::json::object());
  return out;
}

// "data keys a, b" of a ConfigMap's data, for messages.
std::string join_keys(const nlohmann::json& data) {
  std::string out;
  for (const auto& [k, v] : data.items()) {
    out += (out.empty() ? "" : ", ") + k;
  }
  return "data key" + std::string(data.size() == 1 ? " " : "s ") + out;
}

struct Live {
  kube::ResourceRef ref;
  std::optional<nlohmann::json> object;
};

kube::ApiResult<Live> read_live(kube::Client& client, const nlohmann::json& desired) {
  TRY_ASSIGN(auto ref, client.ref_for(desired));
  auto got = client.get(ref);
  if (got) {
    return Live{ref, std::move(*got)};
  }
  if (got.error().not_found()) {
    return Live{ref, std::nullopt};
  }
  return tl::make_unexpected(got.error());
}

int wave_of(const nlohmann::json& obj) {
  const std::string kind = obj.value("kind", "");
  if (kind == "Namespace") {
    return 0;
  }
  if (kind == "Secret" && obj.value("type", "") == "kubernetes.io/service-account-token") {
    return 2;
  }
  return 1;
}

} // namespace

Result<ClusterPlan> plan_cluster(kube::Client& client, const ClusterObjects& desired) {
  ClusterPlan plan{desired.cluster, {}};
  // Discovery once up front, so that the parallel GETs below share it.
  if (auto d = client.discovery(); !d) {
    return tl::make_unexpected(Error(d.error()));
  }
  std::vector<nlohmann::json> wanted;
  wanted.reserve(desired.objects.size());
  for (const auto& d : desired.objects) {
    wanted.push_back(render::to_json(d.object.node));
  }
  std::vector<std::future<kube::ApiResult<Live>>> reads;
  reads.reserve(wanted.size());
  for (const auto& w : wanted) {
    reads.push_back(std::async(std::launch::async, [&client, &w] { return read_live(client, w); }));
  }
  std::vector<Error> errors;
  for (std::size_t i = 0; i < reads.size(); ++i) {
    auto live = reads[i].get();
    if (!live) {
      errors.push_back(live.error().error);
      continue;
    }
    const auto& d = desired.objects[i];
    Change c = plan_object(desired.cluster, wanted[i], live->object);
    c.placeholder = render::contains_placeholder(d.object);
    if (live->object && c.action == Action::k_update) {
      if (d.ownership == Ownership::k_create_only) {
        c.action = Action::k_unchanged;
        c.diff.clear();
      } else if (d.ownership == Ownership::k_shared) {
        const auto minimal = labels_only(wanted[i]);
        c = plan_object(desired.cluster, minimal, live->object);
      }
    }
    if (d.ownership == Ownership::k_fields) {
      if (!live->object) {
        const nlohmann::json& md = wanted[i]["metadata"];
        errors.push_back(Error(ExitCode::k_failed,
                               "no " + wanted[i].value("kind", "") + " " +
                                   md.value("namespace", "") + "/" + md.value("name", "") +
                                   ": Istio's install creates it, and meshctl only sets its " +
                                   join_keys(wanted[i].value("data", nlohmann::json::object())),
                               "install Istio (istioctl install or the istiod Helm chart) first"));
        continue;
      }
      c.force = true;
    }
    plan.changes.push_back(std::move(c));
  }
  if (!errors.empty()) {
    Error e = errors.front();
    return tl::make_unexpected(e.with_context(desired.cluster));
  }
  const auto s = summarize(plan.changes);
  log::info("{}: planned {} objects against the live ones: {} to create, {} to update, {} "
            "unchanged",
            desired.cluster, plan.changes.size(), s.created, s.updated, s.unchanged);
  return plan;
}

Result<void> apply_plan(kube::Client& client, ClusterPlan& plan, bool server_dry_run) {
  for (const auto& c : plan.changes) {
    if (c.placeholder && c.action != Action::k_unchanged && !server_dry_run) {
      return fail("internal: " + c.desired.value("kind", "") + " " +
                  c.desired["metadata"].value("name", "") +
                  " still holds a placeholder; refusing to write it to " + plan.cluster);
    }
  }
  for (int wave = 0; wave <= 2; ++wave) {
    std::vector<std::pair<std::size_t, std::future<kube::ApiResult<nlohmann::json>>>> writes;
    for (std::size_t i = 0; i < plan.changes.size(); ++i) {
      auto& c = plan.changes[i];
      if ((c.action != Action::k_create && c.action != Action::k_update) ||
          wave_of(c.desired) != wave || c.placeholder) {
        continue;
      }
      // meshctl is authoritative for objects it alone owns; shared ones never take fields over.
      const bool force = c.force || c.desired["metadata"]
                                            .value("labels", nlohmann::json::object())
                                            .value(std::string(render::k_managed_by_label), "") ==
                                        render::k_managed_by_value;
      writes.emplace_back(i, std::async(std::launch::async, [&client, &c, force, server_dry_run] {
                            kube::ApplyOptions opts;
                            opts.force = force;
                            opts.dry_run = server_dry_run;
                            return client.apply(c.desired, opts);
                          }));
    }
    std::vector<Error> errors;
    for (auto& [i, f] : writes) {
      auto r = f.get();
      const auto& c = plan.changes[i];
      const std::string what = std::string(c.desired.value("kind", "")) + " " +
                               c.desired["metadata"].value("namespace", "") +
                               (c.desired["metadata"].contains("namespace") ? "/" : "") +
                               c.desired["metadata"].value("name", "");
      if (!r) {
        errors.push_back(Error(r.error()).with_context("applying " + what + " to " + plan.cluster));
        continue;
      }
      plan.changes[i].written = !server_dry_run;
      log::info("{}: {} {}{}", plan.cluster, to_string(c.action), what,
                server_dry_run ? " (server dry run)" : "");
    }
    if (!errors.empty()) {
      // One line per cluster: the first failure stands for the wave (-v shows the others).
      for (std::size_t k = 1; k < errors.size(); ++k) {
        log::info("also: {}", errors[k].what());
      }
      return tl::make_unexpected(errors.front());
    }
  }
  return {};
}

// How long a value in a text diff line may be (-o json|yaml carry it whole).
constexpr std::size_t k_diff_value_max = 60;

std::string describe_plan(const ClusterPlan& plan, bool diffs) {
  std::string out;
  for (const auto& c : plan.changes) {
    const auto& md = c.desired["metadata"];
    std::string name = md.contains("namespace") ? md.value("namespace", "") + "/" : "";
    name += md.value("name", "");
    out += "  " + std::string(to_string(c.action));
    out.append(11 - std::string(to_string(c.action)).size(), ' ');
    out += c.desired.value("kind", "") + " " + name + "\n";
    if (diffs) {
      for (const auto& d : c.diff) {
        out += "             " + describe(d, k_diff_value_max) + "\n";
      }
    }
  }
  return out;
}

} // namespace meshctl::mesh
