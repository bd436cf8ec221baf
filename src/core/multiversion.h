// multiversion.h — RUMOR_MULTIVERSION: put before a hot loop's function to get an AVX2 clone
// chosen at load time where the CPU has it (GCC, x86-64, glibc ifunc). The project is built
// for baseline x86-64 (SSE2); elsewhere the macro is empty and the loop stays portable.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RUMOR_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define RUMOR_MULTIVERSION
#endif
