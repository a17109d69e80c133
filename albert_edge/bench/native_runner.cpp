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
//   native_runner depth FORWARD.pte STEPWISE.pte HEADS THREADS WARMUPS SETTINGS EXAMPLES
//       The harness's depth sweep (albert_edge/bench/depth.py) natively. HEADS: the method answering after each
//       depth, comma-separated (the manifest's stepwise.heads). SETTINGS: one per line, "forward", "fixed D",
//       "entropy THRESHOLD MIN_DEPTH" or "patience N MIN_DEPTH" (albert_edge.exits). EXAMPLES: one sentence per
//       line, its token ids (mask all ones). Each sentence through every setting, rotating which goes first; prints
//       one JSON object in the schema of worker.py's `measure_depth`.
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
  // On a line of its own: a failure in the middle of a run leaves a partial JSON line before it.
  std::printf("\n{\"error\": \"%s\"}\n", escaped.c_str());
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

// Softmax entropy over the classes divided by log(classes), as albert_edge.exits.normalized_entropy.
double normalized_entropy(const executorch::aten::Tensor& logits) {
  const float* z = logits.const_data_ptr<float>();
  const ssize_t n = logits.numel();
  if (n < 2) return 0.0;
  const double top = *std::max_element(z, z + n);
  double total = 0, entropy = 0;
  for (ssize_t i = 0; i < n; ++i) total += std::exp(z[i] - top);
  for (ssize_t i = 0; i < n; ++i) {
    const double q = std::exp(z[i] - top) / total;
    entropy -= q * std::log(std::max(q, 1e-300));
  }
  return entropy / std::log(static_cast<double>(n));
}

int argmax(const TensorPtr& t) {
  const float* z = t->const_data_ptr<float>();
  return static_cast<int>(std::max_element(z, z + t->numel()) - z);
}

// One setting of the depth sweep (albert_edge/bench/depth.py): forward, a fixed depth, or an exit policy.
struct Setting {
  std::string kind;  // forward | fixed | entropy | patience
  double value = 0;  // fixed: the depth; entropy: the threshold; patience: agreeing depths
  int min_depth = 1;
};

// As albert_edge.exits.ExitPolicy.should_exit, after depth k = classes.size() (argmax per depth so far).
bool should_exit(const Setting& s, const std::vector<int>& classes, double entropy) {
  const int depth = static_cast<int>(classes.size());
  if (depth < s.min_depth) return false;
  if (s.kind == "entropy") return entropy <= s.value;
  const int patience = static_cast<int>(s.value);
  if (depth - s.min_depth + 1 < patience) return false;
  for (int i = depth - patience; i < depth; ++i) {
    if (classes[i] != classes.back()) return false;
  }
  return true;
}

