#pragma once
// Early return on failure for Result<T> (core/error.hpp), the way ccache's util/expected.hpp does
// it: one line where a hand-written `if (!x) { return tl::make_unexpected(x.error()); }` took
// three. The macros only work inside a function that returns some Result<U> (or
// kube::ApiResult<U>, whose error converts).
//
//   TRY(apply_plan(client, plan));          // any Result whose value is unused
//   TRY_ASSIGN(auto plan, plan_cluster(c)); // declares `plan` holding the value
//   TRY_CTX(apply_plan(c, p), "applying");  // adds context to the error
//
// The error is moved out, so the expression is evaluated exactly once.

#include <tl/expected.hpp>

#include <utility>

#define MESHCTL_TRY_CAT2(a, b) a##b
#define MESHCTL_TRY_CAT(a, b) MESHCTL_TRY_CAT2(a, b)
#define MESHCTL_TRY_VAR MESHCTL_TRY_CAT(meshctl_try_, __LINE__)

/// Evaluates `expr` (a Result); on failure returns its error from the enclosing function.
#define TRY(expr)                                                                                  \
  do {                                                                                             \
    auto&& meshctl_try_r = (expr);                                                                 \
    if (!meshctl_try_r) {                                                                          \
      return tl::make_unexpected(std::move(meshctl_try_r.error()));                                \
    }                                                                                              \
  } while (false)

/// Like TRY, and adds `ctx` (a string) as the outermost context of the error. The error type
/// must be meshctl::Error or convert to it.
#define TRY_CTX(expr, ctx)                                                                         \
  do {                                                                                             \
    auto&& meshctl_try_r = (expr);                                                                 \
    if (!meshctl_try_r) {                                                                          \
      return tl::make_unexpected(                                                                  \
          ::meshctl::Error(std::move(meshctl_try_r.error())).with_context(ctx));                   \
    }                                                                                              \
  } while (false)

/// Evaluates `expr` (a Result<T>); on failure returns its error, else declares `decl` (e.g.
/// `auto plan` or `const auto& plan`) initialised from the moved value. One per line.
// `decl` is a declaration: it cannot be parenthesised (hence the NOLINT).
#define TRY_ASSIGN(decl, expr)                                                                     \
  auto MESHCTL_TRY_VAR = (expr);                                                                   \
  if (!MESHCTL_TRY_VAR) {                                                                          \
    return tl::make_unexpected(std::move(MESHCTL_TRY_VAR.error()));                                \
  }                                                                                                \
  decl = std::move(*MESHCTL_TRY_VAR) // NOLINT(bugprone-macro-parentheses)
