#include "selectors.hpp"

#include <algorithm>

namespace kubesim {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) {
    return "";
  }
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> split_top(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : s) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    }
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

bool valid_key(const std::string& k) {
  if (k.empty() || k.size() > 317) {
    return false;
  }
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

bool valid_value(const std::string& v) {
  return v.size() <= 63 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
         });
}

std::optional<Requirement> parse_one(const std::string& raw, bool field, std::string& error) {
  const std::string s = trim(raw);
  Requirement r;
  if (!field && !s.empty() && s[0] == '!') {
    r.key = trim(s.substr(1));
    r.op = Requirement::Op::k_not_exists;
    if (!valid_key(r.key)) {
      error = "unable to parse requirement: invalid label key \"" + r.key + "\"";
      return std::nullopt;
    }
    return r;
  }
  // Set-based: "key in (a,b)" / "key notin (a,b)".
  for (const auto& [word, op] :
       {std::pair{" notin ", Requirement::Op::k_notin}, std::pair{" in ", Requirement::Op::k_in}}) {
    const auto pos = s.find(word);
    if (!field && pos != std::string::npos) {
      r.key = trim(s.substr(0, pos));
      r.op = op;
      std::string rest = trim(s.substr(pos + std::string(word).size()));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
        error = "unable to parse requirement: found '" + rest + "', expected: '('";
        return std::nullopt;
      }
      rest = rest.substr(1, rest.size() - 2);
      std::string cur;
      for (char c : rest + ",") {
        if (c == ',') {
          cur = trim(cur);
          if (!valid_value(cur)) {
            error = "unable to parse requirement: invalid label value: \"" + cur + "\"";
            return std::nullopt;
          }
          r.values.push_back(cur);
          cur.clear();
        } else {
          cur.push_back(c);
        }
      }
      return r;
    }
  }
  struct OpText {
    const char* text;
    Requirement::Op op;
  };
  static const OpText k_ops[] = {{"==", Requirement::Op::k_eq},
                                 {"!=", Requirement::Op::k_neq},
                                 {"=", Requirement::Op::k_eq},
                                 {">", Requirement::Op::k_gt},
                                 {"<", Requirement::Op::k_lt}};
  for (const auto& o : k_ops) {
    const auto pos = s.find(o.text);
    if (pos == std::string::npos) {
      continue;
    }
    if (field && (o.op == Requirement::Op::k_gt || o.op == Requirement::Op::k_lt)) {
      break;
    }
    r.key = trim(s.substr(0, pos));
    r.op = o.op;
    r.values.push_back(trim(s.substr(pos + std::string(o.text).size())));
    if (!field && !valid_value(r.values[0])) {
      error = "unable to parse requirement: invalid label value: \"" + r.values[0] + "\"";
      return std::nullopt;
    }
    if (!valid_key(r.key)) {
      error = "unable to parse requirement: invalid label key \"" + r.key + "\"";
      return std::nullopt;
    }
    return r;
  }
  if (field) {
    error = "invalid selector: '" + s + "'; can't understand '" + s + "'";
    return std::nullopt;
  }
  r.key = s;
  r.op = Requirement::Op::k_exists;
  if (!valid_key(r.key)) {
    error = "unable to parse requirement: invalid label key \"" + r.key + "\"";
    return std::nullopt;
  }
  return r;
}

std::optional<Selector> parse(const std::string& text, bool field, std::string& error) {
  Selector sel;
  if (trim(text).empty()) {
    return sel;
  }
  for (const auto& part : split_top(text)) {
    auto r = parse_one(part, field, error);
    if (!r) {
      return std::nullopt;
    }
    sel.requirements.push_back(*r);
  }
  return sel;
}

} // namespace

bool Selector::matches(const nlohmann::json& labels) const {
  for (const auto& r : requirements) {
    const bool has = labels.is_object() && labels.contains(r.key);
    const std::string v = has && labels[r.key].is_string() ? labels[r.key].get<std::string>() : "";
    const auto in = [&] {
      return std::find(r.values.begin(), r.values.end(), v) != r.values.end();
    };
    bool ok = true;
    switch (r.op) {
    case Requirement::Op::k_eq:
      ok = has && v == r.values[0];
      break;
    case Requirement::Op::k_neq:
      ok = !has || v != r.values[0];
      break;
    case Requirement::Op::k_in:
      ok = has && in();
      break;
    case Requirement::Op::k_notin:
      ok = !has || !in();
      break;
    case Requirement::Op::k_exists:
      ok = has;
      break;
    case Requirement::Op::k_not_exists:
      ok = !has;
      break;
    case Requirement::Op::k_gt:
    case Requirement::Op::k_lt:
      try {
        const long long a = std::stoll(v);
        const long long b = std::stoll(r.values[0]);
        ok = has && (r.op == Requirement::Op::k_gt ? a > b : a < b);
      } catch (...) {
        ok = false;
      }
      break;
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::optional<Selector> parse_label_selector(const std::string& text, std::string& error) {
  return parse(text, false, error);
}

std::optional<Selector> parse_field_selector(const std::string& text, std::string& error) {
  return parse(text, true, error);
}

bool matches_label_selector_object(const nlohmann::json& selector, const nlohmann::json& labels) {
  if (!selector.is_object()) {
    return false;
  }
  Selector sel;
  if (selector.contains("matchLabels") && selector["matchLabels"].is_object()) {
    for (const auto& [k, v] : selector["matchLabels"].items()) {
      sel.requirements.push_back({k, Requirement::Op::k_eq, {v.get<std::string>()}});
    }
  }
  if (selector.contains("matchExpressions") && selector["matchExpressions"].is_array()) {
    for (const auto& e : selector["matchExpressions"]) {
      Requirement r;
      r.key = e.value("key", "");
      const std::string op = e.value("operator", "");
      r.op = op == "In"       ? Requirement::Op::k_in
             : op == "NotIn"  ? Requirement::Op::k_notin
             : op == "Exists" ? Requirement::Op::k_exists
                              : Requirement::Op::k_not_exists;
      if (e.contains("values")) {
        r.values = e["values"].get<std::vector<std::string>>();
      }
      sel.requirements.push_back(r);
    }
  }
  return sel.matches(labels);
}

} // namespace kubesim
