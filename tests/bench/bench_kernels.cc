// bench_kernels.cc — throughput of CpuBackend's hot ops, printed as one table in which every
// figure is a ratio against a reference measured in the same run: memory-bound ops against
// memcpy on buffers of the same size, GEMM against OpenBLAS's own sgemm peak on 1024^3.
//
// Usage: bench_kernels [--threads N] [--quick]
//   --threads N  CpuBackend thread count (OpenBLAS; the elementwise loops are single-threaded),
//                default 1. The reference sgemm runs with the same count.
//   --quick      tiny sizes, one repetition: proves the program runs (a CI test); its figures
//                mean nothing.
//
// Method: each group of cases is warmed up, then measured in repetitions of ~20 ms that
// alternate between the cases of the group (so that load from other processes hits reference
// and op alike); a case's time is the median over repetitions of seconds per call.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_backend.h"

namespace rumor {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int threads = 1;
  bool quick = false;
};

struct Settings {
  double warmup_s;  // per case, before measuring
  double rep_s;     // target duration of one repetition of one case
  int reps;         // repetitions per case (the median is reported)
};

// Keeps the compiler from dropping or reordering work whose results are never read.
void clobber_memory() { asm volatile("" : : : "memory"); }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One measured operation: `call` runs it once.
struct Case {
  explicit Case(std::function<void()> body) : call(std::move(body)) {}

  std::function<void()> call;
  int calls_per_rep = 1;
  std::vector<double> samples;  // seconds per call, one per repetition

  double median() const {
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t mid = sorted.size() / 2;
    return sorted.size() % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
  }
};

// Warms up and calibrates each case, then measures all of them in interleaved repetitions.
void measure(std::vector<Case*> cases, const Settings& settings) {
  for (Case* c : cases) {
    int calls = 0;
    const auto start = Clock::now();
    double elapsed = 0.0;
    do {
      c->call();
      clobber_memory();
      ++calls;
      elapsed = seconds_since(start);
    } while (elapsed < settings.warmup_s);
    c->calls_per_rep = std::max(1, static_cast<int>(settings.rep_s / (elapsed / calls)));
  }
  for (int rep = 0; rep < settings.reps; ++rep) {
    for (Case* c : cases) {
      const auto start = Clock::now();
      for (int i = 0; i < c->calls_per_rep; ++i) {
        c->call();
        clobber_memory();
      }
      c->samples.push_back(seconds_since(start) / c->calls_per_rep);
    }
  }
}

// A buffer of n floats uniform in [-1, 1), written (so every page is touched).
std::vector<float> random_floats(Rng& rng, std::size_t n) {
  std::vector<float> out(n);
  for (auto& v : out) v = static_cast<float>(2.0 * rng.uniform() - 1.0);
  return out;
}
DeviceArray<float> random_array(Backend& backend, Rng& rng, std::size_t n) {
  DeviceArray<float> out(backend, n);
  out.upload(random_floats(rng, n));
  return out;
}

std::string format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}
std::string count_label(std::size_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  return std::to_string(n);
}

// --- the table ---

struct Row {
  std::string op, size;
  double seconds;
  std::string throughput, reference, ratio;
};

void print_table(const std::vector<Row>& rows) {
  std::printf("%-36s %-30s %10s  %-14s %-26s %6s\n", "op", "size", "time (ms)", "throughput",
              "reference", "ratio");
  std::printf("%s\n", std::string(36 + 1 + 30 + 1 + 10 + 2 + 14 + 1 + 26 + 1 + 6, '-').c_str());
  for (const Row& r : rows) {
    std::printf("%-36s %-30s %10.4f  %-14s %-26s %6s\n", r.op.c_str(), r.size.c_str(),
                r.seconds * 1e3, r.throughput.c_str(), r.reference.c_str(), r.ratio.c_str());
  }
}

// Bytes per second counted as the bytes an op must read plus write, once each.
double gbps(double bytes, double seconds) { return bytes / seconds / 1e9; }

// --- memory-bound ops: axpby, sgd_update, reductions, each against memcpy of the same n ---

