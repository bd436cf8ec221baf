/* rumor/rumor.h — the C ABI of rumor: gossip averaging of a flat float buffer with peer
 * processes, for programs in C (C99 and later) or any language with a C FFI.
 * Installed as <rumor/rumor.h>; link with `pkg-config --libs rumor`.
 *
 *   rumor_config config = rumor_config_default();
 *   config.peers = endpoints; config.num_peers = 3; config.rank = my_rank;
 *   rumor_engine* engine;
 *   if (rumor_engine_create(&config, params, count, "cpu", &engine) != RUMOR_OK) {
 *     fprintf(stderr, "%s\n", rumor_last_error());
 *     return 2;
 *   }
 *   for (int64_t step = 0; step < steps; ++step) {
 *     rumor_mix(engine, NULL);        apply what the neighbours sent
 *     train_step(params);             your own update
 *     rumor_publish(engine, step);    send to this round's neighbours (does not wait)
 *   }
 *   rumor_engine_destroy(engine);
 *
 * Errors: every function that can fail returns a rumor_status; rumor_last_error() says why.
 * No C++ exception crosses this interface.
 * Threads: call rumor_publish() and rumor_mix() from one thread (the one that updates the
 * parameters); rumor_stats() from any thread. The engine runs its own I/O thread.
 * The semantics of the rules, staleness control and failure detection: docs/GOSSIP.md;
 * this interface: docs/LIBRARY.md. */
#ifndef RUMOR_RUMOR_H_
#define RUMOR_RUMOR_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rumor_status {
  RUMOR_OK = 0,
  RUMOR_ERROR_INVALID_ARGUMENT = 1, /* a null pointer or a zero count where one is needed */
  RUMOR_ERROR_CONFIG = 2,           /* a bad configuration value: rule, topology, rank,
                                       endpoint, staleness, ... (the message names it) */
  RUMOR_ERROR_DEVICE = 3,           /* an unknown or absent device (the message lists the
                                       available ones) */
  RUMOR_ERROR_RUNTIME = 4,          /* a failure while running: network, device, a bug */
  RUMOR_ERROR_OUT_OF_MEMORY = 5
} rumor_status;

/* The engine's configuration. Start from rumor_config_default() and set what you need: at
 * least peers, num_peers and rank. The library copies what it needs during
 * rumor_engine_create(); the strings need not outlive that call. */
typedef struct rumor_config {
  const char* const* peers; /* every peer's endpoint, in rank order: "tcp://host:port" or
                               "ipc:///path". This process binds peers[rank]. Default NULL. */
  size_t num_peers;         /* default 0 */
  int rank;                 /* this process, in [0, num_peers). Default 0. */
  const char* rule;         /* "push-sum" (default), "robust-push-sum", "pairwise", "average" */
  const char* topology;     /* "exponential" (default), "ring", "torus", "complete",
                               "one-peer-exponential", "random:K", "file:PATH" */
  double alpha;             /* "average": the neighbour's weight, in (0, 1]. Default 0.5. */
  int publish_every;        /* steps between publishes. Default 1. */
  const char* wire_dtype;   /* "f32" (default), "bf16", "f16" */
  int64_t max_staleness;    /* steps; staler messages are dropped. Default 100. */
  double half_life;         /* steps; weight 1/(1 + s/half_life). Default 20; 0 = no decay. */
  int64_t drift_limit;      /* wait when this many steps ahead of the slowest live
                               neighbour. Default 0 = never. */
  int64_t wait_limit;       /* wait after this many own steps without a fresh message.
                               Default 0 = never. */
  int heartbeat_ms;         /* milliseconds between heartbeats. Default 100. */
  uint64_t run_id;          /* peers of one run must agree. Default 1. */
  const char* model;        /* describes the model; peers must agree. Default "model". */
  uint64_t seed;            /* random topologies. Default 0. */
  int cpu_threads;          /* device "cpu": threads for mixing (0 = all cores); also sets
                               OpenBLAS's process-wide thread count. Default 1. */
} rumor_config;

/* What rumor_stats() reports. Counters count since the engine was created. Like stat(2), the
 * struct and the function share a name: declare it as `struct rumor_stats`. */
struct rumor_stats {
  int rank;                   /* this process */
  int world;                  /* num_peers */
  int live_peers;             /* other peers not declared dead (alive or suspect) */
  int64_t step;               /* the last step given to rumor_publish() */
  uint64_t rounds;            /* publishes that sent something */
  uint64_t sent;              /* parameter messages handed to the network */
  uint64_t received;          /* parameter messages received and accepted */
  uint64_t applied;           /* contributions mixed into the parameters */
  uint64_t dropped;           /* messages dropped for any reason: invalid, too stale,
                                 superseded, queue full */
  uint64_t dropped_stale;     /* of which above max_staleness */
  uint64_t waits;             /* rumor_mix() calls that waited on a staleness gate */
  double weight;              /* push-sum weight (1 for the other rules) */
};

/* An engine: opaque; created by rumor_engine_create(), freed by rumor_engine_destroy(). */
typedef struct rumor_engine rumor_engine;

/* The default configuration (the same defaults as the C++ GossipConfig). */
rumor_config rumor_config_default(void);

/* Creates an engine that mixes `count` floats at `params` with the peers of `config`.
 * `device`: "cpu" (params is host memory) or "cuda:N" (params is device memory, e.g. from
 * cudaMalloc). `params` must stay valid until rumor_engine_destroy(). Binds peers[rank] and
 * connects to the other peers without waiting for them.
 * On success sets *out; on failure sets *out to NULL (when out is not NULL). Errors:
 * INVALID_ARGUMENT (a null pointer, count 0, a null endpoint), CONFIG (a bad value, a rank
 * outside the peer list, an endpoint that cannot be bound), DEVICE (the message lists the
 * devices available). */
rumor_status rumor_engine_create(const rumor_config* config, float* params, size_t count,
                                 const char* device, rumor_engine** out);

/* After a local step: snapshots the parameters and sends them to this round's live
 * neighbours. Does not wait for the network. `step` is the caller's step counter (it should
 * grow by one per call). On "cuda:N", finish your work on params before calling. */
rumor_status rumor_publish(rumor_engine* engine, int64_t step);

/* Before the next step: mixes what arrived into the parameters and sets *applied (when not
 * NULL) to the number of contributions applied. Blocks only while a staleness gate
 * (drift_limit, wait_limit) holds, never past the moment the awaited peers are declared dead.
 * On "cuda:N", the parameters are up to date on the device when it returns. */
rumor_status rumor_mix(rumor_engine* engine, int* applied);

/* Fills *out with the engine's counters. Safe from any thread. */
rumor_status rumor_stats(const rumor_engine* engine, struct rumor_stats* out);

/* Says goodbye to the peers, stops the I/O thread and frees the engine (blocks until done).
 * NULL is accepted and does nothing. */
rumor_status rumor_engine_destroy(rumor_engine* engine);

/* The message of the last failed call on this thread ("" if none failed yet); successful calls
 * leave it unchanged. Valid until the next failing call on this thread. */
const char* rumor_last_error(void);

/* A constant name for a status: "ok", "invalid argument", "configuration", ... */
const char* rumor_status_string(rumor_status status);

/* The library's version, e.g. "0.1.0". */
const char* rumor_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RUMOR_RUMOR_H_ */
