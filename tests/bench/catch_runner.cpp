// Catch's implementation without its main: the benchmark reuses the test support code (which
// reports through Catch) but has a main of its own.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
