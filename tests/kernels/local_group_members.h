// local_group_members.h — runs one function per member of a LocalGroup, each on its own thread
// (as the replicas of a node do), and hands back what each member threw.
#pragma once

#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace rumor::testkit {

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
