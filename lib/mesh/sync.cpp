#include "mesh/sync.hpp"

#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "render/object.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace meshctl::mesh {

std::vector<std::string> default_excluded_namespaces() {
  return {"kube-system", "kube-public", "kube-node-lease", "istio-system"};
}

// ---------------------------------------------------------------------------------------------
// Label selectors

namespace {

// Splits at commas outside parentheses.
std::vector<std::string_view> split_requirements(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      --depth;
    } else if (text[i] == ',' && depth == 0) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(text.substr(start));
  return out;
}

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > 316) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

} // namespace

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector sel;
  if (trim(text).empty()) {
    return sel;
  }
  const auto bad = [&](std::string_view part) {
    return usage_error(fmt::format("the selector \"{}\" is not valid at \"{}\"", text, trim(part)),
                       "use kubectl's syntax, e.g. --selector 'app=web,tier in (a,b),!legacy'");
  };
  for (const auto part_raw : split_requirements(text)) {
    const auto part = trim(part_raw);
    Requirement r;
    if (part.empty()) {
      return bad(part_raw);
    }
    if (part.front() == '!') {
      r.key = std::string(trim(part.substr(1)));
      r.op = Requirement::Op::k_not_exists;
    } else if (const auto ne = part.find("!="); ne != std::string_view::npos) {
      r.key = std::string(trim(part.substr(0, ne)));
      r.op = Requirement::Op::k_neq;
      r.values.emplace_back(trim(part.substr(ne + 2)));
    } else if (const auto eq = part.find('='); eq != std::string_view::npos) {
      r.key = std::string(trim(part.substr(0, eq)));
      r.op = Requirement::Op::k_eq;
      auto value = part.substr(eq + 1);
      if (!value.empty() && value.front() == '=') {
        value.remove_prefix(1);
      }
      r.values.emplace_back(trim(value));
    } else if (const auto paren = part.find('('); paren != std::string_view::npos) {
      const auto head = trim(part.substr(0, paren));
      const auto space = head.find_last_of(" \t");
      if (space == std::string_view::npos || part.back() != ')') {
        return bad(part);
      }
      const auto op = trim(head.substr(space + 1));
      r.key = std::string(trim(head.substr(0, space)));
      if (op == "in") {
        r.op = Requirement::Op::k_in;
      } else if (op == "notin") {
        r.op = Requirement::Op::k_notin;
      } else {
        return bad(part);
      }
      const auto inner = part.substr(paren + 1, part.size() - paren - 2);
      for (const auto v : split_requirements(inner)) {
        r.values.emplace_back(trim(v));
      }
    } else {
      r.key = std::string(part);
      r.op = Requirement::Op::k_exists;
    }
    if (!valid_key(r.key)) {
      return bad(part);
    }
    sel.m_requirements.push_back(std::move(r));
  }
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : m_requirements) {
    const auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const auto in_values = [&] {
      return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    };
    bool ok = false;
    switch (r.op) {
    case Requirement::Op::k_eq:
    case Requirement::Op::k_in:
      ok = in_values();
      break;
    case Requirement::Op::k_neq:
    case Requirement::Op::k_notin:
      ok = !in_values();
      break;
    case Requirement::Op::k_exists:
      ok = has;
      break;
    case Requirement::Op::k_not_exists:
      ok = !has;
      break;
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Scope

bool SyncScope::covers_namespace(std::string_view ns) const {
  if (!namespaces.empty()) {
    return std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
  }
  return std::find(excluded.begin(), excluded.end(), ns) == excluded.end();
}

bool SyncScope::covers(std::string_view ns, std::string_view name) const {
  if (ns == "default" && name == "kubernetes") {
    return false;
  }
  return covers_namespace(ns);
}

// ---------------------------------------------------------------------------------------------
// Shapes, copies, records

namespace {

std::string service_type(const nlohmann::json& spec) {
  if (str(spec, "type") == "ExternalName") {
    return "ExternalName";
  }
  if (str(spec, "clusterIP") == "None") {
    return "headless";
  }
  return "ClusterIP";
}

std::string port_label(const ServiceShape::Port& p) {
  return fmt::format("{}/{}", p.port, p.protocol);
}

} // namespace

ServiceShape shape_of(const nlohmann::json& service) {
  const auto& spec = member(service, "spec");
  ServiceShape s;
  s.type = service_type(spec);
  const auto& ports = member(spec, "ports");
  if (ports.is_array()) {
    for (const auto& p : ports) {
      const auto& port = member(p, "port");
      ServiceShape::Port sp;
      sp.port = port.is_number_integer() ? port.get<int>() : 0;
      sp.protocol = str(p, "protocol").empty() ? "TCP" : str(p, "protocol");
      sp.name = str(p, "name");
      s.ports.push_back(std::move(sp));
    }
  }
  std::sort(s.ports.begin(), s.ports.end(), [](const auto& a, const auto& b) {
    return std::tie(a.port, a.protocol, a.name) < std::tie(b.port, b.protocol, b.name);
  });
  return s;
}

std::vector<std::string> shape_diff(const ServiceShape& a, std::string_view a_cluster,
                                    const ServiceShape& b, std::string_view b_cluster) {
  std::vector<std::string> out;
  if (a.type != b.type) {
    out.push_back(fmt::format("type: {} in {}, {} in {}", a.type, a_cluster, b.type, b_cluster));
  }
  auto find = [](const ServiceShape& s, const ServiceShape::Port& p) {
    return std::find_if(s.ports.begin(), s.ports.end(), [&](const auto& q) {
      return q.port == p.port && q.protocol == p.protocol;
    });
  };
  for (const auto& p : a.ports) {
    const auto q = find(b, p);
    if (q == b.ports.end()) {
      out.push_back(fmt::format("port {}: in {} only", port_label(p), a_cluster));
    } else if (q->name != p.name) {
      out.push_back(fmt::format("port {}: name \"{}\" in {}, \"{}\" in {}", port_label(p), p.name,
                                a_cluster, q->name, b_cluster));
    }
  }
  for (const auto& q : b.ports) {
    if (find(a, q) == a.ports.end()) {
      out.push_back(fmt::format("port {}: in {} only", port_label(q), b_cluster));
    }
  }
  return out;
}

nlohmann::json copy_body(const nlohmann::json& source) {
  const auto& md = member(source, "metadata");
  const auto& spec = member(source, "spec");
  nlohmann::json labels = nlohmann::json::object();
  if (const auto& l = member(md, "labels"); l.is_object()) {
    labels = l;
  }
  labels.erase(std::string(k_synced_from_label));
  labels[std::string(render::k_managed_by_label)] = render::k_managed_by_value;

  nlohmann::json out_spec = nlohmann::json::object();
  const std::string type = service_type(spec);
  if (type == "ExternalName") {
    out_spec["type"] = "ExternalName";
    out_spec["externalName"] = member(spec, "externalName");
  } else {
    out_spec["type"] = "ClusterIP";
    if (type == "headless") {
      out_spec["clusterIP"] = "None";
    }
    if (const auto& sel = member(spec, "selector"); sel.is_object() && !sel.empty()) {
      out_spec["selector"] = sel;
    }
  }
  if (const auto& ports = member(spec, "ports"); ports.is_array() && !ports.empty()) {
    nlohmann::json out_ports = nlohmann::json::array();
    for (const auto& p : ports) {
      nlohmann::json q = nlohmann::json::object();
      for (const char* k : {"name", "appProtocol"}) {
        if (const auto& v = member(p, k); v.is_string() && !v.get<std::string>().empty()) {
          q[k] = v;
        }
      }
      q["port"] = member(p, "port");
      q["protocol"] = str(p, "protocol").empty() ? "TCP" : str(p, "protocol");
      const auto& target = member(p, "targetPort");
      q["targetPort"] = target.is_null() || (target.is_number_integer() && target.get<int>() == 0)
                            ? member(p, "port")
                            : target;
      out_ports.push_back(std::move(q));
    }
    out_spec["ports"] = std::move(out_ports);
  }
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", member(md, "name")}, {"namespace", member(md, "namespace")}, {"labels", labels}}},
      {"spec", std::move(out_spec)}};
}

std::string copy_hash(const nlohmann::json& copy_without_annotation) {
  const std::string canonical = copy_without_annotation.dump();
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  EVP_Digest(canonical.data(), canonical.size(), md.data(), &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < 16 && i < size; ++i) {
    hex += fmt::format("{:02x}", md[i]);
  }
  return hex;
}

nlohmann::json finish_copy(nlohmann::json body, std::string_view source_cluster,
                           std::string* hash_out) {
  body["metadata"]["labels"][std::string(k_synced_from_label)] = source_cluster;
  body["metadata"].erase("annotations");
  const std::string hash = copy_hash(body);
  body["metadata"]["annotations"] = {{std::string(k_source_hash_annotation), hash}};
  if (hash_out != nullptr) {
    *hash_out = hash;
  }
  return body;
}

std::string service_key(std::string_view namespace_, std::string_view name) {
  std::string key;
  key.reserve(namespace_.size() + name.size() + 1);
  key.append(namespace_).append("/").append(name);
  return key;
}

ServiceRecord service_record(const nlohmann::json& service) {
  const auto& md = member(service, "metadata");
  ServiceRecord r;
  r.namespace_ = str(md, "namespace");
  r.name = str(md, "name");
  r.uid = str(md, "uid");
  r.resource_version = str(md, "resourceVersion");
  if (const auto& labels = member(md, "labels"); labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) {
        r.labels.emplace(k, v.get<std::string>());
      }
    }
  }
  const auto managed = r.labels.find(std::string(render::k_managed_by_label));
  const auto from = r.labels.find(std::string(k_synced_from_label));
  r.copy = managed != r.labels.end() && managed->second == render::k_managed_by_value &&
           from != r.labels.end() && !from->second.empty();
  r.shape = shape_of(service);
  auto body = copy_body(service);
  if (r.copy) {
    r.synced_from = from->second;
    r.annotated_hash = str(member(md, "annotations"), k_source_hash_annotation);
    body["metadata"]["labels"][std::string(k_synced_from_label)] = r.synced_from;
    r.content_hash = copy_hash(body);
  } else {
    r.body = body.dump();
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Planning

const char* to_string(SyncAction action) {
  static constexpr EnumName<SyncAction> k_names[] = {
      {SyncAction::k_create, "create"},       {SyncAction::k_update, "update"},
      {SyncAction::k_unchanged, "unchanged"}, {SyncAction::k_prune, "prune"},
      {SyncAction::k_present, "present"},     {SyncAction::k_conflict, "conflict"},
      {SyncAction::k_skipped, "skipped"}};
  return name_of(k_names, action, "?");
}

nlohmann::json namespace_object(std::string_view name) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata",
           {{"name", name},
            {"labels", {{std::string(render::k_managed_by_label), render::k_managed_by_value}}}}}};
}

