#include "kube/path.hpp"

namespace meshctl::kube {
namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  out += '%';
  out += k_hex[c >> 4];
  out += k_hex[c & 0xf];
}

} // namespace

std::string ResourceRef::qualified_resource() const {
  std::string out = resource;
  if (!group.empty()) {
    out += '.';
    out += group;
  }
  if (!subresource.empty()) {
    out += '/';
    out += subresource;
  }
  return out;
}

std::string ResourceRef::describe() const {
  if (name.empty()) {
    return namespace_.empty() ? qualified_resource() : qualified_resource() + " in " + namespace_;
  }
  return namespace_.empty() ? name : namespace_ + "/" + name;
}

std::string escape_query_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out += ch;
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

std::string escape_path_segment(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || c == ':' || c == '@') {
      out += ch;
    } else {
      append_escaped(out, c);
    }
  }
  // "." and ".." would be collapsed by any URL normaliser on the way; encode them.
  if (out == "." || out == "..") {
    std::string dots;
    for (std::size_t i = 0; i < out.size(); ++i) {
      dots += "%2E";
    }
    return dots;
  }
  return out;
}

std::string escape_path(std::string_view path) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out += escape_path_segment(path.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::string encode_query(const Query& query) {
  std::string out;
  for (const auto& [key, value] : query) {
    if (!out.empty()) {
      out += '&';
    }
    out += escape_query_component(key);
    out += '=';
    out += escape_query_component(value);
  }
  return out;
}

std::string resource_path(const ResourceRef& ref) {
  std::string out = ref.group.empty() ? "/api/" + escape_path_segment(ref.version)
                                      : "/apis/" + escape_path_segment(ref.group) + "/" +
                                            escape_path_segment(ref.version);
  if (!ref.namespace_.empty()) {
    out += "/namespaces/" + escape_path_segment(ref.namespace_);
  }
  out += "/" + escape_path_segment(ref.resource);
  if (!ref.name.empty()) {
    out += "/" + escape_path_segment(ref.name);
    if (!ref.subresource.empty()) {
      out += "/" + escape_path_segment(ref.subresource);
    }
  }
  return out;
}

std::string pod_proxy_path(std::string_view namespace_, std::string_view pod, int port,
                           std::string_view path) {
  std::string out = "/api/v1/namespaces/" + escape_path_segment(namespace_) + "/pods/" +
                    escape_path_segment(std::string(pod) + ":" + std::to_string(port)) + "/proxy";
  if (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  out += "/";
  out += escape_path(path);
  return out;
}

std::string pod_exec_path(std::string_view namespace_, std::string_view pod) {
  return "/api/v1/namespaces/" + escape_path_segment(namespace_) + "/pods/" +
         escape_path_segment(pod) + "/exec";
}

std::pair<std::string, std::string> split_api_version(std::string_view api_version) {
  const std::size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) {
    return {"", std::string(api_version)};
  }
  return {std::string(api_version.substr(0, slash)), std::string(api_version.substr(slash + 1))};
}

std::string join_api_version(std::string_view group, std::string_view version) {
  if (group.empty()) {
    return std::string(version);
  }
  return std::string(group) + "/" + std::string(version);
}

} // namespace meshctl::kube
