/* c_abi_check.c — compiled as C99 with -Wpedantic -Werror: rumor/rumor.h is valid C. The
 * functions give c_api_test.cc what a C program sees. */
#include <rumor/rumor.h>

rumor_config c_abi_default_config(void) { return rumor_config_default(); }

size_t c_abi_stats_size(void) { return sizeof(struct rumor_stats); }

/* A null engine through every entry point, from C. Returns the number of calls that did not
 * answer RUMOR_ERROR_INVALID_ARGUMENT. */
int c_abi_null_engine_calls(void) {
  struct rumor_stats stats;
  int applied = 0;
  int wrong = 0;
  wrong += rumor_publish(NULL, 0) != RUMOR_ERROR_INVALID_ARGUMENT;
  wrong += rumor_mix(NULL, &applied) != RUMOR_ERROR_INVALID_ARGUMENT;
  wrong += rumor_stats(NULL, &stats) != RUMOR_ERROR_INVALID_ARGUMENT;
  return wrong;
}