// The reductions (all_finite, sum_squares) are measured only when `with_reductions`.
void bench_streams(CpuBackend& backend, Rng& rng, std::size_t n, const std::string& label,
                   bool with_reductions, const Settings& settings, std::vector<Row>& rows) {
  std::vector<float> src = random_floats(rng, n);
  std::vector<float> dst(n, 0.0f);  // pre-touched
  auto x = random_array(backend, rng, n);
  auto y = random_array(backend, rng, n);
  auto params = random_array(backend, rng, n);
  auto grads = random_array(backend, rng, n);
  DeviceArray<float> velocity(backend, n);
  backend.fill(velocity.data(), n, 0.0f);
  const SgdConfig sgd{1e-3f, 0.9f, 5e-4f, true};
  double sink = 0.0;

  Case memcpy_case{[&] { std::memcpy(dst.data(), src.data(), n * sizeof(float)); }};
  Case axpby_case{[&] { backend.axpby(n, 0.5f, x.data(), 0.5f, y.data()); }};
  Case sgd_case{[&] { backend.sgd_update(n, sgd, params.data(), grads.data(), velocity.data()); }};
  Case finite_case{[&] { sink += backend.all_finite(x.data(), n) ? 1.0 : 0.0; }};
  Case squares_case{[&] { sink += backend.sum_squares(x.data(), n); }};
  std::vector<Case*> cases{&memcpy_case, &axpby_case, &sgd_case};
  if (with_reductions) {
    cases.push_back(&finite_case);
    cases.push_back(&squares_case);
  }
  measure(cases, settings);

  const double b = static_cast<double>(n) * sizeof(float);  // bytes of one array
  const double memcpy_gbps = gbps(2 * b, memcpy_case.median());
  const std::string size = label;
  rows.push_back({"memcpy (reference)", size + ", " + format("%.2f", b / 1e6) + " MB",
                  memcpy_case.median(), format("%.1f GB/s", memcpy_gbps), "-", "-"});
  const std::string ref = "memcpy " + format("%.1f GB/s", memcpy_gbps);
  const auto add = [&](const char* op, const Case& c, double bytes) {
    const double g = gbps(bytes, c.median());
    rows.push_back({op, size, c.median(), format("%.1f GB/s", g), ref,
                    format("%.2f", g / memcpy_gbps)});
  };
  add("axpby y=a*x+b*y  [12 B/elem]", axpby_case, 3 * b);
  add("sgd_update nesterov,wd  [20 B/elem]", sgd_case, 5 * b);
  if (with_reductions) {
    add("all_finite  [4 B/elem]", finite_case, b);
    add("sum_squares  [4 B/elem]", squares_case, b);
  }
  if (sink == 12345.678) std::printf(" ");  // keeps the reductions' results alive
}

// --- GEMM: the MLP's shapes through the backend, against cblas_sgemm 1024^3 ---

struct GemmShape {
  const char* what;
  Transpose ta, tb;
  int m, n, k;
};

void bench_gemm(CpuBackend& backend, Rng& rng, int peak_dim, const Settings& settings,
                std::vector<Row>& rows) {
  // MLP 784-256-128-10 at batch 128 exactly as src/train/linear.cc runs it, weights stored
  // [out, in]: forward Y = X·Wᵀ, backward dW = dYᵀ·X and dX = dY·W (no dX for the first
  // layer: its input is data).
  const std::vector<GemmShape> shapes{
      {"fwd  L1 Y=X.Wt", Transpose::kNo, Transpose::kYes, 128, 256, 784},
      {"fwd  L2 Y=X.Wt", Transpose::kNo, Transpose::kYes, 128, 128, 256},
      {"fwd  L3 Y=X.Wt", Transpose::kNo, Transpose::kYes, 128, 10, 128},
      {"bwd  L1 dW=dYt.X", Transpose::kYes, Transpose::kNo, 256, 784, 128},
      {"bwd  L2 dW=dYt.X", Transpose::kYes, Transpose::kNo, 128, 256, 128},
      {"bwd  L3 dW=dYt.X", Transpose::kYes, Transpose::kNo, 10, 128, 128},
      {"bwd  L2 dX=dY.W", Transpose::kNo, Transpose::kNo, 128, 256, 128},
      {"bwd  L3 dX=dY.W", Transpose::kNo, Transpose::kNo, 128, 128, 10},
  };
  const std::size_t peak_elems = static_cast<std::size_t>(peak_dim) * peak_dim;
  const std::vector<float> pa = random_floats(rng, peak_elems);
  const std::vector<float> pb = random_floats(rng, peak_elems);
  std::vector<float> pc(peak_elems, 0.0f);
  Case reference{[&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, peak_dim, peak_dim, peak_dim, 1.0f,
                pa.data(), peak_dim, pb.data(), peak_dim, 0.0f, pc.data(), peak_dim);
  }};
  // Backend operands large enough for the 1024^3 case and for every shape.
  std::size_t operand_elems = peak_elems;
  for (const GemmShape& s : shapes) {
    operand_elems = std::max({operand_elems, static_cast<std::size_t>(s.m) * s.k,
                              static_cast<std::size_t>(s.k) * s.n,
                              static_cast<std::size_t>(s.m) * s.n});
  }
  auto da = random_array(backend, rng, operand_elems);
  auto db = random_array(backend, rng, operand_elems);
  DeviceArray<float> dc(backend, operand_elems);
  Case peak_backend{[&] {
    backend.gemm(Transpose::kNo, Transpose::kNo, peak_dim, peak_dim, peak_dim, 1.0f, da.data(),
                 db.data(), 0.0f, dc.data());
  }};
  std::vector<Case> shape_cases;
  for (const GemmShape& s : shapes) {
    shape_cases.push_back(Case{[&backend, s, a = da.data(), b = db.data(), c = dc.data()] {
      backend.gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a, b, 0.0f, c);
    }});
  }
  std::vector<Case*> cases{&reference, &peak_backend};
  for (Case& c : shape_cases) cases.push_back(&c);
  measure(cases, settings);

  const auto gflops = [](int m, int n, int k, double s) { return 2.0 * m * n * k / s / 1e9; };
  const double peak = gflops(peak_dim, peak_dim, peak_dim, reference.median());
  const std::string cube = std::to_string(peak_dim) + "^3";
  rows.push_back({"cblas_sgemm (reference)", cube, reference.median(),
                  format("%.1f GFLOP/s", peak), "-", "-"});
  const std::string ref = "sgemm " + cube + " " + format("%.1f GFLOP/s", peak);
  const auto add = [&](const std::string& op, const std::string& size, const Case& c, int m,
                       int n, int k) {
    const double g = gflops(m, n, k, c.median());
    rows.push_back({op, size, c.median(), format("%.1f GFLOP/s", g), ref,
                    format("%.2f", g / peak)});
  };
  add("gemm NN", cube, peak_backend, peak_dim, peak_dim, peak_dim);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const GemmShape& s = shapes[i];
    const std::string size = "m" + std::to_string(s.m) + " n" + std::to_string(s.n) + " k" +
                             std::to_string(s.k) + (s.ta == Transpose::kYes ? " At" : "") +
                             (s.tb == Transpose::kYes ? " Bt" : "");
    add(std::string("gemm ") + s.what, size, shape_cases[i], s.m, s.n, s.k);
  }
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bench_kernels: %s\nusage: bench_kernels [--threads N] [--quick]\n",
               message.c_str());
  return 2;
}

