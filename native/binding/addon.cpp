// Thin N-API binding over the kernel: converts arguments, runs long work on the libuv pool,
// and turns kernel exceptions into JS errors with a `code`. No numerics here.
#include <napi.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "analysis/analysis.hpp"
#include "linalg/blas.hpp"
#include "closed_form/bounds.hpp"
#include "commands.hpp"
#include "spectrum/eigensolver.hpp"
#include "support/errors.hpp"
#include "support/owned_problem.hpp"
#include "support/progress.hpp"
#include "linalg/simd_path.hpp"

namespace {

using hessbound::KernelError;
using hessbound::OwnedProblem;

struct Failure {
  std::string code, message;
};

Failure describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const KernelError& e) {
    return {e.code(), e.what()};
  } catch (const std::bad_alloc&) {
    return {"TOO_LARGE", "out of memory in the native kernel; use the Lanczos method or a smaller problem"};
  } catch (const std::exception& e) {
    return {"KERNEL", e.what()};
  } catch (...) {
    return {"KERNEL", "unknown native error"};
  }
}

Napi::Error to_js(Napi::Env env, const Failure& f) {
  Napi::Error err = Napi::Error::New(env, f.message);
  err.Set("code", Napi::String::New(env, f.code));
  return err;
}

template <typename T>
T typed(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray()) throw KernelError("BAD_OPTION", std::string("spec.") + key + " must be a typed array");
  return v.As<T>();
}

int integer(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw KernelError("BAD_OPTION", std::string("spec.") + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

double number(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw KernelError("BAD_OPTION", std::string("spec.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// Copies the spec's buffers: the work then runs on another thread while JS may reuse its arrays.
OwnedProblem read_problem(const Napi::Value& value) {
  if (!value.IsObject()) throw KernelError("BAD_OPTION", "expected a problem spec object");
  const Napi::Object o = value.As<Napi::Object>();
  auto sizes = typed<Napi::Int32Array>(o, "sizes");
  auto bias = typed<Napi::Uint8Array>(o, "hasBias");
  auto params = typed<Napi::Float64Array>(o, "params");
  auto x = typed<Napi::Float64Array>(o, "x");
  auto targets = typed<Napi::Float64Array>(o, "targets");
  return OwnedProblem::from_views(sizes.Data(), static_cast<int>(sizes.ElementLength()), bias.Data(),
                                  static_cast<int>(bias.ElementLength()), integer(o, "activation"),
                                  number(o, "leakySlope"),
                                  integer(o, "reduction"), params.Data(), params.ElementLength(), x.Data(),
                                  x.ElementLength(), targets.Data(), targets.ElementLength(), integer(o, "samples"));
}

Napi::Float64Array to_float64(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array out = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), out.Data());
  return out;
}

// Cancellation and exit safety, shared by every asynchronous entry point (so new commands get both):
//  - the caller may pass an Int32Array as the last argument; writing a non-zero value to element 0
//    (e.g. from an AbortSignal listener) makes the kernel's next report()/check_cancelled() throw
//    ABORTED on the worker thread (progress.hpp);
//  - when the Node environment shuts down (process.exit, a terminated worker thread), a cleanup hook
//    cancels the running task the same way, and the completion callbacks below never let an
//    exception escape: during teardown every N-API call may fail, and a Napi::Error thrown out of a
//    completion callback would end in std::terminate (SIGABRT).
class KernelTask : public Napi::AsyncProgressQueueWorker<double> {
 public:
  using Work = std::function<void(const hessbound::Progress&)>;
  using Finish = std::function<Napi::Value(Napi::Env)>;

  KernelTask(Napi::Env env, Napi::Value progress, Napi::Value cancel, Work work, Finish finish)
      : Napi::AsyncProgressQueueWorker<double>(env), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), finish_(std::move(finish)) {
    if (progress.IsFunction()) progress_ = Napi::Persistent(progress.As<Napi::Function>());
    if (cancel.IsEmpty() || cancel.IsUndefined() || cancel.IsNull()) {
      // no cancel flag
    } else if (cancel.IsTypedArray() && cancel.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
      auto flag = cancel.As<Napi::Int32Array>();
      if (flag.ElementLength() < 1) throw hessbound::KernelError("BAD_OPTION", "the cancel flag must hold one element");
      cancel_ref_ = Napi::Persistent(cancel.As<Napi::Object>());  // keeps the memory alive while we read it
      js_flag_ = flag.Data();
    } else {
      throw hessbound::KernelError("BAD_OPTION", "the cancel flag must be an Int32Array");
    }
    napi_add_env_cleanup_hook(env, &KernelTask::OnEnvCleanup, this);
    hooked_ = true;
  }
  ~KernelTask() override { Unhook(); }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& channel) override {
    const hessbound::CancelProbe probe = [this]() {
      return shutdown_.load(std::memory_order_relaxed) || (js_flag_ && __atomic_load_n(js_flag_, __ATOMIC_RELAXED) != 0);
    };
    hessbound::CancelScope scope(&probe);
    try {
      hessbound::check_cancelled();  // aborted before it started
      const bool wants = !progress_.IsEmpty();
      work_(wants ? hessbound::Progress([&channel](double f) { channel.Send(&f, 1); }) : hessbound::Progress());
    } catch (...) {
      failure_ = describe(std::current_exception());
      failed_ = true;
    }
  }
  void OnProgress(const double* data, size_t count) override {
    if (count == 0 || progress_.IsEmpty() || shutdown_) return;
    try {
      Napi::HandleScope scope(Env());
      progress_.Call({Napi::Number::New(Env(), data[count - 1])});
    } catch (...) {
      // A throwing progress callback or a dying environment: the result still settles below.
    }
  }
  void OnOK() override {
    Unhook();
    if (shutdown_) return;  // nobody is left to receive the result
    try {
      Napi::HandleScope scope(Env());
      if (failed_) {
        deferred_.Reject(to_js(Env(), failure_).Value());
        return;
      }
      try {
        deferred_.Resolve(finish_(Env()));
      } catch (...) {
        deferred_.Reject(to_js(Env(), describe(std::current_exception())).Value());
      }
    } catch (...) {
    }
  }
  void OnError(const Napi::Error&) override { OnOK(); }

 private:
  static void OnEnvCleanup(void* self) {
    auto* task = static_cast<KernelTask*>(self);
    task->shutdown_ = true;
    task->hooked_ = false;  // Node removes the hook as it runs it
  }
  void Unhook() {
    if (hooked_) napi_remove_env_cleanup_hook(Env(), &KernelTask::OnEnvCleanup, this);
    hooked_ = false;
  }

  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference progress_;
  Napi::ObjectReference cancel_ref_;
  const int32_t* js_flag_ = nullptr;
  std::atomic<bool> shutdown_{false};
  bool hooked_ = false;
  Work work_;
  Finish finish_;
  Failure failure_;
  bool failed_ = false;
};

// Wraps a synchronous entry point so kernel exceptions become JS exceptions.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw to_js(info.Env(), describe(std::current_exception()));
  }
}

