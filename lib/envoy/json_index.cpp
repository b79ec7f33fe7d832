// Stage one of JsonReader: classifying 64-byte blocks (SSE2, AVX2 or AVX-512, chosen at run
// time; tests force each in turn with detail::force_kernel), turning the masks into index entries,
// and the background indexer's thread. See json_reader.cpp for the design.

#include "envoy/json_index.hpp"

#include "core/enum_names.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MESHCTL_JSON_AVX2 1
#else
#define MESHCTL_JSON_AVX2 0
#endif

namespace meshctl::envoy {
namespace {

struct BlockMasks {
  std::uint64_t quote = 0;
  std::uint64_t backslash = 0;
  std::uint64_t structural = 0; // { } [ ] : ,
};

inline BlockMasks classify(const unsigned char* p) {
  BlockMasks m;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i lower = _mm_set1_epi8(0x20);
  const __m128i open = _mm_set1_epi8('{');  // '[' | 0x20 == '{'
  const __m128i close = _mm_set1_epi8('}'); // ']' | 0x20 == '}'
  const __m128i colon = _mm_set1_epi8(':');
  const __m128i comma = _mm_set1_epi8(',');
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + std::ptrdiff_t{16} * k));
    const __m128i folded = _mm_or_si128(v, lower);
    const __m128i brackets =
        _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close));
    const __m128i punct = _mm_or_si128(_mm_cmpeq_epi8(v, colon), _mm_cmpeq_epi8(v, comma));
    const auto shift = static_cast<unsigned>(16 * k);
    m.quote |= static_cast<std::uint64_t>(
                   static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote))))
               << shift;
    m.backslash |= static_cast<std::uint64_t>(
                       static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash))))
                   << shift;
    m.structural |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(
                        _mm_movemask_epi8(_mm_or_si128(brackets, punct))))
                    << shift;
  }
#else
  for (unsigned i = 0; i < 64; ++i) {
    const unsigned char c = p[i];
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (c == '"') {
      m.quote |= bit;
    } else if (c == '\\') {
      m.backslash |= bit;
    } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',') {
      m.structural |= bit;
    }
  }
#endif
  return m;
}

#if MESHCTL_JSON_AVX2
__attribute__((target("avx2"))) inline BlockMasks classify_avx2(const unsigned char* p) {
  BlockMasks m;
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i lower = _mm256_set1_epi8(0x20);
  const __m256i open = _mm256_set1_epi8('{');
  const __m256i close = _mm256_set1_epi8('}');
  const __m256i colon = _mm256_set1_epi8(':');
  const __m256i comma = _mm256_set1_epi8(',');
  for (int k = 0; k < 2; ++k) {
    const __m256i v =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + std::ptrdiff_t{32} * k));
    const __m256i folded = _mm256_or_si256(v, lower);
    const __m256i structural = _mm256_or_si256(
        _mm256_or_si256(_mm256_cmpeq_epi8(folded, open), _mm256_cmpeq_epi8(folded, close)),
        _mm256_or_si256(_mm256_cmpeq_epi8(v, colon), _mm256_cmpeq_epi8(v, comma)));
    const auto shift = static_cast<unsigned>(32 * k);
    m.quote |= static_cast<std::uint64_t>(
                   static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, quote))))
               << shift;
    m.backslash |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(
                       _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, backslash))))
                   << shift;
    m.structural |=
        static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(structural)))
        << shift;
  }
  return m;
}

__attribute__((target("avx512f,avx512bw"))) inline BlockMasks
classify_avx512(const unsigned char* p) {
  const __m512i v = _mm512_loadu_si512(p);
  const __m512i folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
  BlockMasks m;
  m.quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
  m.backslash = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'));
  m.structural = _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8('{')) |
                 _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8('}')) |
                 _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(':')) |
                 _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(','));
  return m;
}
#endif

inline std::uint64_t prefix_xor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// Turns one block's masks into index entries (absolute positions); returns the new end.
inline std::size_t* index_masks(const BlockMasks& m, std::size_t base, std::size_t valid,
                                IndexState& st, std::size_t* out) {
  std::uint64_t escaped = 0;
  if (m.backslash != 0 || st.escape_next) {
    // Backslashes are rare outside access-log formats, so a loop over them beats the branch-free
    // carry trick in clarity at no measurable cost.
    escaped = st.escape_next ? 1 : 0;
    bool next = false;
    std::uint64_t b = m.backslash;
    while (b != 0) {
      const int i = __builtin_ctzll(b);
      b &= b - 1;
      if (((escaped >> i) & 1U) != 0) {
        continue; // an escaped backslash escapes nothing
      }
      if (i == 63) {
        next = true;
      } else {
        escaped |= std::uint64_t{1} << (i + 1);
      }
    }
    st.escape_next = next;
  }
  const std::uint64_t quotes = m.quote & ~escaped;
  const std::uint64_t inside = prefix_xor(quotes) ^ st.in_string;
  st.in_string = static_cast<std::uint64_t>(static_cast<std::int64_t>(inside) >> 63);
  std::uint64_t entries = (m.structural & ~inside) | quotes;
  if (valid < 64) {
    entries &= (std::uint64_t{1} << valid) - 1;
  }
  while (entries != 0) {
    *out++ = base + static_cast<std::size_t>(__builtin_ctzll(entries));
    entries &= entries - 1;
  }
  return out;
}

