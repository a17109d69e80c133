// albert_edge's native benchmark runner: a .pte in a process like an app's (no Python, no libtorch), against the
// installed executorch wheel's C++ API. Built and driven by albert_edge/bench/native.py; not part of the package's
// Python API.
//
//   native_runner measure PTE THREADS ITERATIONS WARMUPS WEIGHT_CACHE(0|1) INPUTS SEQ [SEQ ...]
//       INPUTS: comma-separated kinds in input order: ids:VOCAB, ones, zeros, hidden:WIDTH. Prints one JSON object
//       in the schema of albert_edge/bench/worker.py's `measure` (memory in bytes over the process's own baseline,
//       latencies per sequence length, ascending).
//   native_runner chain FORWARD.pte STEPWISE.pte LAYERS VOCAB THREADS ROUNDS SEQ [SEQ ...]
//       Alternates `forward` and the stepwise chain embed -> layer_0 x LAYERS -> head per length; prints text.
//
// Programs load with Module::LoadMode::Mmap: what the Android app's LOAD_MODE_MMAP does (no mlock). XNNPACK's
// weight cache is set through the runtime's set_option, as albert_edge.backend_options does from Python. Memory is
// read from /proc/self (Linux): VmRSS, VmHWM (reset after the baseline), a 1 kHz RSS sampler during load and the
// first runs (as the Python worker), and the shared libraries' resident pages from /proc/self/smaps.
#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>
#include <executorch/runtime/backend/interface.h>
#include <executorch/runtime/backend/options.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace executorch::extension::threadpool {
// Declared here because the wheel ships libexecutorch_threadpool.so without its header.
class ThreadPool {
 public:
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace executorch::extension::threadpool

using executorch::extension::Module;
using executorch::extension::TensorPtr;
using executorch::extension::make_tensor_ptr;
using executorch::runtime::EValue;
using executorch::runtime::Error;

namespace {

[[noreturn]] void fail(const std::string& what) {  // one JSON line the harness reads as the target's error
  std::string escaped;
  for (char c : what) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += (c == '\n') ? ' ' : c;
  }
  std::printf("{\"error\": \"%s\"}\n", escaped.c_str());
  std::exit(1);
}

long status_kb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

long long rss_bytes() { return status_kb("VmRSS:") * 1024LL; }

long long library_bytes() {  // resident bytes of shared-library mappings
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool library = false;
  long long total = 0;
  while (std::getline(smaps, line)) {
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (first.find('-') != std::string::npos && first.back() != ':') {  // a mapping's header line
      std::string perms, offset, dev, inode, path;
      fields >> perms >> offset >> dev >> inode >> path;
      library = path.find(".so") != std::string::npos;
    } else if (library && first == "Rss:") {
      long kb = 0;
      fields >> kb;
      total += kb * 1024LL;
    }
  }
  return total;
}

bool reset_peak() {  // VmHWM back to the current RSS (Linux >= 4.0)
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear.flush());
}

long long peak_bytes() { return status_kb("VmHWM:") * 1024LL; }