// run(name, spec, options, onProgress?, cancelFlag?) -> Promise<string>: any kernel command (commands.hpp).
Napi::Value Run(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) throw KernelError("BAD_OPTION", "command name must be a string");
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    auto problem = std::make_shared<OwnedProblem>(read_problem(info[1]));
    hessbound::CommandOptions options;
    if (info[2].IsObject()) {
      const Napi::Object o = info[2].As<Napi::Object>();
      const Napi::Array keys = o.GetPropertyNames();
      for (uint32_t i = 0; i < keys.Length(); ++i) {
        const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
        const Napi::Value v = o.Get(key);
        if (!v.IsNumber()) throw KernelError("BAD_OPTION", "option '" + key + "' must be a number");
        options.set(key, v.As<Napi::Number>().DoubleValue());
      }
    }
    auto json = std::make_shared<std::string>();
    auto* task = new KernelTask(
        info.Env(), info[3], info[4],
        [name, problem, options, json](const hessbound::Progress& progress) {
          *json = hessbound::run_command(name, problem->problem, options, progress);
        },
        [json](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *json); });
    task->Queue();
    return task->promise();
  });
}

Napi::Value Hessian(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto problem = std::make_shared<OwnedProblem>(read_problem(info[0]));
    const auto how = static_cast<hessbound::HessianAssembly>(info[1].As<Napi::Number>().Int32Value());
    const auto max_bytes = static_cast<std::uint64_t>(info[2].As<Napi::Number>().DoubleValue());
    hessbound::check_dense_fits(problem->problem.net.parameter_count(), max_bytes);
    auto h = std::make_shared<std::vector<double>>();
    auto* task = new KernelTask(
        info.Env(), info[3], info[4],
        [problem, how, max_bytes, h](const hessbound::Progress& progress) {
          *h = hessbound::hessian_matrix(problem->problem, how, max_bytes, progress);
        },
        [h](Napi::Env env) -> Napi::Value { return to_float64(env, *h); });
    task->Queue();
    return task->promise();
  });
}

