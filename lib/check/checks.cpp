// verify's checks, one area per file (checks_<area>.cpp, helpers they share in
// checks_common.*). Each area walks the clusters in the facts' order and says, per cluster, what
// is fine (info), what works but not as intended or could not be verified (warning), and what is
// broken (error), always with the command or change that fixes it. The rules come from FACTS.md:
// §1 identity and network label, §2 remote secrets and clusterz, §3 plug-in CA, §4 gateway
// addresses, §5 locality priorities, §6 SNI routes, §8 service sameness.

#include "check/checks.hpp"

#include "core/enum_names.hpp"

#include <iterator>

namespace meshctl::check {

std::string_view severity_name(Severity s) {
  static constexpr EnumName<Severity> k_names[] = {
      {Severity::k_info, "info"}, {Severity::k_warning, "warning"}, {Severity::k_error, "error"}};
  return name_of(k_names, s, "info");
}

Findings run_checks(const MeshFacts& facts) {
  Findings out;
  for (auto* check : {&check_reachability, &check_istio, &check_trust, &check_remote_secrets,
                      &check_gateways, &check_service, &check_sni_routes, &check_endpoints}) {
    auto f = check(facts);
    out.insert(out.end(), std::make_move_iterator(f.begin()), std::make_move_iterator(f.end()));
  }
  return out;
}

Findings run_mesh_checks(const MeshFacts& facts) {
  Findings out;
  for (auto* check :
       {&check_reachability, &check_istio, &check_trust, &check_remote_secrets, &check_gateways}) {
    auto f = check(facts);
    out.insert(out.end(), std::make_move_iterator(f.begin()), std::make_move_iterator(f.end()));
  }
  return out;
}

} // namespace meshctl::check
