# Project-wide warning flags, applied through an interface target so third-party code is not affected.
add_library(meshctl_warnings INTERFACE)
target_compile_options(meshctl_warnings INTERFACE
  -Wall -Wextra -Wpedantic
  $<IF:$<CXX_COMPILER_ID:Clang>,-Wshadow-uncaptured-local,-Wshadow=local> -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(MESHCTL_WERROR)
  target_compile_options(meshctl_warnings INTERFACE -Werror)
endif()
target_compile_definitions(meshctl_warnings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
