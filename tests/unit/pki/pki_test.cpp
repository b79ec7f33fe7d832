// The plug-in CA: what meshctl creates must be what Istio's tools/certs recipe creates (checked
// against the recipe's real output and with the real openssl command), and the PKI directory must
// be safe and idempotent. Each RSA-4096 key takes a second or two, so every test case makes at most
// two, and uses no SECTIONs in them (Catch2 re-runs the whole test case for each one).

#include "pki/cert.hpp"
#include "pki/pki.hpp"
#include "support/testing.hpp"

#include <sys/stat.h>

#include <chrono>
#include <sstream>

using namespace meshctl;
using meshctl::testing::read_file;
using meshctl::testing::run;
using meshctl::testing::TempDir;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

class UmaskGuard {
public:
  explicit UmaskGuard(mode_t mask) : m_old(::umask(mask)) {}
  ~UmaskGuard() { ::umask(m_old); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

private:
  mode_t m_old;
};

void require_openssl_verify(const fs::path& root, const fs::path& cert) {
  for (const bool strict : {false, true}) {
    std::vector<std::string> argv{"openssl", "verify"};
    if (strict) {
      argv.emplace_back("-x509_strict");
    }
    argv.insert(argv.end(), {"-CAfile", root.string(), cert.string()});
    const auto r = run(argv);
    INFO("openssl verify" << (strict ? " -x509_strict" : "") << ": " << r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == cert.string() + ": OK\n");
  }
}

// `openssl x509 -noout -text` with what must differ between two issuances (serial, dates, key
// material, key ids, signature) masked, so that everything else can be compared exactly.
std::string normalised_text(const std::string& text) {
  std::istringstream in(text);
  std::ostringstream out;
  std::string line;
  bool skip_block = false;
  bool mask_next = false;
  while (std::getline(in, line)) {
    const auto body = line.substr(std::min(line.find_first_not_of(' '), line.size()));
    if (skip_block) {
      if (body.rfind("Exponent:", 0) == 0) {
        skip_block = false;
      } else {
        continue;
      }
    }
    if (mask_next) {
      out << "    <masked>\n";
      mask_next = false;
      continue;
    }
    if (body.rfind("Not Before:", 0) == 0 || body.rfind("Not After :", 0) == 0) {
      out << body.substr(0, 11) << " <date>\n";
      continue;
    }
    if (body.rfind("Signature Value:", 0) == 0) {
      out << body << "\n";
      break; // the rest is the signature
    }
    if (body.rfind("Modulus:", 0) == 0) {
      skip_block = true;
    }
    if (body.rfind("Serial Number:", 0) == 0 ||
        body.rfind("X509v3 Subject Key Identifier", 0) == 0 ||
        body.rfind("X509v3 Authority Key Identifier", 0) == 0) {
      mask_next = true;
    }
    out << line << "\n";
  }
  return out.str();
}

std::string openssl_text(const fs::path& pem) {
  const auto r = run({"openssl", "x509", "-noout", "-text", "-in", pem.string()});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string subject_with_types(const fs::path& pem) {
  const auto r = run({"openssl", "x509", "-noout", "-subject", "-issuer", "-nameopt",
                      "show_type,sep_comma_plus", "-in", pem.string()});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Field-by-field comparison of two certificates of the same profile; key ids must differ in value
// only, so they are compared by presence.
void check_same_profile(const pki::CertInfo& mine, const pki::CertInfo& theirs) {
  CHECK(mine.subject == theirs.subject);
  CHECK(mine.issuer == theirs.issuer);
  CHECK(mine.key_type == theirs.key_type);
  CHECK(mine.key_bits == theirs.key_bits);
  CHECK(mine.signature_algorithm == theirs.signature_algorithm);
  CHECK(mine.is_ca == theirs.is_ca);
  CHECK(mine.path_length == theirs.path_length);
  CHECK(mine.self_signed == theirs.self_signed);
  CHECK(mine.dns_sans == theirs.dns_sans);
  CHECK(mine.not_after - mine.not_before == theirs.not_after - theirs.not_before);
  CHECK(mine.subject_key_id.empty() == theirs.subject_key_id.empty());
  CHECK(mine.authority_key_id.empty() == theirs.authority_key_id.empty());
  CHECK(mine.serial.size() == theirs.serial.size()); // 20 random bytes each
  REQUIRE(mine.extensions.size() == theirs.extensions.size());
  for (std::size_t i = 0; i < mine.extensions.size(); ++i) {
    INFO("extension #" << i << " " << theirs.extensions[i].name);
    CHECK(mine.extensions[i].name == theirs.extensions[i].name);
    CHECK(mine.extensions[i].critical == theirs.extensions[i].critical);
    if (theirs.extensions[i].name.find("Key Identifier") == std::string::npos) {
      CHECK(mine.extensions[i].value == theirs.extensions[i].value);
    }
  }
}

void copy_recipe_cluster(const fs::path& recipe, const fs::path& to) {
  fs::create_directories(to);
  for (const char* f : {"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"}) {
    fs::copy_file(recipe / "cluster1" / f, to / f);
  }
}

} // namespace

TEST_CASE("a new root and intermediate pass openssl verify", "[pki]") {
  TempDir tmp;
  const auto dir = tmp.path() / "pki" / "mesh1";
  auto root = pki::create_root(dir);
  REQUIRE(root);
  auto ca = pki::load_or_issue_intermediate(*root, dir, "cluster1");
  REQUIRE(ca);

  // The recipe's layout, with the contents returned in memory.
  CHECK(read_file(dir / "root-cert.pem") == root->cert_pem);
  CHECK(read_file(dir / "root-key.pem") == root->key_pem);
  CHECK(root->key_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
  const auto cdir = dir / "cluster1";
  CHECK(read_file(cdir / "ca-cert.pem") == ca->ca_cert_pem);
  CHECK(read_file(cdir / "ca-key.pem") == ca->ca_key_pem);
  CHECK(read_file(cdir / "root-cert.pem") == root->cert_pem);
  CHECK(ca->root_cert_pem == root->cert_pem);
  // cert-chain.pem is the intermediate followed by the root, byte for byte.
  CHECK(read_file(cdir / "cert-chain.pem") ==
        read_file(cdir / "ca-cert.pem") + read_file(dir / "root-cert.pem"));
  CHECK(ca->cert_chain_pem == ca->ca_cert_pem + ca->root_cert_pem);
  const auto data = pki::cacerts_data(*ca);
  CHECK(data.size() == 4);
  CHECK(data.at("cert-chain.pem") == ca->cert_chain_pem);
  CHECK(data.at("ca-key.pem") == ca->ca_key_pem);

  require_openssl_verify(dir / "root-cert.pem", cdir / "ca-cert.pem");
  CHECK(pki::verify_chain(ca->cert_chain_pem, root->cert_pem));

  auto root_info = pki::inspect(root->cert_pem);
  auto ca_info = pki::inspect(ca->ca_cert_pem);
  REQUIRE(root_info);
  REQUIRE(ca_info);
  CHECK(root_info->subject == "O = Istio, CN = Root CA");
  CHECK(ca_info->subject == "O = Istio, CN = Intermediate CA, L = cluster1");
  CHECK(ca_info->authority_key_id == root_info->subject_key_id);
  CHECK(ca_info->not_after - ca_info->not_before == std::chrono::days(3650));
  CHECK(root_info->key_bits == 4096);
  CHECK(ca_info->key_bits == 4096);
  CHECK(ca_info->serial != root_info->serial);
  CHECK(ca_info->serial.size() == 20 * 3 - 1);
}

TEST_CASE("a new root and intermediate match Istio's recipe field by field", "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio); // first: a skip must not hide earlier failures
  TempDir tmp;
  const auto dir = tmp.path() / "pki" / "mesh1";
  auto root = pki::create_root(dir);
  REQUIRE(root);
  auto ca = pki::load_or_issue_intermediate(*root, dir, "cluster1");
  REQUIRE(ca);
  const auto cdir = dir / "cluster1";
  auto root_info = pki::inspect(root->cert_pem);
  auto ca_info = pki::inspect(ca->ca_cert_pem);
  REQUIRE(root_info);
  REQUIRE(ca_info);
  const auto recipe = istio / "generated/certs-makefile-selfsigned";
  auto recipe_root = pki::inspect(read_file(recipe / "root-cert.pem"));
  auto recipe_ca = pki::inspect(read_file(recipe / "cluster1/ca-cert.pem"));
  REQUIRE(recipe_root);
  REQUIRE(recipe_ca);
  {
    INFO("root, field by field");
    check_same_profile(*root_info, *recipe_root);
  }
  {
    INFO("intermediate, field by field");
    check_same_profile(*ca_info, *recipe_ca);
  }
  {
    INFO("openssl's own rendering, masked where values must differ");
    CHECK(normalised_text(openssl_text(dir / "root-cert.pem")) ==
          normalised_text(read_file(recipe / "root-cert.txt")));
    CHECK(normalised_text(openssl_text(cdir / "ca-cert.pem")) ==
          normalised_text(read_file(recipe / "cluster1/ca-cert.txt")));
    // The masking keeps what matters: the subject, the extensions and the key size.
    const auto masked = normalised_text(read_file(recipe / "cluster1/ca-cert.txt"));
    CHECK(masked.find("Subject: O = Istio, CN = Intermediate CA, L = cluster1") !=
          std::string::npos);
    CHECK(masked.find("CA:TRUE, pathlen:0") != std::string::npos);
    CHECK(masked.find("DNS:istiod.istio-system.svc") != std::string::npos);
    CHECK(masked.find("Public-Key: (4096 bit)") != std::string::npos);
  }
  {
    INFO("name string types (UTF8String, as the recipe's utf8 = yes)");
    CHECK(subject_with_types(dir / "root-cert.pem") ==
          subject_with_types(recipe / "root-cert.pem"));
    CHECK(subject_with_types(cdir / "ca-cert.pem") ==
          subject_with_types(recipe / "cluster1/ca-cert.pem"));
  }
}

TEST_CASE("re-running reuses the root and the intermediate byte for byte, with private modes "
          "under any umask",
          "[pki]") {
  TempDir tmp;
  const auto dir = tmp.path() / "config" / "pki" / "mesh1";
  pki::RootCA root;
  {
    // A umask that strips the owner's write bit must not break creation or loosen the key.
    UmaskGuard mask(0277);
    auto created = pki::load_or_create_root(dir);
    REQUIRE(created);
    root = *created;
  }
  pki::ClusterCA first;
  {
    // A umask of 0 must not make anything group- or world-readable that holds a key.
    UmaskGuard mask(0);
    auto issued = pki::load_or_issue_intermediate(root, dir, "wuxi");
    REQUIRE(issued);
    first = *issued;
  }
  CHECK(mode_of(tmp.path() / "config") == 0700);
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(dir / "root-key.pem") == 0600);
  CHECK(mode_of(dir / "root-cert.pem") == 0644);
  CHECK(mode_of(dir / "wuxi") == 0700);
  CHECK(mode_of(dir / "wuxi" / "ca-key.pem") == 0600);
  CHECK(mode_of(dir / "wuxi" / "ca-cert.pem") == 0644);
  CHECK(mode_of(dir / "wuxi" / "cert-chain.pem") == 0644);
  // No temporary files are left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "wuxi")) {
    ++entries;
  }
  CHECK(entries == 4);

  const auto chain_mtime = fs::last_write_time(dir / "wuxi" / "cert-chain.pem");
  auto again_root = pki::load_or_create_root(dir);
  REQUIRE(again_root);
  CHECK(again_root->cert_pem == root.cert_pem);
  CHECK(again_root->key_pem == root.key_pem);
  auto loaded = pki::load_root(dir);
  REQUIRE(loaded);
  CHECK(loaded->cert_pem == root.cert_pem);

  auto again = pki::load_or_issue_intermediate(*again_root, dir, "wuxi");
  REQUIRE(again);
  CHECK(again->cluster == "wuxi");
  CHECK(again->ca_cert_pem == first.ca_cert_pem);
  CHECK(again->ca_key_pem == first.ca_key_pem);
  CHECK(again->root_cert_pem == first.root_cert_pem);
  CHECK(again->cert_chain_pem == first.cert_chain_pem);
  CHECK(pki::cacerts_data(*again) == pki::cacerts_data(first));
  CHECK(fs::last_write_time(dir / "wuxi" / "cert-chain.pem") == chain_mtime);

  // A lost derived file is restored from the reused intermediate, identical.
  fs::remove(dir / "wuxi" / "cert-chain.pem");
  auto restored = pki::load_or_issue_intermediate(root, dir, "wuxi");
  REQUIRE(restored);
  CHECK(restored->ca_cert_pem == first.ca_cert_pem);
  CHECK(read_file(dir / "wuxi" / "cert-chain.pem") == first.cert_chain_pem);

  // find_intermediate never writes; an absent cluster is simply absent.
  auto none = pki::find_intermediate(root, dir, "cn-shanghai");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  CHECK_FALSE(fs::exists(dir / "cn-shanghai"));

  // create_root never overwrites.
  auto twice = pki::create_root(dir);
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code() == ExitCode::k_usage);
  CHECK(twice.error().what().find("already exists") != std::string::npos);
  CHECK(read_file(dir / "root-key.pem") == root.key_pem);
}

