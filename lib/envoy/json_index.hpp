#pragma once
// Stage one of JsonReader (json_reader.cpp says how the reader works): the index of a document's
// structural characters and unescaped quotes, built 64 bytes at a time with SIMD, and the thread
// that builds it ahead of the reader for big documents. Internal to lib/envoy.

#include "envoy/json_reader.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace meshctl::envoy {

/// What indexing carries from one 64-byte block to the next.
struct IndexState {
  std::uint64_t in_string = 0; // all ones when the previous block ended inside a string
  bool escape_next = false;    // the previous block ended with an unescaped backslash
};

namespace detail {

/// The SIMD kernels stage one has. On x86-64 the widest one the CPU runs is chosen at start-up;
/// elsewhere there is only the portable one, reported as k_sse2.
enum class Kernel { k_sse2, k_avx2, k_avx512 };

/// "sse2", "avx2" or "avx512", for test names and messages.
std::string_view kernel_name(Kernel k);

/// The kernels this CPU can run, narrowest first; the last one is the start-up choice.
std::vector<Kernel> supported_kernels();

/// Test-only: indexes with `k` (which must be supported) from now on, in every reader and thread,
/// so the unit tests and the fuzzer check each kernel on a CPU that would only ever use its
/// widest. Returns the kernel used before. Not for meshctl's own code.
Kernel force_kernel(Kernel k);

/// Test-only: forces a kernel for the lifetime of the object, then restores the previous one.
class ScopedKernel {
public:
  explicit ScopedKernel(Kernel k) : m_previous(force_kernel(k)) {}
  ~ScopedKernel() { force_kernel(m_previous); }
  ScopedKernel(const ScopedKernel&) = delete;
  ScopedKernel& operator=(const ScopedKernel&) = delete;

private:
  Kernel m_previous;
};

} // namespace detail

/// Indexes bytes [pos, end) of a document, whose length is a multiple of 64, with the current
/// kernel (the widest this CPU has unless a test forced another): writes the positions at `out`,
/// returns the new end.
std::size_t* index_whole_blocks(const unsigned char* bytes, std::size_t pos, std::size_t end,
                                IndexState& st, std::size_t* out);

/// Indexes the tail [pos, end) of a document, shorter than 64 bytes.
std::size_t* index_tail(const unsigned char* bytes, std::size_t pos, std::size_t end,
                        IndexState& st, std::size_t* out);

// Stage one on a second thread for big documents: it indexes window after window into buffers
// from a small pool, at most k_depth windows ahead of the reader, and does the paging work
// (progress callbacks) too, so the reader's thread only parses. Windows are handed over in order;
// each buffer leaves k_front free slots so the reader can put its few unconsumed entries in
// front of the next window without copying the window.
class BackgroundIndexer {
public:
  static constexpr std::size_t k_front = 16;
  static constexpr std::size_t k_depth = 4;

  BackgroundIndexer(std::string_view text, JsonReader::Progress progress, std::size_t window)
      : m_text(text), m_progress(std::move(progress)), m_window(window) {
    m_thread = std::thread([this] { run(); });
  }
  ~BackgroundIndexer() {
    {
      std::lock_guard<std::mutex> lock(m_mu);
      m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  BackgroundIndexer(const BackgroundIndexer&) = delete;
  BackgroundIndexer& operator=(const BackgroundIndexer&) = delete;

  // The next window: entries at buf[k_front, k_front + count). False at the end of the text.
  bool next(std::vector<std::size_t>& buf, std::size_t& count) {
    std::unique_lock<std::mutex> lock(m_mu);
    m_cv.wait(lock, [this] { return !m_ready.empty() || m_done; });
    if (m_ready.empty()) {
      return false;
    }
    buf = std::move(m_ready.front().first);
    count = m_ready.front().second;
    m_ready.pop_front();
    m_cv.notify_all();
    return true;
  }
  void give_back(std::vector<std::size_t>&& buf) {
    if (buf.capacity() == 0) {
      return;
    }
    std::lock_guard<std::mutex> lock(m_mu);
    m_free.push_back(std::move(buf));
  }
  // The reader will not look before `offset` any more (for the progress callback).
  void set_done(std::size_t offset) { m_keep.store(offset, std::memory_order_relaxed); }

private:
  void run();

  std::string_view m_text;
  JsonReader::Progress m_progress;
  std::size_t m_window;
  std::mutex m_mu;
  std::condition_variable m_cv;
  std::deque<std::pair<std::vector<std::size_t>, std::size_t>> m_ready;
  std::vector<std::vector<std::size_t>> m_free;
  bool m_done = false;
  bool m_stop = false;
  std::atomic<std::size_t> m_keep{0};
  std::thread m_thread;
};

} // namespace meshctl::envoy
