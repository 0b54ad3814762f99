// A tiny JSON writer for kernel results: exact float64 round-trip (17 significant digits).
#pragma once
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace hessbound {

class JsonWriter {
 public:
  JsonWriter& key(const char* name) {
    comma();
    text_ += '"';
    text_ += name;
    text_ += "\":";
    fresh_ = true;
    return *this;
  }
  JsonWriter& number(double v) {
    comma();
    if (!std::isfinite(v)) {
      text_ += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      text_ += buf;
    }
    return *this;
  }
  JsonWriter& boolean(bool v) {
    comma();
    text_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& null() {
    comma();
    text_ += "null";
    return *this;
  }
  JsonWriter& string(const std::string& v) {
    comma();
    text_ += '"';
    text_ += v;  // kernel strings are plain identifiers
    text_ += '"';
    return *this;
  }
  JsonWriter& array(const std::vector<double>& values) {
    comma();
    text_ += '[';
    fresh_ = true;
    for (double v : values) number(v);
    text_ += ']';
    fresh_ = false;
    return *this;
  }
  JsonWriter& begin() {
    comma();
    text_ += '{';
    fresh_ = true;
    return *this;
  }
  JsonWriter& end() {
    text_ += '}';
    fresh_ = false;
    return *this;
  }
  const std::string& str() const { return text_; }

 private:
  void comma() {
    if (!fresh_) text_ += ',';
    fresh_ = false;
  }
  std::string text_;
  bool fresh_ = true;
};

}  // namespace hessbound