TEST_CASE("a root imported from Istio's recipe issues intermediates that openssl verifies",
          "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto recipe = istio / "generated/certs-makefile-selfsigned";
  TempDir tmp;
  const auto dir = tmp.path() / "pki";

  auto root = pki::import_root(recipe / "root-cert.pem", recipe / "root-key.pem", dir);
  REQUIRE(root);
  // The recipe writes canonical PEM, so the import is byte-identical (and the key stays private).
  CHECK(read_file(dir / "root-cert.pem") == read_file(recipe / "root-cert.pem"));
  CHECK(read_file(dir / "root-key.pem") == read_file(recipe / "root-key.pem"));
  CHECK(mode_of(dir / "root-key.pem") == 0600);
  CHECK(mode_of(dir) == 0700);

  auto ca = pki::load_or_issue_intermediate(*root, dir, "wuxi");
  REQUIRE(ca);
  require_openssl_verify(recipe / "root-cert.pem", dir / "wuxi" / "ca-cert.pem");
  CHECK(pki::verify_chain(ca->cert_chain_pem, read_file(recipe / "root-cert.pem")));
  CHECK(read_file(dir / "wuxi" / "root-cert.pem") == read_file(recipe / "root-cert.pem"));
  auto info = pki::inspect(ca->ca_cert_pem);
  REQUIRE(info);
  CHECK(info->subject == "O = Istio, CN = Intermediate CA, L = wuxi");
  CHECK(info->issuer == "O = Istio, CN = Root CA");

  // Importing the same root again is a no-op.
  auto same = pki::import_root(recipe / "root-cert.pem", recipe / "root-key.pem", dir);
  REQUIRE(same);
  CHECK(same->cert_pem == root->cert_pem);

  {
    INFO("the recipe's own intermediate is reused exactly, not re-issued");
    copy_recipe_cluster(recipe, dir / "cluster1");
    auto reused = pki::load_or_issue_intermediate(*root, dir, "cluster1");
    REQUIRE(reused);
    CHECK(reused->ca_cert_pem == read_file(recipe / "cluster1/ca-cert.pem"));
    CHECK(reused->ca_key_pem == read_file(recipe / "cluster1/ca-key.pem"));
    CHECK(reused->root_cert_pem == read_file(recipe / "cluster1/root-cert.pem"));
    CHECK(reused->cert_chain_pem == read_file(recipe / "cluster1/cert-chain.pem"));
  }
  {
    INFO("a recipe directory can serve as the PKI directory as it is");
    const auto copy = tmp.path() / "recipe";
    fs::copy(recipe, copy, fs::copy_options::recursive);
    auto in_place = pki::load_root(copy);
    REQUIRE(in_place);
    auto c2 = pki::load_or_issue_intermediate(*in_place, copy, "cluster2");
    REQUIRE(c2);
    CHECK(c2->cert_chain_pem == read_file(recipe / "cluster2/cert-chain.pem"));
    for (const auto& e : fs::recursive_directory_iterator(recipe)) {
      if (e.is_regular_file()) {
        INFO(e.path().string());
        CHECK(read_file(copy / fs::relative(e.path(), recipe)) == read_file(e.path()));
      }
    }
  }
}