std::size_t* index_run(const unsigned char* bytes, std::size_t pos, std::size_t end, IndexState& st,
                       std::size_t* out) {
  for (; pos + 64 <= end; pos += 64) {
    out = index_masks(classify(bytes + pos), pos, 64, st, out);
  }
  return out;
}

#if MESHCTL_JSON_AVX2
__attribute__((target("avx2"))) std::size_t* index_run_avx2(const unsigned char* bytes,
                                                            std::size_t pos, std::size_t end,
                                                            IndexState& st, std::size_t* out) {
  for (; pos + 64 <= end; pos += 64) {
    out = index_masks(classify_avx2(bytes + pos), pos, 64, st, out);
  }
  return out;
}

__attribute__((target("avx512f,avx512bw"))) std::size_t*
index_run_avx512(const unsigned char* bytes, std::size_t pos, std::size_t end, IndexState& st,
                 std::size_t* out) {
  for (; pos + 64 <= end; pos += 64) {
    out = index_masks(classify_avx512(bytes + pos), pos, 64, st, out);
  }
  return out;
}

#endif

using detail::Kernel;

Kernel widest_kernel() {
#if MESHCTL_JSON_AVX2
  if (__builtin_cpu_supports("avx512bw") != 0) {
    return Kernel::k_avx512;
  }
  if (__builtin_cpu_supports("avx2") != 0) {
    return Kernel::k_avx2;
  }
#endif
  return Kernel::k_sse2;
}

// The kernel in use: the widest at start-up, another only when a test forces it. Read once per
// window of input, so the atomic load costs nothing measurable.
std::atomic<Kernel>& current_kernel() {
  static std::atomic<Kernel> kernel{widest_kernel()};
  return kernel;
}

} // namespace

namespace detail {

std::string_view kernel_name(Kernel k) {
  static constexpr EnumName<Kernel> k_names[] = {
      {Kernel::k_sse2, "sse2"}, {Kernel::k_avx2, "avx2"}, {Kernel::k_avx512, "avx512"}};
  return name_of(k_names, k, "sse2");
}

std::vector<Kernel> supported_kernels() {
  std::vector<Kernel> out{Kernel::k_sse2};
  const Kernel widest = widest_kernel();
  if (widest == Kernel::k_avx2 || widest == Kernel::k_avx512) {
    out.push_back(Kernel::k_avx2);
  }
  if (widest == Kernel::k_avx512) {
    out.push_back(Kernel::k_avx512);
  }
  return out;
}

Kernel force_kernel(Kernel k) {
  if (static_cast<int>(k) > static_cast<int>(widest_kernel())) {
    throw std::invalid_argument("this CPU cannot run the " + std::string(kernel_name(k)) +
                                " JSON index kernel");
  }
  return current_kernel().exchange(k, std::memory_order_relaxed);
}

} // namespace detail

std::size_t* index_whole_blocks(const unsigned char* bytes, std::size_t pos, std::size_t end,
                                IndexState& st, std::size_t* out) {
#if MESHCTL_JSON_AVX2
  switch (current_kernel().load(std::memory_order_relaxed)) {
  case Kernel::k_avx512:
    return index_run_avx512(bytes, pos, end, st, out);
  case Kernel::k_avx2:
    return index_run_avx2(bytes, pos, end, st, out);
  case Kernel::k_sse2:
    break;
  }
#endif
  return index_run(bytes, pos, end, st, out);
}

// Padded with spaces, which index nothing.
std::size_t* index_tail(const unsigned char* bytes, std::size_t pos, std::size_t end,
                        IndexState& st, std::size_t* out) {
  unsigned char tail[64];
  std::memset(tail, ' ', sizeof tail);
  std::memcpy(tail, bytes + pos, end - pos);
  return index_masks(classify(tail), pos, end - pos, st, out);
}

void BackgroundIndexer::run() {
  const auto* bytes = reinterpret_cast<const unsigned char*>(m_text.data());
  IndexState st;
  std::size_t pos = 0;
  std::size_t released = 0;
  constexpr std::size_t k_margin = std::size_t{8} * 1024 * 1024;
  while (pos < m_text.size()) {
    std::vector<std::size_t> buf;
    {
      std::unique_lock<std::mutex> lock(m_mu);
      m_cv.wait(lock, [this] { return m_stop || m_ready.size() < k_depth; });
      if (m_stop) {
        break;
      }
      if (!m_free.empty()) {
        buf = std::move(m_free.back());
        m_free.pop_back();
      }
    }
    const std::size_t end = std::min(m_text.size(), pos + m_window);
    if (buf.size() < k_front + (end - pos) + 64) {
      buf.resize(k_front + m_window + 64);
    }
    std::size_t* first = buf.data() + k_front;
    std::size_t* out = first;
    const std::size_t full_end = pos + (end - pos) / 64 * 64;
    out = index_whole_blocks(bytes, pos, full_end, st, out);
    if (full_end < end) {
      out = index_tail(bytes, full_end, end, st, out);
    }
    pos = end;
    if (m_progress) {
      const std::size_t keep = m_keep.load(std::memory_order_relaxed);
      if (keep > released + 2 * k_margin) {
        released = keep - k_margin;
      }
      m_progress(released, pos);
    }
    {
      std::lock_guard<std::mutex> lock(m_mu);
      m_ready.emplace_back(std::move(buf), static_cast<std::size_t>(out - first));
    }
    m_cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(m_mu);
    m_done = true;
  }
  m_cv.notify_all();
}

} // namespace meshctl::envoy