namespace {

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const ServiceRecord* find_record(const ClusterState& c, const std::string& key) {
  const auto it = c.services.find(key);
  return it == c.services.end() ? nullptr : &it->second;
}

} // namespace

SyncPlan plan_sync(const std::vector<const ClusterState*>& clusters, const SyncSettings& settings,
                   const std::vector<std::string>* keys) {
  std::map<std::string, const ClusterState*> by_name;
  for (const auto* c : clusters) {
    by_name[c->cluster] = c;
  }
  std::vector<std::string> all_keys;
  if (keys == nullptr) {
    std::set<std::string> seen;
    for (const auto* c : clusters) {
      for (const auto& [k, r] : c->services) {
        seen.insert(k);
      }
    }
    all_keys.assign(seen.begin(), seen.end());
    keys = &all_keys;
  }

  SyncPlan plan;
  std::set<std::pair<std::string, std::string>> namespaces_planned;
  for (const auto& key : *keys) {
    // Originals of this name in the sources, in priority order.
    std::vector<std::pair<std::string, const ServiceRecord*>> originals;
    for (const auto& s : settings.sources) {
      const auto it = by_name.find(s);
      if (it == by_name.end()) {
        continue;
      }
      const auto* r = find_record(*it->second, key);
      if (r != nullptr && !r->copy) {
        originals.emplace_back(s, r);
      }
    }
    std::vector<std::pair<std::string, const ServiceRecord*>> selected;
    for (const auto& o : originals) {
      if (settings.selector.matches(o.second->labels)) {
        selected.push_back(o);
      }
    }

    // Sources that disagree and are not targets themselves (a source that is also a target
    // meets the chosen source's copy as a foreign Service, reported below).
    if (!selected.empty()) {
      const auto& [first, first_rec] = selected.front();
      for (std::size_t i = 1; i < selected.size(); ++i) {
        const auto& [other, rec] = selected[i];
        if (rec->shape != first_rec->shape && !contains(settings.targets, other)) {
          SyncChange c;
          c.from = first;
          c.to = other;
          c.namespace_ = rec->namespace_;
          c.name = rec->name;
          c.action = SyncAction::k_conflict;
          c.details = shape_diff(first_rec->shape, first, rec->shape, other);
          c.details.insert(c.details.begin(),
                           fmt::format("the sources disagree; copies come from {}", first));
          plan.changes.push_back(std::move(c));
        }
      }
    }

    for (const auto& target : settings.targets) {
      const auto tit = by_name.find(target);
      if (tit == by_name.end()) {
        continue;
      }
      const ClusterState& t = *tit->second;
      const ServiceRecord* existing = find_record(t, key);
      // The source for this target: the first selected original outside it.
      const std::pair<std::string, const ServiceRecord*>* chosen = nullptr;
      for (const auto& s : selected) {
        if (s.first != target) {
          chosen = &s;
          break;
        }
      }
      const bool ours = existing != nullptr && existing->copy && existing->synced_from != target &&
                        contains(settings.sources, existing->synced_from);

      SyncChange c;
      c.to = target;
      if (chosen != nullptr) {
        const auto& [source, rec] = *chosen;
        c.from = source;
        c.namespace_ = rec->namespace_;
        c.name = rec->name;
        if (existing != nullptr && !ours) {
          if (existing->shape == rec->shape) {
            c.action = SyncAction::k_present;
          } else {
            c.action = SyncAction::k_conflict;
            c.details = shape_diff(rec->shape, source, existing->shape, target);
            c.details.insert(c.details.begin(),
                             existing->copy ? fmt::format("{} has a copy from {}, which is not a "
                                                          "source of this run",
                                                          target, existing->synced_from)
                                            : fmt::format("{} has its own Service of that name, "
                                                          "which meshctl did not create",
                                                          target));
          }
          plan.changes.push_back(std::move(c));
          continue;
        }
        std::string hash;
        const auto copy = finish_copy(nlohmann::json::parse(rec->body), source, &hash);
        if (existing == nullptr) {
          if (t.namespaces.count(rec->namespace_) == 0) {
            if (!settings.create_namespaces) {
              c.action = SyncAction::k_skipped;
              c.details.push_back(fmt::format("namespace {} does not exist in {} "
                                              "(--no-create-namespace)",
                                              rec->namespace_, target));
              plan.changes.push_back(std::move(c));
              continue;
            }
            if (namespaces_planned.emplace(target, rec->namespace_).second) {
              plan.namespaces.push_back({target, rec->namespace_});
            }
          }
          c.action = SyncAction::k_create;
          c.body = copy.dump();
        } else if (existing->annotated_hash == hash && existing->content_hash == hash &&
                   existing->synced_from == source) {
          c.action = SyncAction::k_unchanged;
        } else {
          c.action = SyncAction::k_update;
          c.body = copy.dump();
          if (existing->synced_from != source) {
            c.details.push_back("the copy came from " + existing->synced_from + ", now from " +
                                source);
          } else if (existing->annotated_hash != hash) {
            c.details.push_back("the source changed");
          } else {
            c.details.push_back("the copy was edited in " + target);
          }
        }
        plan.changes.push_back(std::move(c));
        continue;
      }
      // No source of this name for this target: prune our copy once its original is gone
      // everywhere in this run's sources (an original the selector filters out keeps it).
      if (!ours) {
        continue;
      }
      bool original_left = false;
      for (const auto& o : originals) {
        original_left = original_left || o.first != target;
      }
      if (original_left || !settings.prune) {
        continue;
      }
      c.from = existing->synced_from;
      c.namespace_ = existing->namespace_;
      c.name = existing->name;
      c.action = SyncAction::k_prune;
      c.uid = existing->uid;
      c.resource_version = existing->resource_version;
      plan.changes.push_back(std::move(c));
    }
  }
  return plan;
}

