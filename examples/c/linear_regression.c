/* linear_regression.c — rumor's C ABI inside a training loop written in C99.
 *
 * Several processes fit one linear model y = w·x + b by SGD on synthetic data drawn from the
 * same true weights, and average their parameters by gossip. Each process has its own shard,
 * its own noise level, and sees only part of the features: feature j is always zero in the
 * shard of rank j % world. Alone, a process cannot learn the weights of the features it never
 * sees; through gossip every process recovers all of them.
 *
 * Usage: linear_regression --rank R --peers E0,E1,... [--steps N] [--device cpu]
 *   Ei is peer i's endpoint, e.g. ipc:///tmp/lr/0 or tcp://127.0.0.1:5550; start one process
 *   per endpoint (any order: each binds its own and waits for the others).
 * Prints one line at the end: "rank R: weight error E (relative) after N steps; ...".
 * Exit status: 0 on success, 1 when gossip fails, 2 on a bad argument or configuration. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rumor/rumor.h>

enum { kFeatures = 24, kShard = 4000, kBatch = 16, kMaxPeers = 64 };

/* Parameters: kFeatures weights then the bias, in one flat buffer (what gossip averages). */
enum { kParams = kFeatures + 1 };

/* xorshift64*: a small deterministic generator, seeded per rank. */
static uint64_t rng_state;
static double uniform(void) { /* in [0, 1) */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}
static double gaussian(void) { /* Box-Muller */
  const double u = 1.0 - uniform(), v = uniform();
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* The truth every process samples from: the same for all ranks. */
static double true_weight(int j) { return sin(1.0 + j) * 2.0; }
static const double kTrueBias = 0.5;

static int usage(const char* program) {
  fprintf(stderr, "usage: %s --rank R --peers E0,E1,... [--steps N] [--device cpu]\n", program);
  return 2;
}

int main(int argc, char** argv) {
  int rank = -1, steps = 3000;
  const char* device = "cpu";
  char* peer_list = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--rank") == 0) rank = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--peers") == 0) peer_list = argv[i + 1];
    else if (strcmp(argv[i], "--steps") == 0) steps = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--device") == 0) device = argv[i + 1];
    else return usage(argv[0]);
  }
  if (argc % 2 == 0 || rank < 0 || peer_list == NULL || steps < 1) return usage(argv[0]);

  /* Split "E0,E1,..." in place into the endpoint list. */
  const char* peers[kMaxPeers];
  int world = 0;
  for (char* e = strtok(peer_list, ","); e != NULL && world < kMaxPeers; e = strtok(NULL, ",")) {
    peers[world++] = e;
  }

  /* This rank's shard: features it does not see are zero; its noise grows with the rank. */
  static float x[kShard][kFeatures], y[kShard];
  rng_state = 0x9E3779B97F4A7C15ULL * (uint64_t)(rank + 1);
  const double noise = 0.05 * (rank + 1);
  for (int n = 0; n < kShard; ++n) {
    double target = kTrueBias;
    for (int j = 0; j < kFeatures; ++j) {
      const int hidden = world > 1 && j % world == rank;
      x[n][j] = hidden ? 0.0f : (float)(2.0 * uniform() - 1.0);
      target += true_weight(j) * x[n][j];
    }
    y[n] = (float)(target + noise * gaussian());
  }

  /* The gossip engine averages `params` in place with the other processes. */
  float params[kParams] = {0};
  rumor_config config = rumor_config_default();
  config.peers = peers;
  config.num_peers = (size_t)world;
  config.rank = rank;
  config.model = "linear-regression-24";  /* peers check they train the same model */
  config.drift_limit = 10;  /* stay within 10 steps of the slowest neighbour (it waits) */
  rumor_engine* engine = NULL;
  if (rumor_engine_create(&config, params, kParams, device, &engine) != RUMOR_OK) {
    fprintf(stderr, "rank %d: %s\n", rank, rumor_last_error());
    return 2;
  }

  rumor_status status = RUMOR_OK;
  for (int step = 0; step < steps && status == RUMOR_OK; ++step) {
    /* 1. Mix in what the neighbours sent since the last step. */
    status = rumor_mix(engine, NULL);
    if (status != RUMOR_OK) break;

    /* 2. One SGD step on a random mini-batch of the squared error ½(w·x + b − y)²,
     *    with a learning rate that decays linearly to zero. */
    float grad[kParams] = {0};
    for (int k = 0; k < kBatch; ++k) {
      const int n = (int)(uniform() * kShard);
      float error = params[kFeatures] - y[n];
      for (int j = 0; j < kFeatures; ++j) error += params[j] * x[n][j];
      for (int j = 0; j < kFeatures; ++j) grad[j] += error * x[n][j] / kBatch;
      grad[kFeatures] += error / kBatch;
    }
    const float lr = 0.2f * (1.0f - (float)step / (float)steps);
    for (int j = 0; j < kParams; ++j) params[j] -= lr * grad[j];

    /* 3. Send the new parameters to this round's neighbours (does not wait). */
    status = rumor_publish(engine, step);
  }
  if (status != RUMOR_OK) {
    fprintf(stderr, "rank %d: %s\n", rank, rumor_last_error());
    rumor_engine_destroy(engine);
    return 1;
  }

  /* How far from the truth: ‖(w, b) − (w*, b*)‖ / ‖(w*, b*)‖. */
  double diff = (params[kFeatures] - kTrueBias) * (params[kFeatures] - kTrueBias);
  double norm = kTrueBias * kTrueBias;
  for (int j = 0; j < kFeatures; ++j) {
    diff += (params[j] - true_weight(j)) * (params[j] - true_weight(j));
    norm += true_weight(j) * true_weight(j);
  }
  struct rumor_stats stats;
  rumor_stats(engine, &stats);
  printf("rank %d: weight error %.4f (relative) after %d steps; applied %llu contributions "
         "from %d peers\n", rank, sqrt(diff / norm), steps, (unsigned long long)stats.applied,
         stats.world - 1);
  rumor_engine_destroy(engine);
  return 0;
}