int depth_sweep(int argc, char** argv) {
  if (argc != 9) fail("usage: native_runner depth FORWARD.pte STEPWISE.pte HEADS THREADS WARMUPS SETTINGS EXAMPLES");
  std::vector<std::string> heads;
  std::stringstream list(argv[4]);
  for (std::string head; std::getline(list, head, ',');) heads.push_back(head);
  const int threads = std::atoi(argv[5]), warmups_wanted = std::atoi(argv[6]);
  std::vector<Setting> settings;
  std::ifstream settings_file(argv[7]);
  for (std::string line; std::getline(settings_file, line);) {
    std::istringstream fields(line);
    Setting s;
    fields >> s.kind >> s.value >> s.min_depth;
    if (s.kind != "forward" && s.kind != "fixed" && s.kind != "entropy" && s.kind != "patience") {
      fail("unknown setting " + line);
    }
    settings.push_back(s);
  }
  std::vector<std::vector<int64_t>> sentences;
  std::ifstream examples(argv[8]);
  for (std::string line; std::getline(examples, line);) {
    std::vector<int64_t> ids;
    std::istringstream fields(line);
    for (int64_t id; fields >> id;) ids.push_back(id);
    if (ids.empty()) fail(std::string(argv[8]) + ": an empty line");
    sentences.push_back(std::move(ids));
  }
  if (settings.empty() || sentences.empty()) fail("no settings or no sentences");

  set_threads_and_cache(threads, true);
  const double t0 = now_ms();
  auto forward = load(argv[2]), stepwise = load(argv[3]);
  if (forward->load_method("forward") != Error::Ok) fail("load forward");
  for (const auto& m : std::vector<std::string>{"embed", "layer_0"}) {
    if (stepwise->load_method(m) != Error::Ok) fail("load " + m);
  }
  for (const auto& m : heads) {
    if (stepwise->load_method(m) != Error::Ok) fail("load " + m);
  }
  const double load_ms = now_ms() - t0;
  const int depths = static_cast<int>(heads.size());

  // Returns (logits, depth used) for one sentence under one setting.
  auto call = [&](const Setting& s, const std::vector<EValue>& inputs) -> std::pair<TensorPtr, int> {
    if (s.kind == "forward") return {copy(run(*forward, "forward", inputs)[0]), depths};
    auto embedded = run(*stepwise, "embed", inputs);
    TensorPtr hidden = copy(embedded[0]), bias = copy(embedded[1]);
    const int last = s.kind == "fixed" ? static_cast<int>(s.value) : depths;
    std::vector<int> classes;
    for (int k = 1; k <= last; ++k) {
      hidden = copy(run(*stepwise, "layer_0", {hidden, bias})[0]);
      if (s.kind == "fixed" && k < last) continue;
      if (s.kind != "fixed" && k < s.min_depth && k < last) {  // no head read before the policy's first depth
        classes.push_back(-1 - k);  // a placeholder no real class equals
        continue;
      }
      auto logits = copy(run(*stepwise, heads[k - 1].c_str(), {hidden})[0]);
      classes.push_back(argmax(logits));
      if (k == last || should_exit(s, classes, normalized_entropy(*logits))) return {logits, k};
    }
    fail("unreachable: the last depth always answers");
  };

  std::vector<std::string> latencies(settings.size()), predictions(settings.size()), used(settings.size());
  const int n = static_cast<int>(settings.size());
  const int warmups = std::min(warmups_wanted, static_cast<int>(sentences.size()));
  for (int i = -warmups; i < static_cast<int>(sentences.size()); ++i) {  // i < 0: untimed warm-ups
    const auto& ids = sentences[i < 0 ? i + warmups : i];
    const int seq = static_cast<int>(ids.size());
    const auto id_t = make_tensor_ptr({1, seq}, ids);
    const auto mask_t = make_tensor_ptr({1, seq}, std::vector<int64_t>(seq, 1));
    const std::vector<EValue> inputs{*id_t, *mask_t};
    for (int k = 0; k < n; ++k) {
      const int j = ((i < 0 ? 0 : i) + k) % n;  // rotate which setting goes first, as the Python worker
      const double start = now_ms();
      const auto [logits, depth] = call(settings[j], inputs);
      const double ms = now_ms() - start;
      if (i < 0) continue;
      const char* sep = i ? ", " : "";
      latencies[j] += sep + std::to_string(ms);
      predictions[j] += sep + std::to_string(argmax(logits));
      used[j] += sep + std::to_string(depth);
    }
  }
  std::printf("{\"load_ms\": %.6f, \"settings\": [", load_ms);
  for (int j = 0; j < n; ++j) {
    std::printf("%s{\"latencies_ms\": [%s], \"predictions\": [%s], \"depths\": [%s]}", j ? ", " : "",
                latencies[j].c_str(), predictions[j].c_str(), used[j].c_str());
  }
  std::printf("]}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "measure") return measure(argc, argv);
  if (mode == "chain") return chain(argc, argv);
  if (mode == "depth") return depth_sweep(argc, argv);
  std::fprintf(stderr, "usage: native_runner measure|chain|depth ... (see the source's header)\n");
  return 2;
}
