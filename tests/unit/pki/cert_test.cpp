// Certificate inspection and chain verification, checked against Istio's own recipe output and
// the real openssl command line. No key generation here: these tests are fast.

#include "pki/cert.hpp"
#include "support/testing.hpp"

#include <chrono>

using namespace meshctl;
using meshctl::testing::read_file;
using meshctl::testing::run;

namespace {

// The value openssl prints after "sha256 Fingerprint=".
std::string openssl_fingerprint(const std::filesystem::path& pem) {
  auto r = run({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pem.string()});
  REQUIRE(r.exit_code == 0);
  const auto eq = r.out.find('=');
  REQUIRE(eq != std::string::npos);
  return r.out.substr(eq + 1, r.out.find('\n') - eq - 1);
}

} // namespace

TEST_CASE("inspect reads the recipe's root and intermediate as openssl does", "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto recipe = istio / "generated/certs-makefile-selfsigned";

  auto root = pki::inspect(read_file(recipe / "root-cert.pem"));
  REQUIRE(root);
  CHECK(root->subject == "O = Istio, CN = Root CA");
  CHECK(root->issuer == "O = Istio, CN = Root CA");
  // Values below are copied from the recipe's root-cert.txt (`openssl x509 -noout -text`).
  CHECK(root->serial == "60:30:66:da:36:12:ef:94:81:a6:eb:1e:3d:5c:f4:59:1c:a9:4a:c4");
  CHECK(root->subject_key_id == "DA:88:A1:B6:6A:AD:69:20:31:2D:EE:4A:2C:0E:68:B8:C3:37:8C:0B");
  CHECK(root->authority_key_id.empty());
  CHECK(root->sha256_fingerprint == openssl_fingerprint(recipe / "root-cert.pem"));
  CHECK(root->is_ca);
  CHECK_FALSE(root->path_length.has_value());
  CHECK(root->self_signed);
  CHECK(root->key_type == "RSA");
  CHECK(root->key_bits == 4096);
  CHECK(root->signature_algorithm == "sha256WithRSAEncryption");
  CHECK(root->not_after - root->not_before == std::chrono::days(3650));
  REQUIRE(root->extensions.size() == 3);
  CHECK(root->extensions[1].name == "X509v3 Basic Constraints");
  CHECK(root->extensions[1].critical);
  CHECK(root->extensions[1].value == "CA:TRUE");
  CHECK(root->extensions[2].value ==
        "Digital Signature, Non Repudiation, Key Encipherment, Certificate Sign");

  auto ca = pki::inspect(read_file(recipe / "cluster1/ca-cert.pem"));
  REQUIRE(ca);
  CHECK(ca->subject == "O = Istio, CN = Intermediate CA, L = cluster1");
  CHECK(ca->issuer == "O = Istio, CN = Root CA");
  CHECK(ca->is_ca);
  CHECK(ca->path_length == 0L);
  CHECK_FALSE(ca->self_signed);
  CHECK(ca->dns_sans == std::vector<std::string>{"istiod.istio-system.svc"});
  CHECK(ca->authority_key_id == root->subject_key_id);
  CHECK(ca->sha256_fingerprint == openssl_fingerprint(recipe / "cluster1/ca-cert.pem"));
  // Validity as the .txt shows it: Nov 26 00:44:47 2026 GMT.
  CHECK(ca->not_before.time_since_epoch() == std::chrono::seconds(1795653887));
}

TEST_CASE("inspect_all walks a cert-chain in order — bad PEM is a usage error", "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto recipe = istio / "generated/certs-makefile-selfsigned";
  auto chain = pki::inspect_all(read_file(recipe / "cluster1/cert-chain.pem"));
  REQUIRE(chain);
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[0].subject == "O = Istio, CN = Intermediate CA, L = cluster1");
  CHECK((*chain)[1].subject == "O = Istio, CN = Root CA");

  // A key block between certificates is skipped, as openssl does.
  auto mixed = pki::inspect_all(read_file(recipe / "root-cert.pem") +
                                read_file(recipe / "cluster1/ca-key.pem") +
                                read_file(recipe / "cluster1/ca-cert.pem"));
  REQUIRE(mixed);
  CHECK(mixed->size() == 2);

  for (const std::string bad :
       {"", "garbage", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
        "-----END CERTIFICATE-----\n"}) {
    INFO("input: " << bad);
    auto r = pki::inspect_all(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ExitCode::k_usage);
    CHECK_FALSE(pki::inspect(bad));
  }
  // A good certificate followed by a corrupt one is refused, not silently truncated.
  auto truncated =
      pki::inspect_all(read_file(recipe / "root-cert.pem") +
                       "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
  CHECK_FALSE(truncated);
}

TEST_CASE("verify_chain accepts the recipe's chains and names the reason when it refuses",
          "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto recipe = istio / "generated/certs-makefile-selfsigned";
  const auto root = read_file(recipe / "root-cert.pem");
  const auto ca1 = read_file(recipe / "cluster1/ca-cert.pem");
  const auto ca2 = read_file(recipe / "cluster2/ca-cert.pem");

  CHECK(pki::verify_chain(ca1, root));
  CHECK(pki::verify_chain(ca2, root));
  CHECK(pki::verify_chain(read_file(recipe / "cluster1/cert-chain.pem"), root));
  CHECK(pki::verify_chain(root, root));

  // cluster2's intermediate is no trust anchor for cluster1's.
  auto wrong = pki::verify_chain(ca1, ca2);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code() == ExitCode::k_failed);
  CHECK(wrong.error().message().find("L = cluster1") != std::string::npos);
  CHECK(wrong.error().message().find("unable to get local issuer certificate") !=
        std::string::npos);
  CHECK_FALSE(wrong.error().hint().empty());

  // A root is not vouched for by an intermediate.
  CHECK_FALSE(pki::verify_chain(root, ca1));
  CHECK_FALSE(pki::verify_chain("garbage", root));
  CHECK_FALSE(pki::verify_chain(ca1, "garbage"));
}

TEST_CASE("same_certificate compares certificates, not text", "[pki]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto recipe = istio / "generated/certs-makefile-selfsigned";
  const auto root = read_file(recipe / "root-cert.pem");
  CHECK(pki::same_certificate(root, read_file(recipe / "cluster2/root-cert.pem")));
  CHECK(pki::same_certificate("leading text\n" + root, root + "\n"));
  CHECK_FALSE(pki::same_certificate(root, read_file(recipe / "cluster1/ca-cert.pem")));
  CHECK_FALSE(pki::same_certificate(root, "garbage"));
  CHECK_FALSE(pki::same_certificate("garbage", "garbage"));
}