TEST_CASE("an intermediate of another root is replaced, and the new one verifies", "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto recipe = istio / "generated/certs-makefile-selfsigned";
  TempDir tmp;
  const auto dir = tmp.path() / "pki";
  auto root = pki::create_root(dir);
  REQUIRE(root);
  // cluster1's files chain to the recipe's root, not to this one.
  copy_recipe_cluster(recipe, dir / "cluster1");
  auto stale = pki::find_intermediate(*root, dir, "cluster1");
  REQUIRE(stale);
  CHECK_FALSE(stale->has_value());

  auto ca = pki::load_or_issue_intermediate(*root, dir, "cluster1");
  REQUIRE(ca);
  CHECK_FALSE(pki::same_certificate(ca->ca_cert_pem, read_file(recipe / "cluster1/ca-cert.pem")));
  CHECK(read_file(dir / "cluster1/ca-key.pem") == ca->ca_key_pem);
  CHECK(read_file(dir / "cluster1/ca-key.pem") != read_file(recipe / "cluster1/ca-key.pem"));
  CHECK(mode_of(dir / "cluster1/ca-key.pem") == 0600);
  CHECK(read_file(dir / "cluster1/root-cert.pem") == root->cert_pem);
  require_openssl_verify(dir / "root-cert.pem", dir / "cluster1" / "ca-cert.pem");
}