// Samples RSS every millisecond while alive: allocators hand memory back without the kernel's peak seeing it.
class Sampler {
 public:
  Sampler() : thread_([this] {
      while (!stop_) {
        peak_ = std::max(peak_.load(), rss_bytes());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }) {}
  ~Sampler() { finish(); }
  long long finish() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    return std::max(peak_.load(), rss_bytes());
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long long> peak_{0};
  std::thread thread_;
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void set_threads_and_cache(int threads, bool weight_cache) {
  executorch::extension::threadpool::get_threadpool()->_unsafe_reset_threadpool(threads);
  executorch::runtime::BackendOptions<1> options;
  if (options.set_option("weight_cache_enabled", weight_cache) != Error::Ok ||
      executorch::runtime::set_option("XnnpackBackend", options.view()) != Error::Ok) {
    fail("set_option(XnnpackBackend, weight_cache_enabled) failed");
  }
}

std::unique_ptr<Module> load(const std::string& path) {
  std::string data = path.substr(0, path.size() - 4) + ".ptd";  // a masked LM's tied table, beside the .pte
  std::ifstream probe(data);
  auto module = probe.good() ? std::make_unique<Module>(path, data, Module::LoadMode::Mmap)
                             : std::make_unique<Module>(path, Module::LoadMode::Mmap);
  return module;
}

std::vector<EValue> run(Module& module, const char* method, const std::vector<EValue>& inputs) {
  auto result = module.execute(method, inputs);
  if (!result.ok()) fail(std::string(method) + ": execute failed (error " +
                         std::to_string(static_cast<int>(result.error())) + ")");
  return *result;
}

// A copy of a float output: the method's planned memory is overwritten by its next call.
TensorPtr copy(const EValue& value) {
  const auto& t = value.toTensor();
  std::vector<executorch::aten::SizesType> sizes(t.sizes().begin(), t.sizes().end());
  std::vector<float> data(t.const_data_ptr<float>(), t.const_data_ptr<float>() + t.numel());
  return make_tensor_ptr(sizes, std::move(data));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The tensors own their data; the EValues a call takes only point at them (see `values`).
std::vector<TensorPtr> make_inputs(const std::vector<std::string>& kinds, int seq, unsigned long long& state) {
  std::vector<TensorPtr> inputs;
  for (const auto& kind : kinds) {
    const auto colon = kind.find(':');
    const std::string name = kind.substr(0, colon);
    const long arg = colon == std::string::npos ? 0 : std::atol(kind.c_str() + colon + 1);
    if (name == "ids") {  // random non-special ids in [5, vocab): values do not change a dense encoder's work
      std::vector<int64_t> ids(seq);
      for (auto& id : ids) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        id = 5 + static_cast<int64_t>((state >> 33) % static_cast<unsigned long long>(std::max(1L, arg - 5)));
      }
      inputs.emplace_back(make_tensor_ptr({1, seq}, std::move(ids)));
    } else if (name == "ones" || name == "zeros") {
      inputs.emplace_back(make_tensor_ptr({1, seq}, std::vector<int64_t>(seq, name == "ones" ? 1 : 0)));
    } else if (name == "hidden") {
      std::vector<float> data(static_cast<size_t>(seq) * arg);
      for (auto& v : data) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        v = static_cast<float>((state >> 40) % 2000) / 1000.0f - 1.0f;
      }
      inputs.emplace_back(make_tensor_ptr({1, seq, static_cast<int>(arg)}, std::move(data)));
    } else {
      fail("unknown input kind " + kind);
    }
  }
  return inputs;
}

std::vector<EValue> values(const std::vector<TensorPtr>& tensors) {
  std::vector<EValue> out;
  for (const auto& t : tensors) out.emplace_back(*t);
  return out;
}

int measure(int argc, char** argv) {
  if (argc < 9) fail("usage: native_runner measure PTE THREADS ITERATIONS WARMUPS WEIGHT_CACHE INPUTS SEQ...");
  const std::string path = argv[2];
  const int threads = std::atoi(argv[3]), iterations = std::atoi(argv[4]), warmups = std::atoi(argv[5]);
  const bool weight_cache = std::atoi(argv[6]) != 0;
  std::vector<std::string> kinds;
  std::stringstream list(argv[7]);
  for (std::string kind; std::getline(list, kind, ',');) kinds.push_back(kind);
  std::vector<int> seqs;
  for (int a = 8; a < argc; ++a) seqs.push_back(std::atoi(argv[a]));
  std::sort(seqs.begin(), seqs.end());

  set_threads_and_cache(threads, weight_cache);
  const long long baseline = rss_bytes(), libraries = library_bytes();
  const bool peak_reset = reset_peak();
  long long peak;
  double load_ms;
  std::unique_ptr<Module> module;
  {
    Sampler sampler;
    const double t0 = now_ms();
    module = load(path);
    if (module->load_method("forward") != Error::Ok) fail(path + ": not a loadable program with `forward`");
    load_ms = now_ms() - t0;
    peak = std::max(sampler.finish(), peak_bytes());
  }
  std::printf("{\"import_s\": 0, \"load_ms\": %.6f, \"rss_baseline\": %lld, \"rss_after_load\": %lld, "
              "\"peak_load\": %lld, \"peak_reset\": %s, \"torch_imported\": false, \"weight_cache\": %s, \"runs\": [",
              load_ms, baseline, rss_bytes(), peak, peak_reset ? "true" : "false", weight_cache ? "true" : "false");
  unsigned long long state = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const auto tensors = make_inputs(kinds, seqs[s], state);
    const auto inputs = values(tensors);
    double first_ms;
    std::vector<EValue> outputs;
    {
      Sampler sampler;
      const double t0 = now_ms();
      outputs = run(*module, "forward", inputs);
      first_ms = now_ms() - t0;
      for (int w = 0; w < warmups; ++w) run(*module, "forward", inputs);
      peak = std::max({peak, sampler.finish(), peak_bytes()});
    }
    std::string latencies, shapes;
    for (int i = 0; i < iterations; ++i) {
      const double t0 = now_ms();
      run(*module, "forward", inputs);
      latencies += (i ? ", " : "") + std::to_string(now_ms() - t0);
    }
    peak = std::max(peak, peak_bytes());
    bool finite = true;
    outputs = run(*module, "forward", inputs);
    for (size_t o = 0; o < outputs.size(); ++o) {
      if (!outputs[o].isTensor()) continue;
      const auto& t = outputs[o].toTensor();
      shapes += std::string(shapes.empty() ? "" : ", ") + "[";
      for (ssize_t d = 0; d < t.dim(); ++d) shapes += (d ? ", " : "") + std::to_string(t.size(d));
      shapes += "]";
      if (t.scalar_type() == executorch::aten::ScalarType::Float) {
        for (ssize_t i = 0; i < t.numel(); ++i) finite = finite && std::isfinite(t.const_data_ptr<float>()[i]);
      }
    }
    std::printf("%s{\"seq_len\": %d, \"first_ms\": %.6f, \"latencies_ms\": [%s], \"peak_rss\": %lld, \"rss\": %lld, "
                "\"output_shapes\": [%s], \"outputs_finite\": %s}",
                s ? ", " : "", seqs[s], first_ms, latencies.c_str(), peak, rss_bytes(), shapes.c_str(),
                finite ? "true" : "false");
  }
  std::printf("], \"library_rss_growth\": %lld}\n", library_bytes() - libraries);
  return 0;
}