int run(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--threads" || arg.starts_with("--threads=")) {
      std::string value;
      if (arg == "--threads") {
        if (i + 1 >= argc) return usage_error("--threads needs a value");
        value = argv[++i];
      } else {
        value = std::string(arg.substr(std::strlen("--threads=")));
      }
      char* end = nullptr;
      const long threads = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || threads < 1 || threads > 1024) {
        return usage_error("--threads '" + value + "' is not valid: use an integer >= 1");
      }
      options.threads = static_cast<int>(threads);
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: bench_kernels [--threads N] [--quick]\n");
      return 0;
    } else {
      return usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }

  const Settings settings = options.quick ? Settings{0.0, 0.0, 1} : Settings{0.05, 0.02, 15};
  const std::size_t big = options.quick ? 4099 : 10'000'000;
  // MLP 784-256-128-10: 784*256+256 + 256*128+128 + 128*10+10 parameters.
  const std::size_t mlp_params = options.quick ? 1001 : 235'146;
  const int peak_dim = options.quick ? 128 : 1024;

  CpuBackend backend(options.threads);
  Rng rng(7);
  std::printf("bench_kernels: CpuBackend, %d thread(s)%s; OpenBLAS %s (core %s)\n",
              backend.threads(), options.quick ? ", QUICK (figures are meaningless)" : "",
              openblas_get_config(), openblas_get_corename());
  const auto start = Clock::now();
  std::vector<Row> rows;
  bench_streams(backend, rng, big, count_label(big) + " floats", true, settings, rows);
  bench_streams(backend, rng, mlp_params, count_label(mlp_params) + " floats (MLP)", false,
                settings, rows);
  bench_gemm(backend, rng, peak_dim, settings, rows);
  std::printf("\n");
  print_table(rows);
  std::printf(
      "\nthroughput: bytes an op must read + write, once each, per second (memcpy 8 B/elem,\n"
      "  axpby 12, sgd_update 20: reads p,g,v and writes p,v; reductions 4), or 2mnk FLOP/s.\n"
      "ratio: throughput / reference throughput from the same run; GB/s vs memcpy of the\n"
      "  same n on pre-touched buffers (1.0 = moves bytes as fast as memcpy), GFLOP/s vs\n"
      "  cblas_sgemm NN %d^3 called directly.\n"
      "time: median of %d repetitions, each ~%.0f ms of back-to-back calls, after %.0f ms\n"
      "  warm-up; cases of a group alternate. Total run %.1f s.\n",
      peak_dim, settings.reps, settings.rep_s * 1e3, settings.warmup_s * 1e3,
      seconds_since(start));
  return 0;
}

}  // namespace
}  // namespace rumor

int main(int argc, char** argv) { return rumor::run(argc, argv); }