TEST_CASE("bad PKI input is refused with a clear error and nothing is overwritten", "[pki]") {
  TempDir tmp;

  SECTION("missing directory") {
    auto r = pki::load_root(tmp.path() / "absent");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ExitCode::k_usage);
    CHECK(r.error().what().find("no root CA in") != std::string::npos);
    CHECK_FALSE(r.error().hint().empty());
    auto found = pki::find_root(tmp.path() / "absent");
    REQUIRE(found);
    CHECK_FALSE(found->has_value());
    CHECK_FALSE(fs::exists(tmp.path() / "absent"));
  }
  SECTION("missing files to import") {
    auto r =
        pki::import_root(tmp.path() / "nope.pem", tmp.path() / "nope-key.pem", tmp.path() / "pki");
    REQUIRE_FALSE(r);
    CHECK(r.error().what().find("nope.pem does not exist") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path() / "pki"));
  }
  SECTION("garbage PEM") {
    const auto cert = tmp.write("cert.pem", "not a certificate\n");
    const auto key = tmp.write("key.pem", "not a key\n");
    auto r = pki::import_root(cert, key, tmp.path() / "pki");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ExitCode::k_usage);
    CHECK(r.error().what().find("no PEM certificate found") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path() / "pki"));
  }
}

TEST_CASE("bad roots from Istio's recipe are refused with a clear error", "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio); // first: a skip must not hide earlier failures
  TempDir tmp;
  const auto recipe = istio / "generated/certs-makefile-selfsigned";
  const auto root_cert = recipe / "root-cert.pem";
  const auto root_key = recipe / "root-key.pem";
  const auto dir = tmp.path() / "pki";
  auto expect_import_error = [&](const fs::path& cert, const fs::path& key,
                                 const std::string& needle) {
    auto r = pki::import_root(cert, key, dir);
    REQUIRE_FALSE(r);
    INFO(r.error().what());
    CHECK(r.error().code() == ExitCode::k_usage);
    CHECK(r.error().what().find(needle) != std::string::npos);
    CHECK_FALSE(r.error().hint().empty());
    CHECK_FALSE(fs::exists(dir / "root-key.pem"));
  };

  SECTION("key of another certificate") {
    expect_import_error(root_cert, recipe / "cluster1/ca-key.pem", "does not belong");
  }
  SECTION("garbage key") {
    expect_import_error(root_cert,
                        tmp.write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                             "-----END PRIVATE KEY-----\n"),
                        "no usable PEM private key");
  }
  SECTION("encrypted key (never prompts)") {
    const auto enc = tmp.path() / "enc.pem";
    REQUIRE(
        run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-aes256", "-pass", "pass:secret123", "-out", enc.string()})
            .exit_code == 0);
    expect_import_error(root_cert, enc, "encrypted");
  }
  SECTION("an intermediate is no root") {
    expect_import_error(recipe / "cluster1/ca-cert.pem", recipe / "cluster1/ca-key.pem",
                        "pathlen:0");
  }
  SECTION("a certificate that is not a CA") {
    const auto cfg = tmp.write("leaf.cnf", "[req]\nprompt = no\ndistinguished_name = dn\n"
                                           "x509_extensions = ext\n[dn]\nCN = leaf\n"
                                           "[ext]\nbasicConstraints = critical, CA:false\n");
    const auto cert = tmp.path() / "leaf.pem";
    const auto key = tmp.path() / "leaf-key.pem";
    const auto r = run({"openssl", "req", "-x509", "-config", cfg.string(), "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                        "-keyout", key.string(), "-out", cert.string()});
    REQUIRE(r.exit_code == 0);
    expect_import_error(cert, key, "not a CA");
  }
  SECTION("half a root in the directory") {
    fs::create_directories(dir);
    fs::copy_file(root_cert, dir / "root-cert.pem");
    auto r = pki::load_or_create_root(dir);
    REQUIRE_FALSE(r);
    CHECK(r.error().what().find("root-key.pem is missing") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "root-key.pem"));
  }
  SECTION("a mismatched key in the directory") {
    fs::create_directories(dir);
    fs::copy_file(root_cert, dir / "root-cert.pem");
    fs::copy_file(recipe / "cluster2/ca-key.pem", dir / "root-key.pem");
    auto r = pki::load_root(dir);
    REQUIRE_FALSE(r);
    CHECK(r.error().what().find("does not belong") != std::string::npos);
  }

  SECTION("with a root in place") {
    auto root = pki::import_root(root_cert, root_key, dir);
    REQUIRE(root);
    const auto key_before = read_file(dir / "root-key.pem");

    auto created = pki::create_root(dir);
    REQUIRE_FALSE(created);
    CHECK(created.error().what().find("already exists") != std::string::npos);

    // Another valid root (EC: quick to make) is refused: a mesh has one root.
    const auto cfg = tmp.write("ca.cnf", "[req]\nprompt = no\ndistinguished_name = dn\n"
                                         "x509_extensions = ext\n[dn]\nCN = other\n"
                                         "[ext]\nbasicConstraints = critical, CA:true\n"
                                         "keyUsage = critical, keyCertSign\n");
    const auto other = tmp.path() / "other.pem";
    const auto other_key = tmp.path() / "other-key.pem";
    REQUIRE(run({"openssl", "req", "-x509", "-config", cfg.string(), "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30", "-keyout",
                 other_key.string(), "-out", other.string()})
                .exit_code == 0);
    auto replaced = pki::import_root(other, other_key, dir);
    REQUIRE_FALSE(replaced);
    CHECK(replaced.error().what().find("already holds a different root CA") != std::string::npos);
    CHECK(read_file(dir / "root-key.pem") == key_before);
    // ... while it imports fine into an empty directory.
    CHECK(pki::import_root(other, other_key, tmp.path() / "other-pki"));

    // A cluster name is a path component, never a path.
    for (const std::string bad : {"", ".", "..", "../evil", "a/b"}) {
      INFO("cluster: " << bad);
      auto r = pki::issue_intermediate(*root, bad);
      REQUIRE_FALSE(r);
      CHECK(r.error().code() == ExitCode::k_usage);
      CHECK_FALSE(pki::load_or_issue_intermediate(*root, dir, bad));
    }

    // Unusable stored intermediates are reported, never silently replaced.
    const auto cdir = dir / "wuxi";
    fs::create_directories(cdir);
    fs::copy_file(recipe / "cluster1/ca-cert.pem", cdir / "ca-cert.pem");
    auto half = pki::load_or_issue_intermediate(*root, dir, "wuxi");
    REQUIRE_FALSE(half);
    CHECK(half.error().what().find("ca-key.pem is missing") != std::string::npos);

    fs::copy_file(recipe / "cluster2/ca-key.pem", cdir / "ca-key.pem");
    auto mismatched = pki::load_or_issue_intermediate(*root, dir, "wuxi");
    REQUIRE_FALSE(mismatched);
    CHECK(mismatched.error().what().find("ca-key.pem does not belong to ca-cert.pem") !=
          std::string::npos);
    CHECK_FALSE(mismatched.error().hint().empty());

    tmp.write("pki/wuxi/ca-key.pem", "garbage\n");
    auto garbage = pki::load_or_issue_intermediate(*root, dir, "wuxi");
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().code() == ExitCode::k_usage);
    CHECK(read_file(cdir / "ca-key.pem") == "garbage\n");
    CHECK(read_file(cdir / "ca-cert.pem") == read_file(recipe / "cluster1/ca-cert.pem"));
  }
}
