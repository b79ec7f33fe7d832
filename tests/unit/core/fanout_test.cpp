#include "core/error.hpp"
#include "core/fanout.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

using namespace meshctl;

namespace {

// Counts the tasks running at once and remembers the most seen.
struct InFlight {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  void enter() {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
  }
  void leave() { --now; }
};

} // namespace

TEST_CASE("parallel_for runs every index once on at most `limit` threads", "[core]") {
  const std::size_t count = 40;
  InFlight flight;
  std::vector<std::atomic<int>> runs(count);
  std::mutex m;
  std::set<std::thread::id> threads;
  parallel_for(count, 4, [&](std::size_t i) {
    flight.enter();
    {
      std::lock_guard lock(m);
      threads.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ++runs[i];
    flight.leave();
  });
  for (std::size_t i = 0; i < count; ++i) {
    CHECK(runs[i] == 1);
  }
  CHECK(flight.most <= 4);
  CHECK(flight.most >= 2); // 40 sleeping tasks on 4 threads do overlap
  CHECK(threads.size() <= 4);
  CHECK(threads.count(std::this_thread::get_id()) == 0); // the caller only waits
}

TEST_CASE("parallel_for treats a limit below one as one and runs nothing for no items", "[core]") {
  InFlight flight;
  std::atomic<int> total{0};
  parallel_for(10, 0, [&](std::size_t) {
    flight.enter();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++total;
    flight.leave();
  });
  CHECK(total == 10);
  CHECK(flight.most == 1);

  bool called = false;
  parallel_for(0, 8, [&](std::size_t) { called = true; });
  CHECK_FALSE(called);
}

TEST_CASE("parallel_for rethrows a task's exception after the running tasks finished", "[core]") {
  std::atomic<int> finished{0};
  std::atomic<int> started{0};
  std::atomic<bool> slow_done{false};
  auto run = [&] {
    parallel_for(100, 2, [&](std::size_t i) {
      ++started;
      if (i == 0) {
        // Still running when index 1 throws: the pool must wait for it.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        slow_done = true;
        ++finished;
        return;
      }
      if (i == 1) {
        throw std::runtime_error("task 1 failed");
      }
      ++finished;
    });
  };
  CHECK_THROWS_WITH(run(), "task 1 failed");
  CHECK(slow_done);     // joined, not abandoned
  CHECK(started < 100); // no new task after the failure
  CHECK(finished == started - 1);
}

TEST_CASE("parallel_for keeps the first of several exceptions", "[core]") {
  std::atomic<bool> first_thrown{false};
  auto run = [&] {
    parallel_for(2, 2, [&](std::size_t i) {
      if (i == 0) {
        first_thrown = true;
        throw std::runtime_error("first");
      }
      while (!first_thrown) {
        std::this_thread::yield();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      throw std::logic_error("second");
    });
  };
  CHECK_THROWS_AS(run(), std::runtime_error);
}

TEST_CASE("parallel_map returns results, errors included, in index order", "[core]") {
  InFlight flight;
  auto results = parallel_map(12, 3, [&](std::size_t i) -> Result<int> {
    flight.enter();
    // Later indices finish first: order must still follow the input.
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(12 - i) * 2));
    flight.leave();
    if (i % 4 == 3) {
      return fail("item " + std::to_string(i) + " failed");
    }
    return static_cast<int>(i * i);
  });
  REQUIRE(results.size() == 12);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i % 4 == 3) {
      REQUIRE_FALSE(results[i]);
      CHECK(results[i].error().what() == "item " + std::to_string(i) + " failed");
    } else {
      REQUIRE(results[i]);
      CHECK(*results[i] == static_cast<int>(i * i));
    }
  }
  CHECK(flight.most <= 3);
}

TEST_CASE("parallel_map works for results that are not default-constructible", "[core]") {
  struct Only {
    explicit Only(int v) : value(v) {}
    int value;
  };
  auto results = parallel_map(5, 2, [](std::size_t i) { return Only(static_cast<int>(i) + 1); });
  REQUIRE(results.size() == 5);
  CHECK(results[4].value == 5);
}

TEST_CASE("for_each_cluster starts every cluster at once and rethrows a cluster's exception",
          "[core]") {
  // Each cluster waits until all have started: only a run with one thread per cluster finishes.
  const std::vector<std::string> clusters{"a", "b", "c", "d"};
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  auto results = for_each_cluster(clusters, [&](const std::string& c) {
    std::unique_lock lock(m);
    ++arrived;
    cv.notify_all();
    const bool all = cv.wait_for(lock, std::chrono::seconds(5),
                                 [&] { return arrived == static_cast<int>(clusters.size()); });
    return all ? c : std::string("timeout");
  });
  REQUIRE(results.size() == 4);
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    CHECK(results[i].cluster == clusters[i]);
    CHECK(results[i].value == clusters[i]);
  }

  auto throwing = [&] {
    for_each_cluster(clusters, [](const std::string& c) -> int {
      if (c == "c") {
        throw std::runtime_error("cluster c broke");
      }
      return 1;
    });
  };
  CHECK_THROWS_WITH(throwing(), "cluster c broke");
}