std::vector<PairSummary> summarize_sync(const SyncPlan& plan, const SyncSettings& settings) {
  std::vector<PairSummary> out;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  auto slot = [&](const std::string& from, const std::string& to) -> PairSummary& {
    const auto [it, fresh] = index.emplace(std::pair{from, to}, out.size());
    if (fresh) {
      out.push_back({from, to});
    }
    return out[it->second];
  };
  for (const auto& s : settings.sources) {
    for (const auto& t : settings.targets) {
      if (s != t) {
        slot(s, t);
      }
    }
  }
  // The count each action adds to.
  static constexpr std::pair<SyncAction, int PairSummary::*> k_counts[] = {
      {SyncAction::k_create, &PairSummary::created},
      {SyncAction::k_update, &PairSummary::updated},
      {SyncAction::k_unchanged, &PairSummary::unchanged},
      {SyncAction::k_prune, &PairSummary::pruned},
      {SyncAction::k_present, &PairSummary::present},
      {SyncAction::k_conflict, &PairSummary::conflicts},
      {SyncAction::k_skipped, &PairSummary::skipped}};
  for (const auto& c : plan.changes) {
    PairSummary& p = slot(c.from, c.to);
    for (const auto& [action, count] : k_counts) {
      if (action == c.action) {
        ++(p.*count);
      }
    }
  }
  return out;
}

int count_conflicts(const SyncPlan& plan) {
  return static_cast<int>(
      std::count_if(plan.changes.begin(), plan.changes.end(),
                    [](const auto& c) { return c.action == SyncAction::k_conflict; }));
}

} // namespace meshctl::mesh
