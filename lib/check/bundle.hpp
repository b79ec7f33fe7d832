#pragma once
// A verify bundle: the Facts snapshot on disk, for tickets and air-gapped sites. `verify
// --save-bundle DIR` writes it; `verify --from-bundle DIR` checks it again offline and prints the
// same report. Layout:
//
//   DIR/facts.json                                  MeshFacts (facts_to_json), kind VerifyFacts
//   DIR/dumps/<cluster>/<namespace>.<pod>.<what>.json   Envoy admin output, as the proxy sent it
//
// Nothing secret is in it: the facts hold no Secret values (see facts.hpp), and the text is passed
// through redact() as a last guard.

#include "check/facts.hpp"
#include "core/error.hpp"

#include <string>

namespace meshctl::check {

/// Writes the bundle into `dir` (created if needed; files of an earlier bundle are replaced).
Result<void> save_bundle(const MeshFacts& facts, const std::string& dir);

/// Reads a bundle written by save_bundle (dumps are memory-mapped) and digests its dumps.
Result<MeshFacts> load_bundle(const std::string& dir);

} // namespace meshctl::check
