// Loading and merging kubeconfig files, and looking contexts up, following client-go's
// clientcmd/loader.go.
//
// --kubeconfig alone if given (a missing explicit file is an error); else every file of
// $KUBECONFIG, split on ':', empty entries ignored, duplicates read once, missing files skipped;
// else ~/.kube/config. Merging is "first file wins" per map key and per whole entry: if two files
// define user "admin", only the first file's admin is used, even for fields the first one lacks.
// current-context comes from the first file that sets it. Each file is parsed on its own
// (kubeconfig_parse.cpp), so relative paths inside it are already resolved against its directory.

#include "config/kubeconfig.hpp"

#include "config/files.hpp"
#include "core/log.hpp"
#include "core/shown.hpp"
#include "core/strings.hpp"
#include "core/suggest.hpp"
#include "core/try.hpp"

#include <filesystem>
#include <set>

namespace meshctl::config {

namespace fs = std::filesystem;

namespace {

// The keys of a name → entry map, sorted (the map's order).
template <class T> std::vector<std::string> names_of(const std::map<std::string, T>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const auto& entry : entries) {
    out.push_back(entry.first);
  }
  return out;
}

std::string files_hint(const Kubeconfig& kc) {
  std::string hint;
  if (kc.files.empty()) {
    hint = "no kubeconfig file was read (none given with --kubeconfig, none in $KUBECONFIG, no "
           "~/.kube/config)";
  } else {
    hint = "kubeconfig files read: " + join(kc.files, ", ");
  }
  if (!kc.missing_files.empty()) {
    hint += "; missing: " + join(kc.missing_files, ", ");
  }
  return hint + "; list contexts with 'kubectl config get-contexts'";
}

// A context naming a cluster or user ("kind") that no file defines.
tl::unexpected<Error> dangling_reference(const Kubeconfig& kc, const std::string& context,
                                         const char* kind, const std::string& ref,
                                         const std::vector<std::string>& known) {
  return usage_error("context " + shown_quoted(context) + " refers to " + kind + " " +
                         shown_quoted(ref) + ", which is not in the kubeconfig" +
                         did_you_mean_suffix(ref, known),
                     files_hint(kc));
}

} // namespace

std::vector<std::string> Kubeconfig::context_names() const {
  return names_of(contexts);
}

Result<ResolvedContext> Kubeconfig::resolve(const std::string& context) const {
  const std::string name = context.empty() ? current_context : context;
  if (name.empty()) {
    return usage_error("no context given and the kubeconfig has no current-context",
                       "name a context (e.g. --context wuxi); " + files_hint(*this));
  }
  const auto ctx = contexts.find(name);
  if (ctx == contexts.end()) {
    return usage_error("context " + shown_quoted(name) + " not found in kubeconfig" +
                           did_you_mean_suffix(name, context_names()),
                       files_hint(*this));
  }
  ResolvedContext out;
  out.name = name;
  out.namespace_ = ctx->second.namespace_.empty() ? "default" : ctx->second.namespace_;
  if (ctx->second.cluster.empty()) {
    return usage_error("context " + shown_quoted(name) + " names no cluster",
                       "set contexts[" + name + "].context.cluster in the kubeconfig; " +
                           files_hint(*this));
  }
  const auto cluster = clusters.find(ctx->second.cluster);
  if (cluster == clusters.end()) {
    return dangling_reference(*this, name, "cluster", ctx->second.cluster, names_of(clusters));
  }
  if (cluster->second.server.empty()) {
    return usage_error("cluster " + shown_quoted(ctx->second.cluster) + " of context " +
                           shown_quoted(name) + " has no server",
                       "set clusters[" + ctx->second.cluster + "].cluster.server; " +
                           files_hint(*this));
  }
  out.cluster = cluster->second;
  if (!ctx->second.user.empty()) {
    const auto user = users.find(ctx->second.user);
    if (user == users.end()) {
      return dangling_reference(*this, name, "user", ctx->second.user, names_of(users));
    }
    out.user = user->second;
  }
  return out;
}

Result<Kubeconfig> load_kubeconfig(const std::optional<std::string>& explicit_path) {
  std::vector<std::string> candidates;
  bool explicit_file = false;
  if (explicit_path && !explicit_path->empty()) {
    explicit_file = true;
    candidates.push_back(*explicit_path);
  } else if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::set<std::string> seen;
    for (auto& item : split(env, ':')) {
      if (!item.empty() && seen.insert(item).second) {
        candidates.push_back(std::move(item));
      }
    }
  } else if (const auto home = detail::home_dir()) {
    candidates.push_back((fs::path(*home) / ".kube" / "config").string());
  }

  Kubeconfig merged;
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (explicit_file) {
        return usage_error("kubeconfig " + shown(path) + " (from --kubeconfig) does not exist",
                           "check the path given to --kubeconfig");
      }
      merged.missing_files.push_back(path);
      continue;
    }
    TRY_ASSIGN(const auto text, context(detail::read_file(path), "kubeconfig"));
    TRY_ASSIGN(const auto one, parse_kubeconfig(text, path));
    merged.files.push_back(path);
    // First file wins, for every key and for the whole entry.
    merged.clusters.insert(one.clusters.begin(), one.clusters.end());
    merged.users.insert(one.users.begin(), one.users.end());
    merged.contexts.insert(one.contexts.begin(), one.contexts.end());
    if (merged.current_context.empty()) {
      merged.current_context = one.current_context;
    }
  }
  if (merged.files.empty() && !merged.missing_files.empty()) {
    log::info("none of the kubeconfig files exist: {}", join(merged.missing_files, ", "));
  }
  return merged;
}

} // namespace meshctl::config
