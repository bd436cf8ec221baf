#include "core/threads.h"

#include <pthread.h>
#include <sched.h>

namespace rumor {

void name_this_thread(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

void make_this_thread_background() {
#ifdef SCHED_BATCH
  const sched_param param{};  // priority 0: the only one SCHED_BATCH has
  (void)sched_setscheduler(0, SCHED_BATCH, &param);  // 0: the calling thread
#endif
}

}  // namespace rumor
