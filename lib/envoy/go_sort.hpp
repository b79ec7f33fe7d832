#pragma once
// go_sort_slice: Go's sort.Slice (pattern-defeating quicksort, Go >= 1.19), ported step for step.
//
// istioctl sorts rows with sort.Slice, which is not stable: rows that compare equal (two filter
// chains with the same DESTINATION but different MATCH, say) come out in whatever order Go's
// pdqsort leaves them. A stable sort would print such rows in dump order and differ from istioctl.
// Go's pdqsort is deterministic (its "random" pattern breaker is an xorshift seeded with the
// length), so porting it exactly reproduces istioctl's order for equal elements too. Up to 12
// elements it is a plain insertion sort, i.e. stable.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

namespace meshctl::envoy {

namespace go_sort_detail {

enum class Hint { k_unknown, k_increasing, k_decreasing };

template <class Data> void insertion_sort(Data& d, long a, long b) {
  for (long i = a + 1; i < b; ++i) {
    for (long j = i; j > a && d.less(j, j - 1); --j) {
      d.swap(j, j - 1);
    }
  }
}

template <class Data> void sift_down(Data& d, long lo, long hi, long first) {
  long root = lo;
  for (;;) {
    long child = 2 * root + 1;
    if (child >= hi) {
      return;
    }
    if (child + 1 < hi && d.less(first + child, first + child + 1)) {
      ++child;
    }
    if (!d.less(first + root, first + child)) {
      return;
    }
    d.swap(first + root, first + child);
    root = child;
  }
}

template <class Data> void heap_sort(Data& d, long a, long b) {
  const long first = a;
  const long lo = 0;
  const long hi = b - a;
  for (long i = (hi - 1) / 2; i >= 0; --i) {
    sift_down(d, i, hi, first);
  }
  for (long i = hi - 1; i >= 0; --i) {
    d.swap(first, first + i);
    sift_down(d, lo, i, first);
  }
}

template <class Data> std::pair<long, bool> partition(Data& d, long a, long b, long pivot) {
  d.swap(a, pivot);
  long i = a + 1;
  long j = b - 1;
  while (i <= j && d.less(i, a)) {
    ++i;
  }
  while (i <= j && !d.less(j, a)) {
    --j;
  }
  if (i > j) {
    d.swap(j, a);
    return {j, true};
  }
  d.swap(i, j);
  ++i;
  --j;
  for (;;) {
    while (i <= j && d.less(i, a)) {
      ++i;
    }
    while (i <= j && !d.less(j, a)) {
      --j;
    }
    if (i > j) {
      break;
    }
    d.swap(i, j);
    ++i;
    --j;
  }
  d.swap(j, a);
  return {j, false};
}

template <class Data> long partition_equal(Data& d, long a, long b, long pivot) {
  d.swap(a, pivot);
  long i = a + 1;
  long j = b - 1;
  for (;;) {
    while (i <= j && !d.less(a, i)) {
      ++i;
    }
    while (i <= j && d.less(a, j)) {
      --j;
    }
    if (i > j) {
      break;
    }
    d.swap(i, j);
    ++i;
    --j;
  }
  return i;
}

template <class Data> bool partial_insertion_sort(Data& d, long a, long b) {
  constexpr int k_max_steps = 5;
  constexpr long k_shortest_shifting = 50;
  long i = a + 1;
  for (int step = 0; step < k_max_steps; ++step) {
    while (i < b && !d.less(i, i - 1)) {
      ++i;
    }
    if (i == b) {
      return true;
    }
    if (b - a < k_shortest_shifting) {
      return false;
    }
    d.swap(i, i - 1);
    if (i - a >= 2) {
      for (long j = i - 1; j >= 1; --j) {
        if (!d.less(j, j - 1)) {
          break;
        }
        d.swap(j, j - 1);
      }
    }
    if (b - i >= 2) {
      for (long j = i + 1; j < b; ++j) {
        if (!d.less(j, j - 1)) {
          break;
        }
        d.swap(j, j - 1);
      }
    }
  }
  return false;
}

inline unsigned bits_len(std::uint64_t x) {
  return static_cast<unsigned>(std::bit_width(x));
}

template <class Data> void break_patterns(Data& d, long a, long b) {
  const long length = b - a;
  if (length >= 8) {
    auto random = static_cast<std::uint64_t>(length); // Go: xorshift(length)
    const std::uint64_t modulus = std::uint64_t{1} << bits_len(static_cast<std::uint64_t>(length));
    for (long idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; ++idx) {
      random ^= random << 13;
      random ^= random >> 7;
      random ^= random << 17;
      auto other = static_cast<long>(random & (modulus - 1));
      if (other >= length) {
        other -= length;
      }
      d.swap(idx, a + other);
    }
  }
}

template <class Data> std::pair<long, long> order2(Data& d, long a, long b, int& swaps) {
  if (d.less(b, a)) {
    ++swaps;
    return {b, a};
  }
  return {a, b};
}

template <class Data> long median(Data& d, long a, long b, long c, int& swaps) {
  std::tie(a, b) = order2(d, a, b, swaps);
  std::tie(b, c) = order2(d, b, c, swaps);
  std::tie(a, b) = order2(d, a, b, swaps);
  (void)c;
  return b;
}

template <class Data> long median_adjacent(Data& d, long a, int& swaps) {
  return median(d, a - 1, a, a + 1, swaps);
}

template <class Data> std::pair<long, Hint> choose_pivot(Data& d, long a, long b) {
  constexpr long k_shortest_ninther = 50;
  constexpr int k_max_swaps = 4 * 3;
  const long l = b - a;
  int swaps = 0;
  long i = a + l / 4 * 1;
  long j = a + l / 4 * 2;
  long k = a + l / 4 * 3;
  if (l >= 8) {
    if (l >= k_shortest_ninther) {
      i = median_adjacent(d, i, swaps);
      j = median_adjacent(d, j, swaps);
      k = median_adjacent(d, k, swaps);
    }
    j = median(d, i, j, k, swaps);
  }
  if (swaps == 0) {
    return {j, Hint::k_increasing};
  }
  if (swaps == k_max_swaps) {
    return {j, Hint::k_decreasing};
  }
  return {j, Hint::k_unknown};
}

template <class Data> void reverse_range(Data& d, long a, long b) {
  long i = a;
  long j = b - 1;
  while (i < j) {
    d.swap(i, j);
    ++i;
    --j;
  }
}

template <class Data> void pdqsort(Data& d, long a, long b, unsigned limit) {
  constexpr long k_max_insertion = 12;
  bool was_balanced = true;
  bool was_partitioned = true;
  for (;;) {
    const long length = b - a;
    if (length <= k_max_insertion) {
      insertion_sort(d, a, b);
      return;
    }
    if (limit == 0) {
      heap_sort(d, a, b);
      return;
    }
    if (!was_balanced) {
      break_patterns(d, a, b);
      --limit;
    }
    auto [pivot, hint] = choose_pivot(d, a, b);
    if (hint == Hint::k_decreasing) {
      reverse_range(d, a, b);
      pivot = (b - 1) - (pivot - a);
      hint = Hint::k_increasing;
    }
    if (was_balanced && was_partitioned && hint == Hint::k_increasing) {
      if (partial_insertion_sort(d, a, b)) {
        return;
      }
    }
    if (a > 0 && !d.less(a - 1, pivot)) {
      a = partition_equal(d, a, b, pivot);
      continue;
    }
    const auto [mid, already] = partition(d, a, b, pivot);
    was_partitioned = already;
    const long left = mid - a;
    const long right = b - mid;
    const long balance_threshold = length / 8;
    if (left < right) {
      was_balanced = left >= balance_threshold;
      pdqsort(d, a, mid, limit);
      a = mid + 1;
    } else {
      was_balanced = right >= balance_threshold;
      pdqsort(d, mid + 1, b, limit);
      b = mid;
    }
  }
}

template <class T, class Less> struct SliceData {
  std::vector<T>& v;
  Less& less_fn;
  bool less(long i, long j) {
    return less_fn(v[static_cast<std::size_t>(i)], v[static_cast<std::size_t>(j)]);
  }
  void swap(long i, long j) {
    using std::swap;
    swap(v[static_cast<std::size_t>(i)], v[static_cast<std::size_t>(j)]);
  }
};

} // namespace go_sort_detail

/// Sorts like Go's sort.Slice(v, less): same comparisons, same swaps, hence the same order for
/// elements that compare equal. `less(a, b)` must be a strict weak ordering of the elements.
template <class T, class Less> void go_sort_slice(std::vector<T>& v, Less less) {
  go_sort_detail::SliceData<T, Less> data{v, less};
  const auto n = static_cast<long>(v.size());
  go_sort_detail::pdqsort(data, 0, n,
                          go_sort_detail::bits_len(static_cast<std::uint64_t>(v.size())));
}

} // namespace meshctl::envoy
