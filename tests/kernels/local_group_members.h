// local_group_members.h — for LocalGroup tests: runs one function per member, each on its own
// thread (as the replicas of a node do), and hands back what each member threw; the values
// each member starts with.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace rumor::testkit {

// Member m's starting value at element i: integers, so sums, and means over a power-of-two
// number of members, are exact in floats.
inline float member_value(int member, std::size_t i) {
  return static_cast<float>(member * 1000 + static_cast<int>(i % 97)) - 48.0f;
}

// The exact mean over `members` members of member_value(·, i).
inline float mean_value(int members, std::size_t i) {
  double sum = 0.0;
  for (int m = 0; m < members; ++m) sum += member_value(m, i);
  return static_cast<float>(sum / members);
}

// member_value(member, 0..n).
inline std::vector<float> member_values(int member, std::size_t n) {
  std::vector<float> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = member_value(member, i);
  return values;
}

// Calls body(member) for member 0..members−1 on `members` threads, joins them all, and returns
// the exception each one threw (null where it returned normally).
inline std::vector<std::exception_ptr> run_members(int members,
                                                   const std::function<void(int)>& body) {
  std::vector<std::exception_ptr> errors(members);
  std::vector<std::thread> threads;
  for (int m = 0; m < members; ++m) {
    threads.emplace_back([&, m] {
      try {
        body(m);
      } catch (...) {
        errors[m] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return errors;
}

// Rethrows the first member's exception, if any (for tests where none may throw).
inline void rethrow_any(const std::vector<std::exception_ptr>& errors) {
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace rumor::testkit