int chain(int argc, char** argv) {
  if (argc < 9) fail("usage: native_runner chain FORWARD.pte STEPWISE.pte LAYERS VOCAB THREADS ROUNDS SEQ...");
  const int layers = std::atoi(argv[4]), vocab = std::atoi(argv[5]), threads = std::atoi(argv[6]),
            rounds = std::atoi(argv[7]);
  set_threads_and_cache(threads, true);
  auto forward = load(argv[2]), stepwise = load(argv[3]);
  if (forward->load_method("forward") != Error::Ok) fail("load forward");
  for (const char* m : {"embed", "layer_0", "head"}) {
    if (stepwise->load_method(m) != Error::Ok) fail(std::string("load ") + m);
  }
  unsigned long long state = 0;
  for (int a = 8; a < argc; ++a) {
    const int seq = std::atoi(argv[a]);
    const auto tensors = make_inputs({"ids:" + std::to_string(vocab), "ones"}, seq, state);
    const auto inputs = values(tensors);
    auto whole = [&] { return copy(run(*forward, "forward", inputs)[0]); };
    auto chained = [&] {
      auto embedded = run(*stepwise, "embed", inputs);
      TensorPtr hidden = copy(embedded[0]), bias = copy(embedded[1]);
      for (int k = 0; k < layers; ++k) hidden = copy(run(*stepwise, "layer_0", {hidden, bias})[0]);
      return copy(run(*stepwise, "head", {hidden})[0]);
    };
    const auto a_out = whole(), b_out = chained();
    double diff = 0;
    for (ssize_t i = 0; i < a_out->numel(); ++i) {
      diff = std::max(diff, static_cast<double>(std::fabs(a_out->const_data_ptr<float>()[i] -
                                                          b_out->const_data_ptr<float>()[i])));
    }
    std::vector<double> tf, tc;
    for (int r = 0; r < rounds; ++r) {
      for (int which = 0; which < 2; ++which) {
        const bool first = ((r + which) % 2) == 0;  // alternate which goes first
        const double t0 = now_ms();
        if (first) whole(); else chained();
        (first ? tf : tc).push_back(now_ms() - t0);
      }
    }
    const double f = median(tf), c = median(tc);
    std::printf("seq %4d: forward %8.3f ms, chain %8.3f ms (%.3fx), max |logit diff| %.2e\n", seq, f, c, c / f, diff);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "measure") return measure(argc, argv);
  if (mode == "chain") return chain(argc, argv);
  std::fprintf(stderr, "usage: native_runner measure|chain ... (see the source's header)\n");
  return 2;
}