Napi::Value Hvp(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto problem = std::make_shared<OwnedProblem>(read_problem(info[0]));
    if (!info[1].IsTypedArray()) throw KernelError("BAD_OPTION", "directions must be a Float64Array");
    auto dirs = info[1].As<Napi::Float64Array>();
    const int k = info[2].As<Napi::Number>().Int32Value();
    if (k < 0 || dirs.ElementLength() != problem->problem.net.parameter_count() * static_cast<std::size_t>(k))
      throw KernelError("SHAPE_MISMATCH", "directions must hold k x P values");
    auto v = std::make_shared<std::vector<double>>(dirs.Data(), dirs.Data() + dirs.ElementLength());
    auto out = std::make_shared<std::vector<double>>();
    auto* task = new KernelTask(
        info.Env(), Napi::Value(), Napi::Value(),
        [problem, v, k, out](const hessbound::Progress&) {
          *out = hessbound::hessian_vector_products(problem->problem, v->data(), k);
        },
        [out](Napi::Env env) -> Napi::Value { return to_float64(env, *out); });
    task->Queue();
    return task->promise();
  });
}

Napi::Value LossGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const OwnedProblem problem = read_problem(info[0]);
    const hessbound::LossGradient lg = hessbound::loss_and_gradient(problem.problem);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("loss", lg.loss);
    out.Set("gradient", to_float64(info.Env(), lg.gradient));
    return out;
  });
}

Napi::Value Eigh(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw KernelError("BAD_OPTION", "matrix must be a Float64Array");
    auto m = info[0].As<Napi::Float64Array>();
    const int n = info[1].As<Napi::Number>().Int32Value();
    const int first = info[2].As<Napi::Number>().Int32Value();
    const int last = info[3].As<Napi::Number>().Int32Value();
    const bool vectors = info[4].ToBoolean();
    if (n <= 0 || m.ElementLength() != static_cast<std::size_t>(n) * n)
      throw KernelError("SHAPE_MISMATCH", "matrix must hold n x n values");
    auto a = std::make_shared<std::vector<double>>(m.Data(), m.Data() + m.ElementLength());
    auto result = std::make_shared<hessbound::EigenPairs>();
    auto* task = new KernelTask(
        info.Env(), Napi::Value(), Napi::Value(),
        [a, n, first, last, vectors, result](const hessbound::Progress&) {
          if (first == 0 && last == n - 1 && !vectors) result->values = hessbound::symmetric_eigenvalues(n, a->data());
          else *result = hessbound::symmetric_eigen_range(n, a->data(), first, last, vectors);
        },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("values", to_float64(env, result->values));
          out.Set("vectors", to_float64(env, result->vectors));
          return out;
        });
    task->Queue();
    return task->promise();
  });
}

Napi::Value WsBounds(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const hessbound::WsBounds b = hessbound::ws_bounds(info[0].As<Napi::Number>().DoubleValue(),
                                                       info[1].As<Napi::Number>().DoubleValue(),
                                                       info[2].As<Napi::Number>().DoubleValue());
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("upper", b.upper);
    out.Set("lowerOfMax", b.lower_of_max);
    out.Set("lowerOfMin", b.lower_of_min);
    out.Set("upperOfMin", b.upper_of_min);
    out.Set("spread", b.spread);
    out.Set("frobenius", b.frobenius);
    return out;
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("linalg", hessbound::linalg_backend());
  out.Set("threads", hessbound::blas_threads());
  // The SIMD path of the hand-written loops (simd_path.hpp), and the best this CPU has.
  out.Set("simd", hessbound::simd_path_name(hessbound::simd_path()));
  out.Set("simdCpu", hessbound::simd_path_name(hessbound::cpu_simd_path()));
  out.Set("blasKernels", hessbound::blas_kernels());
#ifdef HESSBOUND_LINALG_STATIC
  out.Set("linkage", "static");
#else
  out.Set("linkage", "shared");
#endif
  return out;
}

// Ends the process at once with the given status, joining no threads: Node's process.exit() waits
// for worker threads, and a thread inside a kernel call that polls no cancel flag (or missed it)
// holds the exit for the whole call. Used by the queue worker after it has handed its points back.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  const int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  std::fflush(nullptr);
  std::_Exit(code);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("run", Napi::Function::New(env, Run));
  exports.Set("hessian", Napi::Function::New(env, Hessian));
  exports.Set("hvp", Napi::Function::New(env, Hvp));
  exports.Set("lossGrad", Napi::Function::New(env, LossGrad));
  exports.Set("eigh", Napi::Function::New(env, Eigh));
  exports.Set("wsBounds", Napi::Function::New(env, WsBounds));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
  return exports;
}

}  // namespace

NODE_API_MODULE(hessbound, Init)
