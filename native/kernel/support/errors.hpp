// Errors the kernel raises on purpose. Bindings turn them into JS errors carrying `code`.
#pragma once
#include <stdexcept>
#include <string>

namespace hessbound {

class KernelError : public std::runtime_error {
 public:
  KernelError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

[[noreturn]] inline void fail(const char* code, const std::string& message) {
  throw KernelError(code, message);
}

}  // namespace hessbound
